"""Train one agent on one Isaac Lab task and leave a complete run directory.

    python -m benchmark.train --task cartpole --algo ppo --num-envs 1024 --seed 0 --device cpu

Re-running the same command on a finished run does nothing; on an interrupted or failed one it
resumes from the newest checkpoint. See :mod:`benchmark.rundir` for what the directory holds.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from benchmark import provenance
from tasks.errors import cli_main
from benchmark.rundir import DONE_STATUSES, RunDir, atomic_write_json
from benchmark.spec import DEFAULT_EVAL_EPISODES, RunSpec, positive, validate_device
from tasks.assets import MODES

DEFAULT_ROOT = Path("results") / "runs"


def log_interval(cfg) -> int:
    """One metrics row per PPO iteration (``rollouts`` steps); off-policy agents use 16 steps."""
    return int(cfg.values.get("rollouts", 16))


def _initial_meta(spec: RunSpec, cfg, device: str) -> dict[str, Any]:
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(spec.task)
    return {
        "run_id": spec.run_id,
        "status": "running",
        "spec": spec.identity(),
        "task": {"name": task.name, "isaaclab_id": task.isaaclab_id, "isaaclab2_id": task.isaaclab2_id,
                 "group": task.group, "paper_name": task.paper_name},
        "algo": spec.algo,
        "seed": spec.seed,
        "num_envs": spec.num_envs,
        "timesteps": spec.timesteps,
        "total_env_steps": spec.timesteps * spec.num_envs,
        "device": device,
        "agent_config": cfg.to_json(),
        "versions": provenance.package_versions(),
        "git": provenance.git_state(),
        "machine": provenance.machine(),
        "created_at": provenance.now(),
        "attempts": [],
    }


def execute(spec: RunSpec, run: RunDir, *, device: str = "cpu", asset_mode: str = "auto",
            progress: bool = True) -> dict[str, Any]:
    """Train, evaluate and finish ``spec`` in ``run`` (resuming if it was interrupted)."""
    from skrl.utils import set_seed  # noqa: PLC0415

    from agents.interface import init_for_loop  # noqa: PLC0415
    from agents.registry import build_agent  # noqa: PLC0415
    from benchmark import loop  # noqa: PLC0415
    from benchmark.policy_eval import evaluate  # noqa: PLC0415
    from tasks.isaaclab_env import open_env  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    cfg = spec.agent_config()
    with run.lock():
        meta = run.read_meta() or _initial_meta(spec, cfg, device)
        attempt = {"started_at": provenance.now(), "device": device, "git": provenance.git_state()}
        meta["attempts"].append(attempt)
        meta.update(status="running", device=device)
        meta.pop("error", None)
        run.write_meta(meta)
        try:
            set_seed(spec.seed)
            with open_env(get_task(spec.task), num_envs=spec.num_envs, device=device, seed=spec.seed,
                          asset_mode=asset_mode) as handle:
                meta.update(handle.record)  # physics preset and asset provenance (tasks.isaaclab_env.env_record)
                meta["env"] = {"obs_dim": handle.obs_dim, "act_dim": handle.act_dim,
                               "max_episode_length": handle.max_episode_length}
                run.write_meta(meta)
                agent = build_agent(spec.algo, cfg, observation_space=handle.env.observation_space,
                                    action_space=handle.env.action_space, num_envs=handle.num_envs,
                                    device=device)
                init_for_loop(agent)
                start, wall = loop.restore_checkpoint(agent, run)
                attempt["resumed_from_timestep"] = start
                every = log_interval(cfg)
                settings = loop.LoopSettings(
                    timesteps=spec.timesteps, log_interval=every,
                    checkpoint_interval=max(every, (spec.timesteps // 10) // every * every),
                    progress=progress,
                )
                if start < spec.timesteps:
                    loop.train(agent, handle.env, handle.num_envs, settings, run, start_timestep=start,
                               wall_offset=wall)
                result = evaluate(agent, handle.env, handle.unwrapped, episodes=spec.eval_episodes,
                                  max_episode_length=handle.max_episode_length)
                atomic_write_json(run.eval_path, result)
                meta["final_eval"] = {k: v for k, v in result.items() if k != "returns"}
                meta["status"] = "finished"
        except loop.Diverged as err:
            meta["status"] = "diverged"
            meta["divergence"] = {"timestep": err.timestep, "reason": err.reason}
        except BaseException as err:
            meta["status"] = "failed"
            meta["error"] = {"type": type(err).__name__, "message": str(err),
                             "traceback": traceback.format_exc(limit=20)}
            raise
        finally:
            attempt["ended_at"] = meta["ended_at"] = provenance.now()
            attempt["status"] = meta["status"]
            run.write_meta(meta)  # the status is the last thing written
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark.train", description=__doc__.split("\n")[0])
    p.add_argument("--task", required=True, help="short task name (python -m tasks.list)")
    p.add_argument("--algo", required=True, help="ppo, ddpg, td3 or sac")
    p.add_argument("--num-envs", type=int, default=None, help="parallel environments (default: the review's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="vectorized steps per environment (default: the task's budget in tasks/tasks.csv)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override an agent setting, e.g. --set actor_lr=0.001 (repeatable)")
    p.add_argument("--eval-episodes", type=int, default=DEFAULT_EVAL_EPISODES)
    p.add_argument("--out", type=Path, default=DEFAULT_ROOT, help="root of run directories")
    p.add_argument("--run-dir", type=Path, default=None, help="exact run directory (default: OUT/<run id>)")
    p.add_argument("--assets", default="auto", choices=MODES,
                   help="asset root: auto (cloud if reachable, else local stand-ins), local or cloud")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice; use 1 when several runs share the cores)")
    p.add_argument("--no-progress", action="store_true")
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    from agents.config import parse_override  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    overrides = dict(parse_override(s) for s in args.set)
    spec = RunSpec.create(task=args.task, algo=args.algo, num_envs=args.num_envs, seed=args.seed,
                          timesteps=args.timesteps, overrides=overrides, eval_episodes=args.eval_episodes)
    device = validate_device(args.device)
    if args.threads is not None:
        import torch  # noqa: PLC0415

        torch.set_num_threads(positive("number of threads", args.threads))
    run = RunDir(args.run_dir or spec.run_dir(args.out))
    status = run.status()
    if status in DONE_STATUSES:
        print(f"{spec.run_id}: already {status}, nothing to do ({run.path})")
        return 0
    if status in ("interrupted", "failed"):
        print(f"{spec.run_id}: {status} earlier, resuming from {run.latest_checkpoint() or 'the start'}")
    meta = execute(spec, run, device=device, asset_mode=args.assets, progress=not args.no_progress)
    ev = meta.get("final_eval") or {}
    detail = f"final eval return {ev['return_mean']:.3f} over {ev['episodes']} episodes" if ev else \
        f"{meta.get('divergence')}"
    print(f"{spec.run_id}: {meta['status']}; {detail}; {run.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
