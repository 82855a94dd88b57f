"""Results collection, the summary table beside the review's numbers, and the curve plot."""

import json
import math

import pandas as pd
import pytest

from analysis.collect import collect
from analysis.curves import plot_curves
from analysis.reference import paper_result
from analysis.summary import summarize, to_markdown


def _fake_run(root, run_id, algo, seed, status, ret, curve):
    d = root / run_id
    d.mkdir(parents=True)
    meta = {"run_id": run_id, "task": {"name": "cartpole"}, "algo": algo, "seed": seed, "num_envs": 8,
            "timesteps": 32, "status": status, "spec": {"overrides": {}},
            "final_eval": {"return_mean": ret, "return_std": 0.1, "episodes": 8} if status == "finished" else None,
            "asset_source": {"kind": "local-standins"}, "git": {"commit": "abc"}}
    (d / "run.json").write_text(json.dumps(meta))
    pd.DataFrame({"timestep": [16, 32], "env_steps": [128, 256], "wall_time_s": [1.0, 2.0],
                  "return_mean": curve}).to_csv(d / "metrics.csv", index=False)


def test_collect_summarize_and_compare_with_the_review(tmp_path):
    _fake_run(tmp_path, "a", "ppo", 0, "finished", 4.0, [1.0, 3.0])
    _fake_run(tmp_path, "b", "ppo", 1, "finished", 5.0, [2.0, 4.0])
    _fake_run(tmp_path, "c", "sac", 0, "diverged", None, [0.0, 0.0])
    (tmp_path / "not_a_run").mkdir()
    runs = collect(tmp_path)
    assert list(runs["run_id"]) == ["a", "b", "c"]
    assert list(collect(tmp_path, ["b"])["run_id"]) == ["b"]
    summary = summarize(runs).set_index("algo")
    assert summary.loc["ppo", "eval_return_mean"] == 4.5
    assert summary.loc["ppo", "eval_return_std"] == 0.5  # population std over seeds
    assert summary.loc["ppo", "seeds"] == 2
    assert (summary.loc["ppo", "paper_mean"], summary.loc["ppo", "paper_std"]) == (4.72, 0.06)
    assert summary.loc["ppo", "diff_vs_paper"] == pytest.approx(4.5 - 4.72)
    assert summary.loc["sac", "seeds"] == 0 and math.isnan(summary.loc["sac", "eval_return_mean"])
    table = to_markdown(summarize(runs))
    assert "| cartpole | ppo | 2 | 4.50 ± 0.50 | 4.72 ± 0.06 | -0.22 |" in table
    assert "0:diverged" in table


def test_paper_reference_lookup():
    assert paper_result("Ant", "genpo") == (130.40, 15.90)
    assert paper_result("Cartpole", "dipo") == (-5.88, 0.55)
    assert paper_result("Nowhere", "ppo") is None


def test_curve_plot_is_written(tmp_path):
    _fake_run(tmp_path, "a", "ppo", 0, "finished", 4.0, [1.0, 3.0])
    _fake_run(tmp_path, "b", "ppo", 1, "finished", 5.0, [2.0, 4.0])
    out = plot_curves(collect(tmp_path), tmp_path / "curves.png", "test")
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
