"""DIPO (Yang et al. 2023; review Sec. 2.1, action-gradient family): improve the actions in memory
along grad_a Q, then fit the diffusion policy to them with the plain denoising loss.

Per update, on a batch of (s, a) from the "diffusion memory" (here a column of the replay memory):
``action_gradient_steps`` (20) Adam steps with a fresh optimizer (lr ``action_lr`` = 0.03) on the
actions themselves to maximise min(Q1, Q2), gradient norm clipped over the whole batch tensor, actions
clamped to [-1, 1]; the improved actions are *written back* into the memory, so improvements
accumulate across updates (as the original). The actor loss is the epsilon-prediction MSE on the
improved actions (review Eq. 3). Critic: twin Q, clipped double-Q target whose next actions come from
a Polyak-averaged target actor running the full chain. Cosine schedule, K = 100 (review Table 9).
Acting samples the chain; evaluation runs it from a random x_K without per-step noise, as the
original does. The original treats time-outs as terminal; here they bootstrap.
"""

from __future__ import annotations

import dataclasses

import torch

from agents.catalogue import Algorithm
from agents.diffusion.off_policy_base import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig
from agents.diffusion.sampler import denoising_loss, sample
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.settings import AT_LEAST_ONE, POSITIVE, setting

_T9 = "review Table 9 (DIPO)"


@dataclasses.dataclass(frozen=True)
class DIPOConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(100, _T9)
    time_embedding_dim: int = time_embedding_dim(32, "DIPO original")
    time_hidden: int = time_hidden(256, "DIPO original")
    action_gradient_steps: int = setting(20, _T9, AT_LEAST_ONE, "Adam steps on the memory actions per update")
    action_lr: float = setting(0.03, _T9, POSITIVE, "learning rate of the action-gradient steps")
    action_grad_norm_ratio: float = setting(0.1, "DIPO original (max norm = act_dim * ratio)", POSITIVE,
                                            "action-gradient norm clip, as a fraction of act_dim")


class DIPO(DiffusionOffPolicyAgent):
    schedule_kind = "cosine"
    evaluation_policy = "the chain from random x_K without per-step noise (noise_ratio 0, as the original)"

    def init(self, *, trainer_cfg=None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        self.memory.create_tensor(name="diffusion_actions", size=self.action_space, dtype=torch.float32)

    def extra_memory(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"diffusion_actions": actions}

    @torch.no_grad()
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        return sample(self.actor, self.schedule, obs)[:, 0]

    @torch.no_grad()
    def evaluate_action(self, obs: torch.Tensor) -> torch.Tensor:
        return sample(self.actor, self.schedule, obs, noise_ratio=0.0)[:, 0]

    @torch.no_grad()
    def critic_target(self, next_obs: torch.Tensor) -> torch.Tensor:
        return self.target_critic.min_q(next_obs, sample(self.target_actor, self.schedule, next_obs)[:, 0])

    def improve_actions(self, state: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``action_gradient_steps`` Adam steps on the actions toward higher min(Q1, Q2)."""
        a = actions.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([a], lr=self.config.action_lr, eps=1e-5)  # fresh each time
        max_norm = self.act_dim * self.config.action_grad_norm_ratio
        for _ in range(self.config.action_gradient_steps):
            loss = -self.critic.min_q(state, a).sum()
            (grad,) = torch.autograd.grad(loss, a)
            a.grad = grad
            torch.nn.utils.clip_grad_norm_([a], max_norm)
            optimizer.step()
            with torch.no_grad():
                a.clamp_(-1.0, 1.0)
        return a.detach()

    def update_actor(self, timestep, timesteps) -> None:
        idx, batch = self.sample_batch()
        s = batch["observations"]
        improved = self.improve_actions(s, batch["diffusion_actions"])
        self.memory.tensors_view["diffusion_actions"][idx] = improved  # improvements accumulate
        loss = denoising_loss(self.actor, self.schedule, improved, s)
        self.step_actor(loss)
        self.track_data("Loss / Policy loss", loss.item())


ALGORITHM = Algorithm(DIPOConfig, DIPO, label="DIPO", color="#9467bd", family="diffusion: action gradient", order=5)
