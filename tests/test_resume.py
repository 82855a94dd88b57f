"""A resumed run is the same experiment, and the same seed repeats a run: every agent through the
real training loop on the two-mode bandit (a learning problem, tests/bandit.py), in-process and
small. A run is interrupted part-way (its environment raises, as a kill would stop it, after a
checkpoint and a metrics row beyond it), resumed by a fresh agent from the run directory, and
compared with a straight run: every metrics value but the timings, and every parameter and
optimizer state, exactly (CPU, one torch thread)."""

from __future__ import annotations

import pytest
import torch
from skrl.utils import set_seed

from agents import catalogue
from agents.catalogue import build_agent, resolve_config
from agents.interface import init_for_loop, module_states
from bandit import BanditEnv, Killed, KilledAt
from benchmark import loop, resume
from benchmark.store import RunDir
from tasks.registry import get_task

NUM_ENVS, STEPS, LOG, CHECKPOINT = 8, 24, 4, 8
OFF_POLICY = {"batch_size": 32, "memory_size": 8, "random_timesteps": 3}  # the memory wraps; 13 updates
# before the first checkpoint: an odd count, so a lost update counter shows (TD3, DACER: every 2nd)
SMALL = {
    "ppo": {"rollouts": LOG, "mini_batches": 2, "learning_epochs": 2},
    "genpo": {"rollouts": LOG, "mini_batches": 2, "learning_epochs": 2, "diffusion_steps": 2},
    "dppo": {"rollouts": LOG, "mini_batches": 2, "learning_epochs": 2, "diffusion_steps": 4, "fine_tuned_steps": 2},
    "fpopp": {"rollouts": LOG, "mini_batches": 2, "learning_epochs": 2, "diffusion_steps": 3, "mc_samples": 4},
    "ddpg": OFF_POLICY, "td3": OFF_POLICY, "sac": OFF_POLICY,
    "dipo": {**OFF_POLICY, "diffusion_steps": 3, "action_gradient_steps": 2},
    "qvpo": {**OFF_POLICY, "diffusion_steps": 3, "sampling_number": 4, "eval_candidates": 2},
    "dacer": {**OFF_POLICY, "diffusion_steps": 3, "entropy_samples": 8, "entropy_states": 4,
              "alpha_update_every": 0.25},
}


def _agent(algo: str, env):
    set_seed(0)  # what benchmark.train does before it builds the agent
    cfg = resolve_config(algo, get_task("cartpole"), SMALL[algo])
    agent = build_agent(algo, cfg, observation_space=env.observation_space, action_space=env.action_space,
                        num_envs=NUM_ENVS, device="cpu")
    init_for_loop(agent)
    return agent


def _settings(algo: str) -> loop.LoopSettings:
    return loop.LoopSettings(timesteps=STEPS, log_interval=LOG, checkpoint_interval=CHECKPOINT, progress=False,
                             save_memory=not catalogue.get(algo).on_policy)


def _straight(algo: str, path) -> tuple[list[dict], dict]:
    env = BanditEnv(NUM_ENVS)
    agent = _agent(algo, env)
    loop.train(agent, env, NUM_ENVS, _settings(algo), RunDir(path))
    return _metrics(RunDir(path)), module_states(agent)


def _metrics(run: RunDir) -> list[dict]:
    return [{k: v for k, v in row.items() if not loop.is_timing(k)} for row in run.read_metrics()]


def _assert_same_states(a, b, where="") -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same_states(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_states(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("algo", catalogue.names())
def test_an_interrupted_run_resumed_is_the_straight_run(tmp_path, algo):
    torch.set_num_threads(1)
    straight_metrics, straight_params = _straight(algo, tmp_path / "straight")

    run = RunDir(tmp_path / "resumed")
    killed_at = CHECKPOINT * 2 + LOG + 2  # after the step-16 checkpoint and the step-20 row
    with pytest.raises(Killed):
        loop.train(_agent(algo, BanditEnv(NUM_ENVS)), KilledAt(NUM_ENVS, killed_at), NUM_ENVS, _settings(algo), run)
    assert [int(r["timestep"]) for r in run.read_metrics()][-1] == 20
    if not catalogue.get(algo).on_policy:  # the replay memory beside the newest checkpoint only
        assert [p.name for p in run.checkpoint_dir.glob("memory_*.pt")] == ["memory_16.pt"]

    env = BanditEnv(NUM_ENVS)
    agent = _agent(algo, env)
    start = resume.restore(agent, run, timesteps=STEPS, needs_memory=not catalogue.get(algo).on_policy)
    assert start.timestep == 16 and not start.notes
    if not catalogue.get(algo).on_policy:
        assert start.memory_transitions == 8 * NUM_ENVS  # full: 16 steps into 8 rows per environment
    loop.train(agent, env, NUM_ENVS, _settings(algo), run, start_timestep=start.timestep,
               wall_offset=start.wall_time_s, rng=start.rng)

    assert _metrics(run) == straight_metrics
    _assert_same_states(module_states(agent), straight_params)


@pytest.mark.parametrize("algo", catalogue.names())
def test_the_same_seed_repeats_every_agents_metrics(tmp_path, algo):
    torch.set_num_threads(1)
    first, first_params = _straight(algo, tmp_path / "a")
    second, second_params = _straight(algo, tmp_path / "b")
    assert len(first) == STEPS // LOG and "return_mean" in first[0]
    assert first == second
    _assert_same_states(first_params, second_params)
