"""Cassie for ``Isaac-Velocity-Rough-Cassie``, built from Agility Robotics' Gazebo model (SDF).

What Isaac Lab loads: ``CASSIE_CFG`` (``isaaclab_assets/robots/cassie.py``) reads
``{ISAACLAB_NUCLEUS_DIR}/Robots/Agility/Cassie/cassie.usd`` = ``Isaac/IsaacLab/Robots/Agility/Cassie/cassie.usd``
under the asset root, with 12 joints ``hip_abduction_*``, ``hip_rotation_*``, ``hip_flexion_*``,
``thigh_joint_*``, ``ankle_joint_*``, ``toe_joint_*`` (``*`` = ``left``/``right``), an implicit PD on all
12 (``hip_.*``/``thigh_.*``/``ankle_.*``: 100-200 N m/rad, effort 200 N m; ``toe_.*``: 20 N m/rad, effort
20 N m), spawned with the pelvis at 0.9 m in the pose hip_abduction +-0.1, hip_rotation 0, hip_flexion
1.0, thigh_joint -1.8, ankle_joint 1.57, toe_joint -1.57. The task
(``isaaclab_tasks/core/velocity/config/cassie/rough_env_cfg.py``) addresses the bodies ``pelvis``
(height scanner, base mass, base contact ``.*pelvis``) and ``.*toe`` (feet). The config names
UMich-BipedLab's ``Cassie_Model/urdf/cassie.urdf`` as its reference; NVIDIA's USD is not available
offline.

Source: ``example-robot-data==6.0.0`` (PyPI wheel, BSD-3-Clause), member
``cmeel.prefix/share/example-robot-data/robots/cassie_description/robots/cassie_v2.sdf`` and its STL
meshes: Agility Robotics' Gazebo model (copyright 2018 Agility Robotics, ISC licence in the file's
header; the folder's README names upstream DAIRLab/cassie-gazebo-sim). 23 links, 32.94 kg, two closed
loops per leg: the achilles rod (ball joint on the hip-pitch link, revolute on the heel spring) and
the toe linkage (tarsus -> foot crank -> plantar rod -> ball joint on the foot), and two spring joints
(knee-shin 1500 N m/rad, tarsus-heel 1250 N m/rad).

Conversion (all here; nothing offline converts SDF):

1. :func:`read_sdf` reads SDF 1.6: link poses in the model frame (the file uses no ``relative_to`` or
   ``frame``; any would be refused), inertial/visual/collision poses in their link frame, joint
   frames at the child link (every kept joint's ``<pose>`` is the identity, checked), joint axes in
   the joint frame; mirrored meshes (``<scale>1 -1 1``) keep their scale.
2. :func:`tree` cuts it to a kinematic tree of 13 links (:data:`GROUPS`): the springs are welded (knee
   + shin = ``*_shin``, tarsus + heel spring = ``*_tarsus``); the loop links are no bodies of their
   own, their mass and inertia lumped rigidly, at the SDF's pose, into the link that carries them in
   the real linkage (achilles rod -> shin, which it runs beside; foot crank and plantar rod ->
   tarsus), so the total stays Agility's 32.94 kg (parallel-axis theorem for the combined inertias).
3. The 12 joints left become Isaac Lab's (:data:`JOINTS`): ``*-roll-op`` -> ``hip_abduction``,
   ``*-yaw-op`` -> ``hip_rotation``, ``*-pitch-op`` -> ``hip_flexion``, ``*-knee-op`` -> ``thigh_joint``,
   ``*-shin-tarsus-joint`` -> ``ankle_joint``, ``*-foot-op`` -> ``toe_joint``. How this was decided: the
   SDF links' masses and centre-of-mass offsets equal UMich's links one to one (hip-roll 1.82 kg =
   ``left_pelvis_rotation``, hip-yaw 1.171 = ``left_hip``, hip-pitch 5.52 = ``left_thigh``, knee 0.758,
   shin 0.577, tarsus 0.782, foot 0.15 = ``left_toe``; from hip-pitch down the COM offsets agree to
   0.1 mm, so those link frames are the same frames), and so do the joint offsets (knee at (0.12, 0,
   0.0045) in the thigh, shin (0.0607, 0.0474, 0), tarsus (0.4348, 0.02, 0), toe (0.408, -0.04, 0)).
   UMich's chain is hip_abduction, hip_rotation, hip_flexion, knee_joint (thigh -> knee),
   knee_to_shin (the spring), ankle_joint (shin -> tarsus), toe_joint; Isaac Lab keeps
   ``ankle_joint`` and ``toe_joint`` and calls the knee motor ``thigh_joint`` (its -1.8 lies in UMich's
   knee range [-2.86, -0.65]; no other joint's range holds it). Angles take UMich's zeros and signs,
   not the SDF's (an SDF's zero is its initial pose): UMich's knee, ankle and toe origins carry no
   rotation, so each zero here is where the child frame is parallel to the parent's, which puts the
   SDF's zero at -pi/4 (knee), +1.0123 (ankle) and 0 (toe; -0.0201 on the right, where the SDF's right
   foot starts rotated) of these angles; the SDF's knee range [-2.077, 0.140] becomes [-2.862,
   -0.646], exactly UMich's. The left hip yaw's axis is flipped (SDF: -z left, +z right; UMich: +z
   on both). Roll and pitch already share UMich's zero and sign. Checked at build time
   (:func:`self_test`): forward kinematics of the tree at the SDF's zero reproduces the SDF's link
   poses (error 7e-16 m), and at the standing keyframe of Agility's MuJoCo model (cassie-mujoco-sim
   ``cassie.xml``: hip roll +-0.0045, pitch 0.4973, knee -1.1997, tarsus 1.42671, toe -1.59681) the
   achilles rod's loop, which the tree no longer has, closes to 0.014 mm and the feet lie flat
   (0.6 mm over their 18 cm): the same zeros and signs as Agility's own model.
4. :func:`urdf_text` writes a URDF (joint origin = parent link frame -> child link frame at zero;
   limits: the SDF's, shifted by those offsets; velocity and effort limits from UMich's URDF,
   joint-side: 12.15 rad/s / 112.5 N m hip roll and yaw, 8.5 / 195.2 hip pitch and knee, 11.5 / 45
   toe, 100 / 0 the passive ankle; Isaac Lab's actuators set their own effort limits), then
   ``urdf-usd-converter``; its fixed ``root_joint`` to the world is removed and the links are moved to
   the robot root (:func:`tasks.robots.usd_edit.relink`), as for the A1. The converted link poses
   match the tree's to 1e-5 m and 1.1e-4 rad (the converter writes float32 quaternions); in Newton,
   after Isaac Lab's reset and at a second, arbitrary pose, every body sits within 6e-5 m of the
   tree's forward kinematics.

Colliders: the SDF's 9 primitives (pelvis sphere; hip-pitch, shin, tarsus and foot cylinders);
visuals: its STL meshes. Mass 32.94 kg (UMich's URDF, without rods and cranks: 31.9 kg).

Class ``equivalent``: Agility's own model (masses, inertias, geometry, joint ranges) with its closed
loops cut and its springs welded, so the tarsus is a free joint that Isaac Lab drives (``ankle_joint``,
200 N m/rad) where on the real robot it is passive, held by the achilles rod and the heel spring.
NVIDIA's ``cassie.usd`` comes from a UMich-style URDF cut the same way; how it lumps the loop links and
what colliders it has is not known here.

Isaac Lab's pose on this model: the soles are 0.928 m below the pelvis (spawned at 0.9 m: 2.8 cm into
the ground at the reset; the foot mesh reaches as low, 0.926 m), heels 4.3 deg low, the centre of mass
4 mm behind the toe joints, over the feet; ankle 1.57 at knee -1.8 leaves the achilles loop 5.4 cm
open (1.57 is 0.46 rad short of the 2.03 the rod would impose).

Check (:data:`CHECKS`, :func:`stand_and_fall`; flat platform, no pushes, the reset's random root
velocity zeroed, 2 envs, Newton MJWarp on the CPU), seen on this build: obs 235 / act 12 (the
review's 235 / 12), 12 joints, 13 bodies, 32.94 kg; after 1 s of zero action the pelvis is 0.818 m
above the ground, both feet loaded (0.90 of the weight), no other body touched, height scan finite;
then it falls forward, the first episode ending at 1.52 s. Not an asset fault: it balances on two
18 cm feet with its centre of mass 0.758 m above the toe joints, a toppling stiffness m g h = 245 N
m/rad about them, against the task's toe PD of 2 x 20 N m/rad; the ankles also sag ~0.3 rad under
45-65 N m (the load the achilles rod takes on the real robot). Tried, for the diagnosis only: stiffer
toes (200 N m/rad) and ankles (2000) still fall at ~1.1-1.4 s (the heels land first, the 4.3 deg rock
carries it over the front of the feet); spawning 3 cm higher changes nothing (falls at 1.5 s); with the
task's random reset velocities it falls at ~1.0 s. A short PPO run (16 envs, 1,024 env steps, 16
evaluation episodes; 65 s in all on the shared CPU) trains and evaluates end to end.
"""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from pathlib import Path

