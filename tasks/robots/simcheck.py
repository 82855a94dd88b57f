"""Every offline asset checked in simulation, in the Isaac Lab task that loads it (Newton, CPU).

    python -m tasks.robots.simcheck [--tasks humanoid,franka_lift] [--num-envs 2]

Each recipe family (:data:`tasks.robots.build.FAMILIES`) declares ``CHECKS``: per task, a
:class:`Check` whose ``run`` steps the task's own environment (2 environments, a few simulated
seconds) and measures what makes the asset fit: a legged robot stands under zero action with its
feet loaded and its height scan finite (:func:`stand`), an arm holds its pose and its gripper opens
and closes, a drawer slides when pulled, a cube rests in the hand. Every check also records the
environment's observation and action dimensions as built, beside the review's (Table 3). One
process runs the checks in turn and prints one JSON line per task; ``problems`` lists what is
wrong (empty: fit). The test suite runs it (``tests/test_robots_sim.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
import json
import sys
from collections.abc import Callable

from tasks.errors import cli_main, invalid


@dataclasses.dataclass(frozen=True)
class Check:
    run: Callable  # (EnvHandle) -> dict of measurements with a "problems" list
    edit: Callable | None = None  # (env cfg) -> None, applied before the simulation starts


def all_checks() -> dict[str, Check]:
    from tasks.robots.build import FAMILIES  # noqa: PLC0415

    out: dict[str, Check] = {}
    for family in FAMILIES:
        out.update(getattr(importlib.import_module(f"tasks.robots.{family}"), "CHECKS", {}))
    return out


def flat_ground(cfg) -> None:
    """A generated rough terrain replaced by gentle pyramid tiles with a flat 3 m platform at each
    centre (an all-flat terrain mesh has no volume, which MuJoCo-Warp refuses), where every robot
    spawns level and every height-scan ray lands (in place)."""
    import isaaclab.terrains as tg  # noqa: PLC0415

    gen = cfg.scene.terrain.terrain_generator
    if gen is None:
        return
    gen.sub_terrains = {"platform": tg.HfPyramidSlopedTerrainCfg(proportion=1.0, slope_range=(0.1, 0.1),
                                                                 platform_width=3.0, border_width=0.25)}
    gen.num_rows, gen.num_cols = 1, 2
    gen.curriculum = False


def quiet_events(cfg) -> None:
    """No pushes, no base-mass or COM randomization, no observation noise: the file's own robot."""
    for name in ("push_robot", "add_base_mass", "base_com", "base_external_force_torque"):
        if hasattr(cfg.events, name):
            setattr(cfg.events, name, None)
    policy = getattr(getattr(cfg, "observations", None), "policy", None)
    if policy is not None and hasattr(policy, "enable_corruption"):
        policy.enable_corruption = False


def legged_edit(cfg) -> None:
    flat_ground(cfg)
    quiet_events(cfg)


