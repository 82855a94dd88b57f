"""SAC: skrl's implementation, configured from the review's Tables 10 and 12.

Gaussian actor with a tanh mean, samples clipped to [-1, 1] (skrl's SAC, no tanh log-det
correction), twin critics, learned entropy coefficient toward a target entropy of -dim(action)
(Haarnoja et al. 2018), initial coefficient 0.2 (skrl's default). The actor's log std starts at 0.
"""

from __future__ import annotations

import dataclasses

from skrl.agents.torch.sac import SAC, SAC_CFG

from agents import models
from agents.catalogue import Algorithm
from agents.interface import SkrlAgent
from agents.settings import HARNESS, POSITIVE, OffPolicyConfig, setting


@dataclasses.dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    activation: str = models.activation_setting()
    initial_entropy: float = setting(0.2, f"{HARNESS} (skrl)", POSITIVE, "initial entropy coefficient")
    entropy_lr: float = setting(3e-4, f"{HARNESS} (Haarnoja et al. 2018)", POSITIVE,
                                "learning rate of the entropy coefficient")


class SACAgent(SkrlAgent, SAC):
    """skrl's SAC with the harness contract: its losses are recorded only while skrl's own writer is
    on; its learned temperature (a bare tensor) is checkpointed, and the coefficient the next update
    uses resumes."""

    evaluation_policy = "the Gaussian policy's mean action"
    losses_need_write_interval = True
    SKRL_COUNTERS = ("_entropy_coefficient",)

    def init(self, *, trainer_cfg=None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        self.checkpoint_modules.setdefault("log_entropy_coefficient", self.log_entropy_coefficient)


def build(cfg: SACConfig, *, observation_space, action_space, num_envs: int, device: str) -> SACAgent:
    space = models.bounded(action_space)
    nets = {"policy": models.gaussian_policy(cfg.actor_hidden, cfg.activation, observation_space, space, device,
                                             squash=True)}
    for name in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        nets[name] = models.q_value(cfg.critic_hidden, cfg.activation, observation_space, space, device)
    agent_cfg = SAC_CFG(
        learning_rate=(cfg.actor_lr, cfg.critic_lr, cfg.entropy_lr),
        learn_entropy=True,
        initial_entropy_value=cfg.initial_entropy,
        target_entropy=-float(space.shape[0]),
        **models.skrl_off_policy_kwargs(cfg, observation_space, device),
    )
    return SACAgent(models=nets, memory=models.replay_memory(cfg, num_envs, device),
                    observation_space=observation_space, action_space=space, device=device, cfg=agent_cfg)


ALGORITHM = Algorithm(SACConfig, build, label="SAC", color="#d62728", family="classic: off-policy", order=4)
