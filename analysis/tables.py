"""The review's result tables from the collected runs, in Markdown, LaTeX (booktabs) and CSV, and
the same cells beside the review's own values ("vs review").

Layout, as the review's Tables 4-6: one row per task (the review's name) and per value of whichever
of ``num_envs`` (Table 5) and the ``set.*`` overrides (Table 6: K = ``set.diffusion_steps``) vary
within the experiment; one column per algorithm in the review's order (PPO, DDPG, TD3, SAC, DIPO,
QVPO, DACER, GenPO). A cell is the mean ± std of the final evaluation return over the seeds that
finished. The review says only "the mean and standard deviation of the five runs"; we use the
population std (ddof=0, numpy's default). A cell with fewer finished seeds than the experiment has
seeds shows ``(n=k)``; the runs that did not finish are listed under the table.

Per row the best cell is bold and the second best underlined (higher return is better), as in the
review. Cells are compared at the precision printed, so cells that print the same tie: tied best
cells are all bold and then no cell is second (competition ranking, 1, 1, 3), whatever the order.

Mean rank (Table 4's last row): within each row the algorithms are ranked by mean, 1 = best, tied
cells get the average of the ranks they span; an algorithm's mean rank averages its ranks over the
rows where it has a value (a missing cell is left out, and the number of rows is shown when it is
fewer than all). The review's printed Mean Rank row cannot be recomputed from its own Table 4 means
(PPO 1.75, GenPO 2.33, DIPO 3.92 against the printed 1.92, 2.08, 3.58, with any tie rule).

Transfer (Table 7, laid out with rows = metric and scenario, columns = algorithms): three blocks,
Alive (higher is better), L-MAE and A-MAE (lower is better), mean ± std over the seeds' evaluation
files; the review gives no std there.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from agents import catalogue
from analysis.reference import (PAPER_SCENARIO, review_cell, table4_mean_rank,
                                table4_tasks, transfer)
from analysis.radar import evaluation_notes
from tasks.assets import task_table_notes
from tasks.registry import all_tasks, get_task

KEY_LABELS = {"task": "Task", "num_envs": "# of Env.", "set.diffusion_steps": "K", "metric": "Metric",
              "scenario": "Scenario"}
METRICS = {"alive": ("Alive ↑", True, 2), "l_mae": ("L-MAE ↓", False, 3), "a_mae": ("A-MAE ↓", False, 3)}
CSV_COLUMNS = ["algorithm", "mean", "std", "n", "requested", "rank", "mark"]


@dataclasses.dataclass
class Table:
    """One row of ``cells`` per (table row, algorithm): the ``keys`` columns, algorithm, mean, std,
    n (finished seeds), requested (seeds in the experiment), higher_is_better, decimals, rank, mark
    (best / second / ""), review_mean, review_std, review_table."""

    cells: pd.DataFrame
    keys: list[str]
    notes: list[str]
    mean_rank: bool = True


def row_keys(runs: pd.DataFrame) -> list[str]:
    """``task`` plus ``num_envs`` and the ``set.*`` columns that take more than one value."""
    candidates = ["num_envs", *sorted(c for c in runs.columns if c.startswith("set."))]
    return ["task", *[c for c in candidates if runs[c].astype(str).nunique() > 1]]


def _setting(value: object) -> object:
    if isinstance(value, list):
        return tuple(value)
    return "default" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _label(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def value_label(value: object) -> str:
    """How a row-key value prints: 8 for 8.0, "default" for a missing override."""
    return _label(_setting(value))


def order_key(key: str, value: object) -> tuple:
    orders = {"task": [t.paper_name for t in all_tasks().values()], "algorithm": catalogue.labels_in_order(),
              "metric": [m[0] for m in METRICS.values()], "scenario": list(PAPER_SCENARIO.values())}
    if key in orders and value in orders[key]:
        return (0, orders[key].index(value), "")
    return (0, value, "") if isinstance(value, numbers.Real) else (1, 0, str(value))


def _ordered(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = sorted(cells.index, key=lambda i: [order_key(k, cells.at[i, k]) for k in [*keys, "algorithm"]])
    return cells.loc[order].reset_index(drop=True)


def _ranked(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    sign = np.where(cells["higher_is_better"], 1.0, -1.0)
    shown = pd.Series([round(m, d) for m, d in zip(cells["mean"], cells["decimals"])], index=cells.index) * sign
    groups = shown.groupby([cells[k].astype(str) for k in keys], sort=False)
    place = groups.rank(ascending=False, method="min")
    return cells.assign(rank=groups.rank(ascending=False, method="average"),
                        mark=np.select([place == 1, place == 2], ["best", "second"], ""))


def _runs_note(group: pd.DataFrame, where: str) -> list[str]:
    return [f"{catalogue.label(r.algo)}, {where}, seed {r.seed}: {r.status}"
            for r in group.itertuples() if r.status != "finished"]


def results_table(runs: pd.DataFrame) -> Table:
    """Tables 4-6 from the collected runs (:func:`analysis.collect.collect`)."""
    keys = row_keys(runs)
    frame = runs.assign(task=[get_task(t).paper_name for t in runs["task"]],
                        algorithm=[catalogue.label(a) for a in runs["algo"]],
                        **{k: runs[k].map(_setting) for k in keys[1:]})
    overrides = [c for c in runs.columns if c.startswith("set.")]
    requested = frame["seed"].nunique()
    rows, notes = [], []
    for key, group in frame.groupby([*keys, "algorithm"], sort=False):
        row = dict(zip([*keys, "algorithm"], key))
        done = group[group["status"] == "finished"]["eval_return_mean"].dropna().astype(float)
        first = group.iloc[0]
        settings = {c.removeprefix("set."): first[c] for c in overrides if _setting(first[c]) != "default"}
        review = review_cell(row["task"], row["algorithm"], int(first["num_envs"]),
                             _review_settings(settings, int(first["num_envs"]), "num_envs" in keys))
        rows.append({**row, "mean": done.mean() if len(done) else math.nan,
                     "std": done.std(ddof=0) if len(done) else math.nan, "n": len(done), "requested": requested,
                     "higher_is_better": True, "decimals": 2,
                     "review_mean": review[0] if review else math.nan, "review_std": review[1] if review else math.nan,
                     "review_table": review[2] if review else math.nan})
        notes += _runs_note(group, ", ".join(_label(v) for v in key[:-1]))
    for task in dict.fromkeys(runs["task"]):  # substitutions, converted and stand-in assets
        notes += task_table_notes(task, runs[runs["task"] == task].get("asset_source"))
    for key, group in frame.groupby(keys, sort=False):  # say so where algorithms had different budgets
        budgets = group.groupby("algorithm")["timesteps"].first()
        if budgets.nunique() > 1:
            order = sorted(budgets.index, key=lambda a: order_key("algorithm", a))
            where = ", ".join(_label(v) for v in (key if isinstance(key, tuple) else (key,)))
            notes.append(f"budgets on {where} (vectorized steps per environment): "
                         + ", ".join(f"{a} {budgets[a]}" for a in order))
    cells = _ordered(pd.DataFrame(rows), keys)
    return Table(_ranked(cells, keys), keys, notes)


def _review_settings(overrides: dict, num_envs: int, envs_vary: bool) -> list[str]:
    """The review's ``setting`` values a cell may be compared with, best first."""
    if set(overrides) - {"diffusion_steps"}:
        return []  # the review varies no other setting
    if overrides:
        return [f"K={overrides['diffusion_steps']}"]
    return [f"num_envs={num_envs}"] if envs_vary else ["", f"num_envs={num_envs}"]


