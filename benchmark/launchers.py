"""Where a sweep's runs execute: local processes, or tasks on a Ray cluster.

Both launchers run the very same command, ``python -m benchmark.train --run-dir <dir>`` (the run's
spec and config are in its directory, written when it was planned), one simulator per process, so a
run's directory is the only thing that says how it went: the launcher returns exit codes for the
log, and the runner reads the run's status from its directory.

A training process dies with whoever started it (``PR_SET_PDEATHSIG`` on Linux): a sweep killed
with SIGKILL leaves no orphan still training and still holding a run's lock, so a re-run can resume
at once. On a Ray cluster every node must see the project and the results folder at the same path
(a shared filesystem), as is usual for cluster home directories.
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tasks.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_logged(args: Sequence[str], cwd: Path, log_path: Path) -> subprocess.Popen:
    """Start ``python <args>`` in ``cwd`` with its output appended to ``log_path``."""
    with open(log_path, "a") as log:
        return subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)


class LocalLauncher:
    """``workers`` processes at a time on this machine, the CPU cores split evenly between them
    (torch threads that outnumber the cores spin and slow every small op many times over)."""

    name = "local"

    def __init__(self, workers: int):
        self.capacity = workers
        self.threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
        self._procs: dict[Any, subprocess.Popen] = {}

    def submit(self, key: Any, args: list[str], log_path: Path) -> None:
        if self.threads:
            args = [*args, "--threads", str(self.threads)]
        self._procs[key] = run_logged(args, ROOT, log_path)

    def wait(self, timeout: float) -> list[tuple[Any, int]]:
        """The (key, exit code) of every process that ended, waiting up to ``timeout`` s for one."""
        deadline = time.monotonic() + timeout
        while not (ended := [(k, p.returncode) for k, p in self._procs.items() if p.poll() is not None]):
            if not self._procs or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        for key, _ in ended:
            del self._procs[key]
        return ended

    def shutdown(self) -> None:
        for proc in self._procs.values():
            proc.terminate()


def _ray_train(args: list[str], cwd: str, log_path: str) -> int:
    """Body of the Ray task: the same training command, on whichever node Ray chose."""
    if not Path(cwd, "benchmark", "train.py").exists():
        raise RuntimeError(f"the project is not at {cwd} on this node; Ray runs need a shared filesystem")
    return run_logged(args, Path(cwd), Path(log_path)).wait()


class RayLauncher:
    """One Ray task per run, each reserving ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs, as many
    at a time as the cluster's resources allow. ``address`` is a running cluster's address (as for
    ``ray.init``: ``auto``, ``host:port`` or ``ray://...``); ``None`` starts a local instance."""

    name = "ray"

    def __init__(self, address: str | None, cpus_per_run: float, gpus_per_run: float):
        import ray  # noqa: PLC0415

        self._ray = ray
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False,
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UserError(f"cannot reach a Ray cluster at address {address!r}: {err}; start one with "
                            "`ray start --head` or give --address of a running cluster") from None
        total = ray.cluster_resources()
        slots = [math.floor(total.get("CPU", 0) / cpus_per_run)] if cpus_per_run else []
        if gpus_per_run:
            slots.append(math.floor(total.get("GPU", 0) / gpus_per_run))
        self.capacity = min(slots) if slots else 1
        if self.capacity < 1:
            ray.shutdown()
            raise UserError(f"the Ray cluster at {address!r} has {total.get('CPU', 0):g} CPUs and "
                            f"{total.get('GPU', 0):g} GPUs; one run asks for {cpus_per_run:g} CPUs and "
                            f"{gpus_per_run:g} GPUs")
        self.threads = max(1, int(cpus_per_run))
        self._remote = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(_ray_train)
        self._refs: dict[Any, Any] = {}

    def submit(self, key: Any, args: list[str], log_path: Path) -> None:
        args = [*args, "--threads", str(self.threads)]
        self._refs[self._remote.remote(args, str(ROOT), str(log_path.resolve()))] = key

    def wait(self, timeout: float) -> list[tuple[Any, int]]:
        if not self._refs:
            return []
        refs = list(self._refs)
        ready, _ = self._ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:  # and every other one already done
            ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        ended = []
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                ended.append((key, int(self._ray.get(ref))))
            except self._ray.exceptions.RayError as err:
                print(f"Ray task for {key} failed: {err}", file=sys.stderr)
                ended.append((key, -1))
        return ended

    def shutdown(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._ray.shutdown()
