"""rliable aggregates (Agarwal et al. 2021) against hand computations, on a fixed seed."""

import numpy as np
import pandas as pd
import pytest

from analysis.stats import (COLLAPSED, aggregate, normalized_scores, performance_profiles, score_matrices,
                            write_stats)
from analysis_fakes import runs_frame

# 4 runs x 2 tasks: sorted scores 0.0 .. 0.7; the interquartile mean drops the lowest and highest two
MATRIX = np.array([[0.0, 0.4], [0.1, 0.5], [0.2, 0.6], [0.3, 0.7]])


def test_iqm_is_the_interquartile_mean_and_its_ci_is_reproducible():
    by_hand = (0.2 + 0.3 + 0.4 + 0.5) / 4
    first = aggregate({"A": MATRIX}, seed=3, reps=300).set_index("metric")
    assert first.loc["IQM", "estimate"] == pytest.approx(by_hand)
    assert first.loc["Mean", "estimate"] == pytest.approx(0.35)
    assert first.loc["Optimality gap", "estimate"] == pytest.approx(0.65)  # mean of max(1 - score, 0)
    assert first.loc["IQM", "ci_low"] <= by_hand <= first.loc["IQM", "ci_high"]
    assert first.loc["IQM", "ci_low"] < first.loc["IQM", "ci_high"]
    again = aggregate({"A": MATRIX}, seed=3, reps=300).set_index("metric")
    pd.testing.assert_frame_equal(first, again)
    other = aggregate({"A": MATRIX}, seed=4, reps=300).set_index("metric")
    assert not np.allclose(first[["ci_low", "ci_high"]], other[["ci_low", "ci_high"]])


def test_the_global_random_state_is_left_as_it_was():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    aggregate({"A": MATRIX}, seed=3, reps=50)
    assert np.random.rand() == expected


def test_performance_profile_at_a_few_taus_by_hand():
    taus = np.array([0.05, 0.35, 0.65, 0.75])
    profiles, cis = performance_profiles({"A": MATRIX}, taus, seed=0, reps=100)
    np.testing.assert_allclose(profiles["A"], [7 / 8, 4 / 8, 1 / 8, 0.0])  # fraction of the 8 scores > tau
    assert cis["A"].shape == (2, 4)


def test_scores_are_normalized_by_the_reviews_table4_range():
    runs = runs_frame({("cartpole", "ppo"): [4.72, -5.88], ("a1_rough", "ppo"): [1.0, 3.0]})
    scores = normalized_scores(runs).set_index(["task", "seed"])
    assert scores.loc[("cartpole", 0), "score"] == pytest.approx(1.0)  # the review's best Cartpole mean
    assert scores.loc[("cartpole", 1), "score"] == pytest.approx(0.0)  # its worst
    assert scores.loc[("cartpole", 0), "normalization"] == "review Table 4 range"
    # a task the review's Table 4 lacks: min-max over this experiment's runs
    assert list(scores.loc["a1_rough", "score"]) == [0.0, 1.0]
    assert scores.loc[("a1_rough", 0), "normalization"] == "min-max over this experiment's runs"


def test_matrices_keep_seeds_finished_on_every_task():
    runs = runs_frame({("cartpole", "ppo"): [1.0, 2.0], ("ant", "ppo"): [50.0, None], ("cartpole", "sac"): [0.0],
                       ("ant", "sac"): [60.0]})
    matrices, columns, notes = score_matrices(normalized_scores(runs))
    assert columns == ["Cartpole", "Ant"]
    assert matrices["PPO"].shape == (1, 2) and matrices["SAC"].shape == (1, 2)
    assert any("PPO: seeds 1 left out" in n for n in notes)


def test_one_run_per_algorithm_still_computes_and_says_the_ci_collapsed(tmp_path):
    runs = runs_frame({("cartpole", "ppo"): [4.0], ("cartpole", "sac"): [-1.0]})
    paths = write_stats(runs, tmp_path, "one seed", reps=50)
    assert [p.name for p in paths] == ["stats.csv", "scores.csv", "iqm.png", "profiles.png"]
    stats = pd.read_csv(tmp_path / "stats.csv")
    assert (stats["ci_low"] == stats["estimate"]).all() and (stats["ci_high"] == stats["estimate"]).all()
    assert stats["note"].str.contains(COLLAPSED, regex=False).all()
    assert all(p.stat().st_size > 10_000 for p in paths if p.suffix == ".png")
