"""DDPG: skrl's implementation, configured from the review's Tables 10 and 12.

Deterministic tanh actor with Gaussian exploration noise (std 0.1 of the [-1, 1] action range, the
TD3 paper's setting), one critic with a Polyak-averaged target. skrl bootstraps on ``terminated``
only, so time-outs bootstrap; the loop stores the true final observation of a truncated episode.
"""

from __future__ import annotations

import dataclasses

from skrl.agents.torch.ddpg import DDPG, DDPG_CFG
from skrl.resources.noises.torch import GaussianNoise

from agents import models
from agents.catalogue import Algorithm
from agents.interface import SkrlAgent
from agents.settings import HARNESS, NON_NEGATIVE, OffPolicyConfig, setting

_TD3_PAPER = f"{HARNESS} (Fujimoto et al. 2018)"


@dataclasses.dataclass(frozen=True)
class DDPGConfig(OffPolicyConfig):
    activation: str = models.activation_setting()
    exploration_noise_std: float = setting(0.1, _TD3_PAPER, NON_NEGATIVE, "Gaussian exploration noise std")


class DDPGAgent(SkrlAgent, DDPG):
    evaluation_policy = "the deterministic actor's action"


def build(cfg: DDPGConfig, *, observation_space, action_space, num_envs: int, device: str) -> DDPGAgent:
    space = models.bounded(action_space)
    actor = (cfg.actor_hidden, cfg.activation, observation_space, space, device)
    critic = (cfg.critic_hidden, cfg.activation, observation_space, space, device)
    nets = {"policy": models.deterministic_policy(*actor), "target_policy": models.deterministic_policy(*actor),
            "critic": models.q_value(*critic), "target_critic": models.q_value(*critic)}
    agent_cfg = DDPG_CFG(
        learning_rate=(cfg.actor_lr, cfg.critic_lr),
        exploration_noise=GaussianNoise,
        exploration_noise_kwargs={"mean": 0.0, "std": cfg.exploration_noise_std, "device": device},
        **models.skrl_off_policy_kwargs(cfg, observation_space, device),
    )
    return DDPGAgent(models=nets, memory=models.replay_memory(cfg, num_envs, device),
                observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)


ALGORITHM = Algorithm(DDPGConfig, build, label="DDPG", color="#ff7f0e", family="classic: off-policy", order=2)
