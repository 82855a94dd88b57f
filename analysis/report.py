"""An experiment's report: the review's tables and figures regenerated from its run directories.

    python -m analysis.report --exp NAME [--out results] [--no-paper]

Reads the runs of the manifest from the run store and writes the experiment's results table (one
row per run, :mod:`analysis.collect`) and its report folder (:mod:`benchmark.store` has the paths),
every file whole or not at all:

- table.{md,tex,csv}          Tables 4-6 layout (:mod:`analysis.tables`)
- vs_review.{md,tex,csv}      each cell beside the review's value and the difference
- curves.png                  learning curves, Figs. 4-6 (:mod:`analysis.curves`)
- exploration.png             every logged exploration scale against steps, when a run logs one
- stats.csv, scores.csv, iqm.png, profiles.png
                              rliable aggregates and performance profiles (:mod:`analysis.stats`)
- transfer.{md,tex,csv}, transfer_vs_review.{md,tex,csv}, radar.png, radar_review.png
                              Table 7 and Fig. 7, when runs hold zero-shot evaluations
                              (:mod:`analysis.radar`)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agents import catalogue
from analysis import radar, stats, tables
from analysis.collect import collect, experiment_runs
from analysis.curves import plot_curves, plot_exploration
from benchmark.store import DEFAULT_ROOT, Store, write_text
from tasks.errors import UserError, cli_main


def build(store: Store, experiment: str, run_ids: list[str] | None, title: str, paper: bool = True,
          scenarios: Sequence[str] | None = None) -> list[Path]:
    """Write the results table of the runs ``run_ids`` of ``store`` (all its runs when None) and
    their report, as the experiment ``experiment``'s; returns the files written. Zero-shot
    evaluations: those of ``scenarios`` (the manifest's ``evaluate``), every one found when None.

    Raises :class:`UserError` when none of the runs has finished.
    """
    out = store.report_dir(experiment)
    runs = collect(store, run_ids, experiment)
    if runs.empty or not (runs["status"] == "finished").any():
        found = ", ".join(f"{s}: {c}" for s, c in runs["status"].value_counts().items()) if len(runs) else "none"
        raise UserError(f"{store.experiment_dir(experiment)}: no finished run to report (run directories by "
                        f"status: {found}); train them first: python -m benchmark.run --exp {experiment}")
    paths = [write_text(store.results_csv(experiment), runs.to_csv(index=False))]
    table = tables.results_table(runs)
    caption = f"{title}: final evaluation return ({learning_note(runs)})"
    paths += _table_files(table, out, "table", "vs_review", caption, paper)
    paths.append(plot_curves(runs, out / "curves.png", title))
    exploration = plot_exploration(runs, out / "exploration.png", title)
    if exploration is not None:
        paths.append(exploration)
    paths += stats.write_stats(runs, out, title)
    evals = radar.collect_evaluations(store, run_ids, scenarios)
    if len(evals):
        transfer = tables.transfer_table(evals, requested=runs["seed"].nunique())
        paths += _table_files(transfer, out, "transfer", "transfer_vs_review", f"{title}: zero-shot evaluation", paper)
        steps = float(evals["max_episode_steps"].max())
        paths.append(radar.plot_radar(radar.radar_values(evals), out / "radar.png", title, steps))
        if paper:
            paths.append(radar.plot_review_radar(out / "radar_review.png"))
    print(f"\n{tables.to_markdown(table)}")
    print("\n".join(str(p) for p in paths))
    return paths


def learning_note(runs) -> str:
    """Per algorithm: the profile(s) and the update ratio (gradient samples per collected transition)."""
    parts = []
    for algo, group in runs.groupby("algo", sort=False):
        profiles = "/".join(sorted(str(p) for p in group["profile"].dropna().unique()))
        ratios = "/".join(f"{r:g}" for r in sorted(group["gradient_samples_per_transition"].dropna().unique()))
        parts.append(f"{catalogue.label(algo)}: {profiles or 'review'} profile, {ratios or 'n/a'} samples/transition")
    return "; ".join(parts)


def _table_files(table: tables.Table, out: Path, name: str, vs_name: str, caption: str, paper: bool) -> list[Path]:
    paths = [write_text(out / f"{name}.md", f"{caption}\n\n{tables.to_markdown(table)}"),
             write_text(out / f"{name}.tex", tables.to_latex(table, caption)),
             write_text(out / f"{name}.csv", tables.to_csv(table))]
    if paper:
        caption = f"{caption}, beside the review"
        paths += [write_text(out / f"{vs_name}.md", f"{caption}\n\n{tables.vs_review_markdown(table)}"),
                  write_text(out / f"{vs_name}.tex", tables.vs_review_latex(table, caption)),
                  write_text(out / f"{vs_name}.csv", tables.vs_review_csv(table))]
    return paths


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.report", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", required=True, help="experiment name (experiments/<name>.yaml)")
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    parser.add_argument("--no-paper", action="store_true", help="leave out the comparison with the review")
    args = parser.parse_args(argv)
    manifest, run_ids = experiment_runs(args.exp)
    build(Store(args.out), manifest.name, run_ids, f"{manifest.name}: {manifest.description}",
          paper=not args.no_paper, scenarios=manifest.evaluate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
