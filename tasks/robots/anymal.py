"""ANYmal for ``anymal_d_flat`` (Isaac-Velocity-Flat-AnymalD), built offline from ANYbotics' ANYmal C.

Isaac Lab 3.0's ``ANYMAL_D_CFG`` (``isaaclab_assets/robots/anymal.py``) reads
``{root}/Isaac/IsaacLab/Robots/ANYbotics/ANYmal-D/anymal_d.usd`` and drives its 12 joints with
``ANYDRIVE_3_LSTM_ACTUATOR_CFG``, an LSTM actuator network loaded from
``{root}/Isaac/IsaacLab/ActuatorNets/ANYbotics/anydrive_3_lstm_jit.pt`` (the config's own note: the
network was fitted on ANYmal C's drives; none is published for ANYmal D). Neither file ships in any
package on the index; no ANYmal D description does either.

Source: ``example-robot-data==6.0.0`` (wheel, BSD-3-Clause), member
``cmeel.prefix/share/example-robot-data/robots/anymal_c_simple_description/urdf/anymal.urdf``:
ANYbotics' ``anymal_c_simple_description`` (BSD-3-Clause, the reference Isaac Lab's own
``anymal.py`` cites for ANYmal C). genesis-world's ANYmal C lacks joint limits, which Isaac Lab
refuses. Conversions (:func:`make_anymal`):

1. the URDF's fixed-joint links are merged into the link they hang from (:func:`merge_fixed_links`:
   masses summed, centre of mass and inertia tensor combined by the parallel-axis theorem, collision
   shapes carried over with their poses), except the ``*_FOOT`` links, so the bodies are exactly the
   17 of Isaac Lab's ANYmal files: ``base`` (26.37 kg: the trunk and the four HAA drives),
   ``{LF,RF,LH,RH}_HIP`` (2.78 kg), ``_THIGH`` (3.07 kg), ``_SHANK`` (0.34 kg), ``_FOOT`` (0.25 kg).
   Total mass, centre of mass and whole-robot inertia equal the URDF's; every collision shape's
   pose is unchanged (within 1e-8 m). Without this (the survey's route) the converter keeps 59
   bodies and ``base`` itself is massless (the URDF puts the trunk's 6.2 kg in a welded
   ``base_inertia`` link; battery, shells, faces, cameras and lidar in other welded links), which
   Isaac Lab's ``add_base_mass`` event (scale 0.8-1.25 on ``base``) cannot act on; and the welded
   bodies' overlapping colliders collide with each other: tried, at rest about 115 Newton contacts
   per world ("Number of Newton contacts (232) exceeded MJWarp limit (50). Increase nconmax." every
   step, 2 envs) and up to 57 of the preset's 60 constraint rows;
2. ``<visual>`` elements left out (COLLADA meshes with JPEG textures that the flattened single
   file could not carry; nothing in this headless benchmark renders them); every collision shape
   (boxes, cylinders, spheres: 45) kept;
3. ``urdf-usd-converter`` (no physics scene, one layer), its fixed ``root_joint`` to the world
   removed, links moved to direct children of the robot prim (:func:`tasks.robots.usd_edit.relink`).
   The URDF already uses Isaac Lab's ANYmal names (joints ``{LF,RF,LH,RH}_{HAA,HFE,KFE}``, bodies as
   above), which the velocity task's terms need: ``base`` (base-contact termination, base mass and
   COM events), ``.*FOOT`` (air time), ``.*THIGH`` (undesired contacts).

Class ``equivalent``: another version of the robot, with another actuator model. What differs from
ANYmal D, compared with ANYbotics' ``anymal_d_simple_description`` URDF (the reference Isaac Lab's
``anymal.py`` cites for ANYmal D; read from github.com/leggedrobotics/anymal_d_simple_description,
``urdf/anymal.urdf``, for the numbers only; NVIDIA's ``anymal_d.usd`` was not available to compare):

- total mass 52.13 kg (C) vs 51.54 kg (D); trunk with everything welded to it, legs excluded,
  18.21 vs 18.30 kg; one leg 8.48 vs 8.31 kg (three drives 2.04 vs 2.015 kg each);
- legs: HAA axes at (+-0.2999, +-0.104) m vs (+-0.304, +-0.109) m; HFE 0.0599 vs 0.069 m forward of
  HAA; thigh 0.285 m long in both, knee 0.100 vs 0.1805 m outboard of the HFE; knee to foot-sphere
  centre about 0.327 m vs 0.376 m (D's shank is about 5 cm longer, so D stands taller); foot sphere
  radius 0.030 vs 0.031 m;
- trunk collision box 0.58 x 0.14 x 0.18 m (plus face boxes to 0.525 m each way) vs
  0.894 x 0.1615 x 0.256 m; HAA limits -0.72..0.49 rad vs -0.785..0.611 rad; rated joint
  velocity 7.5 vs 8.5 rad/s (the actuator config limits both to 7.5);
- actuators (:data:`CONFIG_EDITS`): Isaac Lab's own ``ANYDRIVE_3_SIMPLE_ACTUATOR_CFG`` (a DC-motor
  model: PD stiffness 40 N m/rad, damping 5 N m s/rad, saturation 120 N m, effort limit 80 N m,
  velocity limit 7.5 rad/s) in place of the LSTM actuator network, which no package holds.

No contact-budget edit: with the merged bodies the flat preset's ``njmax = 60`` constraint rows
and ``nconmax = 25`` contacts per world suffice. Measured (2 envs; peak over steps of MuJoCo-Warp's
``nefc`` per world and ``nacon`` over both worlds): 10 s of standard-normal random actions, nefc 21
of 60, nacon 27 of 50; 10 s of five-times larger actions (15 falls and resets, budget raised to
400 / 100 for the measurement) nefc 18, nacon 31; no overflow message in either.

Check (``python -m tasks.robots.simcheck --tasks anymal_d_flat``, 2 envs, Newton MuJoCo-Warp on the
CPU, no pushes or mass/COM randomization), :func:`_stand`: 2 s of zero action (the default joint
pose) from the spawn at 0.65 m: base 0.457 m above the plane (0.549 m at the exact default pose:
the DC-motor PD gains let the joints sag, at most 0.63 rad), 4 of 4 feet in contact, no episode
ended, 12 joints, 17 bodies, 52.135 kg, observation 48 / action 12 (the review's 48 / 12); then 1 s
of random actions: nefc 18 of 60, nacon 23 of 50, no overflow message. ``benchmark.train --algo ppo
--num-envs 16 --timesteps 64 --eval-episodes 16`` finished (16 evaluation episodes, all 1000 steps).
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tasks.robots.quadrupeds import converted
from tasks.robots.recipe import EQUIVALENT, AssetBuild, BuildContext, Expect, PackageFile
from tasks.robots.simcheck import Check, quiet_events, stand
from tasks.robots.sources import EXAMPLE_ROBOT_DATA, EXAMPLE_ROBOTS

ANYMAL_D = "Isaac/IsaacLab/Robots/ANYbotics/ANYmal-D/anymal_d.usd"

LEGS = ("LF", "RF", "LH", "RH")
JOINTS = tuple(f"{leg}_{j}" for leg in LEGS for j in ("HAA", "HFE", "KFE"))
BODIES = ("base", *(f"{leg}_{part}" for leg in LEGS for part in ("HIP", "THIGH", "SHANK", "FOOT")))


# --------------------------------------------------------------------------- URDF: merge fixed links
def _rpy_matrix(rpy):
    import numpy as np  # noqa: PLC0415

    r, p, y = rpy
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx  # URDF: fixed-axis roll, then pitch, then yaw


def _matrix_rpy(m):
    import numpy as np  # noqa: PLC0415

    pitch = float(np.arcsin(-np.clip(m[2, 0], -1.0, 1.0)))
    if abs(m[2, 0]) < 1.0 - 1e-9:
        roll, yaw = float(np.arctan2(m[2, 1], m[2, 2])), float(np.arctan2(m[1, 0], m[0, 0]))
    else:  # gimbal lock: put everything in yaw
        roll, yaw = 0.0, float(np.arctan2(-m[0, 1], m[1, 1]))
    return roll, pitch, yaw


def _pose(elem):
    """The 4x4 transform of an element's ``<origin>`` (identity without one)."""
    import numpy as np  # noqa: PLC0415

    t = np.eye(4)
    origin = elem.find("origin") if elem is not None else None
    if origin is not None:
        t[:3, :3] = _rpy_matrix([float(v) for v in origin.get("rpy", "0 0 0").split()])
        t[:3, 3] = [float(v) for v in origin.get("xyz", "0 0 0").split()]
    return t


