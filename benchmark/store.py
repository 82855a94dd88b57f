"""The results store: the one module that knows every path under the results root.

Layout (the root is ``results/`` unless a command's ``--out`` names another; every command means
the same root by it)::

    <root>/
      runs/<run id>/            one directory per run, shared by every experiment that plans it
        run.json                spec, resolved config with sources, provenance, attempts, status;
                                rewritten atomically, the status last
        metrics.csv             one row per log interval (env steps, wall time, returns, losses)
        eval.json               the final evaluation (every episode's return)
        eval_start.json         the untrained policy's evaluation, when the run asks for one
        eval/<scenario>.json    zero-shot evaluations; eval/<scenario>.log their process output
        tb/                     TensorBoard events
        checkpoints/            ckpt_<timestep>.pt, the newest two (resume points); memory_<timestep>.pt,
                                an off-policy agent's replay memory beside the newest one while the
                                run trains (deleted when it ends)
        train.log               the training process's output, when a sweep started it
        .lock                   held (flock) by the process training the run
      <experiment>/
        results.csv             one row per run of the experiment
        report/                 its tables and figures
      rsl_rl/<task>-n<envs>-t<timesteps>-s<seed>.json
                                Isaac Lab's own rsl-rl PPO at a run's budget (benchmark.rsl_rl_reference)

A run is *finished* only when its ``run.json`` says so; every other file may be partial. Statuses:
``planned`` (spec and config written, never started: reported as ``new``), ``running`` (a live
process holds the run's lock, whatever ``run.json`` says; ``interrupted`` when it says running and
nobody holds it), ``finished``, ``diverged`` (a result: NaN/inf seen) and ``failed`` (an
exception); ``damaged`` when ``run.json`` exists but is not a JSON object (torn by a crash or a full
disk elsewhere: planning the run again sets it aside and rebuilds it) and ``unreadable`` when the
directory cannot be read at all (permissions, a file where a directory should be).

Every file is written whole or not at all (a temporary file, fsync, then a rename); a write that
fails (a full disk) removes its temporary file and raises ``OSError`` naming the file. A damaged
file found later is renamed ``<name>.damaged`` (kept for inspection, out of the way) rather than
deleted.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from benchmark.record import DONE, RunRecord, ScenarioEval, Status
from tasks.errors import UserError

DEFAULT_ROOT = Path("results")
DONE_STATUSES = DONE
KEEP_CHECKPOINTS = 2


# --- writing whole files -----------------------------------------------------------------------------
def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")


def _open_temporary(path: Path) -> BinaryIO:
    """Where every file of the store is first written (the one place a test makes a disk full)."""
    return open(path, "wb")


def atomic_write_with(path: Path, write: Callable[[BinaryIO], None], *, exclusive: bool = False) -> bool:
    """Write ``path`` whole or not at all: ``write(f)`` fills a temporary file, which is synced and
    renamed over ``path``. ``exclusive``: only if ``path`` does not exist yet (a hard link, which
    fails if it does; returns False then). A failed write (a full disk) removes the temporary file
    and raises ``OSError`` naming ``path``."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        with _open_temporary(tmp) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    except Exception as err:
        cause = _os_error(err)  # torch.save reports a failed write as a RuntimeError
        if cause is None:
            raise
        raise OSError(cause.errno, f"{cause.strerror or cause} while writing {path}", str(path)) from err
    finally:
        tmp.unlink(missing_ok=True)


def _os_error(err: BaseException | None) -> OSError | None:
    """The ``OSError`` behind ``err`` (itself, or its cause or context), if any."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, OSError) and err.errno is not None:
            return err
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write_with(path, lambda f: f.write(data))


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode()


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, _json_bytes(obj))


def set_aside(path: Path, *, copy: bool = False) -> Path:
    """Rename (or ``copy``) a damaged file to ``<name>.damaged``, replacing an older one; returns
    the new path."""
    target = path.with_name(path.name + ".damaged")
    if copy:
        shutil.copyfile(path, target)
    else:
        os.replace(path, target)
    return target


def write_text(path: Path, text: str) -> Path:
    """``text`` to ``path`` whole or not at all (parents made); returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode())
    return path


