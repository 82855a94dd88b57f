"""The review's table layout on hand-made results: marks, mean rank, escaping, and the review side by side."""

import io
import math

import pandas as pd
import pytest

from agents import catalogue
from analysis import reference
from analysis.tables import (md_escape, mean_ranks, results_table, row_keys, tex_escape, to_csv, to_latex,
                             to_markdown, transfer_table, vs_review, vs_review_csv, vs_review_markdown)
from analysis_fakes import runs_frame
from tasks.registry import all_tasks

# Cartpole: PPO 4.5 +- 0.5 and GenPO 4.5 +- 0 tie for best (no second), SAC 2 +- 1.
# Ant: SAC 21 +- 1 best, PPO 10 (seed 1 diverged: n=1) second, no GenPO run at all.
# Ranks: Cartpole PPO 1.5, GenPO 1.5, SAC 3; Ant SAC 1, PPO 2.
# Mean rank: PPO (1.5 + 2) / 2 = 1.75, SAC (3 + 1) / 2 = 2.00, GenPO 1.50 over 1 of 2 rows.
RUNS = runs_frame({("cartpole", "ppo"): [4.0, 5.0], ("cartpole", "sac"): [1.0, 3.0], ("cartpole", "genpo"): [4.5, 4.5],
                   ("ant", "ppo"): [10.0, None], ("ant", "sac"): [20.0, 22.0]})


def test_markdown_marks_best_and_second_per_row_with_ties_and_missing_cells():
    text = to_markdown(results_table(RUNS))
    lines = text.splitlines()
    assert lines[0] == "| Task | PPO | SAC | GenPO |"
    assert "| Cartpole | **4.50 ± 0.50** | 2.00 ± 1.00 | **4.50 ± 0.00** |" in lines
    assert "| Ant | <u>10.00 ± 0.00 (n=1)</u> | **21.00 ± 1.00** | – |" in lines
    assert "| Mean rank | <u>1.75</u> | 2.00 | **1.50 (1 of 2 rows)** |" in lines
    assert lines.index("| Cartpole | **4.50 ± 0.50** | 2.00 ± 1.00 | **4.50 ± 0.00** |") < \
        lines.index("| Ant | <u>10.00 ± 0.00 (n=1)</u> | **21.00 ± 1.00** | – |")  # the review's task order
    assert "PPO, Ant, seed 1: diverged" in text
    assert "population std, ddof=0" in text


def test_mean_ranks_by_hand():
    ranks = mean_ranks(results_table(RUNS)).set_index("algorithm")
    assert ranks.loc["PPO", "mean_rank"] == 1.75 and ranks.loc["SAC", "mean_rank"] == 2.0
    assert ranks.loc["GenPO", "mean_rank"] == 1.5 and ranks.loc["GenPO", "rows"] == 1
    assert list(ranks["mark"]) == ["second", "", "best"]


def test_cells_that_print_the_same_tie():
    table = results_table(runs_frame({("cartpole", "ppo"): [4.001], ("cartpole", "sac"): [3.999],
                                      ("cartpole", "td3"): [1.0]}))
    cells = table.cells.set_index("algorithm")
    assert list(cells.loc[["PPO", "SAC", "TD3"], "mark"]) == ["best", "best", ""]
    assert list(cells.loc[["PPO", "SAC", "TD3"], "rank"]) == [1.5, 1.5, 3.0]


def test_csv_holds_numbers_and_the_mean_rank_rows():
    frame = pd.read_csv(io.StringIO(to_csv(results_table(RUNS))))
    ppo_ant = frame[(frame["task"] == "Ant") & (frame["algorithm"] == "PPO")].iloc[0]
    assert list(ppo_ant[["mean", "std", "n", "requested", "rank"]]) == [10.0, 0.0, 1, 2, 2]
    mean_rank = frame[frame["task"] == "Mean rank"].set_index("algorithm")
    assert mean_rank.loc["PPO", "rank"] == 1.75 and mean_rank.loc["GenPO", "n"] == 1


