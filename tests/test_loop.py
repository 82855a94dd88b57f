"""The training loop's bookkeeping on a stand-in env (glue only): final observations, episode
statistics, metrics rows, checkpoints and resume, divergence."""

import math

import pytest
import torch

from agents.interface import HarnessAgent
from benchmark import loop, resume
from benchmark.store import RunDir
from fake_env import FakeVecEnv


class RecordingAgent(HarnessAgent):
    """The smallest object that satisfies agents.interface, recording what the loop hands it."""

    memory, action_space, models = None, None, {}

    def __init__(self, loss=0.5):
        self.device = "cpu"
        self.net = torch.nn.Linear(3, 2)
        self.checkpoint_modules = {"net": self.net}
        self.tracking_data = {}
        self.loss = loss
        self.recorded = []

    def enable_training_mode(self, enabled):
        pass

    def pre_interaction(self, *, timestep, timesteps):
        pass

    def act(self, obs, states, *, timestep, timesteps):
        return torch.zeros(obs.shape[0], 2), {}

    def record_transition(self, **kw):
        kw["rewards"] += 100.0  # agents may modify rewards in place (skrl's PPO does)
        self.recorded.append(kw)

    def post_interaction(self, *, timestep, timesteps):
        self.tracking_data.setdefault("Loss / Policy loss", []).append(self.loss)


def _train(tmp_path, agent, env, timesteps=10, start=0):
    settings = loop.LoopSettings(timesteps=timesteps, log_interval=2, checkpoint_interval=4, progress=False)
    run = RunDir(tmp_path / "run")
    return run, loop.train(agent, env, env.num_envs, settings, run, start_timestep=start)


def test_agent_stores_the_true_final_observation(tmp_path):
    env, agent = FakeVecEnv(num_envs=3, episode_length=3, terminate_env=1), RecordingAgent()
    _train(tmp_path, agent, env, timesteps=6)
    for step, rec in enumerate(agent.recorded):
        done, final = env.final_seen[step]
        nxt = rec["next_observations"]
        assert torch.equal(nxt[done], final[done])  # the last observation of the episode, not the reset one
        assert torch.all(nxt[done][:, 1] > 0)
        assert torch.equal(nxt[~done][:, 1], final[~done][:, 1])
    # env 1 terminates at its 2nd step: terminated, not truncated
    assert bool(agent.recorded[1]["terminated"][1]) and not bool(agent.recorded[1]["truncated"][1])


def test_episode_returns_and_metrics_rows(tmp_path):
    env, agent = FakeVecEnv(num_envs=4, episode_length=5), RecordingAgent()
    run, last = _train(tmp_path, agent, env, timesteps=10)
    rows = run.read_metrics()
    assert [int(r["timestep"]) for r in rows] == [2, 4, 6, 8, 10]
    assert [int(r["env_steps"]) for r in rows] == [8, 16, 24, 32, 40]
    # episodes of 5 steps with reward 1 end at steps 5 and 10; the agent's in-place +100 is not counted
    assert rows[2]["episodes"] == "4" and float(rows[2]["return_mean"]) == 5.0
    assert float(rows[2]["return_std"]) == 0.0 and float(rows[2]["length_mean"]) == 5.0
    assert rows[0]["episodes"] == "0" and math.isnan(float(rows[0]["return_mean"]))
    assert float(last["loss_policy_loss"]) == 0.5
    assert [int(p.stem.split("_")[1]) for p in run.checkpoints()] == [8, 10]  # the newest two are kept


def test_resume_restores_weights_and_truncates_metrics(tmp_path):
    env = FakeVecEnv(num_envs=2)
    agent = RecordingAgent()
    run, _ = _train(tmp_path, agent, env, timesteps=8)
    (run.checkpoint_dir / "ckpt_8.pt").unlink()  # as if the process died after the step-6 row
    fresh = RecordingAgent()
    start = resume.restore(fresh, run, timesteps=8, needs_memory=False)
    assert start.timestep == 4 and start.wall_time_s >= 0 and not start.notes
    assert torch.equal(fresh.net.weight, agent.net.weight)
    _train(tmp_path, fresh, env, timesteps=8, start=start.timestep)
    assert [int(r["timestep"]) for r in run.read_metrics()] == [2, 4, 6, 8]


def test_nan_loss_stops_the_run_as_diverged(tmp_path):
    env, agent = FakeVecEnv(num_envs=2), RecordingAgent(loss=float("nan"))
    with pytest.raises(loop.Diverged) as err:
        _train(tmp_path, agent, env, timesteps=10)
    assert err.value.timestep == 2 and "loss_policy_loss" in err.value.reason
    assert [int(r["timestep"]) for r in RunDir(tmp_path / "run").read_metrics()] == [2]


def test_non_finite_parameter_is_divergence(tmp_path):
    env, agent = FakeVecEnv(num_envs=2), RecordingAgent()
    with torch.no_grad():
        agent.net.weight[0, 0] = float("inf")
    with pytest.raises(loop.Diverged, match="net.weight"):
        _train(tmp_path, agent, env, timesteps=4)


def test_non_finite_action_is_divergence(tmp_path):
    class NaNActions(RecordingAgent):
        def act(self, obs, states, *, timestep, timesteps):
            return torch.full((obs.shape[0], 2), float("nan")), {}

    with pytest.raises(loop.Diverged, match="non-finite action"):
        _train(tmp_path, NaNActions(), FakeVecEnv(num_envs=2), timesteps=4)
