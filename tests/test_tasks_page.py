"""docs/tasks.md from run directories and rsl-rl reference files (hand-made, no simulator), and the
rsl-rl log reader."""

import json
import math

import pandas as pd

from analysis import tasks_page
from benchmark.record import Evaluation
from benchmark.rsl_rl_reference import parse_log
from benchmark.spec import RunSpec
from benchmark.store import Store


def _run(store: Store, task: str, start: float, end: float, *, std: float = 1.0, episodes: int = 64):
    spec = RunSpec.create(task=task, algo="ppo", num_envs=16, timesteps=48, start_eval_episodes=episodes)
    run = store.run(spec.run_id)
    run.path.mkdir(parents=True)
    files = [{"asset": "Isaac/x.usd", "robot": "robot", "source_kind": "equivalent",
              "source": {"package": "example-robot-data", "version": "6.0.0", "file": "robots/x.urdf"}},
             {"asset": "Isaac/plane.usda", "robot": "ground_plane", "source_kind": "generated", "source": {}}]
    meta = {**spec.initial_record().to_json(), "status": "finished", "env": {"obs_dim": 48, "act_dim": 12},
            "asset_source": {"kind": "equivalent", "files": files, "config_edits": ["actuators: LSTM -> DC motor"]},
            "start_eval": {"return_mean": start, "return_std": std, "episodes": episodes},
            "final_eval": {"return_mean": end, "return_std": std, "episodes": episodes, "length_mean": 1000.0}}
    run.meta_path.write_text(json.dumps(meta))  # as benchmark.train leaves it
    pd.DataFrame({"timestep": [16, 32, 48], "env_steps": [256, 512, 768], "wall_time_s": [10.0, 12.0, 14.0],
                  "return_mean": [-1.0, 0.0, 0.5]}).to_csv(run.metrics_path, index=False)
    return spec


def test_the_page_shows_classes_dimensions_speed_and_whether_the_return_rose(tmp_path):
    store = Store(tmp_path)
    up = _run(store, "anymal_d_flat", start=-2.0, end=3.0)
    flat = _run(store, "cartpole", start=-2.0, end=-1.9)
    store.write_reference(store.rsl_rl_reference("cartpole", 16, 48, 0),
                          {"status": "finished", "final_mean_reward": 4.5, "env_steps_per_s": 1234.0})
    store.write_reference(store.rsl_rl_reference("anymal_d_flat", 16, 48, 0),
                          {"status": "not run", "reason": "the offline assets need config edits"})
    rows = [tasks_page.task_row(store, spec) for spec in (up, flat)]
    assert rows[0]["speed"] == 512 / 4.0  # after the first log row
    page = tasks_page.render(rows, "tasks_cpu")
    lines = {line.split(" |")[0]: line for line in page.splitlines() if line.startswith("| ")}
    assert "equivalent" in lines["| Anymal D Flat (`anymal_d_flat`)"]
    assert "example-robot-data==6.0.0" in lines["| Anymal D Flat (`anymal_d_flat`)"]
    assert "ground_plane" not in page  # the generated plane is no provenance worth a line
    assert "| 48 / 48 | 12 / 12 |" in lines["| Anymal D Flat (`anymal_d_flat`)"]
    learning = [line for line in page.splitlines() if line.startswith("| Cartpole | ")][0]
    assert "| **no** |" in learning and "| 4.50 | 1,234 |" in learning  # rsl-rl beside it
    assert "| 768 | 0.03% |" in learning  # 16 x 48 of 1024 x 2400 (Cartpole's default steps)
    anymal = [line for line in page.splitlines() if line.startswith("| Anymal D Flat | ")][0]
    assert "| yes |" in anymal and "not run" in anymal
    assert "| 3.00 ± 1.00 (1,000 steps) |" in anymal  # the episode length beside the return
    assert "rsl-rl not run: the offline assets need config edits" in page


def test_a_rise_must_exceed_twice_the_combined_standard_error():
    start = Evaluation(episodes=100, return_mean=0.0, return_std=1.0)  # standard error 0.1 each
    assert tasks_page.rises(start, Evaluation(episodes=100, return_mean=0.3, return_std=1.0))  # 0.3 > 2 x 0.141
    assert not tasks_page.rises(start, Evaluation(episodes=100, return_mean=0.25, return_std=1.0))
    assert tasks_page.rises(start, None) is None
    fell_sooner = Evaluation(episodes=100, return_mean=1.0, return_std=1.0, length_mean=17.0)
    assert tasks_page.verdict(Evaluation(episodes=100, return_mean=0.0, return_std=1.0, length_mean=993.0),
                              fell_sooner) == "yes, but episodes under half as long"
    assert tasks_page.verdict(start, fell_sooner) == "yes"  # no length to compare with
    assert math.isclose(2 * math.sqrt(0.01 + 0.01), 0.2828, abs_tol=1e-4)


def test_rsl_rl_log_is_read_per_iteration():
    log = ("\x1b[1m Learning iteration 0/2 \x1b[0m\n                            Mean reward: -1.50\n"
           "                    Mean episode length: 12.00\n                         Iteration time: 2.90s\n"
           " Learning iteration 1/2 \n                            Mean reward: 3.25\n"
           "                    Mean episode length: 40.5\n                         Iteration time: 2.10s\n")
    assert parse_log(log) == {"mean_reward": [-1.5, 3.25], "mean_episode_length": [12.0, 40.5],
                              "iteration_time_s": [2.9, 2.1]}