def transfer_table(evals: pd.DataFrame, requested: int | None = None) -> Table:
    """Table 7 from the collected evaluations (:func:`analysis.radar.collect_evaluations`);
    ``requested``: seeds per cell expected (default: the seeds the evaluations come from)."""
    review = transfer().set_index(["algorithm", "scenario"])
    requested = requested or evals["seed"].nunique()
    rows, notes = [], []
    for (scenario, algo), group in evals.groupby(["scenario", "algo"], sort=False):
        name, algorithm = PAPER_SCENARIO.get(scenario, scenario), catalogue.label(algo)
        done = group[group["status"] == "finished"]
        for metric, (label, higher, decimals) in METRICS.items():
            values = done[metric].dropna().astype(float)
            paper = review[metric].get((algorithm, name), math.nan)
            rows.append({"metric": label, "scenario": name, "algorithm": algorithm,
                         "mean": values.mean() if len(values) else math.nan,
                         "std": values.std(ddof=0) if len(values) else math.nan, "n": len(values),
                         "requested": requested, "higher_is_better": higher, "decimals": decimals,
                         "review_mean": paper, "review_std": math.nan,
                         "review_table": math.nan if math.isnan(paper) else 7})
        notes += _runs_note(group, name)
    notes += evaluation_notes(evals.get("run_dir"))  # converted and stand-in assets
    keys = ["metric", "scenario"]
    return Table(_ranked(_ordered(pd.DataFrame(rows), keys), keys), keys, notes, mean_rank=False)