def write_figure(fig, path: Path) -> Path:
    """A matplotlib figure as a PNG at ``path``, whole or not at all; the figure is closed."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (only figures need it)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def read_json(path: Path) -> dict | None:
    """A JSON object from ``path``; None when the file is missing, unreadable or not a JSON object."""
    try:
        return _load_json(path)
    except (OSError, ValueError):
        return None


def _load_json(path: Path) -> dict | None:
    """A JSON object from ``path``; None when the file is missing; ``ValueError`` when it is not a
    JSON object (torn, not text); ``OSError`` when it cannot be read."""
    try:
        data = json.loads(Path(path).read_bytes().decode())
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {type(data).__name__}")
    return data


# --- locks -----------------------------------------------------------------------------------------
PROBE_GRACE_S = 1.0  # how long a taker retries before it calls a lock busy (see is_held)


@contextlib.contextmanager
def hold(lock_path: Path, busy: str, grace_s: float = PROBE_GRACE_S) -> Iterator[None]:
    """Hold ``lock_path`` (flock, with our pid in it) or raise :class:`UserError` ``busy``.

    :func:`is_held` probes by taking the lock for an instant, so a lock found taken is tried again
    for ``grace_s`` before it counts as busy: a sweep polling a run must not make the run it polls
    fail to start."""
    with open(lock_path, "a+") as f:
        deadline = time.monotonic() + grace_s
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(busy) from None
                time.sleep(0.005)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def is_held(lock_path: Path) -> bool:
    """Whether a live process holds ``lock_path`` (a dead one's lock is dropped by the OS).

    flock has no query, so the probe takes the lock and drops it at once; :func:`hold` allows for
    that instant."""
    try:
        with open(lock_path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
            return False
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False


# --- one run -----------------------------------------------------------------------------------------
class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

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
    def start_eval_path(self) -> Path:
        return self.path / "eval_start.json"

    @property
    def guard_path(self) -> Path:
        """The guardrails' record: validations, rollbacks, the best value (benchmark.guardrails)."""
        return self.path / "guard.json"

    @property
    def guard_good_path(self) -> Path:
        """The module states of the last good validation, what a rollback restores."""
        return self.path / "guard_good.pt"

    def read_guard(self) -> dict:
        """``guard.json``, or {} for a run without guardrails."""
        return json.loads(self.guard_path.read_text()) if self.guard_path.exists() else {}

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def tb_dir(self) -> Path:
        return self.path / "tb"

    @property
    def train_log(self) -> Path:
        return self.path / "train.log"

    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    # --- run.json: read and written only here, as a RunRecord (benchmark.record) -----------------
    def read_record(self) -> RunRecord | None:
        """The run's record; None when ``run.json`` is missing or damaged (:meth:`meta_problem`)."""
        data = read_json(self.meta_path)
        try:
            return RunRecord.from_json(data) if data is not None else None
        except (KeyError, TypeError, ValueError):
            return None

    def meta_problem(self) -> str | None:
        """Why ``run.json`` exists but cannot be used (torn, not JSON, unreadable), or None."""
        try:
            data = _load_json(self.meta_path)
            if data is not None:
                RunRecord.from_json(data)
        except (OSError, ValueError) as err:
            return f"{type(err).__name__}: {err}"
        except (KeyError, TypeError) as err:
            return f"not a run record ({type(err).__name__}: {err})"
        return None

    def write_record(self, record: RunRecord) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.meta_path, record.to_json())

    def create_record(self, record: RunRecord) -> bool:
        """Write ``run.json`` only if there is none (two sweeps planning the same run at once: the
        first one wins, the other's would overwrite a run already started); True if written."""
        self.path.mkdir(parents=True, exist_ok=True)
        return atomic_write_with(self.meta_path, lambda f: f.write(_json_bytes(record.to_json())), exclusive=True)

    def status(self) -> Status:
        """The run's status from its record and its lock (module docstring)."""
        try:
            data = _load_json(self.meta_path)
            status = RunRecord.from_json(data).status if data is not None else Status.NEW
        except OSError:
            return Status.UNREADABLE
        except (ValueError, KeyError, TypeError):
            status = Status.DAMAGED
        if status in DONE:
            return status
        if self.is_locked():
            return Status.RUNNING
        if status == Status.RUNNING:
            return Status.INTERRUPTED
        return Status.NEW if status == Status.PLANNED else status

    # --- exclusive ownership ----------------------------------------------------------------------
    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the run for this process; the OS drops the lock if the process dies."""
        self.path.mkdir(parents=True, exist_ok=True)
        return hold(self.lock_path, f"run {self.path} is being trained by another process")

    def is_locked(self) -> bool:
        try:
            return is_held(self.lock_path)
        except OSError:  # a directory we may not write to: nobody trains it from here
            return False

    # --- checkpoints ------------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        """``ckpt_<timestep>.pt`` files, oldest first (other names are ignored)."""
        return [p for _, p in self._numbered("ckpt")]

    def _numbered(self, prefix: str) -> list[tuple[int, Path]]:
        if not self.checkpoint_dir.exists():
            return []
        found = []
        for p in self.checkpoint_dir.glob(f"{prefix}_*.pt"):
            number = p.stem.removeprefix(f"{prefix}_")
            if number.isdigit():
                found.append((int(number), p))
        return sorted(found)

    def latest_checkpoint(self) -> Path | None:
        found = self.checkpoints()
        return found[-1] if found else None

    @staticmethod
    def checkpoint_timestep(path: Path) -> int:
        return int(path.stem.split("_")[1])

    def memory_path(self, timestep: int) -> Path:
        return self.checkpoint_dir / f"memory_{timestep}.pt"

    def save_checkpoint(self, state: dict, timestep: int, memory: dict | None = None) -> Path:
        """Write ``state`` as ``ckpt_<timestep>.pt`` (and ``memory``, a replay memory, beside it
        first, so a checkpoint never exists without the memory it names); keep the newest
        :data:`KEEP_CHECKPOINTS` checkpoints and only the newest checkpoint's memory (gigabytes)."""
        import torch  # noqa: PLC0415 (the store is read without torch by the analysis)

        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if memory is not None:
            atomic_write_with(self.memory_path(timestep), lambda f: torch.save(memory, f))
        path = self.checkpoint_dir / f"ckpt_{timestep}.pt"
        atomic_write_with(path, lambda f: torch.save(state, f))
        for old in self.checkpoints()[:-KEEP_CHECKPOINTS]:
            old.unlink(missing_ok=True)
        for step, old in self._numbered("memory"):
            if step != timestep:
                old.unlink(missing_ok=True)
        return path

    def drop_memory(self) -> None:
        """Delete the saved replay memories, damaged ones too (a run that ended is not resumed)."""
        if self.checkpoint_dir.exists():
            for path in self.checkpoint_dir.glob("memory_*.pt*"):
                path.unlink(missing_ok=True)

    # --- metrics and the final evaluation ---------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        """The rows of ``metrics.csv`` up to the first one that does not parse (a torn file)."""
        return self.check_metrics()[0]

    def check_metrics(self) -> tuple[list[dict[str, str]], str | None]:
        """(the rows up to the first bad one, what is wrong with the file or None). A row is good
        when its ``timestep`` is an integer above the previous row's and it has every column."""
        rows: list[dict[str, str]] = []
        last = 0
        try:
            with open(self.metrics_path, newline="") as f:
                reader = csv.DictReader(f)
                for row in reader:
                    step = row.get("timestep") or ""
                    if None in row or None in row.values() or not step.isdigit() or int(step) <= last:
                        return rows, f"row {reader.line_num} is torn or out of order"
                    rows.append(row)
                    last = int(step)
                return rows, None
        except FileNotFoundError:
            return [], None
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            return rows, f"{type(err).__name__}: {err}"

    def write_final_eval(self, result: dict) -> None:
        atomic_write_json(self.eval_path, result)

    def write_start_eval(self, result: dict) -> None:
        atomic_write_json(self.start_eval_path, result)

    # --- zero-shot evaluations --------------------------------------------------------------------
    @property
    def scenario_dir(self) -> Path:
        return self.path / "eval"

    def scenario_eval_path(self, scenario: str) -> Path:
        return self.scenario_dir / f"{scenario}.json"

    def scenario_log(self, scenario: str) -> Path:
        return self.scenario_dir / f"{scenario}.log"

    def scenario_lock(self, scenario: str) -> Path:
        return self.scenario_dir / f".{scenario}.lock"

    def read_scenario_eval(self, scenario: str) -> ScenarioEval | None:
        """The evaluation of ``scenario``; None when there is none or it cannot be read."""
        data = read_json(self.scenario_eval_path(scenario))
        try:
            return ScenarioEval.from_json(data) if data is not None else None
        except (KeyError, TypeError, ValueError):
            return None

    def write_scenario_eval(self, evaluation: ScenarioEval) -> None:
        self.scenario_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.scenario_eval_path(evaluation.scenario), evaluation.to_json())

    def scenario_names(self) -> list[str]:
        """The scenarios the run has an evaluation file of, sorted."""
        return sorted(p.stem for p in self.scenario_dir.glob("*.json")) if self.scenario_dir.exists() else []


