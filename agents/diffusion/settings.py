"""Settings every diffusion agent declares, each with its own default and source (see
:mod:`agents.settings`): the number of denoising steps K and the step embedding's sizes."""

from __future__ import annotations

from typing import Any

from agents.settings import AT_LEAST_ONE, Range, setting


def diffusion_steps(default: int, source: str) -> Any:
    """K: denoising (GenPO: flow) steps of the chain, swept by the review's Table 6."""
    return setting(default, source, AT_LEAST_ONE, "denoising (flow) steps K of the chain")


def time_embedding_dim(default: int, source: str) -> Any:
    """The size of the sinusoidal step embedding (and of the step-embedding MLP's output)."""
    return setting(default, source, Range(low=2, even=True), "sinusoidal step-embedding size")


def time_hidden(default: int, source: str) -> Any:
    """The hidden size of the step-embedding MLP (dim -> hidden -> dim)."""
    return setting(default, source, AT_LEAST_ONE, "hidden size of the step-embedding MLP")