def mean_ranks(table: Table) -> pd.DataFrame:
    """algorithm, mean_rank, rows (rows with a value), mark (best / second: lowest mean rank)."""
    ranked = table.cells.dropna(subset=["rank"])
    out = ranked.groupby("algorithm")["rank"].agg(mean_rank="mean", rows="count")
    out = out.reindex(_algorithms(table)).dropna().reset_index()
    place = out["mean_rank"].round(2).rank(method="min")
    return out.assign(rows=out["rows"].astype(int), mark=np.select([place == 1, place == 2], ["best", "second"], ""))


def _algorithms(table: Table) -> list[str]:
    return sorted(table.cells["algorithm"].unique(), key=lambda a: order_key("algorithm", a))


def _rows(table: Table) -> list[tuple]:
    return list(dict.fromkeys(tuple(r) for r in table.cells[table.keys].itertuples(index=False)))


# --- rendering --------------------------------------------------------------------------------------
_TEX_MAP = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "↑": r"$\uparrow$",
            "↓": r"$\downarrow$", "±": r"$\pm$", "−": r"$-$", "–": "--"}
_TEX_RE = re.compile("|".join(map(re.escape, _TEX_MAP)))


def tex_escape(text: str) -> str:
    return _TEX_RE.sub(lambda m: _TEX_MAP[m.group()], text)


def md_escape(text: str) -> str:
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


@dataclasses.dataclass(frozen=True)
class _Style:
    pm: str
    bold: str
    under: str
    missing: str
    escape: Callable[[str], str]

    def mark(self, text: str, mark: str) -> str:
        return self.bold.format(text) if mark == "best" else self.under.format(text) if mark == "second" else text


MD = _Style(" ± ", "**{}**", "<u>{}</u>", "–", md_escape)
TEX = _Style(r" $\pm$ ", r"\textbf{{{}}}", r"\underline{{{}}}", "--", tex_escape)


def _cell(r: pd.Series | None, style: _Style) -> str:
    if r is None:
        return style.missing
    if r["n"] == 0:
        return f"{style.missing} (n=0)"
    d = int(r["decimals"])
    text = f"{r['mean']:.{d}f}{style.pm}{r['std']:.{d}f}" + (f" (n={r['n']})" if r["n"] < r["requested"] else "")
    return style.mark(text, r["mark"])


def _grid(table: Table, style: _Style) -> tuple[list[str], list[list[str]], int | None]:
    """Header, body rows (strings in ``style``) and the index of the Mean rank row, if any."""
    algos = _algorithms(table)
    header = [style.escape(KEY_LABELS.get(k, k.removeprefix("set."))) for k in table.keys] + algos
    by_cell = {(*(tuple(r[k] for k in table.keys)), r["algorithm"]): r for _, r in table.cells.iterrows()}
    body, previous = [], None
    for row in _rows(table):
        labels = [style.escape(_label(v)) for v in row]
        for i in range(len(row) - 1):  # a repeated leading label is printed once (Table 5)
            if previous is not None and previous[:i + 1] == row[:i + 1]:
                labels[i] = ""
        body.append(labels + [_cell(by_cell.get((*row, a)), style) for a in algos])
        previous = row
    if not table.mean_rank:
        return header, body, None
    total = len(body)
    ranks = mean_ranks(table).set_index("algorithm")
    cells = [style.missing if a not in ranks.index else style.mark(
        f"{ranks.at[a, 'mean_rank']:.2f}" + (f" ({ranks.at[a, 'rows']} of {total} rows)" if ranks.at[a, "rows"] < total
                                             else ""), ranks.at[a, "mark"]) for a in algos]
    body.append(["Mean rank"] + [""] * (len(table.keys) - 1) + cells)
    return header, body, total


def _legend(table: Table, style: _Style) -> list[str]:
    what = "final evaluation return" if table.mean_rank else "metric"
    better = "higher is better" if table.mean_rank else "per metric as marked"
    requested = int(table.cells["requested"].max())
    return [f"Cells: mean{style.pm}std (population std, ddof=0) of the {what} over finished seeds "
            f"({requested} seed{'s' if requested != 1 else ''} per cell requested; (n=k): only k finished); "
            f"{style.bold.format('best')} and {style.under.format('second best')} per row ({better})."
            + (" Mean rank: rank 1 = best within a row, ties averaged, missing cells left out."
               if table.mean_rank else "")]


def markdown_table(header: list[str], body: list[list[str]], notes: list[str], numeric_from: int) -> str:
    align = [":--"] * numeric_from + ["--:"] * (len(header) - numeric_from)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines + [""] + [f"{n}  " for n in notes]).rstrip() + "\n"


