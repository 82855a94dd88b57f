"""How an agent's hot paths execute: eager PyTorch, or compiled with ``torch.compile``.

Compiling changes how the numbers are computed, not which: the same networks and formulas, fused
into fewer kernels, with the same random numbers (every chain draws its noise up front, eagerly,
see :mod:`agents.diffusion.sampler`). What is compiled:

- the diffusion agents' reverse chain (:func:`agents.diffusion.sampler.reverse_chain`, all K steps
  in one graph), GenPO's forward and inverse flow chains, and every network's forward (and so its
  backward) pass;
- PPO's (skrl's) policy and value networks.

``compile`` is an execution option like the device (``--compile auto|on|off`` on the CLIs, recorded
in each attempt of ``run.json``), not a setting of the algorithm: it does not enter the run id.
``auto`` compiles only where it was measured to pay (:data:`AUTO`): nowhere yet. On the CPU here it
did not (the README's speed report); on CUDA it has not been measured, nor its equivalence checked
there, so ``auto`` stays eager on CUDA until a GPU measurement says otherwise (``--compile on``).
The optimizers are fused where torch offers it (CUDA).
"""

from __future__ import annotations

from typing import Any

MODES = ("auto", "on", "off")  # torch is imported lazily: the command lines read MODES without it
AUTO = {"cuda": False, "cpu": False}  # README, "Speed report": measured on the CPU; CUDA not yet


def use_compile(mode: str, device: str) -> bool:
    """Whether ``mode`` compiles on ``device``."""
    if mode not in MODES:
        raise ValueError(f"unknown compile mode {mode!r}; valid: {', '.join(MODES)}")
    import torch  # noqa: PLC0415

    if mode == "auto":
        return AUTO.get(torch.device(device).type, False)
    return mode == "on"


def _prepare() -> None:
    import torch  # noqa: PLC0415

    # one graph per distinct (network, shape, grad mode) an agent uses: more than dynamo's default 8
    for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                 "accumulated_recompile_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, max(getattr(torch._dynamo.config, name), 64))


def compile_fn(fn):
    import torch  # noqa: PLC0415

    _prepare()
    return torch.compile(fn)


def compile_modules(*modules) -> None:
    """Compile each module's forward in place (its state dict keeps its keys)."""
    _prepare()
    for module in modules:
        if module is not None:
            module.compile()


def fused(device: str) -> dict[str, Any]:
    """Optimizer arguments: fused kernels on CUDA, torch's default elsewhere."""
    import torch  # noqa: PLC0415

    return {"fused": True} if torch.device(device).type == "cuda" else {}


def accelerate(agent, enabled: bool) -> bool:
    """Put ``agent`` on its compiled path when ``enabled`` (its ``enable_compile``, by default every
    network it names: :class:`agents.interface.HarnessAgent`); returns whether it did."""
    if enabled:
        agent.enable_compile()
    return enabled
