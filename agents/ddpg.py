"""DDPG: skrl's implementation, configured from the review's Tables 10 and 12.

Deterministic tanh actor with Gaussian exploration noise (std 0.1 of the [-1, 1] action range, the
TD3 paper's setting), one critic with a Polyak-averaged target. skrl bootstraps on ``terminated``
only, so time-outs bootstrap; the loop stores the true final observation of a truncated episode.
"""

from __future__ import annotations

from skrl.agents.torch.ddpg import DDPG, DDPG_CFG
from skrl.resources.noises.torch import GaussianNoise

from agents import models, off_policy
from agents.config import ResolvedConfig

FAMILY = "off_policy"
DEFAULTS = {"exploration_noise_std": (0.1, "harness default (Fujimoto et al. 2018)")}


def build(cfg: ResolvedConfig, *, observation_space, action_space, num_envs: int, device: str) -> DDPG:
    space = models.bounded(action_space)
    nets = {
        "policy": models.deterministic_policy(cfg, observation_space, space, device),
        "target_policy": models.deterministic_policy(cfg, observation_space, space, device),
        "critic": models.q_value(cfg, observation_space, space, device),
        "target_critic": models.q_value(cfg, observation_space, space, device),
    }
    agent_cfg = DDPG_CFG(
        learning_rate=(cfg["actor_lr"], cfg["critic_lr"]),
        exploration_noise=GaussianNoise,
        exploration_noise_kwargs={"mean": 0.0, "std": cfg["exploration_noise_std"], "device": device},
        **off_policy.skrl_cfg_kwargs(cfg, observation_space, device),
    )
    return DDPG(models=nets, memory=off_policy.replay_memory(cfg, num_envs, device),
                observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)
