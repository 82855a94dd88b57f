"""Results collection (one row per run directory) and the learning-curve panels."""

import math

import pandas as pd

from analysis import collect as collect_module
from analysis.collect import collect
from analysis.curves import curve_panels, exploration_columns, plot_curves, plot_exploration
from analysis_fakes import fake_run
from benchmark.store import RunDir, Store


def test_collect_one_row_per_run_directory_in_the_callers_order(tmp_path):
    fake_run(tmp_path, "a", "ppo", 0, "finished", 4.0)
    fake_run(tmp_path, "b", "ppo", 1, "finished", 5.0)
    fake_run(tmp_path, "c", "sac", 0, "diverged", None)
    store = Store(tmp_path)
    (store.runs_dir / "not_a_run").mkdir()
    store.run("broken").path.mkdir()
    store.run("broken").meta_path.write_text("{")
    assert list(collect(store)["run_id"]) == ["a", "b", "c"]
    runs = collect(store, ["c", "a", "missing", "a"], experiment="exp")
    assert list(runs["run_id"]) == ["c", "a"]  # no row without its directory, none twice
    a = runs.set_index("run_id").loc["a"]
    assert (a["experiment"], a["task"], a["algo"], a["seed"], a["num_envs"]) == ("exp", "cartpole", "ppo", 0, 1024)
    assert (a["status"], a["eval_return_mean"], a["final_eval_episodes"], a["eval_episodes"]) == ("finished", 4.0, 8, 8)
    assert (a["train_wall_time_s"], a["asset_source"], a["git_commit"], a["git_dirty"], a["host"], a["device"]) == \
        (2.5, "local-standins", "abc", True, "box", "cpu")
    assert math.isnan(runs.set_index("run_id").loc["c", "eval_return_mean"])


def test_override_columns_carry_the_resolved_value_when_the_id_dropped_a_default(tmp_path):
    fake_run(tmp_path, "k10", "genpo", 0, "finished", 1.0, overrides={"diffusion_steps": 10},
             values={"diffusion_steps": 10})
    fake_run(tmp_path, "k5", "genpo", 0, "finished", 2.0, values={"diffusion_steps": 5})  # 5 is GenPO's default
    runs = collect(Store(tmp_path)).set_index("run_id")
    assert runs.loc["k10", "set.diffusion_steps"] == 10
    assert runs.loc["k5", "set.diffusion_steps"] == 5


def test_collect_cli_rejects_an_unknown_experiment(capsys):
    assert collect_module.main(["--exp", "no_such_experiment"]) == 2
    err = capsys.readouterr().err
    assert "no_such_experiment" in err and "smoke" in err


def test_curve_panels_per_task_and_varying_setting(tmp_path):
    for task in ("ant", "cartpole"):
        for n in (64, 8):
            fake_run(tmp_path, f"{task}{n}", "ppo", 0, "finished", 1.0, task=task, num_envs=n)
    runs = collect(Store(tmp_path))
    keys, _, panels = curve_panels(runs)
    assert keys == ["task", "num_envs"]
    assert panels == [("cartpole", "8"), ("cartpole", "64"), ("ant", "8"), ("ant", "64")]  # review's task order
    out = plot_curves(runs, tmp_path / "curves.png", "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_exploration_scales_are_plotted_where_runs_log_them(tmp_path):
    """The report's exploration figure has a row for each learned scale some run logged (PPO's std,
    DACER's alpha: frozen here, as under the review's alpha schedule) and none when no run logs one."""
    fake_run(tmp_path, "g", "genpo", 0, "finished", 1.0)
    assert plot_exploration(collect(Store(tmp_path)), tmp_path / "none.png", "t") is None
    for run_id, algo, column, values in (("p", "ppo", "policy_standard_deviation", [1.0, 0.8]),
                                         ("d", "dacer", "policy_alpha", [0.02, 0.02])):
        metrics = RunDir(fake_run(tmp_path, run_id, algo, 0, "finished", 1.0)).metrics_path
        pd.read_csv(metrics).assign(**{column: values}).to_csv(metrics, index=False)
    runs = collect(Store(tmp_path))
    assert exploration_columns(runs) == ["policy_standard_deviation", "policy_alpha"]
    out = plot_exploration(runs, tmp_path / "exploration.png", "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_one_panel_when_nothing_varies(tmp_path):
    fake_run(tmp_path, "a", "ppo", 0, "finished", 4.0)
    fake_run(tmp_path, "b", "sac", 0, "finished", 5.0)
    assert curve_panels(collect(Store(tmp_path)))[2] == [("cartpole",)]


def test_a_run_that_says_running_but_is_held_by_nobody_is_interrupted(tmp_path):
    fake_run(tmp_path, "a", "ppo", 0, "running", None)
    assert collect(Store(tmp_path))["status"].tolist() == ["interrupted"]
