"""Zero-shot evaluations (cross-embodiment transfer and OOD terrain, the review's Table 7) read from
the run directories, and radar charts in the layout of the review's Fig. 7.

Each run directory may hold one evaluation file per scenario (:mod:`benchmark.store`)::

    {"scenario": "a1_transfer", "source_task": "go2_rough", "status": "finished", "episodes": 64,
     "max_episode_steps": 1000,
     "metrics": {"alive": {"mean": 812.3, "std": 40.1}, "l_mae": {"mean": 0.41, "std": 0.05},
                 "a_mae": {"mean": 0.33, "std": 0.04}}}

Fig. 7 draws one radar per metric (Alive = average lifespan, L-MAE and A-MAE = linear and angular
velocity-tracking mean absolute error), one axis per scenario with the in-distribution (trained)
scenario at the top vertex and the zero-shot targets around it (six axes: the review's "hexagon"),
and one polygon per algorithm; we draw the same, each polygon the mean over finished evaluations.

Axes are scaled so that outward is better, with one scale for all axes of a chart (so a symmetric
polygon means the same performance in every scenario, as the review reads it):

- Alive: radius = lifespan / episode length in steps (centre: falls at once, rim: never falls). The
  files give ``max_episode_steps``; for the review's Table 7, which does not, we take 1000 steps
  (Isaac Lab's Go2 velocity task: 20 s at 50 Hz; the largest Alive there is 961).
- L-MAE (m/s) and A-MAE (rad/s): radius = 1 - MAE / M, M the largest MAE in that chart rounded up to
  a multiple of half a power of ten (1.72 -> 2; centre: MAE = M, rim: no error).

The rings carry the metric's own values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from agents import catalogue  # noqa: E402
from analysis.reference import PAPER_SCENARIO, transfer  # noqa: E402
from benchmark.record import Status  # noqa: E402
from benchmark.store import RunDir, Store, write_figure  # noqa: E402
from tasks.assets import result_notes  # noqa: E402

METRICS = ("alive", "l_mae", "a_mae")
FIELDS = ("scenario", "source_task", "status", "episodes", "max_episode_steps", "metrics")
COLUMNS = ["run_id", "task", "algo", "seed", "scenario", "source_task", "status", "episodes", "max_episode_steps",
           "alive", "l_mae", "a_mae", "alive_std", "l_mae_std", "a_mae_std", "run_dir"]
REVIEW_EPISODE_STEPS = 1000
TITLES = {"alive": "Alive: average lifespan (steps) ↑", "l_mae": "L-MAE: linear velocity error (m/s) ↓",
          "a_mae": "A-MAE: angular velocity error (rad/s) ↓"}


def read_evaluation(run: RunDir, scenario: str) -> dict:
    """The run's evaluation of ``scenario`` (read through the store), flattened; a finished one must
    carry every metric's mean and std. Raises ``ValueError`` naming the file and what is wrong."""
    path = run.scenario_eval_path(scenario)
    evaluation = run.read_scenario_eval(scenario)
    if evaluation is None:
        raise ValueError(f"{path}: not a readable evaluation (missing, torn, or without "
                         f"{', '.join(FIELDS[:3])})")
    if evaluation.scenario != scenario:
        raise ValueError(f"{path}: says scenario {evaluation.scenario!r}, but the file is named {path.name}")
    row = {f: getattr(evaluation, f) for f in FIELDS if f != "metrics"}
    for metric in METRICS:
        entry = (evaluation.metrics or {}).get(metric) or {}
        if evaluation.status == Status.FINISHED and not {"mean", "std"} <= set(entry):
            raise ValueError(f"{path}: finished, but metrics.{metric} has no mean and std")
        row[metric] = float(entry.get("mean", math.nan))
        row[f"{metric}_std"] = float(entry.get("std", math.nan))
    return row