def stand(handle, *, base: str, feet: str, min_height: float, seconds: float = 2.0,
          min_feet: int | None = None) -> dict:
    """Hold the default joint pose (zero action of Isaac Lab's joint-position action) for
    ``seconds``; measures the base height above the ground (from the height scan's median hit, or
    the terrain origin without one), episodes ended, feet in contact (net force > 1 N) and whether
    the height scan is finite. ``feet`` is a body-name regex."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    art = env.scene["robot"]
    base_id = art.find_bodies(base)[0][0]
    foot_ids = art.find_bodies(feet)[0]
    sensor = env.scene.sensors.get("contact_forces")
    scanner = env.scene.sensors.get("height_scanner")
    handle.env.reset()
    steps = int(round(seconds / env.step_dt))
    ended = torch.zeros(handle.num_envs, dtype=torch.bool)
    zero = torch.zeros(handle.num_envs, handle.act_dim)
    for _ in range(steps):
        _, _, terminated, truncated, _ = handle.env.step(zero)
        ended |= (terminated | truncated).view(-1).cpu()
    if scanner is not None:
        scan = scanner.data.ray_hits_w[..., 2]
        ground = scan.median(dim=-1).values
        finite = bool(torch.isfinite(scan).all())
    else:
        ground, finite = env.scene.env_origins[:, 2], True
    height = art.data.body_pos_w[:, base_id, 2] - ground
    in_contact = None
    if sensor is not None:
        forces = sensor.data.net_forces_w[:, sensor.find_bodies(feet)[0], :].norm(dim=-1)
        in_contact = int((forces > 1.0).sum(dim=-1).min())
    wanted = len(foot_ids) if min_feet is None else min_feet
    out = {"seconds": round(steps * env.step_dt, 3), "base_height_end": round(float(height.min()), 4),
           "episodes_ended": int(ended.sum()), "feet": [art.body_names[i] for i in foot_ids],
           "feet_in_contact": in_contact, "height_scan_finite": finite}
    out["problems"] = [p for p, bad in (
        (f"{out['episodes_ended']} episode(s) ended while standing", out["episodes_ended"] > 0),
        (f"base at {out['base_height_end']} m (< {min_height})", out["base_height_end"] < min_height),
        (f"{in_contact} of {len(foot_ids)} feet in contact (wanted {wanted})", in_contact is not None
         and in_contact < wanted),
        ("height scan not finite", not finite)) if bad]
    return out


def steps_finite(handle, *, seconds: float = 1.0) -> dict:
    """Zero action for ``seconds``: every observation finite, the episodes' ends counted (the
    direct tasks' robots are torque-driven or unstable at rest: falling is their task's business)."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    handle.env.reset()
    steps = int(round(seconds / env.step_dt))
    finite, ended = True, 0
    zero = torch.zeros(handle.num_envs, handle.act_dim)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = handle.env.step(zero)
        finite &= bool(torch.isfinite(obs).all())
        ended += int((terminated | truncated).sum())
    return {"seconds": round(steps * env.step_dt, 3), "obs_finite": finite, "episodes_ended": ended,
            "problems": [] if finite else ["observations not finite"]}


def run_check(task_name: str, check: Check, *, num_envs: int = 2, device: str = "cpu") -> dict:
    """Open ``task_name``'s environment on the local asset root and run its check."""
    import torch  # noqa: PLC0415

    from tasks.assets import select_asset_root  # noqa: PLC0415
    from tasks.isaaclab_env import (  # noqa: PLC0415
        apply_offline_edits, check_asset_root, check_assets, env_record, launch_env, load_env_cfg)
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(task_name)
    source = select_asset_root("local")
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = load_env_cfg(task, num_envs=num_envs, device=device, seed=0)
    edits = apply_offline_edits(task, cfg, source)
    if check.edit is not None:
        check.edit(cfg)
    check_asset_root(source)
    check_assets(f"task {task.name!r} ({task.isaaclab_id})", cfg, source)
    record = env_record(task, cfg, source, edits)
    with launch_env(task.isaaclab_id, cfg, device, source, record=record) as handle:
        articulations = handle.unwrapped.scene.articulations  # "robot", or the direct tasks' own names
        art = articulations.get("robot") or next(iter(articulations.values()))
        result = {"task": task.name, "isaaclab_id": task.isaaclab_id, "asset_class": record["asset_source"]["kind"],
                  "config_edits": edits,
                  "obs_dim": handle.obs_dim, "act_dim": handle.act_dim,
                  "review_obs_dim": task.obs_dim, "review_act_dim": task.act_dim,
                  "num_joints": art.num_joints, "num_bodies": art.num_bodies,
                  "mass_kg": round(float(torch.as_tensor(art.data.default_mass)[0].sum()), 3)}
        result.update(check.run(handle))
    return result


@cli_main
def main(argv: list[str] | None = None) -> int:
    checks = all_checks()
    parser = argparse.ArgumentParser(prog="python -m tasks.robots.simcheck", description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=",".join(checks), help="comma-separated (default: every check)")
    parser.add_argument("--num-envs", type=int, default=2)
    args = parser.parse_args(argv)
    names = [t for t in args.tasks.split(",") if t]
    for name in names:
        if name not in checks:
            raise invalid("task with a simulation check", name, checks)
    status = 0
    for name in names:
        result = run_check(name, checks[name], num_envs=args.num_envs)
        status |= bool(result["problems"])
        print(json.dumps(result), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
