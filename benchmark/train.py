"""Train one agent on one Isaac Lab task and leave a complete run directory.

    python -m benchmark.train --task cartpole --algo ppo --num-envs 1024 --seed 0 --device cpu
    python -m benchmark.train --run-dir results/runs/<run id>     # a run the sweep runner planned

Given a task and an algorithm, the run is planned here (its spec and resolved config written into
its directory); given only ``--run-dir``, the run is the one that directory already holds: the
training process reads its spec and config from there, as data. Re-running a finished run does
nothing; an interrupted or failed one resumes from its newest whole checkpoint
(:mod:`benchmark.resume`), and its attempt in ``run.json`` says what it resumed from and any
damaged file it had to pass over. A run another process holds is not touched (exit 2). A full disk
ends the run as ``failed`` with a message naming the file (exit 1). See :mod:`benchmark.store`
for what the directory holds.
"""

from __future__ import annotations

import argparse
import errno
import sys
import traceback
from pathlib import Path
from typing import Any

from benchmark import provenance
from benchmark.spec import DEFAULT_EVAL_EPISODES, RunSpec, positive, validate_device
from benchmark.store import DEFAULT_ROOT, DONE_STATUSES, RunDir, Store, set_aside
from agents.execution import MODES as COMPILE_MODES
from tasks.assets import MODES
from tasks.errors import UserError, cli_main


def log_interval(cfg) -> int:
    """One metrics row per on-policy iteration (``rollouts`` steps); off-policy agents use 16 steps."""
    from agents.settings import OnPolicyConfig  # noqa: PLC0415

    return cfg.rollouts if isinstance(cfg, OnPolicyConfig) else 16


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def plan_run(run: RunDir, spec: RunSpec) -> None:
    """Write ``spec`` and its resolved config into ``run`` unless it already holds that run. A
    damaged ``run.json`` (torn, not JSON) is set aside and rebuilt from ``spec``; the next attempt
    records that (``recovered``); its checkpoints and metrics are still resumed from."""
    problem = run.meta_problem()
    if problem is not None:
        try:
            kept = set_aside(run.meta_path)
        except FileNotFoundError:  # another sweep set it aside first
            pass
        except OSError as err:
            raise UserError(f"run directory {str(run.path)!r} cannot be read: {problem}; {err}") from None
        else:
            print(f"{run.run_id}: {run.meta_path.name} is damaged ({problem}); kept as {kept}, rebuilt from the plan",
                  file=sys.stderr)
            meta = spec.initial_meta()
            meta["recovered"] = [(f"{run.meta_path.name} was damaged ({problem}); kept as {kept.name} (with the "
                                  "earlier attempts) and rebuilt from the plan")]
            run.create_meta(meta)
    meta = run.read_meta()
    if meta is None:
        run.create_meta(spec.initial_meta())  # not over one another sweep has just written
        meta = run.read_meta() or {}
    if meta.get("run_id") != spec.run_id:
        raise UserError(f"invalid run directory {str(run.path)!r}: it holds run {meta.get('run_id')!r}, not "
                        f"{spec.run_id!r}; valid: an empty directory or one of the same run")


def planned_spec(run: RunDir) -> RunSpec:
    """The spec and config a run directory holds, or a :class:`UserError` saying what is missing."""
    meta = run.read_meta()
    if meta is None:
        problem = run.meta_problem()
        raise UserError(f"invalid run directory {str(run.path)!r}: no readable {run.meta_path.name}"
                        f"{f' ({problem})' if problem else ''}; valid: a directory planned by benchmark.run, "
                        "or give --task and --algo")
    try:
        return RunSpec.from_meta(meta)
    except (KeyError, TypeError, AttributeError) as err:
        raise UserError(f"invalid run directory {str(run.path)!r}: its {run.meta_path.name} holds no valid run "
                        f"spec ({type(err).__name__}: {err}); valid: a directory planned by benchmark.run") from None


def error_record(err: BaseException) -> dict[str, str]:
    """What ``run.json`` keeps of the exception that ended a run; a full disk in plain words."""
    if isinstance(err, OSError) and err.errno in DISK_FULL:
        return {"type": "DiskFull", "message": f"the disk is full: {err.strerror}; once there is space, the sweep's "
                                               "--retry-failed (or benchmark.train --run-dir) resumes the run from "
                                               "its newest checkpoint"}
    return {"type": type(err).__name__, "message": str(err), "traceback": traceback.format_exc(limit=20)}


