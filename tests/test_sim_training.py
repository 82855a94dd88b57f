"""End to end on the real Isaac Lab (kit-less Newton, CPU): learning, results, resume, skip."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.sim


def _train(cli, run_dir, algo, *extra):
    return cli("benchmark.train", "--task", "cartpole", "--algo", algo, "--seed", "0", "--device", "cpu",
               "--run-dir", str(run_dir), "--no-progress", *extra)


PPO_STEPS = ("--num-envs", "1024", "--timesteps", "1440", "--start-eval-episodes", "1024")


def test_ppo_learns_cartpole_and_a_rerun_does_nothing(cli, tmp_path):
    """PPO on the review's Table 11 settings, judged on 1024 evaluation episodes before and after.

    Measured here (seeds 0 and 1; seed 0 the same numbers at 1 and 2 threads): untrained -8.30 and -1.10,
    after 1440 steps 4.82 +- 0.63 and 4.92 +- 0.27 against the bar of 4.0 (20 % margin); at 1120
    steps seed 0 reached 4.56, so the budget is past the point where the curve flattens. The review
    reports 4.72 +- 0.06 (Table 4); Isaac Lab's own rsl-rl reaches ~4.9 here."""
    run_dir = tmp_path / "ppo"
    result = _train(cli, run_dir, "ppo", *PPO_STEPS)
    assert result.returncode == 0, result.stdout + result.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished"
    assert meta["final_eval"]["return_mean"] >= 4.0
    assert meta["start_eval"]["return_mean"] < meta["final_eval"]["return_mean"] - 3.0  # learnt, not a lucky seed
    assert meta["final_eval"]["episodes"] == meta["start_eval"]["episodes"] == 1024
    assert meta["task"]["isaaclab_id"] == "Isaac-Cartpole-Direct" and meta["device"] == "cpu"
    assert meta["asset_source"]["kind"] in ("same-model", "cloud", "user")
    assert meta["physics"]["preset"] == "newton_mjwarp" and meta["physics"]["manager"] == "NewtonCfg"
    assert meta["versions"]["isaaclab"] == "3.0.0" and meta["versions"]["skrl"] == "2.1.1"
    assert meta["agent_config"]["values"]["rollouts"] == 16
    assert meta["created_at"] and meta["ended_at"] and meta["attempts"][0]["started_at"]
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert metrics["timestep"].tolist() == list(range(16, 1441, 16))
    assert metrics["env_steps"].iloc[-1] == 1440 * 1024
    assert metrics[["loss_policy_loss", "loss_value_loss"]].notna().all().all()
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))
    assert (run_dir / "checkpoints" / "ckpt_1440.pt").exists()
    assert len(json.loads((run_dir / "eval.json").read_text())["returns"]) == 1024
    assert len(json.loads((run_dir / "eval_start.json").read_text())["returns"]) == 1024

    before = (run_dir / "run.json").read_text()
    again = _train(cli, run_dir, "ppo", *PPO_STEPS)
    assert again.returncode == 0 and "already finished, nothing to do" in again.stdout
    assert (run_dir / "run.json").read_text() == before


# (diffusion steps, bar): the review profile's other values; K below the defaults (DPPO 20, FPO++
# 64) for CI's time, 1600 steps of 1024 environments each
ON_POLICY_DIFFUSION = {"dppo": (5, 4.0), "fpopp": (16, 1.0)}


@pytest.mark.parametrize("algo", ON_POLICY_DIFFUSION)
def test_dppo_and_fpopp_learn_cartpole(cli, tmp_path, algo):
    """DPPO and FPO++ at the review profile (Table 11's rollouts, epochs, clip, KL-adaptive rate),
    judged on 1024 evaluation episodes before and after 1600 steps of 1024 environments.

    Measured here at 1 torch thread (seeds 0 and 1): DPPO (K = 5) 4.70 and 4.82, episodes of 287-296
    of 300 steps (untrained: -13.25 and -6.80), bar 4.0 (17 % margin); FPO++ (16 Euler
    steps) 1.60 and 1.80, its episodes still 107-120 steps long (untrained, seed 1: -17.56), bar 1.0
    (60 % margin): it learns, more slowly than PPO, GenPO and DPPO at this budget. At a fixed rate of
    3e-4 (the originals' rule at Table 10's rate) the training return was -1.29 (DPPO, step 1264) and
    -1.58 (FPO++, step 1008), where the adaptive rate had it at 3.08 and 0.29."""
    steps, bar = ON_POLICY_DIFFUSION[algo]
    run_dir = tmp_path / algo
    result = _train(cli, run_dir, algo, "--num-envs", "1024", "--timesteps", "1600", "--start-eval-episodes", "1024",
                    "--set", f"diffusion_steps={steps}")
    assert result.returncode == 0, result.stdout + result.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished" and meta["agent_config"]["values"]["diffusion_steps"] == steps
    assert meta["final_eval"]["return_mean"] >= bar
    assert meta["start_eval"]["return_mean"] < meta["final_eval"]["return_mean"] - 3.0
    assert pd.read_csv(run_dir / "metrics.csv")["loss_policy_loss"].notna().all()


