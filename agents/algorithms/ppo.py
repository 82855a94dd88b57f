"""PPO: skrl's implementation, configured from the review's Tables 10-11.

KL-adaptive learning rate (skrl's ``KLAdaptiveLR``) toward the table's desired KL, clipped surrogate
and clipped value loss, GAE; time-outs bootstrap from V(final observation) (truncation is not
termination). Actor and critic share one Adam optimizer at the actor learning rate, as skrl does.
"""

from __future__ import annotations

import dataclasses

from skrl.agents.torch.ppo import PPO, PPO_CFG
from skrl.memories.torch import RandomMemory
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR

from agents import models
from agents.catalogue import Algorithm
from agents.interface import SkrlAgent
from agents.settings import HARNESS, OnPolicyConfig, setting


@dataclasses.dataclass(frozen=True)
class PPOConfig(OnPolicyConfig):
    activation: str = models.activation_setting("hidden-layer activation of the policy and value networks")
    initial_log_std: float = setting(0.0, f"{HARNESS} (Isaac Lab's skrl configs)",
                                     doc="initial log std of the Gaussian policy")


def skrl_cfg(cfg: OnPolicyConfig, observation_space, device: str) -> PPO_CFG:
    """skrl's PPO configuration from an on-policy config (shared by GenPO)."""
    return PPO_CFG(
        rollouts=cfg.rollouts,
        learning_epochs=cfg.learning_epochs,
        mini_batches=cfg.mini_batches,
        discount_factor=cfg.discount,
        gae_lambda=cfg.gae_lambda,
        learning_rate=cfg.actor_lr,
        learning_rate_scheduler=KLAdaptiveLR,
        learning_rate_scheduler_kwargs={"kl_threshold": cfg.desired_kl},
        grad_norm_clip=cfg.grad_norm_clip,
        ratio_clip=cfg.ratio_clip,
        value_clip=cfg.value_clip,
        entropy_loss_scale=cfg.entropy_coef,
        value_loss_scale=cfg.value_loss_coef,
        time_limit_bootstrap=cfg.time_limit_bootstrap,
        **models.observation_preprocessor(cfg, observation_space, device),
        **(
            {"value_preprocessor": RunningStandardScaler, "value_preprocessor_kwargs": {"size": 1, "device": device}}
            if cfg.value_normalization
            else {}
        ),
    )


class PPOAgent(SkrlAgent, PPO):
    """skrl's PPO with the harness contract: its rollout step and its KL-adaptive scheduler resume."""

    evaluation_policy = "the Gaussian policy's mean action"
    SKRL_COUNTERS = ("_rollout",)

    def resume_state(self) -> dict:
        state = super().resume_state()
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def load_resume_state(self, state: dict) -> None:
        super().load_resume_state(state)
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


def build(cfg: PPOConfig, *, observation_space, action_space, num_envs: int, device: str) -> PPOAgent:
    policy = models.gaussian_policy(cfg.actor_hidden, cfg.activation, observation_space, action_space, device,
                                    initial_log_std=cfg.initial_log_std)
    value = models.state_value(cfg.critic_hidden, cfg.activation, observation_space, action_space, device)
    memory = RandomMemory(memory_size=cfg.rollouts, num_envs=num_envs, device=device)
    return PPOAgent(
        models={"policy": policy, "value": value},
        memory=memory,
        observation_space=observation_space,
        action_space=action_space,
        device=device,
        cfg=skrl_cfg(cfg, observation_space, device),
    )


ALGORITHM = Algorithm(PPOConfig, build, label="PPO", color="#1f77b4", family="classic: on-policy", order=1)
