"""Run an experiment manifest: every run in its own process, locally or on a Ray cluster; finished
runs skipped, interrupted ones resumed, failures recorded and isolated; then the zero-shot
evaluations the manifest asks for, the results table and the report (:mod:`analysis.report`).

    python -m benchmark.run --exp smoke [--dry-run] [--filter algo=ppo,sac] [--workers N]
    python -m benchmark.run --exp task_diversity --launcher ray --address auto --gpus-per-run 1

Runs live in one store (:mod:`benchmark.store`): the id is a hash of everything that changes a
result, so a run two experiments share (Go2 at 1024 environments is in Tables 4, 5 and 7) is trained
once and counted once in each. Each run is planned here (its spec and resolved config written into
its directory) and the training process reads them from there. An experiment's own outputs (the
results table and the report, :mod:`analysis.report`) go beside the store.

A run that failed (an exception, not a divergence: divergence is a result) is not retried unless
``--retry-failed`` says so; the sweep goes on and exits 1 listing what did not finish.

Several sweeps may share one store at once (two terminals, a local sweep beside a Ray job): a run is
trained by whichever process holds its lock; the other sweeps wait for it, count it when it is done
and take it over if its holder dies. A run directory whose ``run.json`` is damaged is rebuilt from
the plan and resumes from its checkpoints; one that cannot be read at all is reported with its path
and left alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.execution import MODES as COMPILE_MODES
from benchmark.manifest import Manifest, load
from benchmark.record import Status
from benchmark.spec import RunSpec, validate_device
from benchmark.store import DEFAULT_ROOT, DONE_STATUSES, RunDir, Store
from tasks.errors import UserError, cli_main

FILTER_KEYS = ("task", "algo", "seed", "num_envs")


@dataclasses.dataclass
class Job:
    """One process to run: a training run, or one zero-shot evaluation of a trained run."""

    key: str
    args: list[str]  # after ``python``
    log: Path
    state: Callable[[], Status]  # new, interrupted, failed, finished, ... (benchmark.record.Status)
    prepare: Callable[[], None] | None = None  # runs just before the process starts


def train_args(run: RunDir, device: str, compile_mode: str = "auto") -> list[str]:
    """The training command of a planned run: its spec and config are read from its directory."""
    return ["-m", "benchmark.train", "--run-dir", str(run.path), "--device", device, "--compile", compile_mode,
            "--no-progress"]


# --- selecting runs -------------------------------------------------------------------------------
def parse_filters(items: list[str], manifest: Manifest) -> dict[str, set[str]]:
    """``KEY=V1,V2`` items -> {key: allowed values as strings}; keys are run fields or grid keys."""
    valid = [*FILTER_KEYS, *sorted(manifest.grid)]
    out: dict[str, set[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise UserError(f"invalid filter {item!r}; valid: KEY=VALUE[,VALUE...] with KEY one of {', '.join(valid)}")
        if key not in valid:
            raise UserError(f"invalid filter key {key!r}; valid: {', '.join(valid)}")
        out.setdefault(key, set()).update(v.strip() for v in values.split(","))
    return out


def _fields(spec: RunSpec, keys: set[str]) -> dict[str, str]:
    """The run's values of ``keys`` as strings; setting keys by their resolved value (an override
    equal to the default is dropped from the spec, yet the run still has that value)."""
    fields = {"task": spec.task, "algo": spec.algo, "seed": str(spec.seed), "num_envs": str(spec.num_envs)}
    if keys - fields.keys():
        values = spec.config.values
        fields.update((k, v if isinstance(v, str) else json.dumps(values[k])) for k in keys - fields.keys()
                      if (v := values.get(k)) is not None)
    return fields


def select(specs: list[RunSpec], filters: dict[str, set[str]]) -> list[RunSpec]:
    """The runs matching every filter; a filter value no run has is an error naming those it has."""
    fields = [_fields(s, set(filters)) for s in specs]
    for key, wanted in filters.items():
        present = {f.get(key) for f in fields} - {None}
        unknown = wanted - present
        if unknown:
            raise UserError(f"invalid {key} {sorted(unknown)[0]!r} in --filter; valid: "
                            f"{', '.join(sorted(present, key=_natural))}")
    return [s for s, f in zip(specs, fields) if all(f.get(k) in v for k, v in filters.items())]


def _natural(value: str) -> tuple:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def plan(manifest: Manifest, store: Store, filters: dict[str, set[str]] | None = None) -> list[tuple[RunSpec, RunDir]]:
    return [(spec, store.run(spec.run_id)) for spec in select(list(manifest.runs), filters or {})]


def print_plan(runs: list[tuple[RunSpec, RunDir]], manifest: Manifest) -> None:
    print(f"{'run id':48} {'state':12} {' '.join(sorted(manifest.grid))}")
    counts: dict[str, int] = {}
    for spec, run in runs:
        status = run.status()
        counts[status] = counts.get(status, 0) + 1
        fields = _fields(spec, set(manifest.grid))
        print(f"{spec.run_id:48} {status:12} {' '.join(fields[k] for k in sorted(manifest.grid))}")
    print(f"{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if manifest.evaluate:
        print(f"each evaluated zero-shot on {len(manifest.evaluate)} scenarios: {', '.join(manifest.evaluate)}")


# --- executing jobs -------------------------------------------------------------------------------
class Sweep:
    """The job loop of :func:`execute`: which jobs to run, skip or wait on, the progress bar, and the
    bookkeeping of each job's end."""

    def __init__(self, jobs: list[Job], launcher: Any, *, retry_failed: bool, what: str, poll: float):
        from tqdm import tqdm  # noqa: PLC0415

        self.launcher, self.poll = launcher, poll
        self.by_key = {j.key: j for j in jobs}
        self.outcome = {job.key: job.state() for job in jobs}
        self.runnable = (Status.NEW, Status.INTERRUPTED, Status.DAMAGED) + ((Status.FAILED,) if retry_failed else ())
        self.pending = [j for j in jobs if self.outcome[j.key] in self.runnable]
        self.held = [j for j in jobs if self.outcome[j.key] == Status.RUNNING]
        skipped = [j for j in jobs if self.outcome[j.key] not in (*self.runnable, Status.RUNNING, *DONE_STATUSES)]
        self.total = len(jobs)
        self.bar = tqdm(total=len(jobs), initial=len(jobs) - len(self.pending) - len(self.held), unit=what,
                        dynamic_ncols=True, smoothing=0.1)
        for job in skipped:
            hint = {Status.FAILED: "--retry-failed to run it again", Status.UNREADABLE: "its directory cannot be read"}
            self.bar.write(f"skipped   {job.key} ({self.outcome[job.key]}; "
                           f"{hint.get(self.outcome[job.key], 'not runnable')}); see {job.log.parent}")
        for job in self.held:
            self.bar.write(f"waiting   {job.key} (held by another process)")
        self.counts = {"done": len(jobs) - len(self.pending) - len(self.held) - len(skipped), "failed": len(skipped)}
        self.active = 0

    def _postfix(self, redraw: bool) -> None:
        self.bar.set_postfix(done=self.counts["done"], failed=self.counts["failed"],
                             left=self.total - self.counts["done"] - self.counts["failed"], refresh=redraw)

    def _ended(self, job: Job, state: str, code: int | None) -> None:
        self.outcome[job.key] = state
        if state in DONE_STATUSES:
            self.counts["done"] += 1
            self.bar.write(f"{state:9} {job.key}")
        else:
            self.counts["failed"] += 1
            self.bar.write(f"FAILED    {job.key} ({state}{'' if code is None else f', exit {code}'}); see {job.log}")
        self._postfix(redraw=False)
        self.bar.update(1)

    def _submit_ready(self) -> None:
        while self.pending and self.active < self.launcher.capacity:
            job = self.pending.pop(0)
            job.log.parent.mkdir(parents=True, exist_ok=True)
            if job.prepare is not None:
                job.prepare()
            self.bar.write(f"{'resume' if self.outcome[job.key] != 'new' else 'start':9} {job.key}")
            self.launcher.submit(job.key, job.args, job.log)
            self.active += 1

    def _collect_finished(self) -> None:
        for key, code in self.launcher.wait(timeout=self.poll) if self.active else []:
            self.active -= 1
            state = self.by_key[key].state()
            if state == Status.RUNNING:  # another process took it first: wait on that one
                self.bar.write(f"waiting   {key} (held by another process)")
                self.held.append(self.by_key[key])
            else:
                self._ended(self.by_key[key], state, code)

    def _check_held(self) -> None:
        for job in list(self.held):
            state = job.state()
            if state != Status.RUNNING:
                self.held.remove(job)
                if state in DONE_STATUSES or state not in self.runnable:
                    self._ended(job, state, None)
                else:  # its holder died: resume it here
                    self.outcome[job.key] = state
                    self.pending.append(job)

    def run(self) -> dict[str, str]:
        self._postfix(redraw=True)
        try:
            while self.pending or self.active or self.held:
                self._submit_ready()
                self._collect_finished()
                self._check_held()
                if self.held and not self.active and not self.pending:
                    time.sleep(self.poll)
        finally:
            self.launcher.shutdown()
            self.bar.close()
        return self.outcome


