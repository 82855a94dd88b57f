"""Every run directory of an experiment -> one tidy table, one row per run.

Only what a run directory says is used: a run without a readable ``run.json`` does not exist, and
each run directory is one row (its id is its name), so no result is counted twice or without its
source. Columns: the experiment; the run's configuration (task, algorithm, seed, environments,
budget, evaluation episodes, and ``set.<key>`` for every setting that some run overrides); its
status; the final evaluation; training wall time; provenance (asset source, git commit and dirty
flag, device, host, run directory).

A ``set.<key>`` column holds the value each run used (its resolved config), not only its override:
a run id leaves out an override equal to the default (GenPO's K = 5 in the K grid), yet that run
belongs in the K = 5 row.

Runs live in one store shared by the experiments, ``<out>/runs/<run id>/``; an experiment's outputs
in ``<out>/<experiment>/``.

    python -m analysis.collect --exp NAME [--out results]   # -> results/<NAME>/results.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from analysis.files import write_text
from tasks.errors import cli_main
from benchmark.manifest import Manifest, load
from benchmark.rundir import RunDir

COLUMNS = ["experiment", "run_id", "task", "algo", "seed", "num_envs", "timesteps", "eval_episodes", "status",
           "eval_return_mean", "eval_return_std", "final_eval_episodes", "train_wall_time_s", "total_env_steps",
           "asset_source", "git_commit", "git_dirty", "device", "host", "run_dir"]


def _wall_time(run_dir: Path) -> float | None:
    metrics = run_dir / "metrics.csv"
    if not metrics.exists() or not metrics.stat().st_size:
        return None
    frame = pd.read_csv(metrics, usecols=["wall_time_s"])
    return float(frame["wall_time_s"].iloc[-1]) if len(frame) else None


def _row(run_dir: Path, experiment: str | None) -> tuple[dict, dict] | None:
    """The run's row and its resolved agent settings."""
    try:
        meta = json.loads((run_dir / "run.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    spec = meta.get("spec") or {}
    ev = meta.get("final_eval") or {}
    git = meta.get("git") or {}
    row = {"experiment": experiment, "run_id": run_dir.name,
           **{k: spec.get(k) for k in ("task", "algo", "seed", "num_envs", "timesteps", "eval_episodes")},
           "status": RunDir(run_dir).status(),  # "interrupted": says running, but nobody holds it
           "eval_return_mean": ev.get("return_mean"), "eval_return_std": ev.get("return_std"),
           "final_eval_episodes": ev.get("episodes"), "train_wall_time_s": _wall_time(run_dir),
           "total_env_steps": meta.get("total_env_steps"), "asset_source": (meta.get("asset_source") or {}).get("kind"),
           "git_commit": git.get("commit"), "git_dirty": git.get("dirty"), "device": meta.get("device"),
           "host": (meta.get("machine") or {}).get("host"), "run_dir": str(run_dir)}
    for key, value in (spec.get("overrides") or {}).items():
        row[f"set.{key}"] = value
    return row, (meta.get("agent_config") or {}).get("values") or {}


def collect(runs_root: Path, run_ids: list[str] | None = None, experiment: str | None = None) -> pd.DataFrame:
    """One row per run directory under ``runs_root`` (only ``run_ids``, in their order, when given)."""
    runs_root = Path(runs_root)
    if run_ids is None:
        dirs = sorted(p for p in runs_root.iterdir() if p.is_dir()) if runs_root.exists() else []
    else:
        dirs = [runs_root / r for r in dict.fromkeys(run_ids)]
    found = [r for r in (_row(d, experiment) for d in dirs) if r is not None]
    settings = {k for row, _ in found for k in row if k.startswith("set.")}
    rows = [{**{k: values.get(k.removeprefix("set.")) for k in settings}, **row} for row, values in found]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=COLUMNS + sorted(c for c in frame.columns if c not in COLUMNS))


def experiment_runs(name: str, out: Path) -> tuple[Manifest, Path, list[str]]:
    """The manifest ``name``, its output folder ``out/<name>`` and its run ids in manifest order."""
    manifest = load(name)
    return manifest, Path(out) / manifest.name, [spec.run_id for spec in manifest.runs()]


def run_store(exp_dir: Path) -> Path:
    """The run store beside an experiment's output folder: ``<out>/runs``."""
    return Path(exp_dir).parent / "runs"


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.collect", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", required=True, help="experiment name (experiments/<name>.yaml)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results root (default: results/)")
    args = parser.parse_args(argv)
    manifest, exp_dir, run_ids = experiment_runs(args.exp, args.out)
    frame = collect(run_store(exp_dir), run_ids, manifest.name)
    path = write_text(exp_dir / "results.csv", frame.to_csv(index=False))
    print(f"{path}: {len(frame)} of the manifest's {len(run_ids)} runs have a run directory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
