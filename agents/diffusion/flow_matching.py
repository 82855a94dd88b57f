"""A flow-matching policy: a velocity field, its Euler sampler and the per-pair conditional
flow-matching loss (Lipman et al. 2023), as FPO (McAllister et al. 2025) and FPO++ (Yi, Choi et al.
2026) use them.

Convention (FPO++'s official code, ``ActorCritic.get_cfm_loss``): time t = 1 is noise and t = 0 the
action; x_t = t eps + (1 - t) a, the velocity target d x_t / dt = eps - a; sampling integrates
dx/dt = v(x, s, t) from t = 1 to t = 0 in ``steps`` Euler steps (t_i = 1 - i / steps). The review's
Eq. 21 writes the same loss with time reversed (x_k = k a + (1 - k) eps, target a - eps).

The time features are fixed Fourier features [cos(2^j t), sin(2^j t)], j < dim / 2, concatenated
with the state and x_t (FPO++'s network: no time MLP).
"""

from __future__ import annotations

import torch
from torch import nn

from agents.diffusion.denoiser import mlp

REDUCTIONS = ("sqrt", "mean")
T_RANGE = (0.005, 0.995)  # FPO++ fpo.py act: t = 0.005 + 0.99 u with the inverse-CDF beta 1 (u uniform)


def fourier_time(t: torch.Tensor, dim: int) -> torch.Tensor:
    """[R] times -> [R, dim] features cos(2^j t), sin(2^j t), j = 0..dim/2 - 1."""
    angles = t.unsqueeze(-1) * 2.0 ** torch.arange(dim // 2, device=t.device, dtype=t.dtype)
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


class VelocityField(nn.Module):
    """v(x_t, s, t): an MLP on concat(state, time features, x_t)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int], t_dim: int, activation: type[nn.Module]):
        super().__init__()
        self.t_dim, self.act_dim = t_dim, act_dim
        self.net = mlp([obs_dim + t_dim + act_dim, *hidden, act_dim], activation=activation)

    def forward(self, x: torch.Tensor, state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([state, fourier_time(t, self.t_dim), x], dim=-1))

    def sample(self, state: torch.Tensor, x1: torch.Tensor, steps: int) -> torch.Tensor:
        """Euler integration from the noise ``x1`` at t = 1 to the action at t = 0."""
        x = x1
        for i in range(steps):
            t = torch.full((x.shape[0],), 1.0 - i / steps, device=x.device)
            x = x - self(x, state, t) / steps
        return x

    def cfm_losses(self, state: torch.Tensor, action: torch.Tensor, eps: torch.Tensor, t: torch.Tensor,
                   reduction: str) -> torch.Tensor:
        """[B, M] losses ||v(x_t, s, t) - (eps - a)||^2, one per (noise, time) pair: ``action`` [B, a],
        ``eps`` [B, M, a], ``t`` [B, M]; reduced over the action as the sum / sqrt(a) (``sqrt``,
        FPO++'s ``cfm_loss_reduction``) or the mean (``mean``, FPO's)."""
        batch, pairs, act_dim = eps.shape
        a = action.unsqueeze(1).expand_as(eps)
        tt = t.unsqueeze(-1)
        x_t = tt * eps + (1 - tt) * a
        v = self(x_t.reshape(-1, act_dim), state.repeat_interleave(pairs, dim=0), t.reshape(-1))
        err = (v.view(batch, pairs, act_dim) - (eps - a)).square()
        if reduction == "sqrt":
            return err.sum(dim=-1) / act_dim**0.5
        return err.mean(dim=-1)