def test_latex_uses_booktabs_bold_underline_and_escapes():
    tex = to_latex(results_table(RUNS), "Final return & 100% of seeds")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\caption{Final return \& 100\% of seeds}" in tex
    assert r"Cartpole & \textbf{4.50 $\pm$ 0.50} & 2.00 $\pm$ 1.00 & \textbf{4.50 $\pm$ 0.00} \\" in tex
    assert r"\underline{10.00 $\pm$ 0.00 (n=1)}" in tex
    assert tex_escape("a_b & 5% #1 {x} ~ ^") == r"a\_b \& 5\% \#1 \{x\} \textasciitilde{} \textasciicircum{}"
    assert tex_escape("Alive ↑ ± 1") == r"Alive $\uparrow$ $\pm$ 1"
    assert md_escape("a|b*c_d<e>") == r"a\|b\*c\_d\<e\>"


def test_table5_layout_rows_per_environment_count():
    runs = runs_frame({("ant", "ppo", 64): [30.0], ("ant", "ppo", 8): [4.0], ("go2_rough", "genpo", 8): [-0.5]})
    assert row_keys(runs) == ["task", "num_envs"]
    table = results_table(runs)
    md = to_markdown(table)
    assert md.splitlines()[0] == "| Task | # of Env. | PPO | GenPO |"
    rows = [line for line in md.splitlines() if line.startswith("| Ant") or line.startswith("|  |")]
    assert rows[:2] == ["| Ant | 8 | **4.00 ± 0.00** | – |", "|  | 64 | **30.00 ± 0.00** | – |"]
    assert r"\# of Env." in to_latex(table, "t")
    review = vs_review(table).set_index(["task", "num_envs", "algorithm"])
    assert (review.loc[("Ant", 8, "PPO"), "review_mean"], review.loc[("Ant", 8, "PPO"), "review_table"]) == (4.26, 5)
    go2 = review.loc[("Unitree Go2 Rough", 8, "GenPO")]  # the review's Table 5 says "Go2"
    assert (go2["review_mean"], go2["review_std"]) == (-0.45, 0.73)


def test_table6_rows_per_k_including_a_default_k():
    # (GenPO's K = 5 is its default: the value comes from its resolved config, see analysis.collect)
    runs = pd.concat([runs_frame({("ant", "genpo"): [120.0], ("ant", "dipo"): [60.0]}, **{"set.diffusion_steps": 5}),
                      runs_frame({("ant", "genpo"): [30.0]}, **{"set.diffusion_steps": 50})], ignore_index=True)
    table = results_table(runs)
    assert table.keys == ["task", "set.diffusion_steps"]
    review = vs_review(table).set_index(["set.diffusion_steps", "algorithm"])
    assert review.loc[(5, "GenPO"), "review_mean"] == 124.09 and review.loc[(5, "GenPO"), "review_table"] == 6
    assert review.loc[(50, "GenPO"), "difference"] == pytest.approx(30.0 - 34.65)
    md = to_markdown(table)
    assert md.splitlines()[0] == "| Task | K | DIPO | GenPO |"
    assert "| Ant | 5 | <u>60.00 ± 0.00</u> | **120.00 ± 0.00** |" in md
    assert "|  | 50 | – | **30.00 ± 0.00** |" in md


def test_vs_review_cell_and_difference():
    table = results_table(RUNS)
    md = vs_review_markdown(table)
    assert "| Cartpole | PPO | 4.50 ± 0.50 (n=2) | 4.72 ± 0.06 | -0.22 | Table 4 |" in md
    assert "| Ant | SAC | 21.00 ± 1.00 (n=2) | 76.33 ± 6.37 | -55.33 | Table 4 |" in md
    frame = pd.read_csv(io.StringIO(vs_review_csv(table)))
    ppo = frame[(frame["task"] == "Cartpole") & (frame["algorithm"] == "PPO")].iloc[0]
    assert ppo["difference"] == pytest.approx(4.5 - 4.72) and ppo["review_table"] == 4
    # the mean rank is compared with the review's printed row only over all twelve Table 4 tasks
    assert "| Mean rank | PPO | 1.75 (n=2) | n/a | n/a | n/a |" in md


