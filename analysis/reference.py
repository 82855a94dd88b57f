"""The review's own numbers (copied from the paper data into ``analysis/reference/``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent / "reference"
# the review's spelling of the algorithms in its tables
PAPER_ALGO = {"ppo": "PPO", "ddpg": "DDPG", "td3": "TD3", "sac": "SAC", "dipo": "DIPO", "qvpo": "QVPO",
              "dacer": "DACER", "genpo": "GenPO"}


def table4() -> pd.DataFrame:
    """Table 4: final reward, 12 tasks x 8 algorithms, 1024 envs, mean and std over 5 seeds."""
    frame = pd.read_csv(HERE / "results_mean_std.csv")
    return frame[frame["table"] == 4][["task", "algorithm", "mean", "std"]]


def paper_result(paper_task: str, algo: str) -> tuple[float, float] | None:
    frame = table4()
    hit = frame[(frame["task"] == paper_task) & (frame["algorithm"] == PAPER_ALGO.get(algo, algo))]
    if hit.empty:
        return None
    return float(hit["mean"].iloc[0]), float(hit["std"].iloc[0])