from tasks.robots import usd_edit
from tasks.robots.recipe import EQUIVALENT, AssetBuild, BuildContext, Expect, PackageFile, convert, converter_version
from tasks.robots.simcheck import Check, legged_edit, stand
from tasks.robots.sources import EXAMPLE_ROBOT_DATA, EXAMPLE_ROBOTS

CASSIE = "Isaac/IsaacLab/Robots/Agility/Cassie/cassie.usd"
_FOLDER = f"{EXAMPLE_ROBOTS}/cassie_description"
SIDES = ("left", "right")

# tree link -> the SDF links welded into it (the first one gives the link its frame)
GROUPS = {
    "pelvis": ("pelvis",),
    "{s}_hip_roll": ("{s}-hip-roll",),
    "{s}_hip_yaw": ("{s}-hip-yaw",),
    "{s}_thigh": ("{s}-hip-pitch",),
    "{s}_shin": ("{s}-knee", "{s}-shin", "{s}-achilles-rod"),
    "{s}_tarsus": ("{s}-tarsus", "{s}-heel-spring", "{s}-foot-crank", "{s}-plantar-rod"),
    "{s}_toe": ("{s}-foot",),
}


@dataclasses.dataclass(frozen=True)
class JointMap:
    sdf: str  # the SDF joint ("{s}" = left/right)
    name: str  # Isaac Lab's joint name
    align: bool  # zero where the child frame is parallel to the parent's (UMich's convention)
    flip: dict  # side -> True where UMich's positive direction is the SDF's negative
    velocity: float  # rad/s (UMich's URDF)
    effort: float  # N m at the joint (UMich's motor torque x gear ratio; the passive ankle: 0)


JOINTS = (
    JointMap("{s}-roll-op", "hip_abduction_{s}", False, {}, 12.15, 4.5 * 25),
    JointMap("{s}-yaw-op", "hip_rotation_{s}", False, {"left": True}, 12.15, 4.5 * 25),
    JointMap("{s}-pitch-op", "hip_flexion_{s}", False, {}, 8.5, 12.2 * 16),
    JointMap("{s}-knee-op", "thigh_joint_{s}", True, {}, 8.5, 12.2 * 16),
    JointMap("{s}-shin-tarsus-joint", "ankle_joint_{s}", True, {}, 100.0, 0.0),
    JointMap("{s}-foot-op", "toe_joint_{s}", True, {}, 11.5, 0.9 * 50),
)
# Isaac Lab's CASSIE_CFG.init_state.joint_pos
INIT_POSE = {"hip_abduction_left": 0.1, "hip_rotation_left": 0.0, "hip_flexion_left": 1.0, "thigh_joint_left": -1.8,
             "ankle_joint_left": 1.57, "toe_joint_left": -1.57, "hip_abduction_right": -0.1,
             "hip_rotation_right": 0.0, "hip_flexion_right": 1.0, "thigh_joint_right": -1.8,
             "ankle_joint_right": 1.57, "toe_joint_right": -1.57}
# the standing keyframe (qpos0) of Agility's MuJoCo model (cassie-mujoco-sim's cassie.xml, as other
# projects quote it): the legs' motor and tarsus joints, hip yaw 0; its achilles loop is closed
AGILITY_KEYFRAME = {**{f"{j}_{s}": v for s in SIDES for j, v in (
    ("hip_rotation", 0.0), ("hip_flexion", 0.4973), ("thigh_joint", -1.1997), ("ankle_joint", 1.42671),
    ("toe_joint", -1.59681))}, "hip_abduction_left": 0.0045, "hip_abduction_right": -0.0045}


# ---------------------------------------------------------------------------------------------- math
def _np():
    import numpy as np  # noqa: PLC0415

    return np


def rpy_matrix(r: float, p: float, y: float):
    """R = Rz(y) Ry(p) Rx(r) (fixed-axis roll, pitch, yaw: the convention of SDF and URDF)."""
    np = _np()
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def matrix_rpy(m) -> tuple[float, float, float]:
    """The inverse of :func:`rpy_matrix` (checked by a round trip)."""
    np = _np()
    p = math.asin(max(-1.0, min(1.0, -m[2, 0])))
    if math.cos(p) > 1e-9:
        r, y = math.atan2(m[2, 1], m[2, 2]), math.atan2(m[1, 0], m[0, 0])
    else:  # gimbal lock: roll folded into yaw
        r, y = 0.0, math.atan2(-m[0, 1], m[1, 1])
    if not np.allclose(rpy_matrix(r, p, y), m, atol=1e-9):
        raise ValueError("rotation matrix has no roll-pitch-yaw round trip")
    return r, p, y


def transform(xyz=(0.0, 0.0, 0.0), rot=None):
    np = _np()
    out = np.eye(4)
    out[:3, 3] = xyz
    if rot is not None:
        out[:3, :3] = rot
    return out


def axis_angle(axis, angle: float):
    """Rotation matrix about a unit ``axis`` (Rodrigues)."""
    np = _np()
    a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def _pose(elem) -> object:
    """A ``<pose>`` child as a 4x4 transform (identity when absent); refuses frames other than the default."""
    node = elem.find("pose")
    if node is None or not (node.text or "").strip():
        return transform()
    if node.get("relative_to") or node.get("frame"):
        raise ValueError(f"pose relative to {node.get('relative_to') or node.get('frame')!r} is not supported")
    v = [float(x) for x in node.text.split()]
    return transform(v[:3], rpy_matrix(*v[3:6]))


# ---------------------------------------------------------------------------------------------- SDF
@dataclasses.dataclass
class Inertial:
    mass: float
    com: object  # (3,) in the link frame
    inertia: object  # 3x3 about the COM, in the link frame's orientation


@dataclasses.dataclass
class Shape:
    kind: str  # "mesh", "sphere", "cylinder", "box"
    pose: object  # 4x4 in the link frame
    size: dict  # {"uri"}, {"radius"}, {"radius", "length"}, {"size"}
    rgba: tuple | None = None


@dataclasses.dataclass
class SdfLink:
    name: str
    pose: object  # 4x4 in the model frame (the zero configuration)
    inertial: Inertial | None
    visuals: list
    collisions: list


@dataclasses.dataclass
class SdfJoint:
    name: str
    kind: str
    parent: str
    child: str
    pose: object  # in the child link frame
    axis: object  # (3,) in the joint frame
    lower: float | None
    upper: float | None
    spring: float  # spring stiffness (0: none)


def _shape(elem, kind_tag: str) -> Shape | None:
    np = _np()
    geom = elem.find("geometry")
    if geom is None or len(geom) == 0:
        return None
    g = geom[0]
    if g.tag == "mesh":
        scale = tuple(float(x) for x in (g.findtext("scale") or "1 1 1").split())
        size = {"uri": g.findtext("uri").strip(), "scale": scale}  # a negative scale mirrors (right side)
    elif g.tag == "sphere":
        size = {"radius": float(g.findtext("radius"))}
    elif g.tag == "cylinder":
        size = {"radius": float(g.findtext("radius")), "length": float(g.findtext("length"))}
    elif g.tag == "box":
        size = {"size": tuple(float(x) for x in g.findtext("size").split())}
    else:
        raise ValueError(f"{kind_tag} geometry {g.tag!r} is not supported")
    rgba = None
    ambient = elem.findtext("material/ambient")
    if ambient:
        rgba = tuple(float(x) for x in ambient.split())
    pose = _pose(elem)
    assert np.allclose(pose[3], (0, 0, 0, 1))
    return Shape(g.tag, pose, size, rgba)


def read_sdf(path: Path) -> tuple[dict[str, SdfLink], dict[str, SdfJoint]]:
    """Links and joints of the first ``<model>`` of an SDF (1.5/1.6, default frames only)."""
    np = _np()
    model = ET.parse(path).getroot().find("model")
    links, joints = {}, {}
    for el in model.findall("link"):
        inertial = None
        node = el.find("inertial")
        if node is not None:
            frame = _pose(node)
            names = ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")
            i = {n: float(node.findtext(f"inertia/{n}") or 0.0) for n in names}
            tensor = np.array([[i["ixx"], i["ixy"], i["ixz"]], [i["ixy"], i["iyy"], i["iyz"]],
                               [i["ixz"], i["iyz"], i["izz"]]])
            rot = frame[:3, :3]
            inertial = Inertial(float(node.findtext("mass")), frame[:3, 3].copy(), rot @ tensor @ rot.T)
        links[el.get("name")] = SdfLink(el.get("name"), _pose(el), inertial,
                                        [s for v in el.findall("visual") if (s := _shape(v, "visual"))],
                                        [s for c in el.findall("collision") if (s := _shape(c, "collision"))])
    for el in model.findall("joint"):
        axis = el.find("axis")
        xyz = np.array([float(x) for x in axis.findtext("xyz").split()]) if axis is not None else np.zeros(3)
        if axis is not None and axis.findtext("use_parent_model_frame", "0").strip() in ("1", "true"):
            raise ValueError(f"joint {el.get('name')}: axes in the model frame are not supported")
        lower = axis.findtext("limit/lower") if axis is not None else None
        upper = axis.findtext("limit/upper") if axis is not None else None
        spring = axis.findtext("dynamics/spring_stiffness") if axis is not None else None
        joints[el.get("name")] = SdfJoint(el.get("name"), el.get("type"), el.findtext("parent").strip(),
                                          el.findtext("child").strip(), _pose(el), xyz,
                                          float(lower) if lower else None, float(upper) if upper else None,
                                          float(spring) if spring else 0.0)
    return links, joints


