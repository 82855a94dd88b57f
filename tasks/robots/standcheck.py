"""Simulate a built robot standing: the check that an offline robot asset is fit to train and evaluate on.

    python -m tasks.robots.standcheck [--robots go2,a1,spot] [--seconds 3] [--num-envs 2]

Each robot is put, as the zero-shot scenarios put it (:mod:`tasks.scenarios`: ``go2_source``,
``go2_to_a1``, ``go2_to_spot``), into Go2's rough-terrain velocity task on Newton (evaluation
settings: no pushes, no observation noise), on the flat 3 m platform at the centre of a gentle
pyramid tile (``HfPyramidSlopedTerrainCfg``, slope 0.1; an all-flat terrain mesh has no volume, which
MuJoCo-Warp refuses), where every robot spawns and every ray of the 187-ray height scan lands, and
held at its default
joint pose (zero action of Isaac Lab's ``JointPositionAction``) for ``seconds``. Measured per robot:
the articulation's joint count and total mass as Newton built it, the base height above the ground
(median height-scan hit) at the start and end, whether any episode ended (a base contact or a fall), the feet in contact with the ground at the
end (contact sensor, net force > 1 N) and whether the height scan is finite. The task's base-mass
randomization is off, so the mass is the file's (feet without authored mass get Newton's default
density: Go2 0.05 kg, Spot 0.2 kg each). :func:`verdict`
says what is wrong, if anything; the test ``tests/test_robots_sim.py`` runs this.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys

from tasks.errors import cli_main, invalid
from tasks.robots.simcheck import flat_ground

SCENARIO = {"go2": "go2_source", "a1": "go2_to_a1", "spot": "go2_to_spot"}
# (joints, mass range kg as Newton built it, lowest base height m at the end, stands under zero action)
# Spot does not stand: the spot_ros2 model weighs 50.3 kg and Isaac Lab's Spot actuators hold it with
# PD 60 N m/rad, 1.5 N m s/rad; the same file in MuJoCo itself, same gains, default pose, sinks from
# 0.52 m to 0.29 m in 3 s too (with 150 / 5 it holds 0.46 m), so this is the model and the gains, not
# the conversion (its link poses match MuJoCo's forward kinematics of the MJCF exactly).
EXPECTED = {"go2": (12, (14.5, 17.5), 0.22, True), "a1": (12, (11.5, 14.5), 0.2, True),
            "spot": (12, (49.0, 52.0), 0.0, False)}



def stand(robot: str, *, seconds: float = 3.0, num_envs: int = 2, device: str = "cpu") -> dict:
    """Spawn ``robot`` and hold its default pose for ``seconds``; returns the measurements."""
    import torch  # noqa: PLC0415

    from tasks.assets import select_asset_root  # noqa: PLC0415
    from tasks.isaaclab_env import check_asset_root, check_assets, launch_env  # noqa: PLC0415
    from tasks.legged.embodiments import EMBODIMENTS  # noqa: PLC0415
    from tasks.scenarios import build_env_cfg, get_scenario  # noqa: PLC0415

    scenario = get_scenario(SCENARIO[robot])
    source = select_asset_root("local")
    with contextlib.redirect_stdout(io.StringIO()):
        cfg, _ = build_env_cfg(scenario.name, num_envs=num_envs, device=device, seed=0)
    flat_ground(cfg)
    cfg.events.add_base_mass = None  # the file's masses, not the task's randomized ones
    check_asset_root(source)
    check_assets(f"robot {robot!r}", cfg, source)
    emb = EMBODIMENTS[scenario.target_embodiment]
    with launch_env("Isaac-Velocity-Rough-UnitreeGo2", cfg, device, source) as handle:
        env = handle.unwrapped
        art = env.scene["robot"]
        sensor = env.scene["contact_forces"]
        base = art.find_bodies(emb.base_body)[0][0]
        feet = art.find_bodies(emb.foot_bodies)[0]
        feet_sensor = sensor.find_bodies(emb.foot_bodies)[0]
        mass = float(torch.as_tensor(art.data.default_mass)[0].sum())
        obs, _ = handle.env.reset()
        start_h = float(art.data.body_pos_w[:, base, 2].mean())
        steps = int(round(seconds / env.step_dt))
        ended = torch.zeros(num_envs, dtype=torch.bool)
        zero = torch.zeros(num_envs, handle.act_dim)
        for _ in range(steps):
            obs, _, terminated, truncated, _ = handle.env.step(zero)
            ended |= (terminated | truncated).view(-1).cpu()
        forces = sensor.data.net_forces_w[:, feet_sensor, :].norm(dim=-1)
        scan = env.scene["height_scanner"].data.ray_hits_w[..., 2]
        ground = scan.median(dim=-1).values  # the platform under the robot
        clearance = art.data.body_pos_w[:, base, 2] - ground
        return {
            "robot": robot, "scenario": scenario.name, "asset": cfg.scene.robot.spawn.usd_path.split("/Isaac/", 1)[-1],
            "num_joints": art.num_joints, "joint_names": list(art.joint_names), "num_bodies": art.num_bodies,
            "mass_kg": round(mass, 3) if mass is not None else None, "seconds": steps * env.step_dt,
            "base_height_start": round(start_h - float(ground.mean()), 4),
            "base_height_end": round(float(clearance.min()), 4),
            "episodes_ended": int(ended.sum()),
            "feet": [art.body_names[i] for i in feet],
            "feet_in_contact": int((forces > 1.0).sum(dim=-1).min()),
            "feet_force_n": [round(float(f), 1) for f in forces.mean(dim=0)],
            "height_scan_finite": bool(torch.isfinite(scan).all()), "height_scan_rays": int(scan.shape[-1]),
            "obs_dim": handle.obs_dim,
        }


def verdict(result: dict) -> list[str]:
    """What is wrong with a stand result (empty: the robot stands)."""
    joints, (lo, hi), min_height, stands = EXPECTED[result["robot"]]
    problems = []
    if result["num_joints"] != joints:
        problems.append(f"{result['num_joints']} joints, expected {joints}")
    if not lo <= result["mass_kg"] <= hi:
        problems.append(f"mass {result['mass_kg']} kg outside [{lo}, {hi}]")
    if not result["height_scan_finite"]:
        problems.append("height scan not finite")
    if not stands:
        return problems
    if result["episodes_ended"]:
        problems.append(f"{result['episodes_ended']} episode(s) ended while standing")
    if result["base_height_end"] < min_height:
        problems.append(f"base sank to {result['base_height_end']} m (< {min_height})")
    if result["feet_in_contact"] != 4:
        problems.append(f"only {result['feet_in_contact']} feet in contact at the end")
    return problems


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.robots.standcheck", description=__doc__.split("\n")[0])
    parser.add_argument("--robots", default="go2,a1,spot")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--num-envs", type=int, default=2)
    args = parser.parse_args(argv)
    robots = [r for r in args.robots.split(",") if r]
    for r in robots:
        if r not in SCENARIO:
            raise invalid("robot", r, SCENARIO)
    status = 0
    for r in robots:
        result = stand(r, seconds=args.seconds, num_envs=args.num_envs)
        result["problems"] = verdict(result)
        status |= bool(result["problems"])
        print(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main())
