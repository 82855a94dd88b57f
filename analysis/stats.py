"""Aggregate metrics beyond the review, as recommended by Agarwal et al. 2021 ("Deep Reinforcement
Learning at the Edge of the Statistical Precipice", the ``rliable`` library): interquartile mean
(IQM), mean, median and optimality gap of normalized scores with stratified-bootstrap 95%
confidence intervals, and performance profiles (fraction of runs scoring above tau).

Score matrix: per algorithm, runs x tasks of final evaluation returns, where a task is a table row
(the task, and the environments or K when they vary: each setting is its own problem).

Normalization, per task: ``(return - lo) / (hi - lo)`` with lo and hi the lowest and highest of the
eight algorithms' means in the review's Table 4 for that task, so 0 = the review's worst algorithm
and 1 = its best. Like the human-normalized Atari scores of Agarwal et al., this is a fixed
reference, independent of which algorithms and seeds this experiment ran: scores compare across
experiments, rows of one task (Tables 5 and 6) share one scale, and the optimality gap (gamma = 1)
reads "how far short of the review's best". A task the review's Table 4 lacks falls back to
min-max over this experiment's runs on it (``normalization`` column of scores.csv).

Runs: per algorithm, the seeds that finished on every kept task; tasks kept: those where every
algorithm has a finished run. With one run per algorithm and task the bootstrap can only resample
that run: the CI collapses to the point estimate, and the outputs say so.

Reproducibility: rliable 1.2's ``StratifiedBootstrap`` draws its resampling indices from numpy's
global generator (``np.random.choice``), so the ``random_state`` it accepts is not enough; we pass
``random_state=np.random.RandomState(seed)`` to ``get_interval_estimates`` and also seed the global
generator for the call, restoring its state afterwards; ``create_performance_profile`` (which takes
no random_state) runs under the same seeding. Same seed, same intervals.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from rliable import library, metrics  # noqa: E402

from agents import catalogue  # noqa: E402
from analysis.reference import table4_range  # noqa: E402
from analysis.tables import KEY_LABELS, row_keys  # noqa: E402
from benchmark.store import write_figure, write_text  # noqa: E402
from tasks.registry import get_task  # noqa: E402

AGGREGATES = {"IQM": metrics.aggregate_iqm, "Mean": metrics.aggregate_mean, "Median": metrics.aggregate_median,
              "Optimality gap": metrics.aggregate_optimality_gap}
SCORE_LABEL = "normalized final return (0 = review's worst, 1 = review's best Table 4 mean)"
COLLAPSED = "one run per task: the 95% CI collapses to the point estimate"


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[np.random.RandomState]:
    """A ``RandomState(seed)`` for rliable, with numpy's global generator seeded too (see above)."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="random_state is deprecated", category=FutureWarning)
            yield np.random.RandomState(seed)
    finally:
        np.random.set_state(state)


def _column(row: dict, keys: list[str]) -> str:
    extra = [f"{KEY_LABELS.get(k, k.removeprefix('set.'))} {row[k]}" for k in keys[1:]]
    return ", ".join([get_task(row["task"]).paper_name, *extra])


