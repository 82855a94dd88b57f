"""What the off-policy diffusion agents (DIPO, QVPO, DACER) share, on the harness contract
(skrl's ``Agent`` and :class:`agents.interface.HarnessAgent`).

- a denoiser actor with its noise schedule (K steps, a config value: the K sweep is a config change);
- twin Q critics on concat(state, action) and their Polyak-averaged targets;
- skrl's replay memory on the device, holding (s, a, r, s', terminated, truncated): the loop gives
  the true final observation as s' of an ended episode, and targets bootstrap unless *terminated*
  (a time-out is a truncation, not a termination);
- uniform random actions for the first ``random_timesteps`` steps (the review's Table 12), then
  ``gradient_steps`` updates per vectorized step, or per collected transition (``gradient_steps_per``:
  the originals' ratio, which collect from 1 or 20 environments), fractions carried over, each on a
  batch of ``batch_size``: :func:`agents.settings.update_ratio` says what that means per transition;
- the networks initialised as the original initialises them (:mod:`agents.diffusion.init`);
- actions in [-1, 1], which Isaac Lab's action scale maps.

Subclasses implement ``explore`` (acting while training), ``evaluate_action`` (the action the
original evaluates with), ``critic_target`` and ``update_actor``, each on normalized observations,
and draw chain samples with :meth:`DiffusionOffPolicyAgent.sample_actions` (eager or compiled,
:mod:`agents.execution`). Nothing in acting or updating reads a value back to the host: losses and
statistics are tracked as device tensors, read by the training loop at its log interval.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import gymnasium
import torch
from skrl.agents.torch import Agent, AgentCfg
from skrl.resources.preprocessors.torch import RunningStandardScaler

from agents import execution, models
from agents.diffusion.denoiser import Denoiser, mlp
from agents.diffusion.init import SCHEMES, initialize
from agents.diffusion.sampler import reverse_chain, sample
from agents.diffusion.schedules import NoiseSchedule
from agents.interface import HarnessAgent
from agents.settings import POSITIVE, OffPolicyConfig, choices, profile_setting, setting, update_ratio

NO_NORMALIZATION = "the originals (DIPO, QVPO, DACER): no observation normalisation; the review does not say"


def init_setting(default: str, source: str) -> Any:
    return setting(default, source, choices(*SCHEMES), "weight initialisation (agents.diffusion.init)",
                   legacy="torch")


@dataclasses.dataclass(frozen=True)
class DiffusionOffPolicyConfig(OffPolicyConfig):
    """What every off-policy diffusion agent declares (each with its own defaults)."""

    profile: str = profile_setting()
    observation_normalization: bool = setting(False, NO_NORMALIZATION, doc="running mean/std normalization")
    gradient_steps: float = setting(1.0, "the review's skrl setup (skrl's default: one per vectorized step)",
                                    POSITIVE, "gradient steps per unit of gradient_steps_per (fractions carry over)")
    gradient_steps_per: str = setting("vector_step", "the review's skrl setup", choices("vector_step", "transition"),
                                      "what gradient_steps counts per: a vectorized step or a transition",
                                      legacy="vector_step")
    diffusion_steps: int
    time_embedding_dim: int
    time_hidden: int
    init: str


class TwinQ(torch.nn.Module):
    """Two independent Q networks on concat(s, a) (clipped double-Q, Fujimoto et al. 2018)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int]):
        super().__init__()
        self.q1 = mlp([obs_dim + act_dim, *hidden, 1])
        self.q2 = mlp([obs_dim + act_dim, *hidden, 1])

    def forward(self, state: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([state, action], dim=-1)
        return self.q1(x), self.q2(x)

    def min_q(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        q1, q2 = self(state, action)
        return torch.min(q1, q2)


def polyak(target: torch.nn.Module, source: torch.nn.Module, tau: float) -> None:
    """target <- target + tau (source - target), every parameter in one foreach kernel."""
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, module: torch.nn.Module, clip: float) -> None:
    """One optimizer step on ``loss``, the gradient norm of ``module`` clipped at ``clip`` (0: none)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
    optimizer.step()


class DiffusionOffPolicyAgent(HarnessAgent, Agent):
    schedule_kind = "cosine"
    uses_target_actor = True  # a Polyak-averaged copy of the denoiser for TD targets (DIPO, QVPO)
    adam_eps = 1e-5  # DIPO's and QVPO's optimizers

    def __init__(self, cfg: DiffusionOffPolicyConfig, *, observation_space, action_space, num_envs: int,
                 device: str):
        space = models.bounded(action_space)
        self.obs_dim = int(observation_space.shape[0])
        self.act_dim = int(space.shape[0])
        self.config = cfg
        self.num_envs = num_envs
        self.actor = initialize(Denoiser(self.obs_dim, self.act_dim, cfg.actor_hidden, t_dim=cfg.time_embedding_dim,
                                         time_hidden=cfg.time_hidden), cfg.init)
        self.target_actor = copy.deepcopy(self.actor).requires_grad_(False) if self.uses_target_actor else None
        self.critic = initialize(self.make_critic(cfg), cfg.init)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        super().__init__(cfg=AgentCfg(), models={}, memory=models.replay_memory(cfg, num_envs, device),
                         observation_space=observation_space, action_space=space, device=device)
        self.schedule = NoiseSchedule(self.schedule_kind, cfg.diffusion_steps).to(self.device)
        for module in (self.actor, self.target_actor, self.critic, self.target_critic):
            if module is not None:
                module.to(self.device)
        fused = execution.fused(device)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr, eps=self.adam_eps, **fused)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, eps=self.adam_eps,
                                                 **fused)
        self.normalizer = (RunningStandardScaler(size=observation_space, device=self.device)
                           if cfg.observation_normalization else None)
        self.checkpoint_modules.update(actor=self.actor, critic=self.critic, target_critic=self.target_critic,
                                       actor_optimizer=self.actor_optimizer, critic_optimizer=self.critic_optimizer)
        if self.normalizer is not None:
            self.checkpoint_modules["observation_preprocessor"] = self.normalizer
        if self.target_actor is not None:
            self.checkpoint_modules["target_actor"] = self.target_actor
        self.updates = 0
        self.update_credit = 0.0  # gradient steps owed (fractions of gradient_steps carried over)
        self.steps_per_vector_step = update_ratio(cfg, num_envs)["gradient_steps_per_vector_step"]
        self.chain = reverse_chain

    def networks(self) -> dict[str, torch.nn.Module]:
        nets = {"actor": self.actor, "target_actor": self.target_actor, "critic": self.critic,
                "target_critic": self.target_critic}
        return {name: net for name, net in nets.items() if net is not None}

    def enable_compile(self) -> None:
        """The compiled path (agents.execution): the whole reverse chain in one graph, every network."""
        self.chain = execution.compile_fn(reverse_chain)
        super().enable_compile()

    def sample_actions(self, denoiser: torch.nn.Module, obs: torch.Tensor, **kwargs) -> torch.Tensor:
        """[B, num, a] chain samples of ``denoiser`` (the actor or its target) for states [B, s]."""
        return sample(denoiser, self.schedule, obs, chain=self.chain, **kwargs)

    def make_critic(self, cfg: DiffusionOffPolicyConfig) -> torch.nn.Module:
        return TwinQ(self.obs_dim, self.act_dim, cfg.critic_hidden)

    # --- resuming (agents.interface.HarnessAgent.resume_state) ------------------------------------
    def resume_state(self) -> dict:
        """The running state outside the modules: the update count (policy delay, the alpha
        schedule) and the gradient steps owed."""
        return {"updates": self.updates, "update_credit": self.update_credit}

    def load_resume_state(self, state: dict) -> None:
        self.updates, self.update_credit = state["updates"], state["update_credit"]

    # --- skrl Agent contract --------------------------------------------------------------------
    def init(self, *, trainer_cfg: dict[str, Any] | None = None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        obs = gymnasium.spaces.Box(-float("inf"), float("inf"), (self.obs_dim,))
        for name, size, dtype in (("observations", obs, torch.float32), ("next_observations", obs, torch.float32),
                                  ("actions", self.action_space, torch.float32), ("rewards", 1, torch.float32),
                                  ("terminated", 1, torch.bool), ("truncated", 1, torch.bool)):
            self.memory.create_tensor(name=name, size=size, dtype=dtype)

    def _observation_preprocessor(self, obs: torch.Tensor, train: bool = False) -> torch.Tensor:
        return self.normalizer(obs, train=train) if self.normalizer is not None else obs

    def act(self, observations, states, *, timestep: int, timesteps: int):
        if timestep < self.config.random_timesteps:
            return torch.rand(observations.shape[0], self.act_dim, device=self.device) * 2 - 1, {}
        return self.explore(self._observation_preprocessor(observations)), {}

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        return self.evaluate_action(self._observation_preprocessor(observations))

    def record_transition(self, *, observations, states, actions, rewards, next_observations, next_states,
                          terminated, truncated, infos, timestep, timesteps) -> None:
        if self.normalizer is not None:
            self.normalizer(observations, train=True)
        self.memory.add_samples(observations=observations, next_observations=next_observations, actions=actions,
                                rewards=rewards, terminated=terminated, truncated=truncated,
                                **self.extra_memory(actions))

    def extra_memory(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """Further per-transition columns an algorithm keeps in the replay memory."""
        return {}

    def pre_interaction(self, *, timestep: int, timesteps: int) -> None:
        pass

    def post_interaction(self, *, timestep: int, timesteps: int) -> None:
        if self.training and timestep >= self.config.random_timesteps:
            self.update_credit += self.steps_per_vector_step
            steps = int(self.update_credit)
            self.update_credit -= steps
            for _ in range(steps):
                self.update(timestep=timestep, timesteps=timesteps)

    # --- learning -------------------------------------------------------------------------------
    def sample_batch(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """A uniform batch from the replay memory (indices, normalized columns)."""
        idx = torch.randint(0, len(self.memory), (self.config.batch_size,), device=self.device)
        view = self.memory.tensors_view
        batch = {name: view[name][idx] for name in view}
        batch["observations"] = self._observation_preprocessor(batch["observations"])
        batch["next_observations"] = self._observation_preprocessor(batch["next_observations"])
        return idx, batch

    def update(self, *, timestep: int, timesteps: int) -> None:
        idx, batch = self.sample_batch()
        s, a = batch["observations"], batch["actions"]
        with torch.no_grad():
            target = batch["rewards"] + self.config.discount * batch["terminated"].logical_not() * \
                self.critic_target(batch["next_observations"])
        q1, q2 = self.critic(s, a)
        critic_loss = (q1 - target).square().mean() + (q2 - target).square().mean()
        self.step_critic(critic_loss)
        self.update_actor(timestep, timesteps)  # on a batch of its own, as DIPO and QVPO sample one
        polyak(self.target_critic, self.critic, self.config.polyak)
        if self.target_actor is not None:
            polyak(self.target_actor, self.actor, self.config.polyak)
        self.updates += 1
        self.track_data("Loss / Critic loss", critic_loss.detach())
        self.track_data("Q-network / Q1 (mean)", q1.detach().mean())

    def step_actor(self, loss: torch.Tensor) -> None:
        step(self.actor_optimizer, loss, self.actor, self.config.grad_norm_clip)

    def step_critic(self, loss: torch.Tensor) -> None:
        step(self.critic_optimizer, loss, self.critic, self.config.grad_norm_clip)

    # --- per algorithm --------------------------------------------------------------------------
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def evaluate_action(self, obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def critic_target(self, next_obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update_actor(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError
