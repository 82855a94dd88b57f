"""SAC: skrl's implementation, configured from the review's Tables 10 and 12.

Gaussian actor with a tanh mean, samples clipped to [-1, 1] (skrl's SAC, no tanh log-det
correction), twin critics, learned entropy coefficient toward a target entropy of -dim(action)
(Haarnoja et al. 2018), initial coefficient 0.2 (skrl's default).
"""

from __future__ import annotations

from skrl.agents.torch.sac import SAC, SAC_CFG

from agents import models, off_policy
from agents.config import ResolvedConfig

FAMILY = "off_policy"
DEFAULTS = {
    "initial_entropy": (0.2, "harness default (skrl)"),
    "entropy_lr": (3e-4, "harness default (Haarnoja et al. 2018)"),
}


def build(cfg: ResolvedConfig, *, observation_space, action_space, num_envs: int, device: str) -> SAC:
    space = models.bounded(action_space)
    nets = {"policy": models.gaussian_policy(cfg, observation_space, space, device, squash=True)}
    for name in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        nets[name] = models.q_value(cfg, observation_space, space, device)
    agent_cfg = SAC_CFG(
        learning_rate=(cfg["actor_lr"], cfg["critic_lr"], cfg["entropy_lr"]),
        learn_entropy=True,
        initial_entropy_value=cfg["initial_entropy"],
        target_entropy=-float(space.shape[0]),
        **off_policy.skrl_cfg_kwargs(cfg, observation_space, device),
    )
    agent = SAC(models=nets, memory=off_policy.replay_memory(cfg, num_envs, device),
                observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)
    agent.losses_need_write_interval = True  # see agents.interface.init_for_loop
    return agent
