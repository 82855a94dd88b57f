"""Isaac Lab's own rsl-rl PPO on a task, at the budget of a run of ours: the reference beside our PPO.

    python -m benchmark.rsl_rl_reference --task cartpole --num-envs 64 --timesteps 960 [--seed 0]
    python -m benchmark.rsl_rl_reference --exp tasks_cpu      # every PPO run of the experiment

Runs Isaac Lab's training entry point (``isaaclab train --rl_library rsl_rl``) with the task's own
rsl-rl agent configuration, on the CPU, the task's physics preset selected by name as our runs do
(``physics=newton_mjwarp``), on the asset root our runs use, for as many iterations as cover the
same environment steps (``ceil(timesteps / num_steps_per_env)``). rsl-rl logs each iteration's mean
training return (its stochastic policy, the last 100 episodes) and its iteration time; both are kept
in ``<out>/rsl_rl/<task>-n<envs>-t<timesteps>-s<seed>.json``. A task whose offline assets need
config edits (:func:`tasks.isaaclab_env.apply_offline_edits`: ANYmal's actuator model) is not run:
Isaac Lab's entry point would not apply them; the file says so. A finished file is not redone.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark.store import DEFAULT_ROOT, Store, read_json
from tasks.errors import UserError, cli_main

_PLAIN = re.compile(r"\x1b\[[0-9;]*m")


def steps_per_iteration(isaaclab_id: str) -> int:
    """``num_steps_per_env`` of the task's registered rsl-rl configuration (a preset's default)."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    with contextlib.redirect_stdout(io.StringIO()):
        import isaaclab_contrib  # noqa: F401, PLC0415 (registers the contributed tasks)
        import isaaclab_tasks  # noqa: F401, PLC0415
        from isaaclab_tasks.utils import PresetCfg  # noqa: PLC0415
        from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry  # noqa: PLC0415

        cfg = load_cfg_from_registry(isaaclab_id, "rsl_rl_cfg_entry_point")
    return int((cfg.default if isinstance(cfg, PresetCfg) else cfg).num_steps_per_env)


def parse_log(text: str) -> dict:
    """Per-iteration mean return, episode length and iteration time from rsl-rl's console log."""
    text = _PLAIN.sub("", text)

    def numbers(label: str) -> list[float]:
        return [float(x) for x in re.findall(rf"{label}:\s*(-?[0-9.]+(?:e-?\d+)?)", text)]

    return {"mean_reward": numbers("Mean reward"), "mean_episode_length": numbers("Mean episode length"),
            "iteration_time_s": numbers("Iteration time")}


def run(task_name: str, num_envs: int, timesteps: int, seed: int, store: Store) -> dict:
    """Run (or read back) the reference for one task and budget; returns its record."""
    from tasks.assets import select_asset_root  # noqa: PLC0415
    from tasks.isaaclab_env import apply_offline_edits, load_env_cfg  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(task_name)
    path = store.rsl_rl_reference(task.name, num_envs, timesteps, seed)
    done = read_json(path)
    if done and done.get("status") in ("finished", "not run"):
        return done
    source = select_asset_root("auto")  # the child inherits ISAACSIM_ASSET_ROOT
    record = {"task": task.name, "isaaclab_id": task.isaaclab_id, "num_envs": num_envs, "timesteps": timesteps,
              "seed": seed, "asset_root": source.kind, "physics": task.physics}
    edits = apply_offline_edits(task, load_env_cfg(task, num_envs=1, device="cpu", seed=seed), source)
    if edits:
        record.update(status="not run", reason="the offline assets need config edits Isaac Lab's entry point does "
                                               "not apply: " + "; ".join(edits))
        store.write_reference(path, record)
        return record
    per_iteration = steps_per_iteration(task.isaaclab_id)
    iterations = math.ceil(timesteps / per_iteration)
    cmd = [str(Path(sys.executable).with_name("isaaclab")), "train", "--rl_library", "rsl_rl", "--task",
           task.isaaclab_id, "--num_envs", str(num_envs), "--device", "cpu", "--max_iterations", str(iterations),
           "--seed", str(seed), "agent.device=cpu", f"physics={task.physics}"]
    record.update(command=" ".join(cmd[1:]), steps_per_iteration=per_iteration, iterations=iterations,
                  env_steps=iterations * per_iteration * num_envs)
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="rsl_rl_") as workdir:
        out = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=os.environ.copy())
    log = parse_log(out.stdout + out.stderr)
    record.update(wall_time_s=round(time.time() - start, 1), **log)
    if out.returncode != 0 or len(log["mean_reward"]) < iterations:
        record.update(status="failed", error=_PLAIN.sub("", out.stdout + out.stderr)[-3000:])
    else:
        steady = log["iteration_time_s"][1:] or log["iteration_time_s"]
        record.update(status="finished", final_mean_reward=log["mean_reward"][-1],
                      env_steps_per_s=round(per_iteration * num_envs / (sum(steady) / len(steady)), 1))
    store.write_reference(path, record)
    return record


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.rsl_rl_reference", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", help="every PPO run of this experiment (its task, environments and budget)")
    parser.add_argument("--task")
    parser.add_argument("--num-envs", type=int)
    parser.add_argument("--timesteps", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    if args.exp:
        from benchmark.manifest import load  # noqa: PLC0415

        jobs = sorted({(r.task, r.num_envs, r.timesteps, r.seed) for r in load(args.exp).runs if r.algo == "ppo"})
    elif args.task and args.num_envs and args.timesteps:
        jobs = [(args.task, args.num_envs, args.timesteps, args.seed)]
    else:
        raise UserError("give --exp, or --task, --num-envs and --timesteps")
    failed = 0
    for task, num_envs, timesteps, seed in jobs:
        record = run(task, num_envs, timesteps, seed, Store(args.out))
        failed += record["status"] == "failed"
        detail = (f"final mean training return {record['final_mean_reward']:.3f}, {record['env_steps_per_s']:,.0f} "
                  "env-steps/s" if record["status"] == "finished" else record.get("reason", "see the file"))
        print(f"{task} n{num_envs} t{timesteps}: {record['status']}; {detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
