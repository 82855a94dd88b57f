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
from benchmark.record import Attempt, Evaluation, RunRecord, Status
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
            record = spec.initial_record()
            record.recovered = [(f"{run.meta_path.name} was damaged ({problem}); kept as {kept.name} (with the "
                                 "earlier attempts) and rebuilt from the plan")]
            run.create_record(record)
    record = run.read_record()
    if record is None:
        run.create_record(spec.initial_record())  # not over one another sweep has just written
        record = run.read_record()
    held = record.run_id if record is not None else None
    if held != spec.run_id:
        raise UserError(f"invalid run directory {str(run.path)!r}: it holds run {held!r}, not "
                        f"{spec.run_id!r}; valid: an empty directory or one of the same run")


def planned_spec(run: RunDir) -> RunSpec:
    """The spec and config a run directory holds, or a :class:`UserError` saying what is missing."""
    record = run.read_record()
    if record is None:
        problem = run.meta_problem()
        raise UserError(f"invalid run directory {str(run.path)!r}: no readable {run.meta_path.name}"
                        f"{f' ({problem})' if problem else ''}; valid: a directory planned by benchmark.run, "
                        "or give --task and --algo")
    try:
        return RunSpec.from_record(record)
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


def begin_attempt(run: RunDir, record: RunRecord, *, device: str, compile_mode: str) -> Attempt:
    """Add a new attempt to ``record`` (status ``running``, provenance on the first) and write it;
    returns the attempt."""
    from agents import execution  # noqa: PLC0415

    if record.status == Status.PLANNED:
        record.versions, record.git = provenance.package_versions(), provenance.git_state()
        record.machine, record.created_at = provenance.machine(), provenance.now()
    attempt = Attempt(started_at=provenance.now(), device=device, git=provenance.git_state(),
                      compile={"mode": compile_mode, "compiled": execution.use_compile(compile_mode, device)},
                      recovered=record.recovered)
    record.recovered = None
    record.attempts.append(attempt)
    record.status, record.device, record.error = Status.RUNNING, device, None
    run.write_record(record)
    return attempt