def _set_origin(elem, t) -> None:
    origin = elem.find("origin")
    if origin is None:
        origin = ET.Element("origin")
        elem.insert(0, origin)
    origin.set("xyz", " ".join(f"{v:.9g}" for v in t[:3, 3]))
    origin.set("rpy", " ".join(f"{v:.9g}" for v in _matrix_rpy(t[:3, :3])))


def _merged_inertial(parts):
    """One ``<inertial>`` from ``(mass, com, inertia about com)`` triples in the host frame."""
    import numpy as np  # noqa: PLC0415

    mass = sum(m for m, _, _ in parts)
    com = sum(m * c for m, c, _ in parts) / mass
    inertia = np.zeros((3, 3))
    for m, c, i in parts:
        d = c - com
        inertia += i + m * (d @ d * np.eye(3) - np.outer(d, d))
    elem = ET.Element("inertial")
    ET.SubElement(elem, "origin", xyz=" ".join(f"{v:.9g}" for v in com), rpy="0 0 0")
    ET.SubElement(elem, "mass", value=f"{mass:.9g}")
    ET.SubElement(elem, "inertia", ixx=f"{inertia[0, 0]:.9g}", ixy=f"{inertia[0, 1]:.9g}",
                  ixz=f"{inertia[0, 2]:.9g}", iyy=f"{inertia[1, 1]:.9g}", iyz=f"{inertia[1, 2]:.9g}",
                  izz=f"{inertia[2, 2]:.9g}")
    return elem, mass


