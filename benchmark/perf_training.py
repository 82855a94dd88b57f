"""Whole training steps, eager against compiled: env-steps per second of short real training runs.

    python -m benchmark.perf_training [--task cartpole] [--num-envs 1024] [--algos ppo dipo dacer genpo]
                                      [--timesteps 96] [--device cpu] [--out results/perf]

Each algorithm trains on the real Isaac Lab task twice, once with ``--compile off`` and once with
``--compile on`` (:mod:`agents.execution`), each run in its own process and run directory under
``<out>/training-runs``; the rate is environment steps per second of training wall time after the
first log interval (which holds the warm-up and, compiled, the compilation): simulator, acting,
storing and learning together, what a sweep pays. Writes ``<out>/perf_training.csv`` and
``<out>/perf_training.png``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from benchmark.store import DEFAULT_ROOT, RunDir, Store, write_figure, write_text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ALGOS = ("ppo", "dipo", "dacer", "genpo")  # QVPO: seconds per step on a CPU, use --algos qvpo on CUDA


def steady_rate(run: RunDir) -> float:
    """Env-steps per second over the run's log rows after the first."""
    rows = run.read_metrics()
    if len(rows) < 2:
        raise RuntimeError(f"{run.path}: fewer than two log rows; give more --timesteps")
    steps = float(rows[-1]["env_steps"]) - float(rows[0]["env_steps"])
    return steps / (float(rows[-1]["wall_time_s"]) - float(rows[0]["wall_time_s"]))


def train(algo: str, mode: str, args, store: Store) -> RunDir:
    run = RunDir(store.root / "training-runs" / f"{algo}-{mode}")
    shutil.rmtree(run.path, ignore_errors=True)
    cmd = [sys.executable, "-m", "benchmark.train", "--task", args.task, "--algo", algo, "--num-envs",
           str(args.num_envs), "--timesteps", str(args.timesteps), "--seed", "0", "--device", args.device,
           "--compile", mode, "--eval-episodes", "1", "--run-dir", str(run.path), "--no-progress"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{(out.stdout + out.stderr)[-3000:]}")
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf_training", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="cartpole")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--algos", nargs="+", default=list(DEFAULT_ALGOS))
    parser.add_argument("--timesteps", type=int, default=96, help="vectorized steps per run (6 log rows of 16)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT / "perf")
    args = parser.parse_args(argv)
    store = Store(args.out)
    rows = []
    print(f"{args.task}, {args.num_envs} envs, {args.device}: env-steps/s after the first log interval")
    for algo in args.algos:
        rates = {mode: steady_rate(train(algo, mode, args, store)) for mode in ("off", "on")}
        rows.append({"algo": algo, "eager_env_steps_per_s": rates["off"], "compiled_env_steps_per_s": rates["on"],
                     "speedup": rates["on"] / rates["off"], "task": args.task, "num_envs": args.num_envs,
                     "device": args.device})
        print(f"{algo:6} eager {rates['off']:10.0f}   compiled {rates['on']:10.0f}   x{rates['on'] / rates['off']:.2f}",
              flush=True)
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    frame = pd.DataFrame(rows)
    csv = write_text(args.out / "perf_training.csv", frame.to_csv(index=False))
    fig, ax = plt.subplots(figsize=(1.6 * len(rows) + 2, 4))
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], frame["eager_env_steps_per_s"], width=0.4, label="eager")
    ax.bar([i + 0.2 for i in x], frame["compiled_env_steps_per_s"], width=0.4, label="compiled")
    ax.set_xticks(list(x), frame["algo"])
    ax.set_ylabel("env-steps / s (training)")
    ax.set_title(f"whole training steps, {args.task}, {args.num_envs} envs, {args.device}", fontsize=10)
    ax.legend()
    print(f"{csv}\n{write_figure(fig, args.out / 'perf_training.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
