"""The denoiser: an MLP on (noisy action, state, time embedding) predicting the added noise.

As in DIPO, QVPO and DACER: sinusoidal features of the step index, a small Mish MLP on them
(t_dim -> time_hidden -> t_dim: 32 -> 256 -> 32 in DIPO and QVPO, 16 -> 32 -> 16 in DACER,
32 -> 256 -> 256 -> 32 in GenPO), then a
Mish MLP on concat(x_k, t_emb, state) whose hidden sizes are the task's actor layers (the review's
Table 10 overrides the originals' 3 x 256).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(k: torch.Tensor, dim: int) -> torch.Tensor:
    """[B] step indices -> [B, dim] features sin(k w_i), cos(k w_i), w_i = 10000^(-i / (dim/2 - 1))."""
    if dim % 2:
        raise ValueError(f"the step embedding's size must be even (sin and cos halves), got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=k.device, dtype=torch.float32) / max(half - 1, 1))
    angles = k.float().unsqueeze(-1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class Mish(nn.Module):
    """x tanh(softplus(x)) (Misra 2019). The same function as ``torch.nn.Mish``; on the CPU this
    composition runs about twice as fast as torch's own kernel, forward and backward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_cuda:
            return nn.functional.mish(x)
        return x * torch.tanh(nn.functional.softplus(x))


def mlp(sizes: list[int], activation=Mish, out_activation: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or out_activation:
            layers.append(activation())
    return nn.Sequential(*layers)


class Denoiser(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int], t_dim: int = 16,
                 time_hidden: int | list[int] | None = None):
        """``time_hidden``: the step-embedding MLP's hidden sizes (an int for one layer; default 2 t_dim)."""
        super().__init__()
        self.t_dim = t_dim
        layers = [time_hidden] if isinstance(time_hidden, int) else list(time_hidden or [2 * t_dim])
        self.time_mlp = mlp([t_dim, *layers, t_dim])
        self.net = mlp([act_dim + t_dim + obs_dim, *hidden, act_dim])

    def forward(self, x: torch.Tensor, state: torch.Tensor, k: torch.Tensor | float) -> torch.Tensor:
        """``k``: one step index per row ([B]), or one for the whole batch (a number: embedded once)."""
        if isinstance(k, torch.Tensor) and k.dim() == 1:
            t = self.time_mlp(sinusoidal_embedding(k, self.t_dim).to(x.dtype))
        else:
            k = torch.as_tensor(k, device=x.device).reshape(1)
            t = self.time_mlp(sinusoidal_embedding(k, self.t_dim).to(x.dtype)).expand(x.shape[0], -1)
        return self.net(torch.cat([x, t, state], dim=-1))