def begin_attempt(run: RunDir, meta: dict[str, Any], *, device: str, compile_mode: str) -> dict[str, Any]:
    """Record a new attempt in ``meta`` (status ``running``, provenance on the first) and write it;
    returns the attempt."""
    from agents import execution  # noqa: PLC0415

    if meta["status"] == "planned":
        meta.update(versions=provenance.package_versions(), git=provenance.git_state(),
                    machine=provenance.machine(), created_at=provenance.now())
    attempt = {"started_at": provenance.now(), "device": device, "git": provenance.git_state(),
               "compile": {"mode": compile_mode, "compiled": execution.use_compile(compile_mode, device)}}
    if meta.get("recovered"):
        attempt["recovered"] = meta.pop("recovered")
    meta["attempts"].append(attempt)
    meta.update(status="running", device=device)
    meta.pop("error", None)
    run.write_meta(meta)
    return attempt


def train_and_evaluate(run: RunDir, spec: RunSpec, meta: dict[str, Any], attempt: dict[str, Any], *, device: str,
                       asset_mode: str, progress: bool) -> None:
    """Build the task and the agent, resume or start, train, evaluate; fills ``meta`` and ``attempt``."""
    from agents import catalogue, execution  # noqa: PLC0415
    from agents.interface import init_for_loop  # noqa: PLC0415
    from benchmark import loop, resume  # noqa: PLC0415
    from benchmark.policy_eval import evaluate  # noqa: PLC0415
    from tasks.isaaclab_env import open_env  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    off_policy = not catalogue.get(spec.algo).on_policy
    with open_env(get_task(spec.task), num_envs=spec.num_envs, device=device, seed=spec.seed,
                  asset_mode=asset_mode) as handle:
        meta.update(handle.record)  # physics preset and asset provenance (tasks.isaaclab_env.env_record)
        meta["env"] = {"obs_dim": handle.obs_dim, "act_dim": handle.act_dim,
                       "max_episode_length": handle.max_episode_length}
        run.write_meta(meta)
        agent = catalogue.build_agent(spec.algo, spec.config, observation_space=handle.env.observation_space,
                                      action_space=handle.env.action_space, num_envs=handle.num_envs, device=device)
        init_for_loop(agent)
        execution.accelerate(agent, attempt["compile"]["compiled"])
        start = resume.restore(agent, run, timesteps=spec.timesteps, needs_memory=off_policy)
        attempt["resumed_from_timestep"] = start.timestep
        if start.memory_transitions is not None:
            attempt["replay_memory_restored"] = start.memory_transitions
        if start.notes:
            attempt.setdefault("recovered", []).extend(start.notes)

        def evaluated(episodes: int) -> dict[str, Any]:
            return evaluate(agent, handle.env, handle.unwrapped, episodes=episodes,
                            max_episode_length=handle.max_episode_length)

        if spec.start_eval_episodes and start.timestep == 0:
            handle.env.reset()  # the wrappers' first reset (evaluate resets the Isaac Lab env itself)
            first = evaluated(spec.start_eval_episodes)
            run.write_start_eval(first)
            meta["start_eval"] = {k: v for k, v in first.items() if k != "returns"}
        run.write_meta(meta)
        every = log_interval(spec.config.config)
        settings = loop.LoopSettings(timesteps=spec.timesteps, log_interval=every,
                                     checkpoint_interval=max(every, (spec.timesteps // 10) // every * every),
                                     progress=progress, save_memory=off_policy)
        if start.timestep < spec.timesteps:
            loop.train(agent, handle.env, handle.num_envs, settings, run, start_timestep=start.timestep,
                       wall_offset=start.wall_time_s, rng=start.rng)
        result = evaluated(spec.eval_episodes)
        run.write_final_eval(result)
        meta["final_eval"] = {k: v for k, v in result.items() if k != "returns"}


def execute(run: RunDir, *, device: str = "cpu", asset_mode: str = "auto", progress: bool = True,
            compile_mode: str = "auto") -> dict[str, Any]:
    """Train, evaluate and finish the run planned in ``run`` (resuming if it was interrupted)."""
    import torch  # noqa: PLC0415
    from skrl.utils import set_seed  # noqa: PLC0415

    from benchmark.loop import Diverged  # noqa: PLC0415

    with run.lock():
        meta = run.read_meta()
        if meta is None:
            raise UserError(f"invalid run directory {str(run.path)!r}: no readable {run.meta_path.name}")
        if meta.get("status") in DONE_STATUSES:  # another process finished it since we looked
            return meta
        spec = RunSpec.from_meta(meta)
        attempt = begin_attempt(run, meta, device=device, compile_mode=compile_mode)
        try:
            set_seed(spec.seed)
            torch.backends.cudnn.benchmark = False  # skrl's set_seed turns autotuning on: a source of drift
            meta["determinism"] = attempt["determinism"] = provenance.determinism()
            train_and_evaluate(run, spec, meta, attempt, device=device, asset_mode=asset_mode, progress=progress)
            meta["status"] = "finished"
        except Diverged as err:
            meta["status"] = "diverged"
            meta["divergence"] = {"timestep": err.timestep, "reason": err.reason}
        except BaseException as err:
            meta["status"] = "failed"
            meta["error"] = error_record(err)
            raise
        finally:
            attempt["ended_at"] = meta["ended_at"] = provenance.now()
            attempt["status"] = meta["status"]
            if meta["status"] in DONE_STATUSES:
                run.drop_memory()  # never resumed again: gigabytes back
            run.write_meta(meta)  # the status is the last thing written
    return meta


def build_parser() -> argparse.ArgumentParser:
    from agents import catalogue  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m benchmark.train", description=__doc__.split("\n")[0])
    p.add_argument("--task", help="short task name (python -m tasks.list)")
    p.add_argument("--algo", help=f"one of: {catalogue.help_text()}")
    p.add_argument("--num-envs", type=int, default=None, help="parallel environments (default: the review's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="vectorized steps per environment (default: the task's budget in tasks/tasks.csv)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override an agent setting, e.g. --set actor_lr=0.001 (repeatable)")
    p.add_argument("--eval-episodes", type=int, default=DEFAULT_EVAL_EPISODES)
    p.add_argument("--start-eval-episodes", type=int, default=0,
                   help="evaluate the untrained policy over this many episodes before training (default 0: no)")
    p.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="exact run directory (default: OUT/runs/<run id>); alone: the run planned there")
    p.add_argument("--assets", default="auto", choices=MODES,
                   help="asset root: auto (cloud if reachable, else local stand-ins), local or cloud")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice; use 1 when several runs share the cores)")
    p.add_argument("--compile", default="auto", choices=COMPILE_MODES,
                   help="compiled hot paths (torch.compile): auto (where measured faster: CUDA), on or off")
    p.add_argument("--no-progress", action="store_true")
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    from agents.settings import parse_override  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    device = validate_device(args.device)
    if args.task or args.algo:
        if not (args.task and args.algo):
            raise UserError("give both --task and --algo, or only --run-dir of a planned run")
        overrides = dict(parse_override(s) for s in args.set)
        spec = RunSpec.create(task=args.task, algo=args.algo, num_envs=args.num_envs, seed=args.seed,
                              timesteps=args.timesteps, overrides=overrides, eval_episodes=args.eval_episodes,
                              start_eval_episodes=args.start_eval_episodes)
        run = RunDir(args.run_dir) if args.run_dir else Store(args.out).run(spec.run_id)
        plan_run(run, spec)
    elif args.run_dir:
        run = RunDir(args.run_dir)
        spec = planned_spec(run)
    else:
        raise UserError("nothing to train: give --task and --algo, or --run-dir of a planned run")
    if args.threads is not None:
        import torch  # noqa: PLC0415

        torch.set_num_threads(positive("number of threads", args.threads))
    status = run.status()
    if status in DONE_STATUSES:
        print(f"{spec.run_id}: already {status}, nothing to do ({run.path})")
        return 0
    if status in ("interrupted", "failed"):
        print(f"{spec.run_id}: {status} earlier, resuming from {run.latest_checkpoint() or 'the start'}")
    try:
        meta = execute(run, device=device, asset_mode=args.assets, progress=not args.no_progress,
                       compile_mode=args.compile)
    except OSError as err:
        if err.errno not in DISK_FULL:
            raise
        print(f"error: {spec.run_id}: the disk is full ({err}); the run is marked failed, its checkpoints "
              "and the rest of the store are intact; once there is space, run it again (a sweep: --retry-failed)",
              file=sys.stderr)
        return 1
    if meta.get("attempts") and meta["attempts"][-1].get("recovered"):
        print(f"{spec.run_id}: " + "; ".join(meta["attempts"][-1]["recovered"]), file=sys.stderr)
    ev = meta.get("final_eval") or {}
    detail = f"final eval return {ev['return_mean']:.3f} over {ev['episodes']} episodes" if ev else \
        f"{meta.get('divergence')}"
    print(f"{spec.run_id}: {meta['status']}; {detail}; {run.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
