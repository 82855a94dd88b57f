"""Hand-made run directories and evaluation files for the analysis tests (no simulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.store import RunDir, Store


def fake_run(root: Path, run_id: str, algo: str, seed: int, status: str, ret: float | None,
             curve: tuple[float, float] = (0.0, 1.0), task: str = "cartpole", num_envs: int = 1024,
             overrides: dict | None = None, values: dict | None = None, timesteps: int = 32) -> Path:
    """A run directory in the store at ``root`` as benchmark.train leaves it: its metadata (with the
    final evaluation when finished) and its metrics."""
    run = Store(root).run(run_id)
    d = run.path
    d.mkdir(parents=True)
    spec = {"task": task, "algo": algo, "num_envs": num_envs, "seed": seed, "timesteps": timesteps,
            "overrides": overrides or {}, "eval_episodes": 8}
    meta = {"run_id": run_id, "status": status, "spec": spec, "task": {"name": task}, "algo": algo, "seed": seed,
            "num_envs": num_envs, "timesteps": timesteps, "total_env_steps": timesteps * num_envs, "device": "cpu",
            "agent_config": {"values": values or {}}, "git": {"commit": "abc", "dirty": True},
            "machine": {"host": "box"}, "asset_source": {"kind": "local-standins"},
            "final_eval": {"return_mean": ret, "return_std": 0.1, "episodes": 8} if status == "finished" else None}
    run.meta_path.write_text(json.dumps(meta))
    pd.DataFrame({"timestep": [16, 32], "env_steps": [16 * num_envs, 32 * num_envs], "wall_time_s": [1.0, 2.5],
                  "return_mean": list(curve)}).to_csv(run.metrics_path, index=False)
    return d


def fake_eval(run_dir: Path, scenario: str, status: str = "finished", alive: float = 500.0, l_mae: float = 0.4,
              a_mae: float = 0.3, max_episode_steps: int = 1000) -> Path:
    """The run's evaluation file of ``scenario`` in the schema analysis.radar reads (no metrics unless finished)."""
    metrics = {"alive": {"mean": alive, "std": 10.0}, "l_mae": {"mean": l_mae, "std": 0.01},
               "a_mae": {"mean": a_mae, "std": 0.01}} if status == "finished" else {}
    path = RunDir(run_dir).scenario_eval_path(scenario)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"scenario": scenario, "source_task": "go2_rough", "status": status, "episodes": 64,
                                "max_episode_steps": max_episode_steps, "metrics": metrics}))
    return path


def runs_frame(cells: dict[tuple, list[float | None]], **columns) -> pd.DataFrame:
    """A collected-runs frame from {(task, algo[, num_envs]): [return per seed, None = diverged]}."""
    rows = []
    for key, returns in cells.items():
        task, algo, num_envs = (*key, 1024)[:3]
        for seed, ret in enumerate(returns):
            rows.append({"run_id": f"{task}-{algo}-n{num_envs}-s{seed}", "task": task, "algo": algo, "seed": seed,
                         "num_envs": num_envs, "timesteps": 32, "status": "finished" if ret is not None else "diverged",
                         "eval_return_mean": ret, **columns})
    return pd.DataFrame(rows)
