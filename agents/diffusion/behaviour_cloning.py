"""A diffusion prior fitted to demonstrations by behaviour cloning (Diffusion Policy; DPPO's pre-training).

The denoiser learns the review's Eq. 3 (:func:`agents.diffusion.sampler.denoising_loss`) on the
dataset's (observation, action) pairs: observations standardised by skrl's running scaler fed the
whole dataset once (the scaler a fine-tuning agent then starts from), actions clipped to the chain's box [-1, 1] (the x0 clamp of every diffusion agent). Adam, uniform
minibatches drawn with replacement from one generator, one loss value kept per ``log_every`` steps.

A prior file (``torch.save``) holds what a fine-tuning agent needs to start from it and what the
record needs to trace it: the denoiser's weights and architecture, the schedule (kind, K), the
observation scaler it was fitted with, the loss curve, and the dataset's provenance and
SHA-256.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from skrl.resources.preprocessors.torch import RunningStandardScaler

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.sampler import denoising_loss
from agents.diffusion.schedules import NoiseSchedule


@dataclasses.dataclass(frozen=True)
class Architecture:
    """What a denoiser is built from; an agent that loads a prior must build the same."""

    obs_dim: int
    act_dim: int
    hidden: list[int]
    t_dim: int
    time_hidden: int
    schedule: str
    steps: int

    def build(self) -> tuple[Denoiser, NoiseSchedule]:
        return (Denoiser(self.obs_dim, self.act_dim, self.hidden, t_dim=self.t_dim, time_hidden=self.time_hidden),
                NoiseSchedule(self.schedule, self.steps))


def observation_scaler(obs: torch.Tensor) -> RunningStandardScaler:
    """skrl's running scaler, fed every observation of the dataset once."""
    scaler = RunningStandardScaler(size=obs.shape[1], device=obs.device)
    scaler(obs, train=True)
    return scaler


def fit(denoiser: Denoiser, schedule: NoiseSchedule, obs: torch.Tensor, actions: torch.Tensor, *,
        iterations: int, batch_size: int, lr: float, generator: torch.Generator,
        log_every: int = 50) -> list[tuple[int, float]]:
    """Fit ``denoiser`` to (standardised obs, actions in [-1, 1]); returns (step, mean loss) pairs."""
    optimizer = torch.optim.Adam(denoiser.parameters(), lr=lr)
    curve, window = [], []
    for step in range(1, iterations + 1):
        idx = torch.randint(0, obs.shape[0], (batch_size,), generator=generator)
        loss = denoising_loss(denoiser, schedule, actions[idx], obs[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.detach())
        if step % log_every == 0 or step == iterations:
            curve.append((step, float(torch.stack(window).mean())))
            window = []
    return curve


def save_prior(path, denoiser: Denoiser, arch: Architecture, *, scaler: RunningStandardScaler,
               curve: list[tuple[int, float]], dataset: dict[str, Any]) -> None:
    torch.save({"denoiser": denoiser.state_dict(), "architecture": dataclasses.asdict(arch),
                "observation_scaler": scaler.state_dict(), "loss_curve": curve, "dataset": dataset}, path)


def load_prior(path) -> dict[str, Any]:
    """A prior file as saved, its architecture as an :class:`Architecture`."""
    prior = torch.load(path, map_location="cpu", weights_only=False)
    prior["architecture"] = Architecture(**prior["architecture"])
    return prior
