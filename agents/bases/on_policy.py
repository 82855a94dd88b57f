"""What an on-policy agent with a policy of its own shares: PPO's machinery (Schulman et al. 2017),
on the harness contract (skrl's ``Agent`` and :class:`agents.interface.HarnessAgent`).

The base owns the loop of an on-policy algorithm, as skrl's ``PPO`` and rsl-rl's ``PPO`` run it:

- rollout storage (skrl's ``RandomMemory``, ``rollouts`` steps of every environment): the
  *normalized* observation the policy acted on (its log-density may be sharp in the state, so the
  update must see exactly the rollout's input, as rsl-rl stores it), the stored action (an
  algorithm may store more than it sends to the environment: GenPO's doubled action), its
  log-probability, the value;
- time-out bootstrap: a truncated step's reward gets ``gamma V(final observation)`` (the loop gives
  the true final observation; truncation is not termination), computed for every step and masked,
  so no value is read back to decide whether to;
- GAE (skrl's ``compute_gae``, advantages normalised over the whole rollout), then
  ``learning_epochs`` passes of ``mini_batches`` shuffled minibatches each;
- per minibatch: the clipped surrogate on ``exp(log pi_new - log pi_old)``, an entropy bonus
  ``-entropy_coef * mean(-log pi)``, the algorithm's extra losses, the value loss (``value_loss``:
  the max of the unclipped and clipped squared errors, rsl-rl's, or the clipped one, skrl's), the
  gradient norm clipped over policy and value;
- a learning rate (``lr_schedule``) fixed (``fixed``) or adapted toward ``desired_kl``: ``genpo``,
  the rule GenPO's original runs after each minibatch's backward and before its step, from the k1
  estimate mean(old log pi - new log pi) (/1.5 above 2 KL*, x1.5 below KL*/2 if the estimate is
  above -1e-4, within [1e-5, 1e-2]), or ``skrl``, skrl's ``KLAdaptiveLR`` once per epoch on the k3
  estimate;
- optional running mean/std normalization of observations and of value targets.

An algorithm on this base implements :meth:`sample` (acting: environment action, stored action,
log-probability), :meth:`log_prob` (of a stored action, differentiable), :meth:`act_eval`,
:meth:`networks` and, when it has any, :meth:`extra_losses`; it builds its policy module in
:meth:`make_policy`. A policy whose objective has several log-probability terms per sample (DPPO:
one per denoising step; FPO: one per (noise, time) pair) declares ``log_prob_dim`` and replaces
:meth:`policy_loss`, the surrogate over the ``[B, M]`` log-ratios, and, where the terms are not
factors of one density, :meth:`kl_log_ratio` (what the KL estimates average) and
:meth:`policy_stats` (what a minibatch tracks about the policy). Nothing in acting or updating reads a value back to the host
(skrl's KL rule excepted: it reads the epoch's KL estimate, as skrl's PPO does).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import gymnasium
import numpy as np
import torch
from skrl.agents.torch import Agent, AgentCfg
from skrl.agents.torch.ppo.ppo import compute_gae
from skrl.memories.torch import RandomMemory
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR
from skrl.utils import ScopedTimer

from agents import execution
from agents.diffusion.denoiser import Mish, mlp
from agents.interface import HarnessAgent
from agents.settings import OnPolicyConfig

ACTIVATIONS = {"mish": Mish, "elu": torch.nn.ELU, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
LR_SCHEDULES = ("genpo", "skrl", "fixed")
LR_BOUNDS = (1e-5, 1e-2)  # GenPO's original rule (flowppo.py)
VALUE_LOSSES = ("max_clipped", "clipped")


@dataclasses.dataclass(frozen=True)
class OnPolicyAgentConfig(OnPolicyConfig):
    """The base's choices; each algorithm declares them with its defaults and their sources."""

    activation: str  # of the value network: one of ACTIVATIONS
    lr_schedule: str  # one of LR_SCHEDULES
    value_loss: str  # one of VALUE_LOSSES


class ValueNetwork(torch.nn.Module):
    """V(s): an MLP with the config's activation."""

    def __init__(self, obs_dim: int, hidden: list[int], activation: str):
        super().__init__()
        self.net = mlp([obs_dim, *hidden, 1], activation=ACTIVATIONS[activation])

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


