"""Learning curves from each run's metrics file, as the review's Figs. 4-6: training episode return against
environment steps, one line per algorithm (mean over seeds, shaded +- one std across seeds), one
panel per task and, when they vary within the experiment, per number of environments (Fig. 5) or
diffusion steps K (Fig. 6). Beside them, the exploration curves: every learned exploration scale
the agents log per interval (:data:`EXPLORATION`), so that a frozen one (DACER's alpha under the
review's schedule) shows in every result."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from agents import catalogue  # noqa: E402
from analysis.tables import KEY_LABELS, order_key, row_keys, value_label  # noqa: E402
from benchmark.store import RunDir, write_figure  # noqa: E402
from tasks.registry import get_task  # noqa: E402


# metrics columns that say how widely an agent explores, as logged per interval; the agents not
# listed explore at a scale their settings fix (FIXED_EXPLORATION)
EXPLORATION = {
    "policy_standard_deviation": "Gaussian policy std (PPO)",
    "coefficient_entropy_coefficient": "entropy coefficient (SAC)",
    "policy_alpha": "alpha (DACER; its noise std is noise_scale x alpha)",
    "policy_entropy_estimate": "entropy estimate (DACER, GenPO, DPPO)",
}
FIXED_EXPLORATION = ("fixed by settings, not plotted: DDPG and TD3 (their noise), DIPO and QVPO (the schedule's "
                     "noise), DPPO (the std floors), FPO++ (N(0, I) initial noise, the action perturbation)")


def _curve(run_dirs: list[str], column: str = "return_mean") -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    frames = []
    for d in run_dirs:
        path = RunDir(d).metrics_path
        if path.exists() and path.stat().st_size:
            table = pd.read_csv(path)
            if column in table:
                frames.append(table[["env_steps", column]].dropna())
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    grid = np.unique(np.concatenate([f["env_steps"].to_numpy() for f in frames]))
    ys = np.stack([np.interp(grid, f["env_steps"], f[column], left=np.nan, right=np.nan) for f in frames])
    with np.errstate(all="ignore"):
        return grid, np.nanmean(ys, axis=0), np.nanstd(ys, axis=0)


def curve_panels(runs: pd.DataFrame) -> tuple[list[str], pd.DataFrame, list[tuple[str, ...]]]:
    """The panel keys (task, then the varying settings), each run's panel labels, and the panels in order."""
    keys = row_keys(runs)
    labels = runs[keys].map(value_label)
    order = sorted(dict.fromkeys(tuple(r) for r in labels.itertuples(index=False)),
                   key=lambda p: [order_key(k, get_task(v).paper_name if k == "task" else _number(v))
                                  for k, v in zip(keys, p)])
    return keys, labels, order


def _number(label: str) -> object:
    try:
        return float(label)
    except ValueError:
        return label


def plot_curves(runs: pd.DataFrame, out: Path, title: str) -> Path:
    keys, labels, panels = curve_panels(runs)
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        mask = (labels == panel).all(axis=1)
        groups = dict(list(runs[mask].groupby("algo", sort=False)))
        by_label = {catalogue.label(a): a for a in groups}
        for algo in (by_label[name] for name in catalogue.in_order(by_label)):
            curve = _curve(list(groups[algo]["run_dir"]))
            if curve is None:
                continue
            x, mean, std = curve
            name = catalogue.label(algo)
            ax.plot(x / 1e6, mean, color=catalogue.colors().get(name), label=f"{name} (n={len(groups[algo])})",
                    marker="o" if len(x) < 5 else None, ms=4)  # a short budget still shows
            ax.fill_between(x / 1e6, mean - std, mean + std, color=catalogue.colors().get(name), alpha=0.2)
        t = get_task(panel[0])
        setting = ", ".join(f"{KEY_LABELS.get(k, k.removeprefix('set.'))} = {v}" for k, v in zip(keys[1:], panel[1:]))
        ax.set_title(f"{t.paper_name} ({t.isaaclab_id})" + (f"\n{setting}" if setting else ""), fontsize=10)
        ax.set_xlabel("environment steps (millions)")
        ax.set_ylabel("mean training episode return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    lines = [title, "line: mean over seeds (n = runs), shaded: ± 1 std across seeds"]
    fig.suptitle("\n".join(textwrap.fill(line, width=75 * cols) for line in lines), fontsize=10)
    fig.tight_layout()
    return write_figure(fig, out)


def exploration_columns(runs: pd.DataFrame) -> list[str]:
    """The :data:`EXPLORATION` columns some run of ``runs`` logged, in that order."""
    found: set[str] = set()
    for d in runs["run_dir"]:
        path = RunDir(d).metrics_path
        if path.exists() and path.stat().st_size:
            found |= set(pd.read_csv(path, nrows=0).columns)
    return [c for c in EXPLORATION if c in found]


def plot_exploration(runs: pd.DataFrame, out: Path, title: str) -> Path | None:
    """One row per logged exploration scale, one column per panel of :func:`plot_curves`, one line per
    algorithm that logs it (mean over seeds, +- one std); None when no run logs any."""
    columns = exploration_columns(runs)
    if not columns:
        return None
    keys, labels, panels = curve_panels(runs)
    fig, axes = plt.subplots(len(columns), len(panels), figsize=(5.5 * len(panels), 3.8 * len(columns)),
                             squeeze=False)
    for row, column in enumerate(columns):
        for ax, panel in zip(axes[row], panels):
            groups = dict(list(runs[(labels == panel).all(axis=1)].groupby("algo", sort=False)))
            by_label = {catalogue.label(a): a for a in groups}
            for name in catalogue.in_order(by_label):
                curve = _curve(list(groups[by_label[name]]["run_dir"]), column)
                if curve is None:
                    continue
                x, mean, std = curve
                color = catalogue.colors().get(name)
                ax.plot(x / 1e6, mean, color=color, label=name, marker="o" if len(x) < 5 else None, ms=4)
                ax.fill_between(x / 1e6, mean - std, mean + std, color=color, alpha=0.2)
            ax.set_title(f"{get_task(panel[0]).paper_name}: {EXPLORATION[column]}", fontsize=9)
            ax.set_xlabel("environment steps (millions)")
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=8)
    fig.suptitle("\n".join([title, textwrap.fill(FIXED_EXPLORATION, width=70 * len(panels))]), fontsize=10)
    fig.tight_layout()
    return write_figure(fig, out)
