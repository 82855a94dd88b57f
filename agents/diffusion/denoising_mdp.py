"""The denoising chain as an inner MDP of Gaussian steps (DPPO, Ren et al. 2024, Sec. 4).

Each denoising step is a Gaussian policy step x_{i+1} ~ N(mu_theta(x_i, s, t_i), sigma_i^2 I) whose
mean comes from the eps-predicting denoiser (:mod:`agents.diffusion.denoiser`) and whose std comes
from the noise schedule, floored during training so that every step explores and every step has a
finite log-probability. As the original (``model/diffusion/diffusion_vpg.py``, ``p_mean_var``):

- DDPM (``ddim_steps = 0``): x0 = predicted from eps and clamped to +-``denoised_clip``;
  mu = c0_t x0 + ck_t x_t (the posterior mean, :mod:`agents.diffusion.schedules`); the std is
  sqrt(max(posterior variance, 1e-20)), so the last step's own std is ~0 and the floor is what acts;
- DDIM (``ddim_steps = S``, leading spacing t = 0, K/S, 2K/S, ... walked backwards, eta = 1 while
  acting, 0 when evaluating): x0 predicted and clamped, eps recomputed from the clamped x0,
  sigma = eta sqrt((1 - abar_prev) / (1 - abar) (1 - abar / abar_prev)),
  mu = sqrt(abar_prev) x0 + sqrt(max(1 - abar_prev - sigma^2, 0)) eps;
- acting: std = max(std, ``min_sampling_std``), the standard normal draws clamped to +-``randn_clip``,
  the first x ~ N(0, I) unclamped, the last step's sample unclamped (the original sets no final clip);
- evaluating (the original's ``deterministic``): DDPM std max(std, 1e-3) and none at the last step;
  DDIM eta = 0;
- log-probability of a step: Normal(mu, max(std, ``min_logprob_std``)) per action element, each
  clamped to [-5, 2], then averaged over the action's elements (not summed: the original's
  reduction, which makes the "log-probability" a per-element mean);
- only the last ``fine_tuned`` steps belong to the policy being trained; the steps before use a
  frozen copy of the denoiser (the original fine-tunes ``actor_ft``, a copy of the pre-trained
  ``actor``, which stays frozen). Only the fine-tuned part of the chain is stored: its input and
  its ``fine_tuned`` outputs.
"""

from __future__ import annotations

import copy

import torch

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.schedules import NoiseSchedule

LOGPROB_CLAMP = (-5.0, 2.0)  # diffusion_ppo.py: both log-probabilities clamped per element
EVAL_MIN_STD = 1e-3  # diffusion_vpg.py, deterministic DDPM sampling