# the off-policy diffusion agents' updates are costlier on the CPU: shorter runs, and smaller batches
# than the review's 4096 (QVPO samples 64 chains for each state of a batch)
SHORT = {"ddpg": 64, "td3": 64, "sac": 64, "dipo": 32, "qvpo": 32, "dacer": 32}
SMALL_BATCH = ("--set", "batch_size=256")


@pytest.mark.parametrize("algo", SHORT)
def test_off_policy_short_run(cli, tmp_path, algo):
    run_dir = tmp_path / algo
    result = _train(cli, run_dir, algo, "--num-envs", "256", "--timesteps", str(SHORT[algo]),
                    "--eval-episodes", "256", *(SMALL_BATCH if algo in ("dipo", "qvpo", "dacer") else ()))
    assert result.returncode == 0, result.stdout + result.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished"
    assert math.isfinite(meta["final_eval"]["return_mean"])
    metrics = pd.read_csv(run_dir / "metrics.csv")
    losses = [c for c in metrics.columns if c.startswith("loss_")]
    assert "loss_critic_loss" in losses and "loss_policy_loss" in losses
    values = metrics[losses].to_numpy().ravel()
    values = values[~pd.isna(values)]
    assert len(values) and all(math.isfinite(v) for v in values)
    assert (run_dir / "eval.json").exists()


def test_sigkill_then_rerun_resumes_from_the_checkpoint_with_its_replay_memory(cli, tmp_path):
    run_dir = tmp_path / "resume"
    args = ["--task", "cartpole", "--algo", "sac", "--num-envs", "64", "--timesteps", "192", "--eval-episodes", "64",
            "--threads", "1"]
    cmd = [sys.executable, "-m", "benchmark.train", *args, "--run-dir", str(run_dir), "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not list((run_dir / "checkpoints").glob("ckpt_*.pt")):
        assert proc.poll() is None and time.time() < deadline, "training ended before its first checkpoint"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "running"  # killed: never looks finished
    assert not (run_dir / "eval.json").exists()
    assert list((run_dir / "checkpoints").glob("memory_*.pt"))  # the replay memory, beside the newest checkpoint

    result = _train(cli, run_dir, "sac", *args[4:])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "interrupted earlier, resuming from" in result.stdout
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished"
    resumed = meta["attempts"][1]
    assert len(meta["attempts"]) == 2 and resumed["resumed_from_timestep"] >= 16 and "recovered" not in resumed
    per_env = meta["agent_config"]["values"]["memory_size"]
    assert resumed["replay_memory_restored"] == min(resumed["resumed_from_timestep"], per_env) * 64
    assert meta["determinism"]["torch_threads"] == 1
    steps = pd.read_csv(run_dir / "metrics.csv")["timestep"].tolist()
    assert steps == sorted(set(steps)) and steps[-1] == 192
    assert not list((run_dir / "checkpoints").glob("memory_*"))  # a finished run keeps no replay memory


def test_injected_nan_ends_the_run_as_diverged_with_metrics_kept(cli, tmp_path):
    run_dir = tmp_path / "nan"
    # a learning rate of 1e30 (in range: > 0) blows the first update's parameters up: its loss is NaN
    result = _train(cli, run_dir, "ppo", "--num-envs", "64", "--timesteps", "64", "--set", "actor_lr=1e30")
    assert result.returncode == 0, result.stdout + result.stderr  # a diverged run is a result, not a crash
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "diverged"
    assert meta["divergence"]["timestep"] == 16 and "nan" in meta["divergence"]["reason"]
    assert "final_eval" not in meta and not (run_dir / "eval.json").exists()
    assert pd.read_csv(run_dir / "metrics.csv")["timestep"].tolist() == [16]
    again = _train(cli, run_dir, "ppo", "--num-envs", "64", "--timesteps", "64", "--set", "actor_lr=1e30")
    assert "already diverged, nothing to do" in again.stdout


def test_genpo_learns_cartpole(cli, tmp_path):
    """GenPO at the review's Table 11 settings (K = 5), 640 vectorized steps of 1024 environments.

    Measured here (seed 0, identical at 1 and 2 threads): 4.90 +- 0.26 over 1024 evaluation episodes
    against the bar of 3.0 (63 % margin); the review reports 3.79 +- 1.45 (Table 4)."""
    run_dir = tmp_path / "genpo"
    result = _train(cli, run_dir, "genpo", "--num-envs", "1024", "--timesteps", "640")  # solved by ~450 here
    assert result.returncode == 0, result.stdout + result.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished"
    assert meta["final_eval"]["return_mean"] >= 3.0
    assert meta["agent_config"]["values"]["diffusion_steps"] == 5
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert metrics["loss_compression_loss"].notna().all()