# ---------------------------------------------------------------------------------------------- tree
@dataclasses.dataclass
class TreeLink:
    name: str
    frame: object  # 4x4 model pose of its frame (the first SDF link's) at the SDF's zero configuration
    inertial: Inertial
    visuals: list
    collisions: list
    members: tuple


@dataclasses.dataclass
class TreeJoint:
    name: str
    sdf: str
    parent: str
    child: str
    origin: object  # 4x4: parent link frame -> child link frame at zero
    axis: object  # (3,) in the child frame
    lower: float
    upper: float
    velocity: float
    effort: float
    offset: float  # this joint's zero minus the SDF's zero, in this joint's angle: q = sign * q_sdf + offset
    sign: int


def _combine(parts) -> Inertial:
    """Mass, COM and inertia about the COM of rigidly joined parts [(Inertial, 4x4 part->frame)]."""
    np = _np()
    mass = sum(p.mass for p, _ in parts)
    coms = [(x[:3, :3] @ p.com + x[:3, 3]) for p, x in parts]
    com = sum(p.mass * c for (p, _), c in zip(parts, coms, strict=True)) / mass
    inertia = np.zeros((3, 3))
    for (p, x), c in zip(parts, coms, strict=True):
        d = c - com
        inertia += x[:3, :3] @ p.inertia @ x[:3, :3].T + p.mass * (d @ d * np.eye(3) - np.outer(d, d))
    return Inertial(mass, com, inertia)


def tree(links: dict[str, SdfLink], joints: dict[str, SdfJoint]) -> tuple[dict[str, TreeLink], list[TreeJoint]]:
    """The kinematic tree of :data:`GROUPS` and :data:`JOINTS` (see the module docstring)."""
    np = _np()
    out: dict[str, TreeLink] = {}
    owner = {}
    for side in SIDES:
        for name, members in GROUPS.items():
            name = name.format(s=side)
            if name in out:
                continue
            members = tuple(m.format(s=side) for m in members)
            frame = links[members[0]].pose
            inv = np.linalg.inv(frame)
            parts, visuals, collisions = [], [], []
            for m in members:
                rel = inv @ links[m].pose
                parts.append((links[m].inertial, rel))
                visuals += [dataclasses.replace(v, pose=rel @ v.pose) for v in links[m].visuals]
                collisions += [dataclasses.replace(c, pose=rel @ c.pose) for c in links[m].collisions]
                owner[m] = name
            out[name] = TreeLink(name, frame, _combine(parts), visuals, collisions, members)
    used = set()
    tj = []
    for side in SIDES:
        for jm in JOINTS:
            j = joints[jm.sdf.format(s=side)]
            if j.kind != "revolute" or not np.allclose(j.pose, np.eye(4)):
                raise ValueError(f"{j.name}: expected a revolute joint framed at its child link")
            parent, child = owner[j.parent], owner[j.child]
            if links[j.child].pose is not out[child].frame:
                raise ValueError(f"{j.name}: its child {j.child} does not give {child} its frame")
            rel = np.linalg.inv(out[parent].frame) @ out[child].frame  # at the SDF's zero
            axis = j.axis / np.linalg.norm(j.axis)
            sign = -1 if jm.flip.get(side) else 1
            offset = 0.0
            if jm.align:  # the SDF's zero sits at `offset` of this joint's angle (about sign*axis)
                r = rel[:3, :3]
                a = sign * axis
                # angle of r about a: r = Rot(a, offset) up to a residual tilt
                u = np.cross(a, [1.0, 0.0, 0.0])
                if np.linalg.norm(u) < 1e-6:
                    u = np.cross(a, [0.0, 1.0, 0.0])
                u = u / np.linalg.norm(u)
                ru = r @ u
                offset = math.atan2(a @ np.cross(u, ru), u @ ru)
            origin = rel @ transform(rot=axis_angle(sign * axis, -offset))
            lo, hi = sorted((sign * j.lower + offset, sign * j.upper + offset))
            tj.append(TreeJoint(jm.name.format(s=side), j.name, parent, child, origin, sign * axis, lo, hi,
                                jm.velocity, jm.effort, offset, sign))
            used.add(j.name)
    # every SDF joint is either kept, inside a group (welded), or closes a loop through a lumped link
    for j in joints.values():
        if j.name in used:
            continue
        if owner.get(j.parent) is None or owner.get(j.child) is None:
            raise ValueError(f"SDF joint {j.name} joins a link that is in no group")
    return out, tj