def execute(jobs: list[Job], launcher: Any, *, retry_failed: bool, what: str, poll: float = 1.0) -> dict[str, str]:
    """Run every job that is not done, as many at a time as the launcher allows; key -> final state.

    Jobs whose state is ``failed`` are skipped unless ``retry_failed``, and ``unreadable`` ones are
    reported and skipped. A ``running`` job (held by another process, e.g. a second sweep over the
    same store; also one whose process lost the race for it) is waited on: counted when its holder
    ends it, started here (resumed) if the holder dies first."""
    return Sweep(jobs, launcher, retry_failed=retry_failed, what=what, poll=poll).run()


def train_jobs(runs: list[tuple[RunSpec, RunDir]], device: str, compile_mode: str = "auto") -> list[Job]:
    from benchmark.train import plan_run  # noqa: PLC0415

    return [Job(spec.run_id, train_args(run, device, compile_mode), run.train_log, run.status,
                prepare=lambda run=run, spec=spec: plan_run(run, spec))
            for spec, run in runs]


def eval_jobs(runs: list[tuple[RunSpec, RunDir]], manifest: Manifest, device: str) -> list[Job]:
    """One job per (trained run, scenario) for the runs that finished training."""
    from benchmark.evaluate import eval_args, eval_state  # noqa: PLC0415

    return [Job(f"{spec.run_id}@{name}", eval_args(run, name, device, manifest.scenario_episodes),
                run.scenario_log(name), lambda run=run, name=name: eval_state(run, name))
            for spec, run in runs if run.status() == Status.FINISHED for name in manifest.evaluate]


