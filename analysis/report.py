"""An experiment's report: the review's tables and figures regenerated from its run directories.

    python -m analysis.report --exp NAME [--out results] [--no-paper]

Reads the runs of the manifest from the run store ``results/runs/`` and writes the results table
``results/<NAME>/results.csv`` (one row per run, :mod:`analysis.collect`) and
``results/<NAME>/report/``, every file whole or not at all:

- table.{md,tex,csv}          Tables 4-6 layout (:mod:`analysis.tables`)
- vs_review.{md,tex,csv}      each cell beside the review's value and the difference
- curves.png                  learning curves, Figs. 4-6 (:mod:`analysis.curves`)
- stats.csv, scores.csv, iqm.png, profiles.png
                              rliable aggregates and performance profiles (:mod:`analysis.stats`)
- transfer.{md,tex,csv}, transfer_vs_review.{md,tex,csv}, radar.png, radar_review.png
                              Table 7 and Fig. 7, when runs hold ``eval/<scenario>.json`` files
                              (:mod:`analysis.radar`)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis import radar, stats, tables
from analysis.collect import collect, experiment_runs, run_store
from analysis.curves import plot_curves
from analysis.files import write_text
from tasks.errors import UserError, cli_main


def build(exp_dir: Path, run_ids: list[str] | None, title: str, paper: bool = True,
          runs_root: Path | None = None, scenarios: Sequence[str] | None = None) -> list[Path]:
    """Write the results table of the runs ``run_ids`` (all runs when None) of the store
    ``runs_root`` (default: ``<exp_dir>/../runs``) to ``exp_dir/results.csv`` and their report into
    ``exp_dir/report``; returns the files written. Zero-shot
    evaluations: those of ``scenarios`` (the manifest's ``evaluate``), every one found when None.

    Raises :class:`UserError` when none of the runs has finished.
    """
    exp_dir = Path(exp_dir)
    out = exp_dir / "report"
    runs_root = Path(runs_root) if runs_root is not None else run_store(exp_dir)
    runs = collect(runs_root, run_ids, exp_dir.name)
    if runs.empty or not (runs["status"] == "finished").any():
        found = ", ".join(f"{s}: {c}" for s, c in runs["status"].value_counts().items()) if len(runs) else "none"
        raise UserError(f"{exp_dir}: no finished run to report (run directories by status: {found}); "
                        f"train them first: python -m benchmark.run --exp {exp_dir.name}")
    paths = [write_text(exp_dir / "results.csv", runs.to_csv(index=False))]
    table = tables.results_table(runs)
    paths += _table_files(table, out, "table", "vs_review", f"{title}: final evaluation return", paper)
    paths.append(plot_curves(runs, out / "curves.png", title))
    paths += stats.write_stats(runs, out, title)
    evals = radar.collect_evaluations(runs_root, run_ids, scenarios)
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
    parser.add_argument("--out", type=Path, default=Path("results"), help="results root (default: results/)")
    parser.add_argument("--no-paper", action="store_true", help="leave out the comparison with the review")
    args = parser.parse_args(argv)
    manifest, exp_dir, run_ids = experiment_runs(args.exp, args.out)
    build(exp_dir, run_ids, f"{manifest.name}: {manifest.description}", paper=not args.no_paper,
          scenarios=manifest.evaluate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