def fk(links: dict[str, TreeLink], joints: list[TreeJoint], q: dict[str, float], root_pose=None) -> dict:
    """World 4x4 of every tree link for joint angles ``q`` (missing: 0), the pelvis at ``root_pose``."""
    np = _np()
    poses = {"pelvis": np.eye(4) if root_pose is None else root_pose}
    pending = list(joints)
    while pending:
        for j in list(pending):
            if j.parent in poses:
                poses[j.child] = poses[j.parent] @ j.origin @ transform(rot=axis_angle(j.axis, q.get(j.name, 0.0)))
                pending.remove(j)
    return poses


def achilles_gap(sdf_links: dict[str, SdfLink], sdf_joints: dict[str, SdfJoint], links, joints, q, side="left"):
    """How far (m) the achilles rod's two attachment points are from the rod's length at angles ``q``
    (0: the loop the rod closes is satisfied). The rod's ball end sits on the thigh, its other end on
    the heel spring (welded to the tarsus here)."""
    np = _np()
    poses = fk(links, joints, q)
    rod = sdf_links[f"{side}-achilles-rod"].pose
    ball = rod[:3, 3]  # the ball joint's frame is the rod's frame (its pose is in its child, the hip-pitch;
    # the rod's origin is that point at the SDF's zero)
    far = sdf_joints[f"{side}-achilles-spring-joint"].pose  # in the child (the rod)
    far_model = (rod @ far)[:3, 3]
    length = np.linalg.norm(far[:3, 3])
    thigh, tarsus = links[f"{side}_thigh"], links[f"{side}_tarsus"]
    p_ball = poses[thigh.name] @ np.linalg.inv(thigh.frame) @ np.append(ball, 1.0)
    p_far = poses[tarsus.name] @ np.linalg.inv(tarsus.frame) @ np.append(far_model, 1.0)
    return float(np.linalg.norm(p_ball[:3] - p_far[:3]) - length)


def foot_sole(links, joints, q, side="left") -> tuple[float, float]:
    """The lowest point of the foot collider below the pelvis (m, the pelvis level) and the sole's
    pitch (deg, > 0: heel low) at angles ``q``."""
    np = _np()
    toe = links[f"{side}_toe"]
    cyl = toe.collisions[0]
    pose = fk(links, joints, q)[toe.name] @ cyl.pose
    half = cyl.size["length"] / 2
    ends = [(pose @ np.array([0.0, 0.0, z, 1.0]))[:3] for z in (-half, half)]
    front, back = sorted(ends, key=lambda e: -e[0])
    tilt = math.degrees(math.atan2(front[2] - back[2], float(np.linalg.norm(front[:2] - back[:2]))))
    return min(e[2] for e in ends) - cyl.size["radius"], tilt


def self_test(sdf_links, sdf_joints, links, joints) -> list[str]:
    """Checks of the tree against the SDF and Agility's own standing pose (raises if one fails);
    returns what was measured, in words."""
    np = _np()
    zero = {j.name: j.offset * 1.0 for j in joints}  # the SDF's zero in these angles (sign * 0 + offset)
    pelvis = sdf_links["pelvis"].pose
    err = max(float(np.abs(p - links[n].frame).max()) for n, p in fk(links, joints, zero, pelvis).items())
    gaps = [abs(achilles_gap(sdf_links, sdf_joints, links, joints, AGILITY_KEYFRAME, s)) for s in SIDES]
    soles = [foot_sole(links, joints, AGILITY_KEYFRAME, s) for s in SIDES]
    if err > 1e-9 or max(gaps) > 1e-4 or max(abs(t) for _, t in soles) > 0.5:
        raise RuntimeError(f"Cassie tree check failed: pose error {err}, achilles gaps {gaps}, soles {soles}")
    sole, tilt = foot_sole(links, joints, INIT_POSE)
    return [f"tree FK at the SDF's zero = the SDF's link poses (max error {err:.1e} m); at Agility's MuJoCo "
            f"standing keyframe the cut achilles loop closes to {max(gaps) * 1000:.3f} mm and the soles tilt "
            f"{max(abs(t) for _, t in soles):.2f} deg",
            f"in Isaac Lab's init pose: soles {-sole:.3f} m below the pelvis (spawn height 0.9), heel low "
            f"{tilt:.1f} deg, achilles loop open by {abs(achilles_gap(sdf_links, sdf_joints, links, joints, INIT_POSE)) * 100:.1f} cm"]


# ---------------------------------------------------------------------------------------------- URDF
def _f(v) -> str:
    return " ".join(f"{float(x):.9g}" for x in v)


def _origin(m) -> str:
    return f'<origin xyz="{_f(m[:3, 3])}" rpy="{_f(matrix_rpy(m[:3, :3]))}"/>'


