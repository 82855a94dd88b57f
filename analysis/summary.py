"""The small results table of an experiment: final evaluation, mean +- std over seeds, beside the
review's Table 4 value for the same task and algorithm and the difference."""

from __future__ import annotations

import math

import pandas as pd

from analysis.reference import paper_result
from tasks.registry import get_task


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, algorithm, override setting) over the runs that finished."""
    settings = [c for c in runs.columns if c.startswith("set.")]
    keys = ["task", "algo", *settings]
    rows = []
    for key, group in runs.groupby(keys, dropna=False, sort=False):
        key = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        done = group[group["status"] == "finished"]
        values = done["eval_return_mean"].astype(float)
        paper = paper_result(get_task(key["task"]).paper_name, key["algo"])
        mean = float(values.mean()) if len(values) else math.nan
        rows.append({
            **key,
            "seeds": len(values),
            "not_finished": ", ".join(f"{r.seed}:{r.status}" for r in group.itertuples() if r.status != "finished"),
            "eval_return_mean": mean,
            "eval_return_std": float(values.std(ddof=0)) if len(values) else math.nan,
            "paper_mean": paper[0] if paper else math.nan,
            "paper_std": paper[1] if paper else math.nan,
            "diff_vs_paper": mean - paper[0] if paper else math.nan,
        })
    return pd.DataFrame(rows)


def _pm(mean: float, std: float) -> str:
    return "n/a" if math.isnan(mean) else f"{mean:.2f} ± {std:.2f}"


def to_markdown(summary: pd.DataFrame) -> str:
    settings = [c for c in summary.columns if c.startswith("set.")]
    head = ["task", "algorithm", *settings, "seeds", "ours (final eval)", "review (Table 4)", "ours - review"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in summary.to_dict("records"):
        diff = "n/a" if math.isnan(r["diff_vs_paper"]) else f"{r['diff_vs_paper']:+.2f}"
        seeds = f"{r['seeds']}" + (f" ({r['not_finished']})" if r["not_finished"] else "")
        cells = [r["task"], r["algo"], *[str(r[s]) for s in settings], seeds,
                 _pm(r["eval_return_mean"], r["eval_return_std"]), _pm(r["paper_mean"], r["paper_std"]), diff]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
