"""TD3: skrl's implementation, configured from the review's Tables 10 and 12.

Twin critics with clipped double-Q targets, delayed policy updates (every 2 critic updates) and
target policy smoothing (noise std 0.2 clipped at 0.5), the TD3 paper's settings (Fujimoto et al.
2018). Exploration noise std 0.1 on the [-1, 1] action range.
"""

from __future__ import annotations

from skrl.agents.torch.td3 import TD3, TD3_CFG
from skrl.resources.noises.torch import GaussianNoise

from agents import models, off_policy
from agents.config import ResolvedConfig

FAMILY = "off_policy"
_PAPER = "harness default (Fujimoto et al. 2018)"
DEFAULTS = {
    "exploration_noise_std": (0.1, _PAPER),
    "policy_delay": (2, _PAPER),
    "smooth_noise_std": (0.2, _PAPER),
    "smooth_noise_clip": (0.5, _PAPER),
}


def build(cfg: ResolvedConfig, *, observation_space, action_space, num_envs: int, device: str) -> TD3:
    space = models.bounded(action_space)
    nets = {"policy": models.deterministic_policy(cfg, observation_space, space, device),
            "target_policy": models.deterministic_policy(cfg, observation_space, space, device)}
    for name in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        nets[name] = models.q_value(cfg, observation_space, space, device)
    agent_cfg = TD3_CFG(
        learning_rate=(cfg["actor_lr"], cfg["critic_lr"]),
        exploration_noise=GaussianNoise,
        exploration_noise_kwargs={"mean": 0.0, "std": cfg["exploration_noise_std"], "device": device},
        policy_delay=cfg["policy_delay"],
        smooth_regularization_noise=GaussianNoise,
        smooth_regularization_noise_kwargs={"mean": 0.0, "std": cfg["smooth_noise_std"], "device": device},
        smooth_regularization_clip=cfg["smooth_noise_clip"],
        **off_policy.skrl_cfg_kwargs(cfg, observation_space, device),
    )
    return TD3(models=nets, memory=off_policy.replay_memory(cfg, num_envs, device),
               observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)