def make_launcher(args: argparse.Namespace, device: str):
    from benchmark.launchers import LocalLauncher, RayLauncher  # noqa: PLC0415

    if args.launcher == "ray":
        gpus = args.gpus_per_run if args.gpus_per_run is not None else (1.0 if device.startswith("cuda") else 0.0)
        return RayLauncher(args.address, args.cpus_per_run, gpus)
    return LocalLauncher(args.workers)


def report(manifest: Manifest, store: Store) -> None:
    """The results table and report of every run of the experiment that exists (not only those a
    filter chose this time)."""
    from analysis.report import build  # noqa: PLC0415

    try:
        build(store, manifest.name, [spec.run_id for spec in manifest.runs],
              f"{manifest.name}: {manifest.description}", scenarios=manifest.evaluate)
    except UserError as err:  # nothing finished yet: the sweep's exit code says what happened
        print(f"no report: {err}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark.run", description=__doc__.split("\n")[0])
    p.add_argument("--exp", required=True, help="experiment name (experiments/<name>.yaml) or a path")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their state, run nothing")
    p.add_argument("--filter", action="append", default=[], metavar="KEY=V1,V2",
                   help="only runs with these values (repeatable; keys: task, algo, seed, num_envs, grid keys)")
    p.add_argument("--launcher", choices=("local", "ray"), default="local")
    p.add_argument("--workers", type=int, default=1, help="local launcher: runs at a time, one simulator each")
    p.add_argument("--address", default=None,
                   help="ray launcher: cluster address (auto, host:port, ray://...); default: start a local one")
    p.add_argument("--cpus-per-run", type=float, default=1.0, help="ray launcher: CPUs each run reserves")
    p.add_argument("--gpus-per-run", type=float, default=None,
                   help="ray launcher: GPUs each run reserves (default: 1 on a cuda device, else 0)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: the manifest's)")
    p.add_argument("--compile", default="auto", choices=COMPILE_MODES,
                   help="compiled hot paths for every run (torch.compile): auto (where measured faster: nowhere yet), on, off")
    p.add_argument("--retry-failed", action="store_true", help="run failed runs again (resuming them)")
    p.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    manifest = load(args.exp)
    filters = parse_filters(args.filter, manifest)
    if args.workers < 1:
        raise UserError(f"invalid number of workers {args.workers}; valid: a positive integer")
    store = Store(args.out)
    runs = plan(manifest, store, filters)
    if args.dry_run:
        print_plan(runs, manifest)
        return 0
    device = args.device or manifest.device
    if args.launcher == "ray":  # the device is checked where the run lands, not on the driver
        if device not in ("cpu", "cuda"):
            raise UserError(f"invalid device {device!r} for the ray launcher; valid: cpu, cuda")
        if args.cpus_per_run <= 0 or (args.gpus_per_run or 0) < 0:
            raise UserError("invalid --cpus-per-run/--gpus-per-run; valid: CPUs > 0, GPUs >= 0")
    else:
        device = validate_device(device)
    print(f"experiment {manifest.name}: {len(runs)} runs -> {store.runs_dir}")
    outcome = execute(train_jobs(runs, device, args.compile), make_launcher(args, device),
                      retry_failed=args.retry_failed, what="run")
    if manifest.evaluate:
        outcome |= execute(eval_jobs(runs, manifest, device), make_launcher(args, device),
                           retry_failed=args.retry_failed, what="eval")
    report(manifest, store)
    unfinished = [key for key, state in outcome.items() if state not in DONE_STATUSES]
    if unfinished:
        print(f"{len(unfinished)} job(s) did not finish: {', '.join(unfinished)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