def _identity(x: torch.Tensor, train: bool = False, inverse: bool = False) -> torch.Tensor:
    return x


class OnPolicyAgent(HarnessAgent, Agent):
    """See the module docstring."""

    def __init__(self, cfg: OnPolicyAgentConfig, *, observation_space, action_space, num_envs: int, device: str,
                 stored_action_dim: int | None = None, log_prob_dim: int = 1):
        self.config = cfg
        self.log_prob_dim = log_prob_dim
        self.obs_dim = int(observation_space.shape[0])
        self.act_dim = int(action_space.shape[0])
        self.policy = self.make_policy(cfg)  # built before the value network: the parameters' draws
        self.value = ValueNetwork(self.obs_dim, cfg.critic_hidden, cfg.activation)
        super().__init__(cfg=AgentCfg(), models={}, memory=RandomMemory(memory_size=cfg.rollouts, num_envs=num_envs,
                                                                        device=device),
                         observation_space=observation_space, action_space=action_space, device=device)
        self.policy.to(self.device)
        self.value.to(self.device)
        self.stored_space = gymnasium.spaces.Box(-np.inf, np.inf, (stored_action_dim or self.act_dim,),
                                                 dtype=np.float32)
        # what the optimizer trains (a policy may hold frozen parts: DPPO's earlier denoising steps)
        self.trained = [p for p in itertools.chain(self.policy.parameters(), self.value.parameters()) if p.requires_grad]
        # the per-minibatch rule keeps the learning rate as a device tensor: it reads no value back
        lr = torch.tensor(float(cfg.actor_lr), device=self.device) if cfg.lr_schedule == "genpo" else cfg.actor_lr
        self.optimizer = torch.optim.Adam(self.trained, lr=lr, **execution.fused(device))
        self.scheduler = KLAdaptiveLR(self.optimizer, kl_threshold=cfg.desired_kl) \
            if cfg.lr_schedule == "skrl" else None
        self.checkpoint_modules.update(policy=self.policy, value=self.value, optimizer=self.optimizer)
        self._observation_preprocessor = self._value_preprocessor = _identity
        if cfg.observation_normalization:
            self._observation_preprocessor = RunningStandardScaler(size=observation_space, device=self.device)
            self.checkpoint_modules["observation_preprocessor"] = self._observation_preprocessor
        if cfg.value_normalization:
            self._value_preprocessor = RunningStandardScaler(size=1, device=self.device)
            self.checkpoint_modules["value_preprocessor"] = self._value_preprocessor

    # --- per algorithm --------------------------------------------------------------------------
    def make_policy(self, cfg: OnPolicyAgentConfig) -> torch.nn.Module:
        raise NotImplementedError

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Acting on normalized observations [N, s]: (environment action [N, a], stored action
        [N, stored], log-probability of the stored action [N])."""
        raise NotImplementedError

    def log_prob(self, obs: torch.Tensor, stored: torch.Tensor) -> torch.Tensor:
        """[N] log-probability of stored actions under the current policy (differentiable)."""
        raise NotImplementedError

    def extra_losses(self, obs: torch.Tensor, stored: torch.Tensor) -> dict[str, tuple[float, torch.Tensor]]:
        """``{tag: (weight, loss)}`` added to a minibatch's loss and tracked as ``Loss / <tag>``, from
        the minibatch's normalized observations and stored actions."""
        return {}

    # --- the contract ---------------------------------------------------------------------------
    def networks(self) -> dict[str, torch.nn.Module]:
        return {"policy": self.policy, "value": self.value}

    def resume_state(self) -> dict:
        """The step within the rollout, and skrl's scheduler when it is the one in use (the same
        keys skrl's PPO kept, so a checkpoint of either resumes)."""
        state: dict = {"attributes": {"_rollout": self._rollout}}
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def load_resume_state(self, state: dict) -> None:
        self._rollout = state.get("attributes", {}).get("_rollout", 0)
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])

    # --- skrl's lifecycle -------------------------------------------------------------------------
    def init(self, *, trainer_cfg: dict[str, Any] | None = None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        for name, size, dtype in (("observations", self.observation_space, torch.float32),
                                  ("actions", self.stored_space, torch.float32), ("rewards", 1, torch.float32),
                                  ("terminated", 1, torch.bool), ("truncated", 1, torch.bool),
                                  ("log_prob", self.log_prob_dim, torch.float32), ("values", 1, torch.float32),
                                  ("returns", 1, torch.float32), ("advantages", 1, torch.float32)):
            self.memory.create_tensor(name=name, size=size, dtype=dtype)
        self._batch_names = ["observations", "actions", "log_prob", "values", "returns", "advantages"]
        self._current: dict[str, torch.Tensor] = {}
        self._next_observations = None
        self._rollout = 0

    def act(self, observations, states, *, timestep: int, timesteps: int):
        obs = self._observation_preprocessor(observations)
        env_action, stored, log_prob = self.sample(obs)
        self._current = {"observations": obs, "actions": stored, "log_prob": log_prob.view(obs.shape[0], -1)}
        if self.training:
            self._current["values"] = self._value_preprocessor(self.value(obs), inverse=True)
        return env_action, {"log_prob": self._current["log_prob"]}

    def record_transition(self, *, observations, states, actions, rewards, next_observations, next_states,
                          terminated, truncated, infos, timestep, timesteps) -> None:
        """Store the step; the running normalizer learns from the raw observations here."""
        if not self.training:
            return
        if self.config.observation_normalization:
            self._observation_preprocessor(observations, train=True)
        self._next_observations = next_observations
        if self.config.time_limit_bootstrap:
            with torch.no_grad():
                next_values = self._value_preprocessor(self.value(self._observation_preprocessor(next_observations)),
                                                       inverse=True)
            rewards = rewards + self.config.discount * next_values * truncated
        self.memory.add_samples(rewards=rewards, terminated=terminated, truncated=truncated, **self._current)

    def pre_interaction(self, *, timestep: int, timesteps: int) -> None:
        pass

    def post_interaction(self, *, timestep: int, timesteps: int) -> None:
        if self.training:
            self._rollout += 1
            if not self._rollout % self.config.rollouts:
                with ScopedTimer() as timer:
                    self.update(timestep=timestep, timesteps=timesteps)
                    self.track_data("Stats / Algorithm update time (ms)", timer.elapsed_time_ms)
        super().post_interaction(timestep=timestep, timesteps=timesteps)

    # --- learning -------------------------------------------------------------------------------
    def compute_advantages(self) -> None:
        """Returns and normalised advantages of the rollout (GAE), into the memory."""
        cfg = self.config
        with torch.no_grad():
            last_values = self._value_preprocessor(self.value(self._observation_preprocessor(self._next_observations)),
                                                   inverse=True)
        values = self.memory.get_tensor_by_name("values")
        returns, advantages = compute_gae(
            rewards=self.memory.get_tensor_by_name("rewards"),
            terminated=self.memory.get_tensor_by_name("terminated"),
            truncated=self.memory.get_tensor_by_name("truncated"),
            values=values, last_values=last_values, discount_factor=cfg.discount,
            lambda_coefficient=cfg.gae_lambda, time_limit_bootstrap=cfg.time_limit_bootstrap,
        )
        self.memory.set_tensor_by_name("values", self._value_preprocessor(values, train=True))
        self.memory.set_tensor_by_name("returns", self._value_preprocessor(returns, train=True))
        self.memory.set_tensor_by_name("advantages", advantages)

    def update(self, *, timestep: int, timesteps: int) -> None:
        self.compute_advantages()
        sums: dict[str, Any] = {}  # device tensors after the first minibatch
        steps = 0
        for _ in range(self.config.learning_epochs):
            kls = []
            for obs, stored, old_logp, old_values, returns, advantages in self.memory.sample(
                    names=self._batch_names, batch_size=len(self.memory), mini_batches=self.config.mini_batches):
                losses = self.minibatch_losses(obs, stored, old_logp, old_values, returns, advantages)
                self.optimizer.zero_grad(set_to_none=True)
                losses.pop("total").backward()
                if self.config.grad_norm_clip > 0:
                    torch.nn.utils.clip_grad_norm_(self.trained, self.config.grad_norm_clip)
                if self.config.lr_schedule == "genpo":
                    self.adapt_learning_rate(losses["kl_k1"])  # before this minibatch's step
                self.optimizer.step()
                kls.append(losses.pop("kl_k3"))
                losses.pop("kl_k1")
                for key, value in losses.items():
                    sums[key] = sums.get(key, 0.0) + value.detach()
                steps += 1
            if self.scheduler is not None:
                self.scheduler.step(torch.stack(kls).mean())
        for key, total in sums.items():
            self.track_data(key, total / steps)
        lr = self.optimizer.param_groups[0]["lr"]
        self.track_data("Learning / Learning rate", lr.detach().clone() if torch.is_tensor(lr) else lr)

    def minibatch_losses(self, obs, stored, old_logp, old_values, returns, advantages) -> dict[str, torch.Tensor]:
        """The losses of one minibatch (module docstring) by their tracking tags, their weighted
        sum (``total``) and the k1 and k3 KL estimates."""
        cfg = self.config
        new_logp = self.log_prob(obs, stored).view(old_logp.shape)
        log_ratio = new_logp - old_logp
        policy_loss = self.policy_loss(log_ratio, advantages)
        entropy_loss = cfg.entropy_coef * new_logp.mean()  # -coef * mean(-log pi)
        extras = self.extra_losses(obs, stored)
        predicted = self.value(obs)
        value_error = (returns - predicted).square()
        if cfg.value_clip > 0:
            clipped = old_values + (predicted - old_values).clamp(-cfg.value_clip, cfg.value_clip)
            clipped_error = (returns - clipped).square()
            value_error = torch.max(value_error, clipped_error) if cfg.value_loss == "max_clipped" else clipped_error
        value_loss = cfg.value_loss_coef * value_error.mean()
        total = policy_loss + entropy_loss + value_loss
        for weight, loss in extras.values():
            total = total + weight * loss
        with torch.no_grad():
            whole = self.kl_log_ratio(log_ratio)
            kl_k1 = -whole.mean()
            kl_k3 = ((whole.exp() - 1) - whole).mean()
        return {"total": total, "Loss / Policy loss": policy_loss, "Loss / Value loss": value_loss,
                **{f"Loss / {tag}": loss for tag, (_, loss) in extras.items()},
                **self.policy_stats(new_logp.detach()), "kl_k1": kl_k1, "kl_k3": kl_k3}

    def policy_loss(self, log_ratio: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
        """PPO's clipped surrogate (Schulman et al. 2017, Eq. 7; the review's Eq. 19), negated and
        averaged: ``log_ratio`` [B, M] (M log-probability terms per sample: 1 for a policy with one
        density), ``advantages`` [B, 1]."""
        clip = self.config.ratio_clip
        ratio = log_ratio.exp()
        return -torch.min(advantages * ratio, advantages * ratio.clamp(1 - clip, 1 + clip)).mean()

    def kl_log_ratio(self, log_ratio: torch.Tensor) -> torch.Tensor:
        """The log-ratios the KL estimates average (the learning rate adapts on them), from the
        [B, M] terms: per sample, their sum [B, 1] (terms of one density multiply; M = 1: the term)."""
        return log_ratio.sum(dim=-1, keepdim=True)

    def policy_stats(self, new_logp: torch.Tensor) -> dict[str, torch.Tensor]:
        """What a minibatch tracks about the policy: the entropy estimate mean(-log pi)."""
        return {"Policy / Entropy estimate": -new_logp.mean()}

    def adapt_learning_rate(self, kl: torch.Tensor) -> None:
        """GenPO's original rule (flowppo.py): /1.5 above twice the desired KL, x1.5 below half of
        it when the estimate is above -1e-4, within [1e-5, 1e-2]; on the device."""
        desired = self.config.desired_kl
        lr = self.optimizer.param_groups[0]["lr"]
        lower, raise_ = (lr / 1.5).clamp(min=LR_BOUNDS[0]), (lr * 1.5).clamp(max=LR_BOUNDS[1])
        lr.copy_(torch.where(kl > 2 * desired, lower, torch.where((kl < desired / 2) & (kl > -1e-4), raise_, lr)))