class DenoisingMDP(torch.nn.Module):
    """See the module docstring. Chains are ``[B, fine_tuned + 1, a]``: the input of the first
    fine-tuned step, then each fine-tuned step's output; the last row is the action."""

    def __init__(self, denoiser: Denoiser, schedule: NoiseSchedule, *, fine_tuned: int, ddim_steps: int,
                 min_sampling_std: float, min_logprob_std: float, denoised_clip: float, randn_clip: float):
        super().__init__()
        steps = ddim_steps or schedule.steps
        if not 1 <= fine_tuned <= steps:
            raise ValueError(f"fine-tuned steps must be in [1, {steps}], got {fine_tuned}")
        if ddim_steps and schedule.steps % ddim_steps:
            raise ValueError(f"DDIM steps {ddim_steps} must divide the denoising steps {schedule.steps}")
        self.denoiser, self.schedule = denoiser, schedule
        self.frozen = copy.deepcopy(denoiser).requires_grad_(False) if fine_tuned < steps else None
        self.steps, self.fine_tuned, self.ddim = steps, fine_tuned, bool(ddim_steps)
        self.min_sampling_std, self.min_logprob_std = min_sampling_std, min_logprob_std
        self.denoised_clip, self.randn_clip = denoised_clip, randn_clip
        # t_i: the schedule index the i-th step (0 = noisiest) denoises from
        t = torch.arange(steps) * (schedule.steps // steps) if ddim_steps else torch.arange(steps)
        abar = schedule.abar
        abar_prev = torch.cat([torch.ones(1, device=abar.device), abar[t[:-1]]])
        self.register_buffer("t", t.flip(0), persistent=False)
        self.register_buffer("abar_t", abar[t].flip(0), persistent=False)
        self.register_buffer("abar_prev_t", abar_prev.flip(0), persistent=False)

    def mean_std(self, x: torch.Tensor, state: torch.Tensor, i: torch.Tensor, eta: float,
                 net: torch.nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (unfloored) std of step ``i`` ([R] step positions, 0 = noisiest) from ``x`` [R, a]."""
        t = self.t[i]
        eps = (net or self.denoiser)(x, state, t)
        sched = self.schedule
        if not self.ddim:
            x0 = sched.predict_x0(x, t, eps).clamp(-self.denoised_clip, self.denoised_clip)
            mean = sched._at(sched.posterior_c0, t, x) * x0 + sched._at(sched.posterior_ck, t, x) * x
            return mean, sched._at(sched.posterior_var, t, x).clamp(min=1e-20).sqrt()
        abar, abar_prev = self.abar_t[i].unsqueeze(-1), self.abar_prev_t[i].unsqueeze(-1)
        x0 = ((x - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-self.denoised_clip, self.denoised_clip)
        eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()
        sigma = (eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()).clamp(min=1e-10)
        mean = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
        return mean, sigma

    def sample(self, state: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """A chain ``[B, fine_tuned + 1, a]`` for states [B, s] (acting, or evaluating) and its
        fine-tuned steps' log-probabilities ``[B, fine_tuned]`` (:meth:`log_prob`'s, from the means and
        stds the steps were drawn with: no second pass of the denoiser)."""
        batch, act_dim = state.shape[0], self.denoiser.net[-1].out_features
        x = torch.randn(batch, act_dim, device=state.device)
        first = self.steps - self.fine_tuned
        chain, logps = [x] if first == 0 else [], []
        for i in range(self.steps):
            pos = torch.full((batch,), i, device=state.device, dtype=torch.long)
            mean, std = self.mean_std(x, state, pos, eta=0.0 if deterministic else 1.0,
                                      net=self.frozen if i < first else None)
            if deterministic:
                drawn = torch.zeros_like(std) if self.ddim or i == self.steps - 1 else std.clamp(min=EVAL_MIN_STD)
            else:
                drawn = std.clamp(min=self.min_sampling_std)
            x = mean + drawn * torch.randn_like(x).clamp(-self.randn_clip, self.randn_clip)
            if i + 1 >= first:
                chain.append(x)
            if i >= first:
                logps.append(self._step_log_prob(mean, std, x))
        return torch.stack(chain, dim=1), torch.stack(logps, dim=1)

    def _step_log_prob(self, mean: torch.Tensor, std: torch.Tensor, x_next: torch.Tensor) -> torch.Tensor:
        """[R] one step's log-probability: the std floored, each element clamped, the mean over the action."""
        dist = torch.distributions.Normal(mean, std.clamp(min=self.min_logprob_std))
        return dist.log_prob(x_next).clamp(*LOGPROB_CLAMP).mean(dim=-1)

    def _fine_tuned_inputs(self, state: torch.Tensor, chain: torch.Tensor):
        """Each fine-tuned step's (position, input x, state, output) as [B * fine_tuned] rows."""
        batch, n, act_dim = chain.shape[0], self.fine_tuned, chain.shape[-1]
        pos = (torch.arange(n, device=chain.device) + self.steps - n).repeat(batch)
        return (pos, chain[:, :-1].reshape(batch * n, act_dim), state.repeat_interleave(n, dim=0),
                chain[:, 1:].reshape(batch * n, act_dim))

    def kl_to(self, other: torch.nn.Module, state: torch.Tensor, chain: torch.Tensor) -> torch.Tensor:
        """[B]: KL(this chain || the chain of the denoiser ``other``) along stored chains.

        Both chains draw each fine-tuned step from a Gaussian with the same std (the schedule's,
        floored at ``min_sampling_std``, as acting draws it), so each step's KL is closed-form,
        ||mu - mu_other||^2 / (2 sigma^2) summed over the action, and the KL of the two chains'
        path distributions is the expectation, under this chain, of the sum over its steps; here the
        sum at the stored inputs x_i, a one-sample estimate of it (the rollout's chains were drawn by
        the policy before the update). By the data-processing inequality the path KL bounds the KL
        of the two policies' actions from above. ``other`` gets no gradient."""
        pos, x, s, _ = self._fine_tuned_inputs(state, chain)
        mean, std = self.mean_std(x, s, pos, eta=1.0)
        with torch.no_grad():
            other_mean, _ = self.mean_std(x, s, pos, eta=1.0, net=other)
        step_kl = (mean - other_mean).square() / (2 * std.clamp(min=self.min_sampling_std).square())
        return step_kl.sum(dim=-1).view(chain.shape[0], self.fine_tuned).sum(dim=-1)

    def log_prob(self, state: torch.Tensor, chain: torch.Tensor) -> torch.Tensor:
        """[B, fine_tuned]: each fine-tuned step's log-probability (clamped per element, averaged
        over the action), all steps in one batched call of the denoiser."""
        pos, x, s, x_next = self._fine_tuned_inputs(state, chain)
        mean, std = self.mean_std(x, s, pos, eta=1.0)
        return self._step_log_prob(mean, std, x_next).view(chain.shape[0], self.fine_tuned)