def _latex(header: list[str], body: list[list[str]], notes: list[str], numeric_from: int, caption: str,
           rule_before: int | None) -> str:
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{tex_escape(caption)}}}",
             r"\begin{tabular}{" + "l" * numeric_from + "r" * (len(header) - numeric_from) + "}", r"\toprule",
             " & ".join(header) + r" \\", r"\midrule"]
    for i, row in enumerate(body):
        if i == rule_before:
            lines.append(r"\midrule")
        lines.append(" & ".join(row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines.append(r"\par\smallskip{\footnotesize " + r" \\ ".join(notes) + "}")
    return "\n".join(lines + [r"\end{table}"]) + "\n"


def to_markdown(table: Table) -> str:
    header, body, _ = _grid(table, MD)
    return markdown_table(header, body, _legend(table, MD) + [md_escape(n) for n in table.notes], len(table.keys))


def to_latex(table: Table, caption: str) -> str:
    header, body, rule = _grid(table, TEX)
    notes = _legend(table, TEX) + [tex_escape(n) for n in table.notes]
    return _latex(header, body, notes, len(table.keys), caption, rule)


def to_csv(table: Table) -> str:
    """The cells as numbers (plus one ``Mean rank`` row per algorithm: rank = mean rank, n = rows)."""
    frame = table.cells[[*table.keys, *CSV_COLUMNS, "review_mean", "review_std"]]
    if table.mean_rank:
        ranks = mean_ranks(table)
        extra = pd.DataFrame({table.keys[0]: "Mean rank", "algorithm": ranks["algorithm"], "rank": ranks["mean_rank"],
                              "n": ranks["rows"], "mark": ranks["mark"]})
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame.astype({"n": "Int64", "requested": "Int64"}).to_csv(index=False)


# --- beside the review ------------------------------------------------------------------------------
def vs_review(table: Table) -> pd.DataFrame:
    """One row per cell: ours (mean, std, n), the review's (mean, std, table) and ours - review."""
    frame = table.cells[[*table.keys, "algorithm", "mean", "std", "n", "decimals", "review_mean", "review_std",
                         "review_table"]].copy()
    # the printed Mean Rank row ranks all eight algorithms over all twelve tasks: comparable only then
    covers_table4 = table.keys == ["task"] and set(frame["task"]) == set(table4_tasks()) and \
        set(frame["algorithm"]) == set(table4_mean_rank())
    if table.mean_rank:
        ranks, printed = mean_ranks(table), table4_mean_rank()
        frame = pd.concat([frame, pd.DataFrame({
            table.keys[0]: "Mean rank", **{k: "" for k in table.keys[1:]}, "algorithm": ranks["algorithm"], "mean": ranks["mean_rank"], "std": math.nan,
            "n": ranks["rows"], "decimals": 2,
            "review_mean": [printed.get(a, math.nan) if covers_table4 else math.nan for a in ranks["algorithm"]],
            "review_std": math.nan, "review_table": 4 if covers_table4 else math.nan})], ignore_index=True)
    return frame.assign(difference=frame["mean"] - frame["review_mean"])


def _pm(mean: float, std: float, decimals: int, style: _Style) -> str:
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.{decimals}f}" + ("" if math.isnan(std) else f"{style.pm}{std:.{decimals}f}")


def _vs_grid(table: Table, style: _Style) -> tuple[list[str], list[list[str]]]:
    header = [style.escape(KEY_LABELS.get(k, k.removeprefix("set."))) for k in table.keys]
    header += ["Algorithm", "Ours", "Review", style.escape("Ours − review"), "Review table"]
    body = []
    for r in vs_review(table).to_dict("records"):
        d = int(r["decimals"])
        diff = "n/a" if math.isnan(r["difference"]) else f"{r['difference']:+.{d}f}"
        source = "n/a" if math.isnan(r["review_table"]) else f"Table {int(r['review_table'])}"
        body.append([style.escape(_label(r[k])) for k in table.keys] + [
            r["algorithm"], _pm(r["mean"], r["std"], d, style) + f" (n={r['n']})",
            _pm(r["review_mean"], r["review_std"], d, style), diff, source])
    return header, body


def vs_review_markdown(table: Table) -> str:
    header, body = _vs_grid(table, MD)
    notes = ["Ours: mean ± std over n finished seeds (for Mean rank, n = rows ranked); review: its value for "
             "the same task, algorithm, environments and setting; n/a: the review reports no such cell."]
    return markdown_table(header, body, notes, len(table.keys) + 1)


def vs_review_latex(table: Table, caption: str) -> str:
    header, body = _vs_grid(table, TEX)
    return _latex(header, body, [], len(table.keys) + 1, caption, None)


def vs_review_csv(table: Table) -> str:
    return vs_review(table).drop(columns="decimals").astype({"review_table": "Int64"}).to_csv(index=False)
