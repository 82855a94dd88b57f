"""Evaluate a trained run zero-shot on a scenario (review Sec. 4.5-4.6) and keep the result in the run.

    python -m benchmark.evaluate --run-dir results/runs/<id> --scenario go2_to_a1 \\
        [--episodes 64] [--num-envs 64] [--device cpu] [--threads N] [--assets auto|local|cloud]

The run's newest checkpoint (the final one of a finished run, as :mod:`benchmark.train` restores
it) drives the scenario's Isaac Lab env (:mod:`tasks.scenarios`, one simulator per process) with
the evaluation policy (``agents.interface.evaluation_action``: the mean action for the classic
agents). Alive, L-MAE and A-MAE (:mod:`tasks.metrics`) go to the run's evaluation file of the
scenario (:mod:`benchmark.store`), written atomically, ``status`` last known: a finished file is not redone; a failed one (an
exception) is redone on the next call. Bad input (unknown scenario, a scenario of another source
task, a run that is not finished, a missing asset) exits with code 2 before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from benchmark import provenance
from benchmark.record import RunRecord, ScenarioEval, Status
from benchmark.spec import DEFAULT_SCENARIO_EPISODES as DEFAULT_EPISODES, RunSpec, positive, validate_device
from benchmark.store import RunDir, hold, is_held
from tasks.assets import MODES
from tasks.errors import UserError, cli_main

DEFAULT_NUM_ENVS = 64


def eval_state(run: RunDir, scenario: str) -> Status:
    """finished, failed, running (another process holds it) or new."""
    done = run.read_scenario_eval(scenario)
    if done is not None and done.status == Status.FINISHED:
        return Status.FINISHED
    if is_held(run.scenario_lock(scenario)):
        return Status.RUNNING
    return Status.FAILED if done is not None and done.status == Status.FAILED else Status.NEW


def eval_args(run: RunDir, scenario: str, device: str, episodes: int = DEFAULT_EPISODES) -> list[str]:
    """The command line (after ``python``) that evaluates ``run`` on ``scenario``."""
    return ["-m", "benchmark.evaluate", "--run-dir", str(run.path), "--scenario", scenario, "--device", device,
            "--episodes", str(episodes), "--num-envs", str(min(episodes, DEFAULT_NUM_ENVS))]


def check_request(run: RunDir, name: str):
    """(the run's record, scenario) or a UserError naming what would have been valid."""
    from tasks.scenarios import get_scenario, scenarios_for  # noqa: PLC0415

    scenario = get_scenario(name)
    record = run.read_record()
    if record is None:
        raise UserError(f"invalid run directory {str(run.path)!r}: no readable {run.meta_path.name}; valid: a run "
                        "directory made by benchmark.train")
    status = run.status()
    if status != Status.FINISHED:
        raise UserError(f"run {run.path} is {status!r}; valid: a finished run (train it to the end first)")
    if run.latest_checkpoint() is None:
        raise UserError(f"run {run.path} has no checkpoint; valid: a run trained by benchmark.train")
    task = record.spec.task
    if scenario.source_task != task:
        valid = [s.name for s in scenarios_for(task)] or ["(none: no scenario starts from this task)"]
        raise UserError(f"invalid scenario {name!r} for run {run.path.name}: it starts from task "
                        f"{scenario.source_task!r}, the run trained {task!r}; valid: {', '.join(valid)}")
    return record, scenario


def _source_joint_order(run: RunDir, scenario) -> tuple[str, ...] | None:
    """The policy joint order recorded by this run's evaluation of the source scenario, if any."""
    from tasks.scenarios import source_scenario  # noqa: PLC0415

    done = run.read_scenario_eval(source_scenario(scenario.source_task).name)
    if done is not None and done.status == Status.FINISHED:
        order = (done.joints or {}).get("policy_order")
        return tuple(order) if order else None
    return None


def agent_for_run(record: RunRecord, wrapped, device: str):
    from agents import catalogue  # noqa: PLC0415
    from agents.interface import init_for_loop  # noqa: PLC0415

    spec = RunSpec.from_record(record)  # the config the run recorded, not one resolved again
    # num_envs=1: the agent only acts here; its memory (off-policy: 4096 x num_envs) stays small
    agent = catalogue.build_agent(spec.algo, spec.config, observation_space=wrapped.observation_space,
                                  action_space=wrapped.action_space, num_envs=1, device=device)
    init_for_loop(agent)
    return agent


@torch.no_grad()
def rollout(agent, env, *, episodes: int, max_steps: int):
    """Run the evaluation policy until every env finished its share of episodes (tasks.metrics)."""
    from agents.interface import evaluation_action  # noqa: PLC0415
    from tasks.legged.envcfg import TRACKING_GROUP, TRACKING_LAYOUT  # noqa: PLC0415
    from tasks.metrics import EpisodeMetrics  # noqa: PLC0415

    lin, ang, cmd = TRACKING_LAYOUT["lin_vel"], TRACKING_LAYOUT["ang_vel"], TRACKING_LAYOUT["command"]
    per_env = math.ceil(episodes / env.num_envs)
    agent.enable_training_mode(False)
    obs, _ = env.reset()
    metrics = EpisodeMetrics(env.num_envs, per_env, max_steps, device=obs["policy"].device)
    for _ in range(per_env * (max_steps + 1) + 1):
        command = obs[TRACKING_GROUP][:, cmd].clone()  # the command the policy acts on
        obs, _, terminated, truncated, extras = env.step(evaluation_action(agent, obs["policy"]))
        track = obs[TRACKING_GROUP]
        ended = (terminated | truncated).view(-1, 1)
        if bool(ended.any()):  # the robot as the step left it, before Isaac Lab reset it
            track = torch.where(ended, extras["final_obs"][TRACKING_GROUP], track)
        metrics.step(command, track[:, lin][:, :2], track[:, ang][:, 2], terminated, truncated)
        if metrics.done:
            break
    return metrics


def evaluate_run(run: RunDir, name: str, *, episodes: int = DEFAULT_EPISODES, num_envs: int = DEFAULT_NUM_ENVS,
                 device: str = "cpu", asset_mode: str = "auto", seed: int | None = None,
                 episode_length_s: float | None = None) -> ScenarioEval:
    """Evaluate and write the run's evaluation file of ``name``; returns it (skips a finished one)."""
    record, scenario = check_request(run, name)
    existing = run.read_scenario_eval(name)
    if existing is not None and existing.status == Status.FINISHED:
        return existing
    seed = record.spec.seed if seed is None else seed

    from tasks.assets import select_asset_root  # noqa: PLC0415
    from tasks.isaaclab_env import check_asset_root, check_assets  # noqa: PLC0415
    from tasks.scenarios import build_env_cfg, scenario_record  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    with contextlib.redirect_stdout(io.StringIO()):
        cfg, changes = build_env_cfg(name, num_envs=num_envs, device=device, seed=seed,
                                     source_joint_order=_source_joint_order(run, scenario))
    if episode_length_s is not None:
        cfg.episode_length_s = episode_length_s
    check_asset_root(source)
    check_assets(f"scenario {name!r}", cfg, source)
    run.scenario_dir.mkdir(parents=True, exist_ok=True)
    with hold(run.scenario_lock(name), f"{run.scenario_eval_path(name)} is being evaluated by another process"):
        done = run.read_scenario_eval(name)
        if done is not None and done.status == Status.FINISHED:  # finished while we were setting up
            return done
        evaluation = ScenarioEval.from_json({
            "scenario": name, "source_task": scenario.source_task, "status": Status.RUNNING, "episodes": 0,
            "run_id": record.run_id, "algo": record.algo,
            "scenario_info": {"kind": scenario.kind, "target": scenario.target,
                              "in_distribution": scenario.in_distribution, "paper_name": scenario.paper_name},
            "episodes_requested": episodes, "num_envs": num_envs, "seed": seed, "device": device,
            **scenario_record(name, cfg, source), "changes": changes,
            "started_at": provenance.now(), "git": provenance.git_state(), "versions": provenance.package_versions()})
        try:
            result = _simulate(cfg, source, record, run, scenario, episodes=episodes, device=device)
            evaluation = ScenarioEval.from_json({**evaluation.to_json(), **result, "status": Status.FINISHED})
        except BaseException as err:
            evaluation.status = Status.FAILED
            evaluation.error = {"type": type(err).__name__, "message": str(err),
                                "traceback": traceback.format_exc(limit=20)}
            raise
        finally:
            evaluation.extra["ended_at"] = provenance.now()
            run.write_scenario_eval(evaluation)
    return evaluation


def _simulate(cfg, source, record: RunRecord, run: RunDir, scenario, *, episodes: int, device: str) -> dict[str, Any]:
    from agents.interface import evaluation_policy, load_module_states  # noqa: PLC0415
    from tasks.isaaclab_env import launch_env  # noqa: PLC0415
    from tasks.legged.embodiments import EMBODIMENTS  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    ckpt = run.latest_checkpoint()
    with launch_env(get_task(scenario.source_task).isaaclab_id, cfg, device, source) as handle:
        unwrapped = handle.unwrapped
        dims = (handle.obs_dim, handle.act_dim)
        trained = (record.env["obs_dim"], record.env["act_dim"])
        if dims != trained:
            raise RuntimeError(f"scenario {scenario.name} gives (obs, act) = {dims}, the policy expects {trained}")
        agent = agent_for_run(record, handle.env, device)
        state = torch.load(ckpt, map_location=device, weights_only=False)
        load_module_states(agent, state["modules"])
        robot = unwrapped.scene["robot"]
        base = robot.find_bodies(EMBODIMENTS[scenario.target_embodiment].base_body)[0][0]
        masses = robot.data.body_mass.torch
        policy_order = list(unwrapped.action_manager.get_term("joint_pos")._joint_names)
        documented = list(EMBODIMENTS[scenario.target_embodiment].joint_names)
        max_steps = handle.max_episode_length
        t0 = time.perf_counter()
        metrics = rollout(agent, unwrapped, episodes=episodes, max_steps=max_steps)
        wall = time.perf_counter() - t0
    per_episode = metrics.episodes()
    summary = metrics.summary()
    return {
        "episodes": len(per_episode["alive"]),
        "max_episode_steps": max_steps,
        "metrics": {k: summary[k] for k in ("alive", "l_mae", "a_mae")},
        "extra_metrics": {"l_err_l2": summary["l_err_l2"]},
        "definitions": "tasks/metrics.py: per step e_lin = mean(|c_x-v_x|, |c_y-v_y|), e_ang = |c_w-w_z| (base "
                       "frame, end of step); per episode L-MAE/A-MAE = mean over steps lived, Alive = steps lived "
                       "if it fell, else max_episode_steps; mean and population std over episodes",
        "per_episode": {k: [round(v, 5) for v in vals] for k, vals in per_episode.items()},
        "checkpoint": {"file": ckpt.name, "timestep": int(state["timestep"]),
                       "trained_timesteps": record.spec.timesteps},
        "policy": evaluation_policy(agent),
        "env": {"obs_dim": dims[0], "act_dim": dims[1], "step_dt": float(unwrapped.step_dt),
                "physics_dt": float(cfg.sim.dt), "decimation": int(cfg.decimation),
                "episode_length_s": float(cfg.episode_length_s)},
        "robot": {"total_mass_kg": round(float(masses.sum(dim=1).mean()), 4),
                  "base_mass_kg": round(float(masses[:, base].mean()), 4)},
        "joints": {"articulation": list(robot.joint_names), "policy_order": policy_order,
                   "documented_order": documented,
                   "documented_order_matches": list(robot.joint_names) == documented},
        "rollout_wall_time_s": round(wall, 2),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--run-dir", type=Path, required=True, help="a finished run directory")
    p.add_argument("--scenario", required=True, help="scenario name (python -m tasks.list)")
    p.add_argument("--episodes", type=int, default=DEFAULT_EPISODES,
                   help=f"episodes to average over (default {DEFAULT_EPISODES}; each env runs ceil(episodes/envs))")
    p.add_argument("--num-envs", type=int, default=DEFAULT_NUM_ENVS)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--assets", default="auto", choices=MODES)
    p.add_argument("--seed", type=int, default=None, help="env seed (default: the run's seed)")
    p.add_argument("--episode-length-s", type=float, default=None,
                   help="override the episode length (quick checks only; default: the task's, 20 s)")
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    positive("number of episodes", args.episodes)
    positive("number of environments", args.num_envs)
    device = validate_device(args.device)
    if args.episode_length_s is not None and not args.episode_length_s > 0:
        raise UserError(f"invalid episode length {args.episode_length_s!r}; valid: a positive number of seconds")
    run = RunDir(args.run_dir)
    check_request(run, args.scenario)
    if eval_state(run, args.scenario) == Status.FINISHED:
        print(f"{args.scenario}: already finished, nothing to do ({run.scenario_eval_path(args.scenario)})")
        return 0
    if args.threads is not None:
        torch.set_num_threads(positive("number of threads", args.threads))
    out = evaluate_run(run, args.scenario, episodes=args.episodes, num_envs=args.num_envs, device=device,
                       asset_mode=args.assets, seed=args.seed, episode_length_s=args.episode_length_s)
    m = out.metrics
    print(f"{args.scenario} ({run.path.name}): {out.status}; {out.episodes} episodes; "
          f"alive {m['alive']['mean']:.1f} +- {m['alive']['std']:.1f} / {out.max_episode_steps}, "
          f"L-MAE {m['l_mae']['mean']:.3f}, A-MAE {m['a_mae']['mean']:.3f}; {run.scenario_eval_path(args.scenario)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
