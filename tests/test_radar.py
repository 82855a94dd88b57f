"""Zero-shot evaluation files and the Fig. 7 radar scaling."""

import json
import math

import pandas as pd
import pytest

from analysis.radar import collect_evaluations, plot_radar, plot_review_radar, radar_values, radii, read_evaluation
from analysis_fakes import fake_eval, fake_run
from benchmark.store import RunDir, Store


def _store(tmp_path):
    a = fake_run(tmp_path, "ppo0", "ppo", 0, "finished", 1.0, task="go2_rough")
    b = fake_run(tmp_path, "genpo0", "genpo", 0, "finished", 1.0, task="go2_rough")
    fake_eval(a, "go2_source", alive=800.0, l_mae=1.2, a_mae=0.5)
    fake_eval(a, "go2_to_a1", alive=400.0, l_mae=1.0, a_mae=0.5)
    fake_eval(a, "go2_to_spot", status="failed")
    fake_eval(b, "go2_source", alive=950.0, l_mae=0.5, a_mae=0.3)
    fake_eval(b, "go2_to_a1", alive=860.0, l_mae=0.45, a_mae=0.4)
    fake_eval(b, "go2_to_spot", alive=60.0, l_mae=0.8, a_mae=0.55)
    return Store(tmp_path)


def test_reader_flattens_the_schema(tmp_path):
    fake_eval(tmp_path, "go2_to_a1", alive=812.3, l_mae=0.41, a_mae=0.33)
    row = read_evaluation(RunDir(tmp_path), "go2_to_a1")
    assert (row["scenario"], row["source_task"], row["status"], row["episodes"], row["max_episode_steps"]) == \
        ("go2_to_a1", "go2_rough", "finished", 64, 1000)
    assert (row["alive"], row["l_mae"], row["a_mae"], row["alive_std"]) == (812.3, 0.41, 0.33, 10.0)


def test_a_not_finished_file_is_kept_flagged_and_left_out_of_the_radar(tmp_path):
    evals = collect_evaluations(_store(tmp_path), ["ppo0", "genpo0", "missing"])
    assert list(evals.columns[:6]) == ["run_id", "task", "algo", "seed", "scenario", "source_task"]
    assert len(evals) == 6
    failed = evals[evals["status"] != "finished"].iloc[0]
    assert (failed["run_id"], failed["scenario"], failed["status"]) == ("ppo0", "go2_to_spot", "failed")
    assert math.isnan(failed["alive"])
    values = radar_values(evals)
    assert len(values) == 5
    assert set(values[values["algorithm"] == "PPO"]["scenario"]) == {"Go2 (source)", "A1 transfer"}
    only = collect_evaluations(Store(tmp_path), scenarios=("go2_to_a1",))  # another experiment's scenarios left out
    assert set(only["scenario"]) == {"go2_to_a1"} and len(only) == 2


def test_malformed_files_are_errors_naming_the_file(tmp_path):
    path = fake_eval(tmp_path, "go2_to_a1")
    data = json.loads(path.read_text())
    del data["metrics"]["a_mae"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="go2_to_a1.json: finished, but metrics.a_mae"):
        read_evaluation(RunDir(tmp_path), "go2_to_a1")
    wrong = RunDir(tmp_path).scenario_eval_path("other")
    wrong.write_text(json.dumps({**data, "metrics": {}, "status": "running"}))
    with pytest.raises(ValueError, match="says scenario 'go2_to_a1'"):
        read_evaluation(RunDir(tmp_path), "other")
    wrong.write_text("{torn")
    with pytest.raises(ValueError, match="other.json: not a readable evaluation"):
        read_evaluation(RunDir(tmp_path), "other")


def test_radii_point_outward_for_better():
    table = pd.DataFrame({"A": [500.0, 1000.0]}, index=["x", "y"])
    radius, scale, rings = radii(table, "alive", 1000.0)
    assert list(radius["A"]) == [0.5, 1.0] and scale == 1000.0
    mae = pd.DataFrame({"A": [0.41, 0.0]}, index=["x", "y"])
    radius, scale, rings = radii(mae, "l_mae", 1000.0)
    assert scale == pytest.approx(0.45)  # the largest MAE, 0.41, rounded up to a multiple of 0.05
    assert list(radius["A"]) == pytest.approx([1 - 0.41 / 0.45, 1.0])  # zero error on the rim


def test_radar_pngs(tmp_path):
    evals = collect_evaluations(_store(tmp_path / "runs"))
    ours = plot_radar(radar_values(evals), tmp_path / "radar.png", "test", 1000.0)
    review = plot_review_radar(tmp_path / "radar_review.png")
    for png in (ours, review):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000


def test_table7_notes_say_which_evaluations_ran_on_converted_or_standin_assets(tmp_path):
    from analysis.radar import evaluation_notes

    run = tmp_path / "run"
    run.mkdir()
    for scenario, kind in (("go2_to_spot", "offline-real"), ("ant_source", "stand-in")):  # an old and a new name
        path = fake_eval(run, scenario)
        path.write_text(json.dumps({**json.loads(path.read_text()), "asset_source": {"kind": kind}}))
    notes = evaluation_notes([str(run), str(run)])
    assert [n.split(":")[0] for n in notes] == ["ant_source", "go2_to_spot"]
    assert "stand-in" in notes[0] and "converted" in notes[1]
