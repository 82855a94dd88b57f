"""Weight initialisation of the diffusion agents' networks, as each original does it.

- ``torch``: PyTorch's default for ``nn.Linear`` (weights and biases uniform in +-1/sqrt(fan_in),
  std 0.577/sqrt(fan_in)), as the layers are built (nothing is redrawn); GenPO's original keeps it
  (its ``init_weights`` is never called).
- ``normal``: weights N(0, (1 / (2 sqrt(fan_in)))^2), biases 0. DIPO's and QVPO's ``init_weights``
  (agent/helpers.py in both repositories) mean a normal truncated at 2 std, but the redraw loop
  assigns to a local name and never writes back, so what they run is this untruncated normal.
- ``truncated_normal``: weights from a normal of std 1/sqrt(fan_in) truncated at +-2 std (not
  rescaled, so the actual std is about 0.88/sqrt(fan_in)), biases 0: Haiku's ``Linear`` default,
  which DACER's networks use.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SCHEMES = ("torch", "normal", "truncated_normal")


@torch.no_grad()
def initialize(module: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise every ``nn.Linear`` in ``module`` by ``scheme``; returns ``module``."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown initialisation {scheme!r}; valid: {', '.join(SCHEMES)}")
    if scheme == "torch":
        return module
    for layer in module.modules():
        if not isinstance(layer, nn.Linear):
            continue
        fan_in = layer.in_features
        if scheme == "normal":
            layer.weight.normal_(0.0, 0.5 / math.sqrt(fan_in))
        else:
            std = 1.0 / math.sqrt(fan_in)
            nn.init.trunc_normal_(layer.weight, 0.0, std, -2 * std, 2 * std)
        if layer.bias is not None:
            layer.bias.zero_()
    return module
