"""TD3: skrl's implementation, configured from the review's Tables 10 and 12.

Twin critics with clipped double-Q targets, delayed policy updates (every 2 critic updates) and
target policy smoothing (noise std 0.2 clipped at 0.5), the TD3 paper's settings (Fujimoto et al.
2018). Exploration noise std 0.1 on the [-1, 1] action range.
"""

from __future__ import annotations

import dataclasses

from skrl.agents.torch.td3 import TD3, TD3_CFG
from skrl.resources.noises.torch import GaussianNoise

from agents import models
from agents.algorithms.ddpg import DDPGConfig
from agents.catalogue import Algorithm
from agents.interface import SkrlAgent
from agents.settings import AT_LEAST_ONE, HARNESS, NON_NEGATIVE, POSITIVE, setting

_PAPER = f"{HARNESS} (Fujimoto et al. 2018)"


@dataclasses.dataclass(frozen=True)
class TD3Config(DDPGConfig):
    policy_delay: int = setting(2, _PAPER, AT_LEAST_ONE, "critic updates per policy update")
    smooth_noise_std: float = setting(0.2, _PAPER, NON_NEGATIVE, "target policy smoothing noise std")
    smooth_noise_clip: float = setting(0.5, _PAPER, POSITIVE, "target policy smoothing noise clip")


class TD3Agent(SkrlAgent, TD3):
    """skrl's TD3 with the harness contract: its update count (the policy delay) resumes."""

    evaluation_policy = "the deterministic actor's action"
    SKRL_COUNTERS = ("_update_counter",)


def build(cfg: TD3Config, *, observation_space, action_space, num_envs: int, device: str) -> TD3Agent:
    space = models.bounded(action_space)
    actor = (cfg.actor_hidden, cfg.activation, observation_space, space, device)
    nets = {"policy": models.deterministic_policy(*actor), "target_policy": models.deterministic_policy(*actor)}
    for name in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        nets[name] = models.q_value(cfg.critic_hidden, cfg.activation, observation_space, space, device)
    agent_cfg = TD3_CFG(
        learning_rate=(cfg.actor_lr, cfg.critic_lr),
        exploration_noise=GaussianNoise,
        exploration_noise_kwargs={"mean": 0.0, "std": cfg.exploration_noise_std, "device": device},
        policy_delay=cfg.policy_delay,
        smooth_regularization_noise=GaussianNoise,
        smooth_regularization_noise_kwargs={"mean": 0.0, "std": cfg.smooth_noise_std, "device": device},
        smooth_regularization_clip=cfg.smooth_noise_clip,
        **models.skrl_off_policy_kwargs(cfg, observation_space, device),
    )
    return TD3Agent(models=nets, memory=models.replay_memory(cfg, num_envs, device),
               observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)


ALGORITHM = Algorithm(TD3Config, build, label="TD3", color="#2ca02c", family="classic: off-policy", order=3)