class MetricsWriter:
    """Appends rows to the run's metrics file; a tag first seen later widens the header (file
    rewritten). Each write replaces the whole file atomically, so it is always a valid CSV."""

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


# --- the store -------------------------------------------------------------------------------------
class Store:
    """A results root: its run store and the experiments' output folders."""

    def __init__(self, root: Path | str = DEFAULT_ROOT):
        self.root = Path(root)

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run(self, run_id: str) -> RunDir:
        return RunDir(self.runs_dir / run_id)

    def runs(self, run_ids: list[str] | None = None) -> list[RunDir]:
        """The runs ``run_ids`` (each once, in their order; existing or not), or every run directory
        in the store when None."""
        if run_ids is not None:
            return [self.run(r) for r in dict.fromkeys(run_ids)]
        if not self.runs_dir.exists():
            return []
        return [RunDir(p) for p in sorted(self.runs_dir.iterdir()) if p.is_dir()]

    def experiment_dir(self, name: str) -> Path:
        return self.root / name

    def results_csv(self, name: str) -> Path:
        return self.experiment_dir(name) / "results.csv"

    def report_dir(self, name: str) -> Path:
        return self.experiment_dir(name) / "report"

    def rsl_rl_reference(self, task: str, num_envs: int, timesteps: int, seed: int) -> Path:
        return self.root / "rsl_rl" / f"{task}-n{num_envs}-t{timesteps}-s{seed}.json"

    def read_reference(self, path: Path) -> dict | None:
        return read_json(path)

    def write_reference(self, path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, record)