def _geometry(shape: Shape, mesh_dir: Path) -> str:
    if shape.kind == "mesh":
        name = shape.size["uri"].rsplit("/", 1)[-1]
        scale = shape.size.get("scale", (1.0, 1.0, 1.0))
        return f'<mesh filename="{(mesh_dir / name).as_posix()}" scale="{_f(scale)}"/>'
    if shape.kind == "sphere":
        return f'<sphere radius="{shape.size["radius"]:.9g}"/>'
    if shape.kind == "cylinder":
        return f'<cylinder radius="{shape.size["radius"]:.9g}" length="{shape.size["length"]:.9g}"/>'
    return f'<box size="{_f(shape.size["size"])}"/>'


def urdf_text(links: dict[str, TreeLink], joints: list[TreeJoint], mesh_dir: Path) -> str:
    """A URDF of the tree (meshes by absolute path)."""
    out = ['<?xml version="1.0"?>', '<robot name="cassie">']
    for link in links.values():
        i = link.inertial
        out += [f'  <link name="{link.name}">', "    <inertial>",
                f'      <origin xyz="{_f(i.com)}" rpy="0 0 0"/>', f'      <mass value="{i.mass:.9g}"/>',
                f'      <inertia ixx="{i.inertia[0, 0]:.9g}" ixy="{i.inertia[0, 1]:.9g}" '
                f'ixz="{i.inertia[0, 2]:.9g}" iyy="{i.inertia[1, 1]:.9g}" iyz="{i.inertia[1, 2]:.9g}" '
                f'izz="{i.inertia[2, 2]:.9g}"/>', "    </inertial>"]
        for k, v in enumerate(link.visuals):
            out += [f'    <visual name="{link.name}_visual_{k}">', f"      {_origin(v.pose)}",
                    f"      <geometry>{_geometry(v, mesh_dir)}</geometry>"]
            if v.rgba:
                rgba = (*v.rgba[:3], 1.0)
                out.append(f'      <material name="{link.name}_{k}"><color rgba="{_f(rgba)}"/></material>')
            out.append("    </visual>")
        for k, c in enumerate(link.collisions):
            out += [f'    <collision name="{link.name}_collision_{k}">', f"      {_origin(c.pose)}",
                    f"      <geometry>{_geometry(c, mesh_dir)}</geometry>", "    </collision>"]
        out.append("  </link>")
    for j in joints:
        out += [f'  <joint name="{j.name}" type="revolute">', f'    <parent link="{j.parent}"/>',
                f'    <child link="{j.child}"/>', f"    {_origin(j.origin)}", f'    <axis xyz="{_f(j.axis)}"/>',
                f'    <limit lower="{j.lower:.9g}" upper="{j.upper:.9g}" effort="{j.effort:.9g}" velocity="{j.velocity:.9g}"/>',
                "  </joint>"]
    out.append("</robot>")
    return "\n".join(out) + "\n"


def make_cassie(ctx: BuildContext) -> list[str]:
    sdf_links, sdf_joints = read_sdf(ctx.src)
    links, joints = tree(sdf_links, sdf_joints)
    tested = self_test(sdf_links, sdf_joints, links, joints)
    urdf = ctx.work / "cassie.urdf"
    urdf.write_text(urdf_text(links, joints, (ctx.src.parent.parent / "meshes").resolve()))
    module = "urdf_usd_converter"
    stage = usd_edit.open_flat(convert(module, urdf, ctx.work / "usd"))
    removed = usd_edit.remove_prims(stage, lambda p: p.GetName() == "root_joint")
    moved = usd_edit.relink(stage, {})
    usd_edit.export(stage, ctx.dest)
    offsets = ", ".join(f"{j.name} {'-' if j.sign < 0 else ''}q_sdf{j.offset:+.4f}" for j in joints
                        if j.offset or j.sign < 0)
    return [f"SDF read and cut to a tree: {len(links)} links ({sum(i.inertial.mass for i in links.values()):.3f} kg); "
            "welded: knee+shin, tarsus+heel spring; loop links lumped: achilles rod -> shin, "
            "foot crank + plantar rod -> tarsus",
            "SDF joints -> Isaac Lab's: " + ", ".join(f"{j.sdf} -> {j.name}" for j in joints),
            f"zeros and signs as UMich's URDF: {offsets}",
            *tested,
            f"URDF converted with {converter_version('urdf-usd-converter')} (no physics scene, one flattened layer)",
            f"removed {len(removed)} prim(s): {', '.join(removed)}",
            f"{len(moved)} links moved to the robot root"]


def _expected_joints() -> tuple[str, ...]:
    return tuple(j.name.format(s=s) for s in SIDES for j in JOINTS)