def collect_evaluations(store: Store, run_ids: list[str] | None = None,
                        scenarios: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per evaluation file of the runs of ``store`` (only ``run_ids`` when given), of the
    ``scenarios`` given (runs are shared by experiments: another may have evaluated others).

    Every file is kept with its ``status``; the tables and radars use the finished ones only.
    """
    rows = []
    for run in store.runs(run_ids):
        record = run.read_record()
        if record is None:
            continue
        spec = record.spec
        for name in run.scenario_names():
            if scenarios is not None and name not in scenarios:
                continue
            rows.append({"run_id": run.run_id, "task": spec.task, "algo": spec.algo, "seed": spec.seed,
                         **read_evaluation(run, name), "run_dir": str(run.path)})
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluation_notes(run_dirs) -> list[str]:
    """Table 7 notes: the asset classes of the zero-shot evaluations of the runs in ``run_dirs``
    (each evaluation's ``asset_source``, read through the store), one note per scenario and class."""
    kinds: dict[str, set] = {}
    for run_dir in dict.fromkeys(str(r) for r in (run_dirs if run_dirs is not None else ()) if isinstance(r, str)):
        run = RunDir(run_dir)
        for name in run.scenario_names():
            evaluation = run.read_scenario_eval(name)
            if evaluation is not None and evaluation.asset_class:
                kinds.setdefault(name, set()).add(evaluation.asset_class)
    return [n for scenario, k in sorted(kinds.items()) for n in result_notes(scenario, k)]


def radar_values(evals: pd.DataFrame) -> pd.DataFrame:
    """algorithm, scenario (the review's names), mean alive / l_mae / a_mae over finished files."""
    done = evals[evals["status"] == "finished"]
    out = done.groupby(["algo", "scenario"], sort=False)[list(METRICS)].mean().reset_index()
    return out.assign(algorithm=out.pop("algo").map(catalogue.label),
                      scenario=out["scenario"].map(lambda s: PAPER_SCENARIO.get(s, s)))


def _order(values: list[str], known: list[str]) -> list[str]:
    return [v for v in known if v in values] + sorted(v for v in values if v not in known)


def _mae_scale(largest: float) -> tuple[float, np.ndarray]:
    """The largest MAE rounded up to a multiple of half a power of ten (1.72 -> 2, 0.41 -> 0.45), and
    the ring radii: one ring per such step when there are at most six, else quarters."""
    step = 10 ** math.floor(math.log10(largest)) / 2 if largest > 0 else 1.0
    steps = max(1, math.ceil(round(largest / step, 9)))
    return steps * step, np.arange(1, steps + 1) / steps if steps <= 6 else np.array([0.25, 0.5, 0.75, 1.0])


def radii(table: pd.DataFrame, metric: str, episode_steps: float) -> tuple[pd.DataFrame, float, np.ndarray]:
    """Radius of every value (outward = better, see above), the value at the scale's end (episode
    length for Alive, the MAE at the centre otherwise) and the ring radii."""
    if metric == "alive":
        return table / episode_steps, episode_steps, np.array([0.25, 0.5, 0.75, 1.0])
    scale, rings = _mae_scale(float(np.nanmax(table.to_numpy())))
    return 1 - table / scale, scale, rings


def _label(scenario: str) -> str:
    """An axis label: the review's names as they are; ours without the source prefix and "terrain"
    (``ant_terrain_stepping_stones`` -> "stepping\nstones", ``go2_to_a1`` -> "to a1")."""
    if "_" not in scenario:
        return scenario
    words = scenario.split("_")[1:]
    words = words[1:] if words[0] == "terrain" else words
    return "\n".join(words) if len(words) > 1 and words[0] != "to" else " ".join(words)


def plot_radar(values: pd.DataFrame, out: Path, title: str, episode_steps: float) -> Path:
    """Fig. 7: one radar per metric, an axis per scenario (source at the top), a polygon per algorithm."""
    scenarios = _order(list(values["scenario"].unique()), list(PAPER_SCENARIO.values()))
    algorithms = catalogue.in_order(values["algorithm"].unique())
    angles = np.linspace(0, 2 * np.pi, len(scenarios), endpoint=False)
    fig, axes = plt.subplots(1, 3, figsize=(19, 6.5), subplot_kw={"projection": "polar"},
                             gridspec_kw={"wspace": 0.45})
    for ax, metric in zip(axes, METRICS):
        table = values.pivot(index="algorithm", columns="scenario", values=metric).reindex(
            index=algorithms, columns=scenarios)
        radius, worst, rings = radii(table, metric, episode_steps)
        for algorithm in algorithms:
            r = radius.loc[algorithm].to_numpy(dtype=float)
            ax.plot(np.append(angles, angles[0]), np.append(r, r[0]), marker="o", ms=3, lw=1.5,
                    color=catalogue.colors().get(algorithm), label=algorithm)
            ax.fill(angles, np.nan_to_num(r), color=catalogue.colors().get(algorithm), alpha=0.04)
        ax.set_theta_offset(np.pi / 2)
        ax.set_theta_direction(-1)
        ax.set_xticks(angles, [_label(name) for name in scenarios], fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_rlabel_position(180 / len(scenarios))  # ring labels between two axes
        ax.set_yticks(rings, [f"{r * worst:.0f}" if metric == "alive" else f"{(1 - r) * worst:.3g}" for r in rings],
                      fontsize=7, color="0.35")
        ax.set_title(TITLES[metric] + ("\nradius = lifespan / episode length" if metric == "alive"
                                       else f"\nradius = 1 - MAE / {worst:g} (centre: MAE {worst:g})"), fontsize=10,
                     pad=30)
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.75, -0.08), ncol=len(algorithms), fontsize=9)
    fig.suptitle(f"{title}\noutward = better on every axis; rings labelled in the metric's units; "
                 f"top vertex = in-distribution scenario", fontsize=11)
    return write_figure(fig, out)


def plot_review_radar(out: Path) -> Path:
    """The review's own Table 7 values in the same radar layout, to compare with ours."""
    values = transfer()
    return plot_radar(values, out, f"Review, Table 7 (Alive scaled by an assumed {REVIEW_EPISODE_STEPS}-step "
                      "episode)", REVIEW_EPISODE_STEPS)