def normalized_scores(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per finished run: algorithm, seed, column (task), return, lo, hi, normalization, score."""
    keys = row_keys(runs)
    done = runs[runs["status"] == "finished"].dropna(subset=["eval_return_mean"])
    records = []
    for row in done.to_dict("records"):
        records.append({"run_id": row["run_id"], "algorithm": catalogue.label(row["algo"]),
                        "seed": row["seed"], "column": _column(row, keys), "task": row["task"],
                        "return": float(row["eval_return_mean"])})
    frame = pd.DataFrame(records, columns=["run_id", "algorithm", "seed", "column", "task", "return"])
    ranges = {}
    for column, group in frame.groupby("column", sort=False):
        review = table4_range(get_task(group["task"].iloc[0]).paper_name)
        ranges[column] = (*review, "review Table 4 range") if review else \
            (group["return"].min(), group["return"].max(), "min-max over this experiment's runs")
    frame["lo"] = [ranges[c][0] for c in frame["column"]]
    frame["hi"] = [ranges[c][1] for c in frame["column"]]
    frame["normalization"] = [ranges[c][2] for c in frame["column"]]
    span = (frame["hi"] - frame["lo"]).where(frame["hi"] > frame["lo"], 1.0)
    return frame.assign(score=(frame["return"] - frame["lo"]) / span)


def score_matrices(scores: pd.DataFrame) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """Per algorithm (review order) a runs x tasks matrix; the tasks (columns) used; notes on what was left out."""
    algorithms = catalogue.in_order(scores["algorithm"].unique())
    counts = scores.groupby(["column", "algorithm"]).size().unstack()
    columns = [c for c in dict.fromkeys(scores["column"]) if counts.loc[c].notna().all()]
    notes = [f"task {c} left out: not every algorithm finished a run on it" for c in dict.fromkeys(scores["column"])
             if c not in columns]
    matrices = {}
    for algorithm in algorithms:
        table = scores[(scores["algorithm"] == algorithm) & scores["column"].isin(columns)].pivot(
            index="seed", columns="column", values="score").reindex(columns=columns)
        complete = table.dropna()
        if len(complete) < len(table):
            notes.append(f"{algorithm}: seeds {', '.join(map(str, table.index.difference(complete.index)))} left out "
                         "(not finished on every task)")
        if len(complete):
            matrices[algorithm] = complete.to_numpy()
    return matrices, columns, notes


def aggregate(matrices: dict[str, np.ndarray], seed: int = 0, reps: int = 2000) -> pd.DataFrame:
    """IQM, mean, median, optimality gap per algorithm with stratified-bootstrap 95% CIs."""
    def func(scores: np.ndarray) -> np.ndarray:
        return np.array([f(scores) for f in AGGREGATES.values()])

    with seeded(seed) as random_state:
        points, intervals = library.get_interval_estimates(matrices, func, reps=reps, random_state=random_state)
    rows = []
    for algorithm, matrix in matrices.items():
        for i, name in enumerate(AGGREGATES):
            rows.append({"algorithm": algorithm, "metric": name, "estimate": points[algorithm][i],
                         "ci_low": intervals[algorithm][0, i], "ci_high": intervals[algorithm][1, i],
                         "runs": matrix.shape[0], "tasks": matrix.shape[1],
                         "note": COLLAPSED if matrix.shape[0] == 1 else ""})
    return pd.DataFrame(rows)


def performance_profiles(matrices: dict[str, np.ndarray], taus: np.ndarray, seed: int = 0,
                         reps: int = 2000) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Fraction of runs (over all tasks) with score > tau, and its 95% CI, per algorithm."""
    with seeded(seed):
        return library.create_performance_profile(matrices, taus, reps=reps)


def taus_for(matrices: dict[str, np.ndarray]) -> np.ndarray:
    values = np.concatenate([m.ravel() for m in matrices.values()])
    return np.linspace(min(0.0, values.min()), max(1.0, values.max()), 101)


def plot_intervals(stats: pd.DataFrame, out: Path, title: str) -> Path:
    algorithms = list(dict.fromkeys(stats["algorithm"]))
    lo, hi = min(0.0, stats["ci_low"].min()), max(1.0, stats["ci_high"].max())
    fig, axes = plt.subplots(1, len(AGGREGATES), figsize=(4 * len(AGGREGATES), 0.45 * len(algorithms) + 2),
                             sharey=True)
    y = np.arange(len(algorithms))
    for ax, name in zip(axes, AGGREGATES):
        rows = stats[stats["metric"] == name].set_index("algorithm").reindex(algorithms)
        for yi, (algorithm, r) in zip(y, rows.iterrows()):
            color = catalogue.colors().get(algorithm)
            ax.barh(yi, r["ci_high"] - r["ci_low"], left=r["ci_low"], height=0.6, color=color, alpha=0.4)
            ax.plot(r["estimate"], yi, "o", color=color, markeredgecolor="black")
            ax.annotate(f"{r['estimate']:.2f}", (r["estimate"], yi), xytext=(0, 9), textcoords="offset points",
                        ha="center", fontsize=7)
        ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_title(name + (" (lower is better)" if name == "Optimality gap" else " (higher is better)"), fontsize=10)
        ax.set_xlabel("normalized score")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, algorithms)
    axes[0].invert_yaxis()  # shared: once for all panels
    collapsed = (stats["runs"] == 1).all()
    fig.suptitle(f"{title}\nbar: 95% stratified-bootstrap CI, dot: point estimate; score = {SCORE_LABEL}"
                 + (f"\n{COLLAPSED} (bars have zero width)" if collapsed else ""), fontsize=10)
    fig.tight_layout()
    return write_figure(fig, out)


def plot_profiles(profiles: dict[str, np.ndarray], cis: dict[str, np.ndarray], taus: np.ndarray, out: Path,
                  title: str, collapsed: bool) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5))
    for algorithm, profile in profiles.items():
        color = catalogue.colors().get(algorithm)
        ax.plot(taus, profile, color=color, lw=2, label=algorithm)
        ax.fill_between(taus, cis[algorithm][0], cis[algorithm][1], color=color, alpha=0.15)
    ax.set_xlabel(f"tau: {SCORE_LABEL}", fontsize=9)
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(f"{title}\nperformance profile, shaded: 95% stratified-bootstrap CI"
                 + (f"\n{COLLAPSED}" if collapsed else ""), fontsize=10)
    return write_figure(fig, out)


def write_stats(runs: pd.DataFrame, out_dir: Path, title: str, seed: int = 0, reps: int = 2000) -> list[Path]:
    """stats.csv, scores.csv, iqm.png and profiles.png in ``out_dir`` (nothing when no run finished)."""
    scores = normalized_scores(runs)
    matrices, columns, notes = score_matrices(scores) if len(scores) else ({}, [], [])
    if not matrices:
        return []
    stats = aggregate(matrices, seed, reps)
    stats["note"] = ["; ".join(n for n in [note, *notes] if n) for note in stats["note"]]
    taus = taus_for(matrices)
    profiles, cis = performance_profiles(matrices, taus, seed, reps)
    collapsed = all(m.shape[0] == 1 for m in matrices.values())
    label = f"{title} ({len(columns)} task{'s' if len(columns) != 1 else ''})"
    return [write_text(out_dir / "stats.csv", stats.to_csv(index=False)),
            write_text(out_dir / "scores.csv", scores.to_csv(index=False)),
            plot_intervals(stats, out_dir / "iqm.png", label),
            plot_profiles(profiles, cis, taus, out_dir / "profiles.png", label, collapsed)]