def test_a_cell_the_review_does_not_have_shows_n_a():
    md = vs_review_markdown(results_table(runs_frame({("cartpole", "ppo", 8): [4.0], ("cartpole", "ppo", 64): [4.5]})))
    assert "| Cartpole | 8 | PPO | 4.00 ± 0.00 (n=1) | n/a | n/a | n/a |" in md
    assert "| Mean rank |  | PPO | 1.00 (n=2) | n/a | n/a | n/a |" in md


def test_the_reviews_mean_rank_row_is_not_what_its_own_means_give():
    paper = {t.paper_name: t.name for t in all_tasks().values()}
    frame = reference.results()
    table4 = frame[frame["table"] == 4]
    inverse = {catalogue.label(name): name for name in catalogue.names()}
    runs = runs_frame({(paper[r.task], inverse[r.algorithm]): [r.mean] for r in table4.itertuples()})
    table = results_table(runs)
    ranks = mean_ranks(table).set_index("algorithm")["mean_rank"].round(2)
    assert (ranks["PPO"], ranks["GenPO"], ranks["DIPO"]) == (1.75, 2.33, 3.92)
    printed = reference.table4_mean_rank()
    assert (printed["PPO"], printed["GenPO"], printed["DIPO"]) == (1.92, 2.08, 3.58)
    md = vs_review_markdown(table)  # all twelve tasks: the printed row is shown beside ours
    assert "| Mean rank | PPO | 1.75 (n=12) | 1.92 | -0.17 | Table 4 |" in md


def test_transfer_table_three_metric_blocks_with_their_direction():
    evals = pd.DataFrame([
        {"run_id": f"{a}{s}", "task": "go2_rough", "algo": a, "seed": s, "scenario": "go2_to_a1", "status": "finished",
         "alive": alive, "l_mae": l_mae, "a_mae": 0.5}
        for a, s, alive, l_mae in [("ppo", 0, 400.0, 1.0), ("ppo", 1, 500.0, 1.2), ("genpo", 0, 800.0, 0.4),
                                   ("genpo", 1, 900.0, 0.6)]])
    evals.loc[len(evals)] = {"run_id": "sac0", "task": "go2_rough", "algo": "sac", "seed": 0, "scenario": "go2_to_a1",
                             "status": "failed", "alive": math.nan, "l_mae": math.nan, "a_mae": math.nan}
    table = transfer_table(evals)
    md = to_markdown(table)
    assert md.splitlines()[0] == "| Metric | Scenario | PPO | SAC | GenPO |"
    assert "| Alive ↑ | A1 transfer | <u>450.00 ± 50.00</u> | – (n=0) | **850.00 ± 50.00** |" in md
    assert "| L-MAE ↓ | A1 transfer | <u>1.100 ± 0.100</u> | – (n=0) | **0.500 ± 0.100** |" in md
    assert "SAC, A1 transfer, seed 0: failed" in md
    review = vs_review(table).set_index(["metric", "algorithm"])
    assert review.loc[("Alive ↑", "GenPO"), "review_mean"] == 862.8
    assert review.loc[("Alive ↑", "GenPO"), "difference"] == pytest.approx(850.0 - 862.8)


def test_different_budgets_within_a_row_are_noted():
    runs = pd.concat([runs_frame({("cartpole", "ppo"): [4.0], ("ant", "ppo"): [1.0], ("ant", "sac"): [2.0]}),
                      runs_frame({("cartpole", "qvpo"): [1.0]}).assign(timesteps=64)], ignore_index=True)
    notes = results_table(runs).notes
    assert notes == ["budgets on Cartpole (vectorized steps per environment): PPO 32, QVPO 64"]
