"""Alive / L-MAE / A-MAE (tasks/metrics.py) against hand-computed values on small recorded trajectories."""

import math

import pytest
import torch

from tasks.metrics import EpisodeMetrics, step_errors, summarize


def t(rows):
    return torch.tensor(rows, dtype=torch.float32)


def b(values):
    return torch.tensor(values, dtype=torch.bool)


def test_step_errors_by_hand():
    cmd = t([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    e_lin, e_ang, e_l2 = step_errors(cmd, t([[0.0, 1.0], [3.0, 4.0]]), t([1.5, -2.0]))
    assert e_lin.tolist() == pytest.approx([(1 + 2) / 2, (3 + 4) / 2])  # mean of the two components
    assert e_ang.tolist() == pytest.approx([1.0, 2.0])
    assert e_l2.tolist() == pytest.approx([math.sqrt(1 + 4), 5.0])


# Three envs, episodes of at most T = 4 steps, one counted episode each:
#   env 0 falls at step 2, env 1 times out at step 4, env 2 falls at step 3 (env 0's second
#   episode, started at step 3, is not counted: its quota is full).
CMD = t([[1.0, 0.0, 0.5], [0.0, 1.0, -1.0], [0.5, 0.5, 0.0]])
STEPS = [  # (v_xy per env, yaw rate per env, terminated, truncated)
    ([[1.0, 0.0], [0.0, 0.0], [0.5, 0.5]], [0.5, 0.0, 0.2], [0, 0, 0], [0, 0, 0]),
    ([[0.0, 0.0], [0.0, 1.0], [1.5, 0.5]], [0.0, -1.0, 0.0], [1, 0, 0], [0, 0, 0]),
    ([[9.0, 9.0], [0.0, 0.5], [0.5, -0.5]], [9.0, -0.5, 1.0], [0, 0, 1], [0, 0, 0]),
    ([[9.0, 9.0], [0.0, 1.0], [9.0, 9.0]], [9.0, -1.0, 9.0], [0, 0, 0], [0, 1, 0]),
]
# per-step errors by hand: env 0: lin 0, 0.5; ang 0, 0.5 -> L-MAE 0.25, A-MAE 0.25, alive 2
#   env 1: lin 0.5, 0, 0.25, 0; ang 1, 0, 0.5, 0 -> L-MAE 0.1875, A-MAE 0.375, alive T = 4
#   env 2: lin 0, 0.5, 0.5; ang 0.2, 0, 1 -> L-MAE 1/3, A-MAE 0.4, alive 3
EXPECTED = {"alive": [2.0, 3.0, 4.0], "l_mae": [0.25, 1 / 3, 0.1875], "a_mae": [0.25, 0.4, 0.375]}


def run(steps, per_env=1, max_steps=4):
    m = EpisodeMetrics(3, per_env, max_steps)
    for vel, yaw, term, trunc in steps:
        m.step(CMD, t(vel), t(yaw), b(term), b(trunc))
    return m


def test_vectorized_episodes_ending_at_different_steps():
    m = run(STEPS)
    assert m.done
    got = m.episodes()
    # episodes are recorded in the order they end: env 0 (step 2), env 2 (step 3), env 1 (step 4)
    for key, values in EXPECTED.items():
        assert got[key] == pytest.approx(values), key
    summary = m.summary()
    for key, values in EXPECTED.items():
        mean = sum(values) / 3
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)  # population std
        assert summary[key]["mean"] == pytest.approx(mean)
        assert summary[key]["std"] == pytest.approx(std)
    assert summary["alive"]["mean"] == pytest.approx(3.0)


def test_a_time_out_counts_as_the_full_episode_even_when_early():
    # env 1 ends by a time-out at step 2 (Isaac Lab flags e.g. Spot's out-of-bounds as a time-out)
    steps = [STEPS[0], (STEPS[1][0], STEPS[1][1], [1, 0, 0], [0, 1, 0]), STEPS[2]]
    m = run(steps, max_steps=1000)
    alive = dict(zip(("env0", "env1", "env2"), m.episodes()["alive"]))
    assert alive == {"env0": 2.0, "env1": 1000.0, "env2": 3.0}
    assert m.episodes()["l_mae"][1] == pytest.approx((0.5 + 0.0) / 2)  # mean over the 2 steps lived


def test_a_fall_on_the_time_out_step_is_a_fall():
    m = EpisodeMetrics(1, 1, 5)
    for k in range(3):
        m.step(t([[1.0, 0.0, 0.0]]), t([[1.0, 0.0]]), t([0.0]), b([k == 2]), b([k == 2]))
    assert m.episodes()["alive"] == [3.0]


def test_each_env_counts_only_its_first_episodes():
    m = run(STEPS, per_env=2)
    assert not m.done  # env 1 and env 2 have one episode each so far
    assert len(m.episodes()["alive"]) == 3
    # env 0's second episode (steps 3-4) is still open: no fourth row until it ends
    m.step(CMD, t([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), t([0.5, -1.0, 0.0]), b([1, 1, 1]), b([0, 0, 0]))
    assert m.done
    assert m.episodes()["alive"][3:] == [3.0, 1.0, 2.0]  # env 0: steps 3-5; env 1: step 5; env 2: 4-5


def test_no_episode_gives_nan():
    s = summarize(EpisodeMetrics(2, 1, 10).episodes())
    assert math.isnan(s["alive"]["mean"]) and math.isnan(s["l_mae"]["std"])