ASSETS = (
    AssetBuild("cassie", CASSIE, EQUIVALENT, PackageFile(EXAMPLE_ROBOT_DATA, _FOLDER, "robots/cassie_v2.sdf"),
               make_cassie,
               Expect(_expected_joints(), ("pelvis", "left_toe", "right_toe"), (32.0, 34.0)),
               "Agility's Gazebo Cassie (SDF) cut to a tree: springs welded, achilles and toe linkages "
               "lumped, the tarsus (ankle_joint) actuated where the real robot's is passive",
               license="ISC (Agility Robotics, in the SDF's header)"),
)


def _tensor(x):
    return x.torch if hasattr(x, "torch") else x


def stand_and_fall(handle, *, seconds: float = 1.0, watch: float = 3.0) -> dict:
    """:func:`tasks.robots.simcheck.stand` for ``seconds`` (the task's own gains, zero action), then
    the same zero action on until ``watch`` s: when the first episode ends (the pelvis touches the
    ground), and why, in numbers. Cassie balances on two 18 cm line feet with its centre of mass
    ~0.75 m above the toe joints; the task's toe PD (20 N m/rad a foot) is far below the toppling
    stiffness m g h about the toe axis, so with these gains any model of this mass and height stands
    on an unstable balance under zero action, and how soon it falls depends only on how far from that
    balance it starts: the fall is recorded (``known``), not counted as a problem. Problems: what
    :func:`stand` finds in the first ``seconds``, a body other than the feet having touched anything
    by then (the contact sensor's air time), or the feet carrying less than 60 % or more than 140 %
    of the weight at that moment."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    art = env.scene["robot"]
    sensor = env.scene.sensors["contact_forces"]
    masses = _tensor(art.data.body_mass)
    mass = float(masses[0].sum())
    toe_bodies = art.find_bodies(".*toe")[0]
    stiffness = _tensor(art.data.joint_stiffness)[0, art.find_joints("toe_joint_.*")[0]]
    # centre of mass above the toe joints in Isaac Lab's pose (stand() resets to the same pose)
    handle.env.reset()
    com = (_tensor(art.data.body_com_pos_w) * masses[..., None]).sum(1) / masses.sum(1, keepdim=True)
    h = float((com[:, 2] - _tensor(art.data.body_pos_w)[:, toe_bodies, 2].mean(dim=1)).mean())

    out = stand(handle, base="pelvis", feet=".*toe", min_height=0.7, seconds=seconds)
    foot_ids = sensor.find_bodies(".*toe")[0]
    other_ids = [i for i in range(len(sensor.body_names)) if i not in foot_ids]
    forces = _tensor(sensor.data.net_forces_w).norm(dim=-1)
    load = float(forces[:, foot_ids].sum(dim=-1).min()) / (mass * 9.81)
    air = _tensor(sensor.data.current_air_time)
    touched = sorted({sensor.body_names[i] for i in other_ids if float(air[:, i].min()) < seconds - 2 * env.step_dt})
    ended_at = None
    zero = torch.zeros(handle.num_envs, handle.act_dim)
    for k in range(int(round(seconds / env.step_dt)), int(round(watch / env.step_dt))):
        _, _, terminated, truncated, _ = handle.env.step(zero)
        if bool((terminated | truncated).any()):
            ended_at = round((k + 1) * env.step_dt, 2)
            break
    topple = mass * 9.81 * h
    out.update({"mass_kg": round(mass, 3), "feet_load_fraction": round(load, 3), "other_bodies_touched": touched,
                "com_above_toe_joints_m": round(h, 3), "toppling_stiffness_nm_per_rad": round(topple, 1),
                "toe_pd_stiffness_nm_per_rad": [round(float(k), 1) for k in stiffness],
                "first_episode_end_s": ended_at})
    if ended_at is not None:
        out["known"] = [f"falls forward, the first episode ending at {ended_at} s: the toe PD, "
                        f"{float(stiffness.sum()):.0f} N m/rad for both feet, is below the toppling stiffness "
                        f"m g h = {topple:.0f} N m/rad about the toe joints"]
    if touched:
        out["problems"].append(f"bodies other than the feet touched something: {touched}")
    if not 0.6 <= load <= 1.4:
        out["problems"].append(f"the feet carry {load:.2f} of the weight")
    return out


def check_edit(cfg) -> None:
    """:func:`tasks.robots.simcheck.legged_edit` (flat platform, no pushes or randomized masses), and
    the reset's random root velocity (up to 0.5 m/s and 0.5 rad/s on each axis) set to zero: the
    robot starts at rest in Isaac Lab's pose."""
    legged_edit(cfg)
    cfg.events.reset_base.params["velocity_range"] = {}


CHECKS = {"cassie_rough": Check(stand_and_fall, check_edit)}
