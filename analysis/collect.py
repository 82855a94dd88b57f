"""Every run directory of an experiment -> one tidy table, one row per run.

Only what a run directory says is used: a run without ``run.json`` does not exist, and each run
directory is one row (its id is its name), so no result is counted twice or without its source.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = ["run_id", "task", "algo", "seed", "num_envs", "timesteps", "status", "eval_return_mean",
           "eval_return_std", "eval_episodes", "train_wall_time_s", "asset_source", "git_commit", "run_dir"]


def _row(run_dir: Path) -> dict | None:
    try:
        meta = json.loads((run_dir / "run.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    ev = meta.get("final_eval") or {}
    wall = None
    metrics = run_dir / "metrics.csv"
    if metrics.exists() and metrics.stat().st_size:
        frame = pd.read_csv(metrics)
        if len(frame):
            wall = float(frame["wall_time_s"].iloc[-1])
    row = {
        "run_id": meta["run_id"], "task": meta["task"]["name"], "algo": meta["algo"], "seed": meta["seed"],
        "num_envs": meta["num_envs"], "timesteps": meta["timesteps"], "status": meta["status"],
        "eval_return_mean": ev.get("return_mean"), "eval_return_std": ev.get("return_std"),
        "eval_episodes": ev.get("episodes"), "train_wall_time_s": wall,
        "asset_source": (meta.get("asset_source") or {}).get("kind"),
        "git_commit": (meta.get("git") or {}).get("commit"), "run_dir": str(run_dir),
    }
    for key, value in (meta.get("spec", {}).get("overrides") or {}).items():
        row[f"set.{key}"] = value
    return row


def collect(runs_root: Path, run_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per run directory under ``runs_root`` (restricted to ``run_ids`` when given)."""
    runs_root = Path(runs_root)
    dirs = sorted(p for p in runs_root.iterdir() if p.is_dir()) if runs_root.exists() else []
    if run_ids is not None:  # keep the caller's (the manifest's) order
        by_name = {d.name: d for d in dirs}
        dirs = [by_name[r] for r in run_ids if r in by_name]
    rows = [r for r in (_row(d) for d in dirs) if r is not None]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=COLUMNS + sorted(c for c in frame.columns if c not in COLUMNS))
