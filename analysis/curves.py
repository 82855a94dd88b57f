"""Learning curves from ``metrics.csv``: training episode return against environment steps, one
line per algorithm (mean over seeds, shaded +- one std across seeds), one panel per task."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.reference import PAPER_ALGO  # noqa: E402
from tasks.registry import get_task  # noqa: E402


def _curve(run_dirs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    frames = []
    for d in run_dirs:
        path = Path(d) / "metrics.csv"
        if path.exists() and path.stat().st_size:
            frames.append(pd.read_csv(path)[["env_steps", "return_mean"]].dropna())
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    grid = np.unique(np.concatenate([f["env_steps"].to_numpy() for f in frames]))
    ys = np.stack([np.interp(grid, f["env_steps"], f["return_mean"], left=np.nan, right=np.nan) for f in frames])
    with np.errstate(all="ignore"):
        return grid, np.nanmean(ys, axis=0), np.nanstd(ys, axis=0)


def plot_curves(runs: pd.DataFrame, out: Path, title: str) -> Path:
    tasks = list(dict.fromkeys(runs["task"]))
    cols = min(3, len(tasks))
    rows = math.ceil(len(tasks) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        for algo, group in runs[runs["task"] == task].groupby("algo", sort=False):
            curve = _curve(list(group["run_dir"]))
            if curve is None:
                continue
            x, mean, std = curve
            line, = ax.plot(x / 1e6, mean, label=f"{PAPER_ALGO.get(algo, algo)} (n={len(group)})")
            ax.fill_between(x / 1e6, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        t = get_task(task)
        ax.set_title(f"{t.paper_name} ({t.isaaclab_id})")
        ax.set_xlabel("environment steps (millions)")
        ax.set_ylabel("mean training episode return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.suptitle(textwrap.fill(title, width=int(60 * cols)), fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
