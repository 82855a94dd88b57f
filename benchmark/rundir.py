"""One run's directory: the only place a result lives, written so a crash never fakes a finish.

Layout::

    <run dir>/
      run.json          config, provenance, status; rewritten atomically, "finished" written last
      metrics.csv       one row per log interval (env steps, wall time, returns, losses)
      eval.json         final evaluation of the deterministic policy
      tb/               TensorBoard events
      checkpoints/      ckpt_<timestep>.pt (the newest two are kept)
      train.log         the training process's own output, when started by the sweep runner
      .lock             held (flock) by the process training this run

A run is *finished* only when ``run.json`` says so; every other file may be partial. Statuses:
``running`` (in progress, or interrupted if nobody holds the lock), ``finished``, ``diverged``
(a result: NaN/inf seen, see ``divergence``), ``failed`` (an exception; see ``error``).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from tasks.errors import UserError

DONE_STATUSES = ("finished", "diverged")
KEEP_CHECKPOINTS = 2


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode())


@contextlib.contextmanager
def hold(lock_path: Path, busy: str) -> Iterator[None]:
    """Hold ``lock_path`` (flock, with our pid in it) or raise :class:`UserError` ``busy`` at once."""
    with open(lock_path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(busy) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def is_held(lock_path: Path) -> bool:
    """Whether a live process holds ``lock_path`` (a dead one's lock is dropped by the OS)."""
    try:
        with open(lock_path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
            return False
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    @property
    def meta_path(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def eval_path(self) -> Path:
        return self.path / "eval.json"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def tb_dir(self) -> Path:
        return self.path / "tb"

    def read_meta(self) -> dict | None:
        try:
            return json.loads(self.meta_path.read_text())
        except FileNotFoundError:
            return None

    def write_meta(self, meta: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.meta_path, meta)

    def status(self) -> str:
        meta = self.read_meta()
        if meta is None:
            return "new"
        if meta.get("status") == "running" and not self.is_locked():
            return "interrupted"
        return meta.get("status", "new")

    # --- exclusive ownership -------------------------------------------------------------------
    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the run for this process; the OS drops the lock if the process dies."""
        self.path.mkdir(parents=True, exist_ok=True)
        return hold(self.path / ".lock", f"run {self.path} is being trained by another process")

    def is_locked(self) -> bool:
        return is_held(self.path / ".lock")

    # --- checkpoints ----------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        if not self.checkpoint_dir.exists():
            return []
        found = [p for p in self.checkpoint_dir.glob("ckpt_*.pt")]
        return sorted(found, key=lambda p: int(p.stem.split("_")[1]))

    def latest_checkpoint(self) -> Path | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def save_checkpoint(self, state: dict, timestep: int) -> Path:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(state, buffer)
        path = self.checkpoint_dir / f"ckpt_{timestep}.pt"
        atomic_write_bytes(path, buffer.getvalue())
        for old in self.checkpoints()[:-KEEP_CHECKPOINTS]:
            old.unlink(missing_ok=True)
        return path

    # --- metrics --------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        if not self.metrics_path.exists():
            return []
        with open(self.metrics_path, newline="") as f:
            return list(csv.DictReader(f))


class MetricsWriter:
    """Appends rows to ``metrics.csv``; a tag first seen later widens the header (file rewritten).

    Each write replaces the whole file atomically, so the file is always a valid CSV.
    """

    BASE = ["timestep", "env_steps", "wall_time_s", "episodes", "return_mean", "return_std", "length_mean"]

    def __init__(self, run: RunDir, keep_until_timestep: int | None = None):
        self.run = run
        rows = run.read_metrics()
        if keep_until_timestep is not None:
            rows = [r for r in rows if int(r["timestep"]) <= keep_until_timestep]
        self.rows: list[dict[str, Any]] = rows
        self.columns = list(self.BASE)
        for row in rows:
            for key in row:
                if key not in self.columns:
                    self.columns.append(key)
        if keep_until_timestep is not None:
            self._flush()

    def append(self, row: dict[str, Any]) -> None:
        for key in row:
            if key not in self.columns:
                self.columns.append(key)
        self.rows.append(row)
        self._flush()

    def _flush(self) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, restval="")
        writer.writeheader()
        writer.writerows(self.rows)
        self.run.path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.run.metrics_path, out.getvalue().encode())
