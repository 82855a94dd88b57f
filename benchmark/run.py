"""Run an experiment manifest: every run in its own process, finished runs skipped, interrupted
ones resumed, failures isolated; then the results table and learning-curve plot.

    python -m benchmark.run --exp smoke [--dry-run] [--workers N]

Outputs under ``results/<experiment>/``: ``runs/<run id>/`` (one directory per run, see
:mod:`benchmark.rundir`), ``results.csv`` (one row per run), ``summary.csv`` / ``summary.md``
(mean +- std over seeds beside the review's value) and ``curves.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmark.errors import cli_main
from benchmark.manifest import Manifest, load
from benchmark.rundir import DONE_STATUSES, RunDir, atomic_write_bytes
from benchmark.spec import RunSpec, validate_device

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path("results")


def train_command(spec: RunSpec, run_dir: Path, device: str, workers: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "benchmark.train", "--task", spec.task, "--algo", spec.algo,
           "--num-envs", str(spec.num_envs), "--seed", str(spec.seed), "--timesteps", str(spec.timesteps),
           "--eval-episodes", str(spec.eval_episodes), "--device", device, "--run-dir", str(run_dir),
           "--no-progress"]
    if workers > 1:  # share the cores: oversubscribed torch threads spin and slow every op many times over
        cmd += ["--threads", str(max(1, (os.cpu_count() or 1) // workers))]
    for key, value in spec.overrides:
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def plan(manifest: Manifest, out: Path) -> list[tuple[RunSpec, RunDir]]:
    runs_root = out / manifest.name / "runs"
    return [(spec, RunDir(spec.run_dir(runs_root))) for spec in manifest.runs()]


def print_plan(runs: list[tuple[RunSpec, RunDir]]) -> None:
    print(f"{'run id':48} {'state':12} overrides")
    for spec, run in runs:
        print(f"{spec.run_id:48} {run.status():12} {dict(spec.overrides) or ''}")


def execute(runs: list[tuple[RunSpec, RunDir]], device: str, workers: int) -> dict[str, str]:
    """Train every run that is not done, ``workers`` processes at a time; returns run id -> status."""
    from tqdm import tqdm  # noqa: PLC0415

    outcome = {spec.run_id: run.status() for spec, run in runs}
    pending = [(s, r) for s, r in runs if outcome[s.run_id] not in DONE_STATUSES]
    done = len(runs) - len(pending)
    failed = 0
    bar = tqdm(total=len(runs), initial=done, unit="run", dynamic_ncols=True)
    active: list[tuple[RunSpec, RunDir, subprocess.Popen, object]] = []

    def refresh() -> None:
        bar.set_postfix(done=done, failed=failed, left=len(runs) - done - failed, refresh=False)

    refresh()
    while pending or active:
        while pending and len(active) < workers:
            spec, run = pending.pop(0)
            run.path.mkdir(parents=True, exist_ok=True)
            log = open(run.path / "train.log", "a")
            bar.write(f"start {spec.run_id}")
            proc = subprocess.Popen(train_command(spec, run.path, device, workers), cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT)
            active.append((spec, run, proc, log))
        time.sleep(0.5)
        for item in list(active):
            spec, run, proc, log = item
            if proc.poll() is None:
                continue
            active.remove(item)
            log.close()
            status = run.status()
            outcome[spec.run_id] = status
            if status in DONE_STATUSES:
                done += 1
                bar.write(f"{status:9} {spec.run_id}")
            else:
                failed += 1
                bar.write(f"FAILED    {spec.run_id} ({status}, exit {proc.returncode}); see {run.path / 'train.log'}")
            refresh()
            bar.update(1)
    bar.close()
    return outcome


def report(manifest: Manifest, runs: list[tuple[RunSpec, RunDir]], out: Path) -> None:
    from analysis.collect import collect  # noqa: PLC0415
    from analysis.curves import plot_curves  # noqa: PLC0415
    from analysis.summary import summarize, to_markdown  # noqa: PLC0415

    exp_dir = out / manifest.name
    frame = collect(exp_dir / "runs", [spec.run_id for spec, _ in runs])
    if frame.empty:
        print("no run directories yet; nothing to report")
        return
    atomic_write_bytes(exp_dir / "results.csv", frame.to_csv(index=False).encode())
    summary = summarize(frame)
    atomic_write_bytes(exp_dir / "summary.csv", summary.to_csv(index=False).encode())
    table = to_markdown(summary)
    atomic_write_bytes(exp_dir / "summary.md", (table + "\n").encode())
    plot = plot_curves(frame, exp_dir / "curves.png", f"{manifest.name}: {manifest.description}")
    print(f"\n{table}\n")
    print(f"per-run results: {exp_dir / 'results.csv'}\nlearning curves: {plot}")


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.run", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", required=True, help="experiment name (experiments/<name>.yaml) or a path")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and their state, run nothing")
    parser.add_argument("--workers", type=int, default=1, help="runs at a time, one simulator per process")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results root (default: results/)")
    args = parser.parse_args(argv)
    manifest = load(args.exp)
    device = validate_device(manifest.device)
    if args.workers < 1:
        from benchmark.errors import UserError  # noqa: PLC0415

        raise UserError(f"invalid number of workers {args.workers}; valid: a positive integer")
    runs = plan(manifest, args.out)
    if args.dry_run:
        print_plan(runs)
        return 0
    print(f"experiment {manifest.name}: {len(runs)} runs -> {args.out / manifest.name}")
    outcome = execute(runs, device, args.workers)
    report(manifest, runs, args.out)
    failed = [rid for rid, status in outcome.items() if status not in DONE_STATUSES]
    if failed:
        print(f"{len(failed)} run(s) did not finish: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