def train_and_evaluate(run: RunDir, spec: RunSpec, record: RunRecord, attempt: Attempt, *, device: str,
                       asset_mode: str, progress: bool) -> None:
    """Build the task and the agent, resume or start, train, evaluate; fills ``record`` and ``attempt``."""
    from agents import catalogue, execution  # noqa: PLC0415
    from agents.interface import init_for_loop  # noqa: PLC0415
    from benchmark import loop, resume  # noqa: PLC0415
    from benchmark.policy_eval import evaluate  # noqa: PLC0415
    from tasks.isaaclab_env import open_env  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    off_policy = not catalogue.get(spec.algo).on_policy
    with open_env(get_task(spec.task), num_envs=spec.num_envs, device=device, seed=spec.seed,
                  asset_mode=asset_mode, shifts=spec.shifts) as handle:
        record.physics = handle.record.get("physics")  # preset, manager, solver (tasks.isaaclab_env.env_record)
        record.asset_source = handle.record.get("asset_source")  # class, files and their provenance, config edits
        record.env = {"obs_dim": handle.obs_dim, "act_dim": handle.act_dim,
                      "max_episode_length": handle.max_episode_length, "shifts": handle.record.get("shifts", [])}
        run.write_record(record)
        agent = catalogue.build_agent(spec.algo, spec.config, observation_space=handle.env.observation_space,
                                      action_space=handle.env.action_space, num_envs=handle.num_envs, device=device)
        init_for_loop(agent)
        execution.accelerate(agent, attempt.compile["compiled"])
        start = resume.restore(agent, run, timesteps=spec.timesteps, needs_memory=off_policy)
        attempt.resumed_from_timestep = start.timestep
        attempt.replay_memory_restored = start.memory_transitions
        if start.notes:
            attempt.recovered = (attempt.recovered or []) + start.notes

        def evaluated(episodes: int) -> dict[str, Any]:
            return evaluate(agent, handle.env, handle.unwrapped, episodes=episodes,
                            max_episode_length=handle.max_episode_length)

        if spec.start_eval_episodes and start.timestep == 0:
            handle.env.reset()  # the wrappers' first reset (evaluate resets the Isaac Lab env itself)
            first = evaluated(spec.start_eval_episodes)
            run.write_start_eval(first)
            record.start_eval = Evaluation.from_json({k: v for k, v in first.items() if k != "returns"})
        run.write_record(record)
        every = log_interval(spec.config.config)
        settings = loop.LoopSettings(timesteps=spec.timesteps, log_interval=every,
                                     checkpoint_interval=max(every, (spec.timesteps // 10) // every * every),
                                     progress=progress, save_memory=off_policy)
        guard = None
        if spec.guard:
            from benchmark.guardrails import Guard, GuardConfig  # noqa: PLC0415

            guard = Guard(GuardConfig.parse(spec.task, dict(spec.guard)), spec.task, run, agent, handle.env,
                          handle.unwrapped, handle.max_episode_length, start_timestep=start.timestep)
        if start.timestep < spec.timesteps:
            loop.train(agent, handle.env, handle.num_envs, settings, run, start_timestep=start.timestep,
                       wall_offset=start.wall_time_s, rng=start.rng, guard=guard)
        result = evaluated(spec.eval_episodes)
        run.write_final_eval(result)
        record.final_eval = Evaluation.from_json({k: v for k, v in result.items() if k != "returns"})


def execute(run: RunDir, *, device: str = "cpu", asset_mode: str = "auto", progress: bool = True,
            compile_mode: str = "auto") -> RunRecord:
    """Train, evaluate and finish the run planned in ``run`` (resuming if it was interrupted)."""
    import torch  # noqa: PLC0415
    from skrl.utils import set_seed  # noqa: PLC0415

    from benchmark.loop import Diverged  # noqa: PLC0415

    with run.lock():
        record = run.read_record()
        if record is None:
            raise UserError(f"invalid run directory {str(run.path)!r}: no readable {run.meta_path.name}")
        if record.done:  # another process finished it since we looked
            return record
        spec = RunSpec.from_record(record)
        attempt = begin_attempt(run, record, device=device, compile_mode=compile_mode)
        try:
            set_seed(spec.seed)
            torch.backends.cudnn.benchmark = False  # skrl's set_seed turns autotuning on: a source of drift
            record.determinism = attempt.determinism = provenance.determinism()
            train_and_evaluate(run, spec, record, attempt, device=device, asset_mode=asset_mode, progress=progress)
            record.status = Status.FINISHED
        except Diverged as err:
            record.status = Status.DIVERGED
            record.divergence = {"timestep": err.timestep, "reason": err.reason}
        except BaseException as err:
            record.status = Status.FAILED
            record.error = error_record(err)
            raise
        finally:
            attempt.ended_at = record.ended_at = provenance.now()
            attempt.status = record.status
            if record.done:
                run.drop_memory()  # never resumed again: gigabytes back
            run.write_record(record)  # the status is the last thing written
    return record


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
    p.add_argument("--shift", action="append", default=[], metavar="NAME",
                   help="perturb the task (tasks/shifts.py, e.g. pole_heavy; repeatable)")
    p.add_argument("--guard", action="append", default=[], metavar="KEY=VALUE",
                   help="guardrails (benchmark/guardrails.py): filter=true, validate_every=N, rollback_drop=D")
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
                   help="compiled hot paths (torch.compile): auto (where measured faster: nowhere yet), on or off")
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
                              start_eval_episodes=args.start_eval_episodes, shifts=args.shift,
                              guard=dict(parse_override(s) for s in args.guard))
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
    if status in (Status.INTERRUPTED, Status.FAILED):
        print(f"{spec.run_id}: {status} earlier, resuming from {run.latest_checkpoint() or 'the start'}")
    try:
        record = execute(run, device=device, asset_mode=args.assets, progress=not args.no_progress,
                         compile_mode=args.compile)
    except OSError as err:
        if err.errno not in DISK_FULL:
            raise
        print(f"error: {spec.run_id}: the disk is full ({err}); the run is marked failed, its checkpoints "
              "and the rest of the store are intact; once there is space, run it again (a sweep: --retry-failed)",
              file=sys.stderr)
        return 1
    if record.attempts and record.attempts[-1].recovered:
        print(f"{spec.run_id}: " + "; ".join(record.attempts[-1].recovered), file=sys.stderr)
    ev = record.final_eval
    detail = f"final eval return {ev.return_mean:.3f} over {ev.episodes} episodes" if ev else f"{record.divergence}"
    print(f"{spec.run_id}: {record.status}; {detail}; {run.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
