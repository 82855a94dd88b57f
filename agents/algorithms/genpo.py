"""GenPO (Ding et al. 2025; review Sec. 2.3, Eq. 19-21): PPO with an exactly invertible flow policy.

Rollout: x0 ~ N(0, I_2d) through the coupled flow (:mod:`agents.diffusion.coupled_flow`, N = 5
steps, review Table 9) gives a doubled action (z, y); the environment gets (z + y) / 2 and the
rollout memory stores the doubled action with its exact log-probability (2 d actions per step, as
the original's storage). Update: PPO's clipped surrogate (Eq. 19) with the new log-probability of
the stored doubled action computed through the inverse chain, the clipped value loss, GAE with
time-out bootstrapping, a KL-adaptive learning rate toward the table's desired KL (skrl's
``KLAdaptiveLR``), gradient clipping, plus:

- the compression loss ``compress_coef * mean ||z - y||_2`` on fresh samples, always on, as in the
  original (whose ``use_compress`` flag is never read);
- an entropy bonus ``-entropy_coef * mean(-log pi)`` over the stored samples, as in the original
  (the review's Table 11 entropy coefficient; 0 on Cartpole).

Differences from the original, on purpose: the mixing coefficient is the review's 0.9 (the
original's only config uses 0.95); the log-determinant is the closed form, equal to the
original's ``det(jacrev(...))`` (checked in the tests) at a fraction of the cost; evaluation samples
the flow as acting does (the original's ``act_inference`` returns the doubled sample unmixed; the
image of x0 = 0 is no mode of a multimodal policy: on the two-mode bandit it lands between modes).
"""

from __future__ import annotations

import dataclasses

import gymnasium
import numpy as np
import torch
from skrl.agents.torch.ppo import PPO
from skrl.agents.torch.ppo.ppo import compute_gae
from skrl.memories.torch import RandomMemory
from skrl.models.torch import Model

from agents import models
from agents.algorithms import ppo
from agents.catalogue import Algorithm
from agents.diffusion.coupled_flow import CoupledFlow
from agents.diffusion.settings import diffusion_steps, time_embedding_dim
from agents.settings import NON_NEGATIVE, OnPolicyConfig, Range, setting

_T9 = "review Table 9 (GenPO)"


@dataclasses.dataclass(frozen=True)
class GenPOConfig(OnPolicyConfig):
    activation: str = models.activation_setting("hidden-layer activation of the value network (the flow: Mish)")
    diffusion_steps: int = diffusion_steps(5, _T9)
    time_embedding_dim: int = time_embedding_dim(32, "GenPO original (SinusoidalPosEmb(32))")
    compress_coef: float = setting(0.01, _T9, NON_NEGATIVE, "weight of the compression loss mean ||z - y||")
    mixing: float = setting(0.9, _T9, Range(0, 1, low_open=True), "mixing coefficient p of the coupled flow")


class FlowPolicy(Model):
    """skrl model wrapper so skrl's PPO machinery (devices, training mode, checkpoints) applies."""

    def __init__(self, cfg: GenPOConfig, observation_space, action_space, device):
        super().__init__(observation_space=observation_space, action_space=action_space, device=device)
        self.flow = CoupledFlow(int(observation_space.shape[0]), int(action_space.shape[0]), cfg.actor_hidden,
                                steps=cfg.diffusion_steps, mixing=cfg.mixing, t_dim=cfg.time_embedding_dim)

    def compute(self, inputs, *, role: str = ""):
        raise NotImplementedError("GenPO drives its flow directly (GenPO.act / CoupledFlow)")

    act = compute


