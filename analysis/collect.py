"""Every run directory of an experiment -> one tidy table, one row per run.

Only what a run directory says is used: a run without a readable ``run.json`` does not exist, and
each run directory is one row (its id is its name), so no result is counted twice or without its
source. Columns: the experiment; the run's configuration (task, algorithm, seed, environments,
budget, evaluation episodes, the profile (``review`` or ``original``), the update ratio (gradient
samples per collected transition), the algorithm's defaults revision, and ``set.<key>`` for every
setting that some run overrides); its status; the final evaluation; training wall time; provenance (asset source, git commit and dirty
flag, device, host, run directory).

A ``set.<key>`` column holds the value each run used (its resolved config), not only its override:
a run id leaves out an override equal to the default (GenPO's K = 5 in the K grid), yet that run
belongs in the K = 5 row.

Runs live in one store shared by the experiments; an experiment's outputs beside it
(:mod:`benchmark.store`).

    python -m analysis.collect --exp NAME [--out results]   # -> results/<NAME>/results.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmark.manifest import Manifest, load
from benchmark.store import DEFAULT_ROOT, RunDir, Store, write_text
from tasks.errors import cli_main

COLUMNS = ["experiment", "run_id", "task", "algo", "seed", "num_envs", "timesteps", "eval_episodes", "profile",
           "gradient_samples_per_transition", "revision", "status", "eval_return_mean", "eval_return_std", "final_eval_episodes", "train_wall_time_s", "total_env_steps",
           "asset_source", "git_commit", "git_dirty", "device", "host", "run_dir"]


def _wall_time(run: RunDir) -> float | None:
    rows = run.read_metrics()
    return float(rows[-1]["wall_time_s"]) if rows and rows[-1].get("wall_time_s") else None


def _row(run: RunDir, experiment: str | None) -> tuple[dict, dict] | None:
    """The run's row and its resolved agent settings."""
    record = run.read_record()
    if record is None:
        return None
    spec, ev, git = record.spec, record.final_eval, record.git or {}
    row = {"experiment": experiment, "run_id": run.run_id, "task": spec.task, "algo": spec.algo, "seed": spec.seed,
           "num_envs": spec.num_envs, "timesteps": spec.timesteps, "eval_episodes": spec.eval_episodes,
           "profile": record.profile, "revision": spec.revision or 1,
           "gradient_samples_per_transition": (record.update_ratio or {}).get("gradient_samples_per_transition"),
           "status": run.status(),  # "interrupted": says running, but nobody holds it
           "eval_return_mean": ev.return_mean if ev else None, "eval_return_std": ev.return_std if ev else None,
           "final_eval_episodes": ev.episodes if ev else None, "train_wall_time_s": _wall_time(run),
           "total_env_steps": record.total_env_steps, "asset_source": record.asset_class,
           "git_commit": git.get("commit"), "git_dirty": git.get("dirty"), "device": record.device,
           "host": (record.machine or {}).get("host"), "run_dir": str(run.path)}
    for key, value in spec.overrides.items():
        row[f"set.{key}"] = value
    return row, record.agent_config.get("values") or {}


def collect(store: Store, run_ids: list[str] | None = None, experiment: str | None = None) -> pd.DataFrame:
    """One row per run directory of ``store`` (only ``run_ids``, in their order, when given)."""
    found = [r for r in (_row(run, experiment) for run in store.runs(run_ids)) if r is not None]
    settings = {k for row, _ in found for k in row if k.startswith("set.")}
    rows = [{**{k: values.get(k.removeprefix("set.")) for k in settings}, **row} for row, values in found]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=COLUMNS + sorted(c for c in frame.columns if c not in COLUMNS))


def experiment_runs(name: str) -> tuple[Manifest, list[str]]:
    """The manifest ``name`` and its run ids in manifest order."""
    manifest = load(name)
    return manifest, [spec.run_id for spec in manifest.runs]


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.collect", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", required=True, help="experiment name (experiments/<name>.yaml)")
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    args = parser.parse_args(argv)
    manifest, run_ids = experiment_runs(args.exp)
    store = Store(args.out)
    frame = collect(store, run_ids, manifest.name)
    path = write_text(store.results_csv(manifest.name), frame.to_csv(index=False))
    print(f"{path}: {len(frame)} of the manifest's {len(run_ids)} runs have a run directory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
