"""Throughput of this harness's PPO loop against Isaac Lab's own rsl-rl training entry point.

    python -m benchmark.perf_ppo [--iterations 60] [--num-envs 1024] [--repeats 1]

Both train PPO on the real ``Isaac-Cartpole-Direct`` on the CPU, 1024 environments, with the same
network (actor and critic [32, 32], ELU, observation normalization) and the review's Table 11
settings (16 rollouts, 8 epochs, 8 mini-batches, adaptive learning rate toward KL 0.008). Each runs
in its own process, one after the other. Reported: steady-state env-steps per second (iterations
after the warm-up ones; each side's own per-iteration wall time: rsl-rl's "Iteration time", our
metrics-file clock, which also pays for our CSV and TensorBoard writes) and the ratio ours/theirs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmark.store import RunDir
from tasks.assets import select_asset_root

ROOT = Path(__file__).resolve().parent.parent
ROLLOUTS = 16


def rsl_rl_overrides(num_envs: int, iterations: int) -> list[str]:
    return [
        "--rl_library", "rsl_rl", "--task", "Isaac-Cartpole-Direct", "--num_envs", str(num_envs),
        "--device", "cpu", "--max_iterations", str(iterations), "--seed", "0",
        "agent.device=cpu",
        f"agent.num_steps_per_env={ROLLOUTS}",
        "agent.algorithm.num_learning_epochs=8",
        "agent.algorithm.num_mini_batches=8",
        "agent.algorithm.learning_rate=0.0003",
        "agent.algorithm.desired_kl=0.008",
        "agent.algorithm.value_loss_coef=2.0",
        "agent.algorithm.entropy_coef=0.0",
        "agent.algorithm.max_grad_norm=1.0",
        "agent.actor.obs_normalization=true",
        "agent.critic.obs_normalization=true",
    ]


def run_rsl_rl(num_envs: int, iterations: int, warmup: int, workdir: Path) -> float:
    isaaclab = Path(sys.executable).with_name("isaaclab")
    out = subprocess.run([str(isaaclab), "train", *rsl_rl_overrides(num_envs, iterations)], cwd=workdir,
                         capture_output=True, text=True, env=os.environ.copy())
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    times = [float(x) for x in re.findall(r"Iteration time:\s*([0-9.]+)s", text)]
    if out.returncode != 0 or len(times) < iterations:
        raise RuntimeError(f"rsl-rl run failed (exit {out.returncode}):\n{text[-3000:]}")
    return ROLLOUTS * num_envs / statistics.mean(times[warmup:])


def run_ours(num_envs: int, iterations: int, warmup: int, workdir: Path) -> float:
    import pandas as pd  # noqa: PLC0415

    run_dir = workdir / "ours"
    cmd = [sys.executable, "-m", "benchmark.train", "--task", "cartpole", "--algo", "ppo", "--num-envs",
           str(num_envs), "--seed", "0", "--timesteps", str(ROLLOUTS * iterations), "--run-dir", str(run_dir),
           "--eval-episodes", "1", "--no-progress"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"harness run failed (exit {out.returncode}):\n{(out.stdout + out.stderr)[-3000:]}")
    wall = pd.read_csv(RunDir(run_dir).metrics_path)["wall_time_s"].to_numpy()
    per_iteration = (wall[-1] - wall[warmup - 1]) / (len(wall) - warmup)
    return ROLLOUTS * num_envs / per_iteration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf_ppo", description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5, help="first iterations left out of the mean")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    source = select_asset_root("auto")  # both processes inherit the same ISAACSIM_ASSET_ROOT
    print(f"Isaac-Cartpole-Direct, {args.num_envs} envs, CPU, {args.iterations} PPO iterations of "
          f"{ROLLOUTS} steps, assets: {source.kind}")
    rows = []
    for rep in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="perf_ppo_") as tmp:
            theirs = run_rsl_rl(args.num_envs, args.iterations, args.warmup, Path(tmp))
            ours = run_ours(args.num_envs, args.iterations, args.warmup, Path(tmp))
        rows.append((ours, theirs))
        print(f"repeat {rep}: harness (skrl PPO) {ours:,.0f} env-steps/s | Isaac Lab rsl-rl {theirs:,.0f} "
              f"env-steps/s | ratio {ours / theirs:.3f}")
    ours_mean = statistics.mean(r[0] for r in rows)
    theirs_mean = statistics.mean(r[1] for r in rows)
    print(f"mean: harness {ours_mean:,.0f} env-steps/s, rsl-rl {theirs_mean:,.0f} env-steps/s, "
          f"ratio {ours_mean / theirs_mean:.3f} (target >= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