def merge_fixed_links(src: Path, dest: Path, keep: str, visuals: bool = False) -> dict:
    """Write ``dest``: the URDF ``src`` with every link that hangs from its parent by a fixed joint
    merged into that parent (recursively), except links whose name matches the regex ``keep``.
    A merged link's mass, centre of mass and inertia go into its host (combined about the new
    centre of mass); its collision shapes (and visuals, if ``visuals``) move to the host with their
    poses; joints from merged links start from the host with their origins composed. Returns
    ``{host: [merged links]}`` for the record."""
    import numpy as np  # noqa: PLC0415

    robot = ET.parse(src).getroot()
    links = {link.get("name"): link for link in robot.findall("link")}
    joints = robot.findall("joint")
    to_parent = {j.find("child").get("link"): j for j in joints}

    def host(name):
        """(host link, transform host <- link) for a link."""
        t = np.eye(4)
        while (j := to_parent.get(name)) is not None and j.get("type") == "fixed" and not re.search(keep, name):
            t = _pose(j) @ t
            name = j.find("parent").get("link")
        return name, t

    hosts = {name: host(name) for name in links}
    members: dict[str, list[str]] = {}
    for name, (h, _) in hosts.items():
        members.setdefault(h, []).append(name)

    out = ET.Element("robot", name=robot.get("name", "robot"))
    for h, names in members.items():
        link = ET.SubElement(out, "link", name=h)
        parts = []
        for name in names:
            t = hosts[name][1]
            src_link = links[name]
            inertial = src_link.find("inertial")
            mass = float(inertial.find("mass").get("value")) if inertial is not None else 0.0
            if mass > 0.0:
                frame = t @ _pose(inertial)
                i = inertial.find("inertia")
                local = np.array([[float(i.get(f"i{a}{b}", 0.0)) for b in "xyz"] for a in "xyz"])
                local = np.triu(local) + np.triu(local, 1).T  # URDF gives ixx ixy ixz iyy iyz izz
                rot = frame[:3, :3]
                parts.append((mass, frame[:3, 3].copy(), rot @ local @ rot.T))
            for kind in ("collision", "visual") if visuals else ("collision",):
                for elem in src_link.findall(kind):
                    moved = copy.deepcopy(elem)
                    _set_origin(moved, t @ _pose(elem))
                    link.append(moved)
        if parts:
            inertial, _ = _merged_inertial(parts)
            link.insert(0, inertial)
    for j in joints:
        child = j.find("child").get("link")
        if hosts[child][0] != child:
            continue  # merged away with its child
        parent_host, t = hosts[j.find("parent").get("link")]
        moved = copy.deepcopy(j)
        moved.find("parent").set("link", parent_host)
        _set_origin(moved, t @ _pose(j))
        out.append(moved)
    ET.indent(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(out).write(dest, encoding="utf-8", xml_declaration=True)
    return {h: [n for n in names if n != h] for h, names in members.items()}


def make_anymal(ctx: BuildContext) -> list[str]:
    merged_urdf = ctx.work / "anymal_merged.urdf"
    merged = merge_fixed_links(ctx.src, merged_urdf, keep=r"_FOOT$")
    steps = [f"URDF fixed-joint links merged into their hosts (masses, COM and inertia combined, collision "
             f"shapes moved), *_FOOT kept as bodies: {len(merged)} links remain "
             f"({', '.join(f'{h} <- {len(n)}' for h, n in merged.items() if n)}); <visual> elements left out"]
    steps += converted(BuildContext(src=merged_urdf, dest=ctx.dest, work=ctx.work), "urdf",
                       lambda p: p.GetName() == "root_joint", {})
    return steps  # usd_edit.export writes reproducible bytes (no scratch path, the text format)


ASSETS = (
    AssetBuild("anymal_c", ANYMAL_D, EQUIVALENT,
               PackageFile(EXAMPLE_ROBOT_DATA, f"{EXAMPLE_ROBOTS}/anymal_c_simple_description", "urdf/anymal.urdf"),
               make_anymal, Expect(JOINTS, BODIES, (51.0, 53.5)),
               "ANYbotics' ANYmal C (52.1 kg) in place of ANYmal D (51.5 kg, longer shanks); actuators: Isaac "
               "Lab's DC-motor ANYdrive model in place of the LSTM actuator network (a config edit)",
               license="ANYmal C description: ANYbotics, BSD-3-Clause"),
)


# --------------------------------------------------------------------------- config edits
def dc_motor_actuators(cfg) -> list[str]:
    """Isaac Lab's own DC-motor ANYdrive model in place of the LSTM actuator network (its
    ``anydrive_3_lstm_jit.pt`` is in no package)."""
    from isaaclab_assets.robots.anymal import ANYDRIVE_3_SIMPLE_ACTUATOR_CFG  # noqa: PLC0415

    old = cfg.scene.robot.actuators["legs"]
    cfg.scene.robot.actuators = {"legs": copy.deepcopy(ANYDRIVE_3_SIMPLE_ACTUATOR_CFG)}
    return [f"scene.robot.actuators['legs']: {type(old).__name__} (actuator network "
            f"{Path(str(getattr(old, 'network_file', '?'))).name}, in no package) -> ANYDRIVE_3_SIMPLE_ACTUATOR_CFG "
            "(Isaac Lab's DC-motor model: stiffness 40, damping 5, saturation 120 N m, effort limit 80 N m, "
            "velocity limit 7.5 rad/s)"]


CONFIG_EDITS = {"anymal_d_flat": [dc_motor_actuators]}


# --------------------------------------------------------------------------- simulation check
def _solver_budget() -> dict | None:
    """Constraint rows and contacts MuJoCo-Warp used in the last step, per world, beside the budget
    (read from Newton's solver; None where it cannot be read)."""
    try:
        from isaaclab_newton.physics.newton_manager import NewtonManager  # noqa: PLC0415

        data = NewtonManager._solver.mjw_data
        return {"nefc": int(data.nefc.numpy().max()), "njmax": int(data.njmax),
                "nacon": int(data.nacon.numpy().max()), "naconmax": int(data.naconmax)}
    except Exception:  # noqa: BLE001 (a measurement, not a requirement)
        return None


def _stand(handle) -> dict:
    """The stand (:func:`tasks.robots.simcheck.stand`: 2 s of zero action from the first reset; base
    height, feet in contact, no episode ended), how far the joints sag from the default pose under the
    DC-motor gains, then 1 s of random actions (standard normal, seeded: what an untrained policy
    sends) recording the largest constraint-row and contact counts MuJoCo-Warp needed. Over budget is
    a problem: the solver then drops constraints with only a printed warning. (The skrl wrapper
    resets only once, so the stand goes first.)"""
    import torch  # noqa: PLC0415

    out = stand(handle, base="base", feet=".*_FOOT", min_height=0.4)
    art = handle.unwrapped.scene["robot"]
    sag = (torch.as_tensor(art.data.joint_pos) - torch.as_tensor(art.data.default_joint_pos)).abs()
    out["joint_sag_max_rad"] = round(float(sag.max()), 3)
    generator = torch.Generator().manual_seed(0)
    peak = None
    for _ in range(int(round(1.0 / handle.unwrapped.step_dt))):
        handle.env.step(torch.randn(handle.num_envs, handle.act_dim, generator=generator))
        now = _solver_budget()
        if now is not None:
            peak = now if peak is None else {k: max(peak[k], now[k]) for k in now}
    out["solver_budget_peak_random_actions"] = peak
    if peak is not None and peak["nefc"] > peak["njmax"]:
        out["problems"].append(f"constraint rows {peak['nefc']} over njmax {peak['njmax']}")
    if peak is not None and peak["nacon"] > peak["naconmax"]:
        out["problems"].append(f"contacts {peak['nacon']} over naconmax {peak['naconmax']}")
    return out


CHECKS = {"anymal_d_flat": Check(_stand, quiet_events)}
