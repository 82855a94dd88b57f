"""Discrete noise schedules beta_1..beta_K and the DDPM quantities derived from them.

Notation (the review's Eq. 1-2, Ho et al. 2020): alpha_k = 1 - beta_k, abar_k = prod_{i<=k} alpha_i,
forward q(x_k | x_0) = N(sqrt(abar_k) x_0, (1 - abar_k) I); posterior
q(x_{k-1} | x_k, x_0) = N(c0_k x_0 + ck_k x_k, var_k) with
c0_k = beta_k sqrt(abar_{k-1}) / (1 - abar_k), ck_k = (1 - abar_{k-1}) sqrt(alpha_k) / (1 - abar_k),
var_k = beta_k (1 - abar_{k-1}) / (1 - abar_k).

Index k runs 0..K-1 in code (k = 0 is the first noising step, abar_{-1} = 1).

Schedules:
- ``linear``: beta from 1e-4 to 2e-2 (Ho et al.), as SDAC/DPMD use;
- ``cosine``: abar(t) = cos^2(((t/K + s) / (1 + s)) pi / 2), s = 0.008, betas clipped at 0.999
  (Nichol & Dhariwal 2021), as DIPO and QVPO use;
- ``vp``: the variance-preserving discretisation beta_k = 1 - exp(-b_min/K - (b_max - b_min)(2k+1)/(2K^2)),
  b_min = 0.1, b_max = 10 (Song et al. 2021, as in Diffusion-QL), as DACER uses.
"""

from __future__ import annotations

import math

import torch

SCHEDULES = ("linear", "cosine", "vp")


def linear_betas(steps: int, start: float = 1e-4, end: float = 2e-2) -> torch.Tensor:
    return torch.linspace(start, end, steps, dtype=torch.float64)


def cosine_betas(steps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    abar = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2  # Nichol & Dhariwal divide by abar(0): it cancels
    return (1 - abar[1:] / abar[:-1]).clamp(max=max_beta)


def vp_betas(steps: int, b_min: float = 0.1, b_max: float = 10.0) -> torch.Tensor:
    k = torch.arange(1, steps + 1, dtype=torch.float64)
    return 1 - torch.exp(-b_min / steps - 0.5 * (b_max - b_min) * (2 * k - 1) / steps**2)


class NoiseSchedule(torch.nn.Module):
    """The per-step constants of one schedule, as buffers (they follow the module's device)."""

    def __init__(self, kind: str, steps: int):
        super().__init__()
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; valid: {', '.join(SCHEDULES)}")
        if steps < 1:
            raise ValueError(f"diffusion steps must be positive, got {steps}")
        self.kind, self.steps = kind, steps
        betas = {"linear": linear_betas, "cosine": cosine_betas, "vp": vp_betas}[kind](steps)
        alphas = 1 - betas
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
        var = betas * (1 - abar_prev) / (1 - abar)
        consts = {
            "betas": betas, "alphas": alphas, "abar": abar, "abar_prev": abar_prev,
            "sqrt_abar": abar.sqrt(), "sqrt_one_minus_abar": (1 - abar).sqrt(),
            "sqrt_recip_abar": (1 / abar).sqrt(), "sqrt_recipm1_abar": (1 / abar - 1).sqrt(),
            "posterior_c0": betas * abar_prev.sqrt() / (1 - abar),
            "posterior_ck": (1 - abar_prev) * alphas.sqrt() / (1 - abar),
            "posterior_var": var,
            # var_0 = 0: clip the log as DDPM implementations do (no noise is added at k = 0 anyway)
            "posterior_log_var": torch.log(torch.cat([var[1:2], var[1:]]) if steps > 1 else var.clamp(min=1e-20)),
        }
        for name, value in consts.items():
            self.register_buffer(name, value.float(), persistent=False)

    @staticmethod
    def _at(values: torch.Tensor, k: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
        """The constants at step(s) ``k`` (one per row, or one int for all), shaped to broadcast."""
        return values[k].view(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, k: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_k = sqrt(abar_k) x0 + sqrt(1 - abar_k) noise."""
        return self._at(self.sqrt_abar, k, x0) * x0 + self._at(self.sqrt_one_minus_abar, k, x0) * noise

    def predict_x0(self, xk: torch.Tensor, k: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return self._at(self.sqrt_recip_abar, k, xk) * xk - self._at(self.sqrt_recipm1_abar, k, xk) * eps

    def posterior(self, x0: torch.Tensor, xk: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(x_{k-1} | x_k, x_0)."""
        mean = self._at(self.posterior_c0, k, xk) * x0 + self._at(self.posterior_ck, k, xk) * xk
        return mean, self._at(self.posterior_log_var, k, xk)
