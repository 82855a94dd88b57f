"""GenPO's doubled, exactly invertible flow (review Sec. 2.3, Eq. 20-21; EDICT-style coupling).

The action space is doubled: x0 ~ N(0, I_2d) is split into halves (z, y). Each of the N steps
(t_i = i / N, dt = 1 / N; one velocity network v for both halves, as in the original) is

    z' = z + dt v(y, s, t_i)          y' = y + dt v(z', s, t_i)          (additive couplings)
    z'' = p z' + (1 - p) y'           y'' = p y' + (1 - p) z''           (mixing, p = mixing coefficient)

and the environment action is (z_N + y_N) / 2. Every step inverts in closed form (``inverse``).

Log-likelihood. The additive couplings have unit Jacobian determinant and each mixing pair is
triangular with determinant p^d per half, so |det J| = p^(2 d N) exactly, whatever the network is.
Hence log pi(x_N) = log N(x0; 0, I) - 2 d N log p, with x0 = inverse(x_N). The original computes the
same number by running ``jacrev`` over the chain and ``det`` (float32); we use the closed form and
``tests/test_genpo_math.py`` checks it against ``slogdet`` of the autograd Jacobian. The constant
cancels in PPO's ratio, so what drives learning is log N(inverse(stored action)), differentiated
through the inverse chain.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from agents.diffusion.denoiser import Denoiser


class CoupledFlow(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int], steps: int, mixing: float,
                 t_dim: int = 32, time_hidden: int | list[int] | None = None):
        super().__init__()
        if not 0 < mixing <= 1:
            raise ValueError(f"mixing coefficient must be in (0, 1], got {mixing}")
        self.act_dim, self.steps, self.mixing = act_dim, steps, mixing
        self.velocity = Denoiser(obs_dim, act_dim, hidden, t_dim=t_dim, time_hidden=time_hidden)  # v(x_half, s, t)

    def _v(self, x: torch.Tensor, state: torch.Tensor, i: int) -> torch.Tensor:
        return self.velocity(x, state, i / self.steps)

    def forward_chain(self, x0: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """[B, 2d] base noise -> [B, 2d] doubled action (z_N, y_N)."""
        z, y = x0[:, : self.act_dim], x0[:, self.act_dim :]
        dt, p = 1.0 / self.steps, self.mixing
        for i in range(self.steps):
            z = z + dt * self._v(y, state, i)
            y = y + dt * self._v(z, state, i)
            z = p * z + (1 - p) * y
            y = p * y + (1 - p) * z
        return torch.cat([z, y], dim=-1)

    def inverse_chain(self, doubled: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """[B, 2d] doubled action -> the [B, 2d] base noise that produced it."""
        z, y = doubled[:, : self.act_dim], doubled[:, self.act_dim :]
        dt, p = 1.0 / self.steps, self.mixing
        for i in reversed(range(self.steps)):
            y = (y - (1 - p) * z) / p
            z = (z - (1 - p) * y) / p
            y = y - dt * self._v(z, state, i)
            z = z - dt * self._v(y, state, i)
        return torch.cat([z, y], dim=-1)

    def log_det(self) -> float:
        """log |det d forward_chain / d x0| = 2 d N log p (see the module docstring)."""
        return 2 * self.act_dim * self.steps * math.log(self.mixing)

    def base_log_prob(self, x0: torch.Tensor) -> torch.Tensor:
        return -0.5 * (x0.square().sum(-1) + x0.shape[-1] * math.log(2 * math.pi))

    def sample(self, state: torch.Tensor, *, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Doubled actions and their exact log-probabilities; ``deterministic`` starts from x0 = 0."""
        x0 = torch.zeros if deterministic else torch.randn
        noise = x0(state.shape[0], 2 * self.act_dim, device=state.device, dtype=state.dtype)
        return self.forward_chain(noise, state), self.base_log_prob(noise) - self.log_det()

    def log_prob(self, doubled: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Exact log-density of stored doubled actions, differentiable through the inverse chain."""
        return self.base_log_prob(self.inverse_chain(doubled, state)) - self.log_det()

    @staticmethod
    def env_action(doubled: torch.Tensor) -> torch.Tensor:
        half = doubled.shape[-1] // 2
        return 0.5 * (doubled[..., :half] + doubled[..., half:])
