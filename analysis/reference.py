"""The review's own numbers, read from the copies in ``analysis/reference/`` (never from elsewhere).

- ``results_mean_std.csv``: final reward, mean and std over five runs: Table 4 (12 tasks x 8
  algorithms, 1024 environments), Table 5 (Ant and Go2 at 8/64/256/1024 environments, setting
  ``num_envs=N``) and Table 6 (Ant, the four diffusion algorithms, setting ``K=N``).
- ``table4_mean_rank.csv``: Table 4's "Mean Rank" row.
- ``transfer_ood.csv``: Table 7, Alive / L-MAE / A-MAE per algorithm and scenario (no std given).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent / "reference"
# evaluation scenario (tasks/scenarios.py) -> the review's name for it (Tables 7-8),
# in-distribution scenarios first (the top vertex of Fig. 7's radars), then the zero-shot targets
PAPER_SCENARIO = {"go2_source": "Go2 (source)", "go2_terrain_random": "Random (source)",
                  "go2_terrain_stairs": "Stairs (source)", "go2_terrain_pyramid": "Pyramid (source)",
                  "go2_to_a1": "A1 transfer", "go2_to_spot": "Spot transfer", "go2_terrain_box": "Box terrain",
                  "go2_terrain_wave": "Wave terrain", "go2_terrain_obstacle": "Obstacle",
                  "go2_terrain_stepping_stones": "Stepping stone"}
_TASK_ALIASES = {"Go2": "Unitree Go2 Rough"}  # Table 5 says "Go2" for Table 4's "Unitree Go2 Rough"


@functools.cache
def results() -> pd.DataFrame:
    """Tables 4-6 in one frame: table, task (Table 4's names), num_envs, algorithm, setting, mean, std."""
    frame = pd.read_csv(HERE / "results_mean_std.csv")
    frame["setting"] = frame["setting"].fillna("")
    frame["task"] = frame["task"].replace(_TASK_ALIASES)
    return frame


def review_cell(paper_task: str, algorithm: str, num_envs: int, settings: list[str]) -> tuple[float, float, int] | None:
    """(mean, std, table number) of the first of ``settings`` the review reports for this cell."""
    frame = results()
    hit = frame[(frame["task"] == paper_task) & (frame["algorithm"] == algorithm) & (frame["num_envs"] == num_envs)]
    for setting in settings:
        row = hit[hit["setting"] == setting]
        if len(row):
            return float(row["mean"].iloc[0]), float(row["std"].iloc[0]), int(row["table"].iloc[0])
    return None


def table4_tasks() -> list[str]:
    frame = results()
    return list(dict.fromkeys(frame[frame["table"] == 4]["task"]))


def table4_range(paper_task: str) -> tuple[float, float] | None:
    """(lowest, highest) mean over the eight algorithms in Table 4 for this task."""
    frame = results()
    means = frame[(frame["table"] == 4) & (frame["task"] == paper_task)]["mean"]
    return (float(means.min()), float(means.max())) if len(means) else None


def table4_mean_rank() -> dict[str, float]:
    frame = pd.read_csv(HERE / "table4_mean_rank.csv")
    return dict(zip(frame["algorithm"], frame["mean_rank"].astype(float)))


def transfer() -> pd.DataFrame:
    """Table 7: algorithm, scenario (the review's name), alive, l_mae, a_mae."""
    return pd.read_csv(HERE / "transfer_ood.csv").drop(columns="table")
