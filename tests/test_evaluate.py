"""benchmark.evaluate: bad input (exit 2, nothing written), skip/resume state, the rollout's bookkeeping
on a scripted stand-in env, and (sim) a tiny ant_rough run trained and evaluated end to end."""

import fcntl
import json
import math

import pytest
import torch

from agents.interface import HarnessAgent
from benchmark import evaluate
from benchmark.store import RunDir, Store
from tasks.scenarios import SCENARIOS


def fake_run(root, *, task="ant_rough", status="finished", checkpoint=True) -> RunDir:
    run = Store(root).run(f"{task}-ppo-n4-s0-0000000000")
    spec = {"task": task, "algo": "ppo", "num_envs": 4, "seed": 0, "timesteps": 24, "overrides": {},
            "eval_episodes": 4}
    run.path.mkdir(parents=True)
    run.meta_path.write_text(json.dumps({"run_id": run.run_id, "status": status, "spec": spec, "algo": "ppo",
                                         "env": {"obs_dim": 223, "act_dim": 8}}))
    if checkpoint:
        run.checkpoint_dir.mkdir()
        (run.checkpoint_dir / "ckpt_24.pt").write_bytes(b"")
    return run


@pytest.mark.parametrize("case,args,message", [
    ("name", ["--scenario", "ant_to_b1"], "invalid scenario 'ant_to_b1'; valid: go2_source, go2_to_a1"),
    ("task", ["--scenario", "go2_to_a1"],
     "invalid scenario 'go2_to_a1' for run ant_rough-ppo-n4-s0-0000000000: it starts from task 'go2_rough', "
     "the run trained 'ant_rough'; valid: ant_source, ant_to_shifted, ant_terrain_random"),
    ("episodes", ["--scenario", "ant_source", "--episodes", "0"], "invalid number of episodes 0"),
    ("envs", ["--scenario", "ant_source", "--num-envs", "-1"], "invalid number of environments -1"),
    ("device", ["--scenario", "ant_source", "--device", "tpu"], "invalid device 'tpu'; valid: cpu"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case, args, message):
    run = fake_run(tmp_path)
    assert evaluate.main(["--run-dir", str(run.path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not run.scenario_dir.exists()


@pytest.mark.parametrize("status,checkpoint,message", [
    ("running", True, "is 'interrupted'; valid: a finished run"),
    ("failed", True, "is 'failed'; valid: a finished run"),
    ("finished", False, "has no checkpoint"),
])
def test_an_unfinished_run_is_refused(tmp_path, capsys, status, checkpoint, message):
    run = fake_run(tmp_path, status=status, checkpoint=checkpoint)
    assert evaluate.main(["--run-dir", str(run.path), "--scenario", "ant_source"]) == 2
    assert message in capsys.readouterr().err
    assert not run.scenario_dir.exists()


def test_a_directory_without_run_json_is_refused(tmp_path, capsys):
    assert evaluate.main(["--run-dir", str(tmp_path / "nothing"), "--scenario", "ant_source"]) == 2
    assert "no readable run.json" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


def test_state_skip_and_command_line(tmp_path, capsys):
    run = fake_run(tmp_path)
    assert evaluate.eval_state(run, "ant_source") == "new"
    path = run.scenario_eval_path("ant_source")
    path.parent.mkdir()
    path.write_text(json.dumps({"scenario": "ant_source", "status": "failed"}))
    assert evaluate.eval_state(run, "ant_source") == "failed"
    with open(run.scenario_lock("ant_source"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert evaluate.eval_state(run, "ant_source") == "running"
    finished = {"scenario": "ant_source", "status": "finished", "episodes": 4}
    path.write_text(json.dumps(finished))
    assert evaluate.eval_state(run, "ant_source") == "finished"
    assert evaluate.main(["--run-dir", str(run.path), "--scenario", "ant_source"]) == 0  # not redone
    assert "already finished, nothing to do" in capsys.readouterr().out
    assert json.loads(path.read_text()) == finished
    assert evaluate.eval_args(run, "ant_source", "cpu", episodes=16) == [
        "-m", "benchmark.evaluate", "--run-dir", str(run.path), "--scenario", "ant_source", "--device", "cpu",
        "--episodes", "16", "--num-envs", "16"]


class ScriptedEnv:
    """Two envs; ``tracking`` = [lin_vel(3), ang_vel(3), command(3)] as the scenario group lays it out."""

    num_envs = 2

    def __init__(self):
        self.t = 0

    @staticmethod
    def obs(lin, yaw, cmd):
        track = torch.tensor([[*lv, 0.0, 0.0, w, *c] for lv, w, c in zip(lin, yaw, cmd)], dtype=torch.float32)
        return {"policy": torch.zeros(2, 4), "tracking": track}

    def reset(self):
        return self.obs([(0, 0, 0), (0, 0, 0)], [0, 0], [(1, 0, 0), (0, 0, 1)]), {}

    def step(self, actions):
        assert actions.shape == (2, 1)
        self.t += 1
        no = torch.tensor([False, False])
        if self.t == 1:  # env 1 falls; the returned obs is already its next episode's (after reset)
            final = self.obs([(1, 0, 0), (0.5, 0, 0)], [0, 0.5], [(1, 0, 0), (0, 0, 1)])
            nxt = self.obs([(1, 0, 0), (7, 7, 0)], [0, 7], [(1, 0, 0), (0, 0, -1)])
            return nxt, None, torch.tensor([False, True]), no, {"final_obs": final}
        if self.t == 2:
            return self.obs([(1, 0, 0), (0, 0, 0)], [0, 0], [(1, 0, 0), (0, 0, -1)]), None, no, no, {}
        final = self.obs([(0, 0, 0), (0, 0, 0)], [0, 0], [(1, 0, 0), (0, 0, -1)])  # env 0 times out at T = 3
        nxt = self.obs([(5, 5, 0), (0, 0, 0)], [5, 0], [(0, 1, 0), (0, 0, -1)])
        return nxt, None, no, torch.tensor([True, False]), {"final_obs": final}


class MeanAgent(HarnessAgent):
    def enable_training_mode(self, enabled):
        self.training = enabled

    def act_eval(self, obs):
        return torch.zeros(obs.shape[0], 1)


def test_rollout_measures_the_robot_before_reset_against_the_command_it_acted_on():
    metrics = evaluate.rollout(MeanAgent(), ScriptedEnv(), episodes=2, max_steps=3)
    assert metrics.done
    got = metrics.episodes()
    # env 1: one step, command (0, 0, 1), measured before reset v = (0.5, 0), w = 0.5
    # env 0: three steps, command (1, 0, 0): errors 0, 0, then (1 + 0) / 2 at the time-out
    assert got["alive"] == [1.0, 3.0]
    assert got["l_mae"] == pytest.approx([0.25, 0.5 / 3])
    assert got["a_mae"] == pytest.approx([0.5, 0.0])


@pytest.mark.sim
def test_train_and_evaluate_a_tiny_ant_run(cli, tmp_path):
    result = cli("benchmark.train", "--task", "ant_rough", "--algo", "ppo", "--num-envs", "4", "--timesteps", "24",
                 "--eval-episodes", "4", "--threads", "1", "--out", str(tmp_path), "--no-progress", "--assets", "local")
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = Store(tmp_path).runs()
    args = ["benchmark.evaluate", "--run-dir", str(run.path), "--scenario", "ant_to_shifted", "--episodes", "4",
            "--num-envs", "4", "--threads", "1", "--assets", "local", "--episode-length-s", "1"]
    result = cli(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    data = run.read_scenario_eval("ant_to_shifted").to_json()
    assert {k: data[k] for k in ("scenario", "source_task", "status", "episodes", "max_episode_steps")} == {
        "scenario": "ant_to_shifted", "source_task": "ant_rough", "status": "finished", "episodes": 4,
        "max_episode_steps": 50}
    for key in ("alive", "l_mae", "a_mae"):
        assert set(data["metrics"][key]) == {"mean", "std"} and math.isfinite(data["metrics"][key]["mean"])
    assert 0 < data["metrics"]["alive"]["mean"] <= 50
    assert data["checkpoint"]["timestep"] == 24 and data["env"]["obs_dim"] == 223
    assert data["changes"]["joint_map"]["front_left_leg"] == "front_left_leg"
    assert data["robot"]["base_mass_kg"] > 5  # the shifted torso (1.5 x about 4.3 kg, randomized +-25%)
    assert "already finished" in cli(*args).stdout
    assert set(SCENARIOS[data["scenario"]].__dict__) >= {"kind", "paper_name"}


def test_missing_robot_assets_stop_before_anything_is_written(cli, tmp_path, monkeypatch):
    from tasks.assets import build_local_root

    build_local_root(tmp_path / "standins-only", robots=False)  # a local root without the robots
    monkeypatch.setenv("DPRL_ASSET_DIR", str(tmp_path / "standins-only"))
    run = fake_run(tmp_path, task="go2_rough")
    result = cli("benchmark.evaluate", "--run-dir", str(run.path), "--scenario", "go2_to_spot", "--assets", "local",
                 timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "scenario 'go2_to_spot' needs assets" in result.stderr and "spot/spot.usd" in result.stderr
    assert "Traceback" not in result.stderr and not run.scenario_dir.exists()