class GenPO(PPO):
    evaluation_policy = "a sample of the flow, action (z + y) / 2 (the policy as it acts)"

    def __init__(self, cfg: GenPOConfig, *, observation_space, action_space, num_envs: int, device: str):
        self.config = cfg
        act_dim = int(action_space.shape[0])
        doubled = gymnasium.spaces.Box(-np.inf, np.inf, (2 * act_dim,), dtype=np.float32)
        policy = FlowPolicy(cfg, observation_space, action_space, device)
        value = models.state_value(cfg.critic_hidden, cfg.activation, observation_space, action_space, device)
        super().__init__(
            models={"policy": policy, "value": value},
            memory=RandomMemory(memory_size=cfg.rollouts, num_envs=num_envs, device=device),
            observation_space=observation_space, action_space=doubled, device=device,
            cfg=ppo.skrl_cfg(cfg, observation_space, device),
        )
        self.flow = policy.flow
        self._current_doubled = None

    def act(self, observations, states, *, timestep: int, timesteps: int):
        obs = self._observation_preprocessor(observations)
        doubled, log_prob = self.flow.sample(obs)
        self._current_obs, self._current_doubled = obs, doubled
        self._current_log_prob = log_prob.unsqueeze(-1)
        if self.training:
            values, _ = self.value.act({"observations": obs, "states": None}, role="value")
            self._current_values = self._value_preprocessor(values, inverse=True)
        return CoupledFlow.env_action(doubled), {"log_prob": self._current_log_prob}

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        doubled, _ = self.flow.sample(self._observation_preprocessor(observations))
        return CoupledFlow.env_action(doubled)

    def record_transition(self, *, observations, actions, **kwargs) -> None:
        """Store the doubled action and the *normalized* observation the policy acted on.

        The flow's log-density is sharp in the state, so the update must see exactly the input the
        rollout saw (as rsl-rl, which the original forks, stores normalized observations); the
        running normalizer learns from the raw observations here instead of in the update.
        """
        if self.training and self.cfg.observation_preprocessor:
            self._observation_preprocessor(observations, train=True)
        super().record_transition(observations=self._current_obs, actions=self._current_doubled, **kwargs)

    def update(self, *, timestep: int, timesteps: int) -> None:
        with torch.no_grad():
            last_obs = self._observation_preprocessor(self._current_next_observations)
            last_values, _ = self.value.act({"observations": last_obs, "states": None}, role="value")
            last_values = self._value_preprocessor(last_values, inverse=True)
        values = self.memory.get_tensor_by_name("values")
        returns, advantages = compute_gae(
            rewards=self.memory.get_tensor_by_name("rewards"),
            terminated=self.memory.get_tensor_by_name("terminated"),
            truncated=self.memory.get_tensor_by_name("truncated"),
            values=values, last_values=last_values, discount_factor=self.cfg.discount_factor,
            lambda_coefficient=self.cfg.gae_lambda, time_limit_bootstrap=self.cfg.time_limit_bootstrap,
        )
        self.memory.set_tensor_by_name("values", self._value_preprocessor(values, train=True))
        self.memory.set_tensor_by_name("returns", self._value_preprocessor(returns, train=True))
        self.memory.set_tensor_by_name("advantages", advantages)

        sums = {"policy": 0.0, "value": 0.0, "compress": 0.0, "entropy": 0.0}
        steps = 0
        for _ in range(self.cfg.learning_epochs):
            kls = []
            for obs, _, doubled, old_logp, old_values, rets, adv in self.memory.sample(
                    names=self._tensors_names, batch_size=len(self.memory), mini_batches=self.cfg.mini_batches):
                new_logp = self.flow.log_prob(doubled, obs).unsqueeze(-1)
                log_ratio = new_logp - old_logp
                with torch.no_grad():
                    kls.append(((log_ratio.exp() - 1) - log_ratio).mean())
                ratio = log_ratio.exp()
                surrogate = torch.min(adv * ratio, adv * ratio.clamp(1 - self.cfg.ratio_clip, 1 + self.cfg.ratio_clip))
                policy_loss = -surrogate.mean()
                entropy_loss = self.cfg.entropy_loss_scale * new_logp.mean()  # -coef * mean(-log pi)
                fresh, _ = self.flow.sample(obs)
                half = fresh.shape[-1] // 2
                compress_loss = (fresh[:, :half] - fresh[:, half:]).norm(dim=-1).mean()
                predicted, _ = self.value.act({"observations": obs, "states": None}, role="value")
                if self.cfg.value_clip > 0:
                    predicted = old_values + (predicted - old_values).clamp(-self.cfg.value_clip, self.cfg.value_clip)
                value_loss = self.cfg.value_loss_scale * (rets - predicted).square().mean()
                loss = policy_loss + entropy_loss + value_loss + self.config.compress_coef * compress_loss
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.cfg.grad_norm_clip > 0:
                    torch.nn.utils.clip_grad_norm_(
                        list(self.policy.parameters()) + list(self.value.parameters()), self.cfg.grad_norm_clip)
                self.optimizer.step()
                for key, value in (("policy", policy_loss), ("value", value_loss), ("compress", compress_loss),
                                   ("entropy", -new_logp.mean())):
                    sums[key] += float(value.detach())
                steps += 1
            self.scheduler.step(torch.tensor(kls).mean())
        self.track_data("Loss / Policy loss", sums["policy"] / steps)
        self.track_data("Loss / Value loss", sums["value"] / steps)
        self.track_data("Loss / Compression loss", sums["compress"] / steps)
        self.track_data("Policy / Entropy estimate", sums["entropy"] / steps)
        self.track_data("Learning / Learning rate", self.scheduler.get_last_lr()[0])


ALGORITHM = Algorithm(GenPOConfig, GenPO, label="GenPO", color="#17becf",
                      family="diffusion: proximity (exact likelihood)", order=8)
