"""Where a number came from: package versions, the git commit, the machine, the time, and the
settings that decide whether a run repeats exactly."""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = ("isaaclab", "skrl", "rsl-rl-lib", "torch", "newton", "warp-lang", "gymnasium", "numpy")
ROOT = Path(__file__).resolve().parent.parent


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state() -> dict[str, object]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def machine() -> dict[str, object]:
    import os  # noqa: PLC0415

    return {"host": platform.node(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "argv": sys.argv}


def determinism() -> dict[str, object]:
    """The settings in force that decide whether the same seed repeats a run exactly. On the CPU it
    does, for the same number of torch threads (a reduction split differently rounds differently).
    On CUDA it is not promised: the training process does not switch on torch's deterministic
    algorithms (Isaac Lab's and Newton's GPU kernels use atomics either way); it records what was
    in force instead."""
    import os  # noqa: PLC0415

    import torch  # noqa: PLC0415

    return {"torch_threads": torch.get_num_threads(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
            "exact_on": "cpu (same seed, settings and torch threads)"}
