"""DDPM reverse sampling and the denoising loss, batched over states and candidate actions.

``sample`` draws N actions for each of B states in one chain over B*N rows (no Python loop over
states or candidates): x_K ~ N(0, I); for k = K-1..0: eps = denoiser(x_k, s, k), x0 = predicted and
clamped to [-1, 1], x_{k-1} ~ q(x_{k-1} | x_k, x0) (no noise at k = 0); the result is clamped again,
as DIPO, QVPO and DACER do. With ``grad=True`` the whole chain stays differentiable (DACER's BPTT).

All the noise of a call is drawn up front, in two tensors, and handed to :func:`reverse_chain`, a
pure function of (states, x_K, noise): that is what an agent compiles (``agents.execution``), so the
compiled and the eager chain give the same actions for the same noise.
"""

from __future__ import annotations

import torch

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.schedules import NoiseSchedule


def reverse_chain(denoiser: Denoiser, schedule: NoiseSchedule, state: torch.Tensor, x: torch.Tensor,
                  noise: torch.Tensor, clip: float, noise_ratio: float) -> torch.Tensor:
    """x_K [R, a] and the per-step noise [K, R, a] -> the chain's output [R, a] for states [R, s]."""
    for k in reversed(range(schedule.steps)):
        x0 = schedule.predict_x0(x, k, denoiser(x, state, k)).clamp(-clip, clip)
        mean, log_var = schedule.posterior(x0, x, k)
        x = mean + noise_ratio * (0.5 * log_var).exp() * noise[k] if k > 0 else mean
    return x.clamp(-clip, clip)


def sample(denoiser: Denoiser, schedule: NoiseSchedule, state: torch.Tensor, *, num: int = 1,
           clip: float = 1.0, grad: bool = False, noise_ratio: float = 1.0,
           generator: torch.Generator | None = None, chain=reverse_chain) -> torch.Tensor:
    """[B, s] states -> [B, num, a] actions (``num`` candidates per state).

    ``noise_ratio`` scales the per-step noise (DIPO evaluates with 0: x_K stays random); ``chain`` is
    :func:`reverse_chain` or its compiled form.
    """
    batch = state.shape[0]
    act_dim = denoiser.net[-1].out_features
    s = state.repeat_interleave(num, dim=0) if num > 1 else state
    x = torch.randn(batch * num, act_dim, device=state.device, generator=generator)
    noise = torch.randn(schedule.steps, batch * num, act_dim, device=state.device, generator=generator)
    with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
        x = chain(denoiser, schedule, s, x, noise, clip, noise_ratio)
    return x.view(batch, num, act_dim)


def denoising_loss(denoiser: Denoiser, schedule: NoiseSchedule, actions: torch.Tensor, state: torch.Tensor,
                   weights: torch.Tensor | None = None) -> torch.Tensor:
    """The review's Eq. 3: E_k,eps || eps - eps_theta(sqrt(abar_k) a + sqrt(1-abar_k) eps, s, k) ||^2,
    per sample optionally weighted (QVPO), with k uniform over the K steps."""
    k = torch.randint(0, schedule.steps, (actions.shape[0],), device=actions.device)
    eps = torch.randn_like(actions)
    err = (denoiser(schedule.q_sample(actions, k, eps), state, k) - eps).square().mean(dim=-1)
    if weights is None:
        return err.mean()
    return (weights.view(-1) * err).mean()
