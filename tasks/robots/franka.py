"""The Franka Panda, the Sektion cabinet and the frame marker for ``franka_lift`` and ``franka_drawer``.

What the two tasks load (Isaac Lab 3.0 configs, read in the installed ``isaaclab_tasks`` /
``isaaclab_assets``):

- ``Isaac-Lift-Franka`` (``core/lift/config/franka/franka_env_cfg.py``) and
  ``Isaac-Open-Drawer-Franka`` (``core/cabinet/config/franka/joint_pos_env_cfg.py``) both spawn
  ``FRANKA_PANDA_CFG`` (``isaaclab_assets/robots/franka.py``):
  ``{ISAACLAB_NUCLEUS_DIR}/Robots/FrankaEmika/franka_panda.usda`` with the variants
  ``{"Physics": "mujoco", "Colliders": "primitives"}`` (the tasks pick ``mujoco`` on Newton).
  Isaac Lab skips, with a warning, a variant set the file does not have
  (``isaaclab.sim.utils.prims.select_usd_variants``), so a file without variant sets loads as it is.
  ``FRANKA_PANDA_CFG`` leaves ``stiffness=None, damping=None`` on ``panda_joint[1-7]`` and
  ``panda_finger_joint1``: the gains come from the file's drives, so the file must author them; the
  lift task overrides them (600..50 / 50..15, hand 350 / 175), the drawer task only the arm damping
  (80). ``panda_finger_joint2`` is a passive follower (gains 0): the file must author the mimic
  ``panda_finger_joint2 = panda_finger_joint1``.
- The lift task's finger contact sensors are hard-coded nested:
  ``{ENV}/Robot/Geometry/panda_link0/panda_link1/.../panda_link7/panda_hand/panda_rightfinger``
  (and ``panda_leftfinger``); the drawer task's frame transformer accepts both layouts
  (``{ENV}/Robot/(Geometry/.*/)?panda_hand``). So the file keeps the MJCF converter's nesting under
  ``Geometry`` (the layout NVIDIA's Menagerie-derived file has), and ``Expect.all_bodies_direct`` is off.
- The drawer task also loads ``{ISAAC_NUCLEUS_DIR}/Props/Sektion_Cabinet/sektion_cabinet_instanceable.usd``
  (``CABINET_CFG`` in ``core/cabinet/cabinet_env_cfg.py``: joints ``drawer_top_joint``,
  ``drawer_bottom_joint``, ``door_left_joint``, ``door_right_joint``; the frame transformer reads
  ``{ENV}/Cabinet/sektion`` and ``{ENV}/Cabinet/drawer_handle_top`` with the handle offset
  ``(0.305, 0, 0.01)``; a startup event randomizes the material of body ``drawer_handle_top``), and,
  because that frame transformer has ``debug_vis=True``, ``{ISAAC_NUCLEUS_DIR}/Props/UIElements/frame_prim.usd``
  (``FRAME_MARKER_CFG``, ``isaaclab/markers/config``).

Sources and conversions:

- Franka (``franka_panda``, class ``same-model``): MuJoCo Menagerie's ``franka_emika_panda/panda.xml``
  with its meshes, as shipped inside the ``genesis-world==1.4.5`` wheel
  (``genesis/assets/xml/franka_emika_panda/``; Menagerie's Panda is Apache-2.0, derived from Franka
  Emika's ``franka_description``), converted with ``mujoco-usd-converter`` (no Isaac Sim), then:
  the 8 ``MjcActuator`` prims and the finger tendon ``split`` removed (Isaac Lab's actuators drive
  the joints); bodies and joints renamed in place to Isaac Lab's names (``linkN`` -> ``panda_linkN``,
  ``hand`` -> ``panda_hand``, ``left_finger`` -> ``panda_leftfinger``, ``right_finger`` ->
  ``panda_rightfinger``, ``jointN`` -> ``panda_jointN``, ``finger_joint1/2`` ->
  ``panda_finger_joint1/2``; visual meshes that share a link's name keep theirs); the finger mimic
  reversed to Isaac Lab's convention: the converter writes Menagerie's equality as
  ``MjcEqualityJointAPI`` + ``NewtonMimicAPI`` on ``finger_joint1`` following ``finger_joint2``; it
  is moved to ``panda_finger_joint2`` following ``panda_finger_joint1`` (coef0 0, coef1 1, Menagerie's
  solref (0.005, 1) and solimp kept); drives authored from Menagerie's position actuators
  (``UsdPhysics.DriveAPI``, angular gains per degree as USD wants them): joints 1-2 kp 4500 N m/rad,
  kd 450; joints 3-4 3500 / 350; joints 5-7 2000 / 200; max force 87 / 12 N m;
  ``panda_finger_joint1`` kp 100 N/m, kd 10 N s/m, max 100 N (Menagerie's tendon actuator pulls on
  0.5 q1 + 0.5 q2 with 100 / 10, which on the mimic-coupled pair is 100 / 10 on finger 1 alone);
  ``panda_finger_joint2`` undriven. The converter's fixed joint from the robot prim to
  ``panda_link0`` (a fixed base, as Isaac Lab's file has) is kept and named ``root_joint``; the
  hand's fixed joint to link 7 is named ``panda_hand_joint``. Newton reads the file as 11 bodies, 9
  joints, the gains above and one mimic constraint (finger 2 follows finger 1). Masses are
  Menagerie's (17.45 kg in all), joint armature 0.1 and damping 1 as Menagerie authors them;
  colliders are Menagerie's convex meshes and fingertip boxes (NVIDIA's default ``primitives``
  variant uses primitive shapes). ``same-model``: the robot description NVIDIA's file derives from
  (Menagerie: ``FRANKA_PANDA_MENAGERIE_CFG`` reads ``franka_panda.usda`` for "Menagerie actuator
  settings"; Isaac Lab PR #6560 calls it "the Menagerie-derived asset"), not NVIDIA's file; the
  finger drive gains NVIDIA authored are not published and may differ from the ones here.
- Cabinet (``sektion_cabinet``, class ``stand-in``): no package holds the Sektion cabinet; generated
  here with ``pxr``. Names and numbers follow the public Sektion cabinet URDF that the Isaac Gym /
  Isaac Lab cabinet assets come from (``assets/urdf/sektion_cabinet_model/urdf/sektion_cabinet_2.urdf``
  of NVIDIA's IsaacGymEnvs, read in a public copy for its numbers; nothing copied): links ``sektion`` (root, welded to the cabinet prim),
  ``drawer_top`` / ``drawer_bottom`` (prismatic along +x, 0..0.4 m, joint origins (0.0515, 0, 0.3172)
  and (0.0515, 0, 0.18795)), ``drawer_handle_top`` / ``drawer_handle_bottom`` (fixed to their drawers
  at the drawer's frame; the grip bar 0.014 x 0.15 x 0.02 m at (0.303, 0, 0.01), where Isaac Lab's
  offset (0.305, 0, 0.01) points), ``door_left_link`` / ``door_right_link`` (revolute about z at
  (0.3162, -/+0.3757, -0.12973), -90..0 and 0..90 degrees) with their ``*_nob_link`` knobs (fixed);
  joints under their parent links as in NVIDIA's file (``/cabinet/sektion/drawer_top_joint``,
  ``/cabinet/drawer_top/drawer_handle_top_joint``). Collision boxes only: a carcass 0.80 wide,
  0.80 high and 0.58 deep around the origin (the floor 0.40 m below, where Isaac Lab puts the
  cabinet), drawer fronts 0.72 x 0.11 m with open trays behind them, doors 0.365 x 0.50 m; every
  moving part clears the carcass and its neighbours by more than the 1 cm contact gap. Masses chosen
  here (carcass 20 kg, drawer 1.5 kg, handle 0.1 kg, door 2 kg, knob 0.05 kg: 27.3 kg in all); the
  URDF's joint damping and friction (0.01) are not authored (Isaac Lab's ``CABINET_CFG`` actuators
  set stiffness 10 and damping 1 on the drawers, 10 and 2.5 on the doors). The build checks it
  against ``CABINET_EXPECT`` as it checks the converted files.
- Frame marker (``frame_prim``, class ``generated``): three coloured bars, no physics; the drawer
  task's handle-frame transformer draws it (``debug_vis=True``).

Dimensions: ``franka_drawer`` builds obs 31 / act 8 (the review's). ``franka_lift`` builds obs 100 /
act 9 against the review's 36 / 8: Isaac Lab's core Newton lift task is not the review's
``IsaacContrib-Lift-Cube-Franka`` (PhysX only); its policy observation is the object quaternion and
target pose in the robot frame and the last action, with 5 steps of history (``tasks.csv`` notes),
and its action is ``RelativeJointPositionActionCfg(joint_names=[".*"])`` on all 9 joints, the
passive ``panda_finger_joint2`` included (gains 0, so that channel does nothing), where the review's
task has 7 arm joints and one binary gripper action.

Checks (:data:`CHECKS`; 2 environments on the CPU, Newton MJWarp, numbers from one run):

- ``franka_lift`` (:func:`lift_check`, with :func:`lift_edit`: real gravity, object on the table):
  arm held at its default pose for 2 s, largest joint error 0.036 rad (Isaac Lab's lift gains,
  600..50 N m/rad, under gravity); fingers closed to -0.003 m and opened to 0.043 m (travel
  0.046 m, finger 2 within 0.5 mm of finger 1); the objects (a 0.025 x 0.025 x 0.05 m box and a
  0.25 m capsule) at rest on the table, centres 0.012 and 0.025 m above its top, speed <= 0.001 m/s;
  no episode ended. With the task's inertia randomization left on, the box kept rocking at up to
  0.04 m/s after 3 s, hence the edit.
- ``franka_drawer`` (:func:`drawer_check`, unedited task): arm held at its reset pose for 2 s,
  largest joint error 0.0065 rad (Menagerie's kp, Isaac Lab's damping 80); fingers 0.0 -> 0.040 m,
  mimic error 0; the task's handle frame at (0.4435, 0.0, 0.7272) m in each environment, where the
  URDF's numbers and Isaac Lab's placement put it, 0.59 m from the shoulder; a 20 N pull on
  ``drawer_handle_top`` along the drawer's axis slid ``drawer_top_joint`` out 0.298 m in 1 s, the
  bottom drawer and the cabinet did not move; no episode ended.
"""

from __future__ import annotations

import math

from tasks.robots import usd_edit
from tasks.robots.recipe import (GENERATED, SAME_MODEL, STAND_IN, AssetBuild, BuildContext, Expect, Generated,
                                 PackageFile, convert, converter_version)
from tasks.robots.simcheck import Check
from tasks.robots.sources import GENESIS

FRANKA = "Isaac/IsaacLab/Robots/FrankaEmika/franka_panda.usda"
CABINET = "Isaac/Props/Sektion_Cabinet/sektion_cabinet_instanceable.usd"
FRAME_PRIM = "Isaac/Props/UIElements/frame_prim.usd"

ARM_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")
CABINET_JOINTS = ("drawer_top_joint", "drawer_bottom_joint", "door_left_joint", "door_right_joint")
CABINET_EXPECT = Expect(CABINET_JOINTS, ("sektion", "drawer_top", "drawer_handle_top"), (25.0, 28.0), fixed_base=True)

_FRANKA_RENAME = {
    **{f"link{i}": f"panda_link{i}" for i in range(8)},
    "hand": "panda_hand", "left_finger": "panda_leftfinger", "right_finger": "panda_rightfinger",
    **{f"joint{i}": f"panda_joint{i}" for i in range(1, 8)},
    "finger_joint1": "panda_finger_joint1", "finger_joint2": "panda_finger_joint2",
}
# Menagerie's position actuators (panda.xml): kp [N m/rad], kd [N m s/rad], force limit [N m]
_ARM_DRIVES = {1: (4500.0, 450.0, 87.0), 2: (4500.0, 450.0, 87.0), 3: (3500.0, 350.0, 87.0),
               4: (3500.0, 350.0, 87.0), 5: (2000.0, 200.0, 12.0), 6: (2000.0, 200.0, 12.0),
               7: (2000.0, 200.0, 12.0)}
_FINGER_DRIVE = (100.0, 10.0, 100.0)  # N/m, N s/m, N: Menagerie's tendon actuator on the coupled pair


# ---------------------------------------------------------------------------------------------
# Franka
# ---------------------------------------------------------------------------------------------

def rename_in_place(stage, names: dict[str, str]) -> dict[str, str]:
    """Rename rigid bodies and joints whose name is in ``names`` where they are (the nesting is
    kept), and point every relationship at the new paths; other prims (visual meshes named after
    their link) keep their names. Returns ``{old path: new path}`` of the renamed prims."""
    from pxr import Sdf, UsdPhysics  # noqa: PLC0415

    layer = stage.GetRootLayer()
    chosen = [p.GetPath() for p in stage.Traverse()
              if p.GetName() in names and (p.HasAPI(UsdPhysics.RigidBodyAPI) or p.IsA(UsdPhysics.Joint))]
    chosen_set = set(chosen)

    def final(path):  # every renamed ancestor (and the prim itself) under its new name
        new = Sdf.Path.absoluteRootPath
        for prefix in path.GetPrefixes():
            new = new.AppendChild(names[prefix.name] if prefix in chosen_set else prefix.name)
        return new

    moves = {path: final(path) for path in chosen}
    # rename the specs deepest first, so the paths still to rename stay valid
    for path in sorted(chosen, key=lambda p: -p.pathElementCount):
        layer.GetPrimAtPath(path).name = names[path.name]
    usd_edit.retarget_relationships(layer, moves)
    return {str(o): str(n) for o, n in moves.items()}


def _drive(joint, kind: str, stiffness: float, damping: float, max_force: float) -> None:
    from pxr import UsdPhysics  # noqa: PLC0415

    drive = UsdPhysics.DriveAPI.Apply(joint, kind)
    drive.CreateTypeAttr("force")
    drive.CreateStiffnessAttr(stiffness)
    drive.CreateDampingAttr(damping)
    drive.CreateMaxForceAttr(max_force)
    drive.CreateTargetPositionAttr(0.0)


_EQUALITY_PROPS = ("newton:mimicJoint", "newton:mimicCoef0", "newton:mimicCoef1", "newton:mimicEnabled",
                   "mjc:coef2", "mjc:coef3", "mjc:coef4", "mjc:solref", "mjc:solimp", "mjc:target")


def reverse_mimic(leader, follower) -> str:
    """Make ``follower`` mimic ``leader`` (q_follower = q_leader) where the converter wrote the
    MJCF equality the other way round (``MjcEqualityJointAPI`` + ``NewtonMimicAPI`` on ``leader``,
    targeting ``follower``): the equality's solver parameters move with it."""
    from pxr import Sdf  # noqa: PLC0415

    carried = {}
    for name in _EQUALITY_PROPS:
        if not leader.GetProperty(name):
            continue
        attr = leader.GetAttribute(name)
        if attr and attr.HasAuthoredValue():
            carried[name] = (attr.GetTypeName(), attr.Get())
        leader.RemoveProperty(name)
    listed = leader.GetMetadata("apiSchemas")
    listed = list(listed.GetAddedOrExplicitItems()) if listed else []
    had = [schema for schema in ("MjcEqualityJointAPI", "NewtonMimicAPI") if schema in listed]
    for schema in had:
        leader.RemoveAppliedSchema(schema)
    for schema in ("NewtonMimicAPI", "MjcEqualityJointAPI"):
        follower.AddAppliedSchema(schema)
    follower.CreateRelationship("newton:mimicJoint", custom=False).SetTargets([leader.GetPath()])
    for name in ("mjc:solref", "mjc:solimp"):
        if name in carried:
            type_name, value = carried[name]
            follower.CreateAttribute(name, type_name, custom=False, variability=Sdf.VariabilityUniform).Set(value)
    follower.CreateAttribute("newton:mimicCoef0", Sdf.ValueTypeNames.Float, custom=False).Set(0.0)
    follower.CreateAttribute("newton:mimicCoef1", Sdf.ValueTypeNames.Float, custom=False).Set(1.0)
    follower.CreateAttribute("newton:mimicEnabled", Sdf.ValueTypeNames.Bool, custom=False).Set(True)
    kept = {k: list(v[1]) for k, v in carried.items() if k in ("mjc:solref", "mjc:solimp")}
    return (f"finger mimic reversed to Isaac Lab's convention: the converter's equality ({', '.join(had) or 'none'}) on "
            f"{leader.GetName()} following {follower.GetName()} moved to {follower.GetName()} following "
            f"{leader.GetName()} (coef0 0, coef1 1; solver parameters kept: {kept})")


def make_franka(ctx: BuildContext) -> list[str]:
    from pxr import UsdPhysics  # noqa: PLC0415

    stage = usd_edit.open_flat(convert("mujoco_usd_converter", ctx.src, ctx.work / "usd"))
    removed = usd_edit.remove_prims(stage, lambda p: p.GetTypeName() in ("MjcActuator", "MjcTendon"))
    moved = rename_in_place(stage, _FRANKA_RENAME)
    root = stage.GetDefaultPrim()
    # the two fixed joints the converter wrote (robot prim -> link0, link7 -> hand) get names
    renamed_fixed = []
    fixed = [(p.GetPath(), UsdPhysics.Joint(p).GetBody1Rel().GetTargets()[0].name)
             for p in stage.Traverse() if p.IsA(UsdPhysics.FixedJoint)]
    for path, child in fixed:
        name = {"panda_link0": "root_joint", "panda_hand": "panda_hand_joint"}.get(child)
        if name and path.name != name:
            stage.GetRootLayer().GetPrimAtPath(path).name = name
            renamed_fixed.append(f"{path.name} ({child}) -> {name}")
    joints = {p.GetName(): p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)}
    # drives: USD angular gains are per degree
    per_deg = math.pi / 180.0
    for i, (kp, kd, fmax) in _ARM_DRIVES.items():
        _drive(joints[f"panda_joint{i}"], "angular", kp * per_deg, kd * per_deg, fmax)
    _drive(joints["panda_finger_joint1"], "linear", *_FINGER_DRIVE)
    mimic = reverse_mimic(joints["panda_finger_joint1"], joints["panda_finger_joint2"])
    root.SetMetadata("documentation", "Franka Panda from MuJoCo Menagerie (genesis-world 1.4.5 wheel), converted "
                     "for Isaac Lab by dprl-bench tasks/robots/franka.py")
    usd_edit.export(stage, ctx.dest)
    return [f"converted with {converter_version('mujoco-usd-converter')} (no physics scene, one flattened layer, "
            "materials de-instanced)",
            f"removed {len(removed)} prim(s) (MuJoCo actuators and the finger tendon): {', '.join(removed)}",
            f"{len(moved)} links/joints renamed in place to Isaac Lab's names (nesting kept under Geometry): "
            + ", ".join(f"{o.rsplit('/', 1)[-1]} -> {n.rsplit('/', 1)[-1]}" for o, n in sorted(moved.items())),
            "fixed joints named: " + "; ".join(renamed_fixed),
            "drives authored from Menagerie's actuators: panda_joint1-2 kp 4500 kd 450, 3-4 3500/350, 5-7 2000/200 "
            "(N m/rad, N m s/rad; max 87/12 N m); panda_finger_joint1 100 N/m, 10 N s/m, max 100 N; "
            "panda_finger_joint2 undriven",
            mimic]


# ---------------------------------------------------------------------------------------------
# Sektion cabinet (stand-in) and the frame marker
# ---------------------------------------------------------------------------------------------

# Every box: (body, name, centre in the body frame, full size), metres. Body frames: sektion at the
# cabinet prim's origin (its centre; the bottom 0.40 m below), drawers and their handles at the
# drawer joint origins, doors and knobs at the hinges (all at joint position 0).
_DRAWER_TOP = (0.0515, 0.0, 0.3172)  # sektion_cabinet_2.urdf: drawer_top_joint origin
_DRAWER_BOTTOM = (0.0515, 0.0, 0.18795)  # drawer_bottom_joint origin
_DOOR_LEFT = (0.3162, -0.3757, -0.12973)  # door_left_joint origin
_DOOR_RIGHT = (0.3162, 0.3757, -0.12973)  # door_right_joint origin
_CARCASS = (  # panels of the carcass; the front edges stop at x = 0.30, clear of doors and drawer fronts
    ("left", (0.008, -0.391, 0.0), (0.584, 0.018, 0.80)),
    ("right", (0.008, 0.391, 0.0), (0.584, 0.018, 0.80)),
    ("top", (0.008, 0.0, 0.3925), (0.584, 0.764, 0.015)),
    ("bottom", (0.008, 0.0, -0.391), (0.584, 0.764, 0.018)),
    ("back", (-0.275, 0.0, 0.0), (0.018, 0.764, 0.764)),
    ("shelf", (0.008, 0.0, 0.1125), (0.584, 0.764, 0.015)),
)
_DRAWER = (  # a drawer: front panel and an open tray behind it
    ("front", (0.255, 0.0, 0.0), (0.020, 0.72, 0.11)),
    ("tray_bottom", (0.0, 0.0, -0.050), (0.49, 0.68, 0.010)),
    ("tray_left", (0.0, -0.335, -0.005), (0.49, 0.010, 0.08)),
    ("tray_right", (0.0, 0.335, -0.005), (0.49, 0.010, 0.08)),
    ("tray_back", (-0.24, 0.0, -0.005), (0.010, 0.66, 0.08)),
)
_HANDLE = (  # the grip bar and its two posts (sektion_cabinet_2.urdf's box colliders)
    ("bar", (0.303, 0.0, 0.01), (0.014, 0.15, 0.02)),
    ("post_left", (0.285, -0.07, 0.01), (0.04, 0.02, 0.005)),
    ("post_right", (0.285, 0.07, 0.01), (0.04, 0.02, 0.005)),
)


def _door(side: float):  # side: -1 left door (y < 0), +1 right door; the slab spans toward the centre
    return (("slab", (0.010, -side * 0.1847, 0.0), (0.018, 0.365, 0.50)),)


def _knob(side: float):
    return (("knob", (0.035, -side * 0.33, 0.17), (0.035, 0.015, 0.015)),)


def _box_inertia(mass: float, boxes) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Centre of mass and diagonal inertia of ``mass`` spread over ``boxes`` by volume."""
    vols = [sx * sy * sz for _, _, (sx, sy, sz) in boxes]
    total = sum(vols)
    com = tuple(sum(v * c[i] for v, (_, c, _) in zip(vols, boxes)) / total for i in range(3))
    inertia = [0.0, 0.0, 0.0]
    for v, (_, c, (sx, sy, sz)) in zip(vols, boxes):
        m = mass * v / total
        d = [c[i] - com[i] for i in range(3)]
        own = (m * (sy * sy + sz * sz) / 12, m * (sx * sx + sz * sz) / 12, m * (sx * sx + sy * sy) / 12)
        for i in range(3):
            j, k = (i + 1) % 3, (i + 2) % 3
            inertia[i] += own[i] + m * (d[j] * d[j] + d[k] * d[k])
    return com, tuple(inertia)


def _cabinet_parts():
    """(body, pose of its frame in the cabinet frame, mass kg, boxes)."""
    return (
        ("sektion", (0.0, 0.0, 0.0), 20.0, _CARCASS),
        ("drawer_top", _DRAWER_TOP, 1.5, _DRAWER),
        ("drawer_handle_top", _DRAWER_TOP, 0.1, _HANDLE),
        ("drawer_bottom", _DRAWER_BOTTOM, 1.5, _DRAWER),
        ("drawer_handle_bottom", _DRAWER_BOTTOM, 0.1, _HANDLE),
        ("door_left_link", _DOOR_LEFT, 2.0, _door(-1.0)),
        ("door_left_nob_link", _DOOR_LEFT, 0.05, _knob(-1.0)),
        ("door_right_link", _DOOR_RIGHT, 2.0, _door(1.0)),
        ("door_right_nob_link", _DOOR_RIGHT, 0.05, _knob(1.0)),
    )


def make_cabinet(ctx: BuildContext) -> list[str]:
    from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics  # noqa: PLC0415

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/cabinet").GetPrim()
    stage.SetDefaultPrim(root)
    root.SetMetadata("documentation", "Stand-in for NVIDIA's Sektion cabinet, generated by dprl-bench "
                     "tasks/robots/franka.py (names and joint frames of the Sektion cabinet URDF; boxes only)")
    colors = {"sektion": (0.85, 0.85, 0.85), "drawer": (0.4, 0.4, 0.4), "handle": (0.6, 0.6, 0.6),
              "door": (0.4, 0.4, 0.4), "nob": (0.6, 0.6, 0.6)}
    for body, pos, mass, boxes in _cabinet_parts():
        xf = UsdGeom.Xform.Define(stage, f"/cabinet/{body}")
        xf.AddTranslateOp().Set(Gf.Vec3d(*pos))
        prim = xf.GetPrim()
        UsdPhysics.RigidBodyAPI.Apply(prim)
        mass_api = UsdPhysics.MassAPI.Apply(prim)
        com, inertia = _box_inertia(mass, boxes)
        mass_api.CreateMassAttr(mass)
        mass_api.CreateCenterOfMassAttr(Gf.Vec3f(*com))
        mass_api.CreateDiagonalInertiaAttr(Gf.Vec3f(*inertia))
        color = next(c for key, c in colors.items() if key in body)
        for name, centre, size in boxes:
            cube = UsdGeom.Cube.Define(stage, f"/cabinet/{body}/{name}")
            cube.CreateSizeAttr(2.0)
            cube.AddTranslateOp().Set(Gf.Vec3d(*centre))
            cube.AddScaleOp().Set(Gf.Vec3f(*(s / 2 for s in size)))
            cube.CreateDisplayColorAttr([Gf.Vec3f(*color)])
            UsdPhysics.CollisionAPI.Apply(cube.GetPrim())
    UsdPhysics.ArticulationRootAPI.Apply(stage.GetPrimAtPath("/cabinet/sektion"))

    def joint(kind, path, body0, body1, pos0, axis=None, limits=None):
        j = kind.Define(stage, path)
        j.CreateBody0Rel().SetTargets([Sdf.Path(body0)])
        j.CreateBody1Rel().SetTargets([Sdf.Path(body1)])
        j.CreateLocalPos0Attr(Gf.Vec3f(*pos0))
        j.CreateLocalPos1Attr(Gf.Vec3f(0.0, 0.0, 0.0))
        j.CreateLocalRot0Attr(Gf.Quatf(1.0))
        j.CreateLocalRot1Attr(Gf.Quatf(1.0))
        if axis is not None:
            j.CreateAxisAttr(axis)
            j.CreateLowerLimitAttr(limits[0])
            j.CreateUpperLimitAttr(limits[1])
        return j

    # welded to the cabinet prim (which Isaac Lab places in each environment): a fixed base
    joint(UsdPhysics.FixedJoint, "/cabinet/sektion/root_joint", "/cabinet", "/cabinet/sektion", (0, 0, 0))
    for name, pos in (("top", _DRAWER_TOP), ("bottom", _DRAWER_BOTTOM)):
        joint(UsdPhysics.PrismaticJoint, f"/cabinet/sektion/drawer_{name}_joint", "/cabinet/sektion",
              f"/cabinet/drawer_{name}", pos, "X", (0.0, 0.4))
        joint(UsdPhysics.FixedJoint, f"/cabinet/drawer_{name}/drawer_handle_{name}_joint", f"/cabinet/drawer_{name}",
              f"/cabinet/drawer_handle_{name}", (0, 0, 0))
    for name, pos, limits in (("left", _DOOR_LEFT, (-90.0, 0.0)), ("right", _DOOR_RIGHT, (0.0, 90.0))):
        joint(UsdPhysics.RevoluteJoint, f"/cabinet/sektion/door_{name}_joint", "/cabinet/sektion",
              f"/cabinet/door_{name}_link", pos, "Z", limits)
        joint(UsdPhysics.FixedJoint, f"/cabinet/door_{name}_link/door_{name}_nob_transform", f"/cabinet/door_{name}_link",
              f"/cabinet/door_{name}_nob_link", (0, 0, 0))
    ctx.dest.parent.mkdir(parents=True, exist_ok=True)
    stage.GetRootLayer().Export(str(ctx.dest))
    return ["generated with pxr: the Sektion cabinet URDF's link and joint names and joint frames "
            "(drawers prismatic along x 0..0.4 m, doors revolute about z), box colliders only; "
            "carcass 0.80 x 0.80 x 0.58 m, welded to the cabinet prim; masses chosen here "
            "(carcass 20 kg, drawer 1.5 kg, handle 0.1 kg, door 2 kg, knob 0.05 kg)"]


_FRAME = """#usda 1.0
(
    defaultPrim = "frame"
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "frame"
{
    def Cube "x_axis"
    {
        double size = 1
        color3f[] primvars:displayColor = [(1, 0, 0)]
        double3 xformOp:translate = (0.25, 0, 0)
        float3 xformOp:scale = (0.5, 0.02, 0.02)
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:scale"]
    }
    def Cube "y_axis"
    {
        double size = 1
        color3f[] primvars:displayColor = [(0, 1, 0)]
        double3 xformOp:translate = (0, 0.25, 0)
        float3 xformOp:scale = (0.02, 0.5, 0.02)
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:scale"]
    }
    def Cube "z_axis"
    {
        double size = 1
        color3f[] primvars:displayColor = [(0, 0, 1)]
        double3 xformOp:translate = (0, 0, 0.25)
        float3 xformOp:scale = (0.02, 0.02, 0.5)
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:scale"]
    }
}
"""


def make_frame_prim(ctx: BuildContext) -> list[str]:
    from pxr import Sdf  # noqa: PLC0415

    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.ImportFromString(_FRAME)
    ctx.dest.parent.mkdir(parents=True, exist_ok=True)
    layer.Export(str(ctx.dest))
    return ["a 3-axis marker (red x, green y, blue z; 0.5 m cubes' edges), no physics; NVIDIA's is a "
            "visual-only marker too"]


ASSETS = (
    AssetBuild("franka_panda", FRANKA, SAME_MODEL,
               PackageFile(GENESIS, "genesis/assets/xml/franka_emika_panda", "panda.xml"), make_franka,
               Expect(ARM_JOINTS + FINGER_JOINTS, (), (17.0, 18.0), all_bodies_direct=False, fixed_base=True),
               "MuJoCo Menagerie's Franka Panda (the description Isaac Lab's franka_panda.usda derives from), "
               "converted; Menagerie's convex-mesh colliders, not NVIDIA's primitive variant",
               license="Franka Panda model: MuJoCo Menagerie, Apache-2.0"),
    AssetBuild("sektion_cabinet", CABINET, STAND_IN, Generated("tasks/robots/franka.py (make_cabinet)"), make_cabinet,
               CABINET_EXPECT,
               "generated box-collider cabinet with the Sektion cabinet's names and joint frames; "
               "not NVIDIA's mesh cabinet"),
    AssetBuild("frame_prim", FRAME_PRIM, GENERATED, Generated("tasks/robots/franka.py (make_frame_prim)"),
               make_frame_prim, note="visual frame marker for the drawer task's debug drawing; no physics"),
)

# ---------------------------------------------------------------------------------------------
# Simulation checks (2 environments, a few simulated seconds, the tasks' own environments)
# ---------------------------------------------------------------------------------------------

TABLE_TOP = 0.255  # lift_env_cfg.py: table centre z 0.235, 0.04 thick
# where the drawer handle's grip frame must be in each environment (cabinet at (0.8, 0, 0.4), turned
# 180 degrees about z; the Sektion URDF's drawer_top_joint origin plus Isaac Lab's offset (0.305, 0, 0.01))
HANDLE_EXPECTED = (0.8 - (_DRAWER_TOP[0] + 0.305), 0.0, 0.4 + _DRAWER_TOP[2] + 0.01)


def lift_edit(cfg) -> None:
    """The lift task with real gravity and the object on the table: no ADR curriculum (it starts with
    zero gravity and an object held above the table), Isaac Lab's final out-of-bound height (0 m), no
    spawn-in-hand starts, no startup randomization of the robot's gains or of the object's mass and
    inertia (the task adds 0.01 kg m^2 to the object's inertia, which keeps a small box rocking on the
    table for seconds), a small reset bank."""
    cfg.curriculum = None
    cfg.events.variable_gravity = None
    for name in ("joint_stiffness_and_damping", "joint_friction", "gripper_closing_speed", "object_physics_inertia",
                 "object_scale_mass"):
        setattr(cfg.events, name, None)
    reset = cfg.events.conditional_reset.params
    reset["terms"]["reset_object_to_target"].params["probability"] = 0.0
    reset["buffer_size_per_group"] = 8
    cfg.terminations.object_out_of_bound.params["in_bound_range"]["z"] = (0.0, 2.0)


def _step_hold(handle, steps: int, action_fn) -> int:
    import torch  # noqa: PLC0415

    ended = torch.zeros(handle.num_envs, dtype=torch.bool)
    for _ in range(steps):
        _, _, terminated, truncated, _ = handle.env.step(action_fn())
        ended |= (terminated | truncated).view(-1).cpu()
    return int(ended.sum())


def _gripper_cycle(handle, art, action_fn, steps: int) -> dict:
    """Close then open the gripper (``action_fn(close: bool)``), ``steps`` env steps each; finger
    joint positions [m] at the end of each phase, the travel and the mimic error."""
    f1, f2 = (art.find_joints(n)[0][0] for n in FINGER_JOINTS)
    ended = _step_hold(handle, steps, lambda: action_fn(True))
    q = art.data.joint_pos.torch
    closed1, closed2 = float(q[:, f1].max()), float(q[:, f2].max())
    ended += _step_hold(handle, steps, lambda: action_fn(False))
    q = art.data.joint_pos.torch
    open1, open2 = float(q[:, f1].min()), float(q[:, f2].min())
    return {"finger_closed_m": [round(closed1, 4), round(closed2, 4)], "finger_open_m": [round(open1, 4), round(open2, 4)],
            "finger_travel_m": round(min(open1 - closed1, open2 - closed2), 4),
            "mimic_error_m": round(max(abs(open1 - open2), abs(closed1 - closed2)), 4), "ended": ended}


def _arm_problems(out: dict) -> list[str]:
    checks = ((f"arm left its pose by {out['arm_pose_error_rad']} rad (> 0.05)", out["arm_pose_error_rad"] > 0.05),
              (f"fingers travel {out['finger_travel_m']} m (< 0.03)", out["finger_travel_m"] < 0.03),
              (f"finger 2 off finger 1 by {out['mimic_error_m']} m (> 0.003)", out["mimic_error_m"] > 0.003),
              (f"{out['episodes_ended']} episode(s) ended", out["episodes_ended"] > 0))
    return [text for text, bad in checks if bad]


def _object_shapes(env) -> list[list[float]]:
    """The size [m] of the graspable shape each environment spawned (its mesh's bounding box)."""
    from pxr import UsdGeom  # noqa: PLC0415

    out = []
    for i in range(env.num_envs):
        mesh = UsdGeom.Mesh(env.scene.stage.GetPrimAtPath(f"/World/envs/env_{i}/Object/geometry/mesh"))
        points = mesh.GetPointsAttr().Get() if mesh else None
        if not points:
            out.append([])
            continue
        out.append([round(max(p[i] for p in points) - min(p[i] for p in points), 4) for i in range(3)])
    return out


def lift_check(handle, seconds: float = 2.0) -> dict:
    """``franka_lift`` (``Isaac-Lift-Franka``, edited by :func:`lift_edit`): after a reset the arm is
    put in its default pose (``init_state``) and held there for ``seconds`` through the task's own
    relative joint-position action (the action that makes the target the default pose); the object
    falls onto the table meanwhile. Then the gripper closes and opens (finger-1 action -1 / +1, one
    second each). Measured: the largest arm joint error, the finger positions and travel, finger 2's
    distance from finger 1 (the mimic), the object's height above the table top, its speed and
    the size of the shape each environment drew (the task's graspable shapes)."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    art, obj = env.scene["robot"], env.scene["object"]
    handle.env.reset()
    arm = [art.find_joints(n)[0][0] for n in ARM_JOINTS]
    f1 = art.find_joints("panda_finger_joint1")[0][0]
    scale = env.action_manager.get_term("action").cfg.scale
    q0 = art.data.default_joint_pos.torch.clone()
    art.write_joint_position_to_sim_index(position=q0)
    art.write_joint_velocity_to_sim_index(velocity=torch.zeros_like(q0))

    def hold(finger: float = 0.0):
        act = torch.zeros(handle.num_envs, handle.act_dim)
        q = art.data.joint_pos.torch
        act[:, arm] = ((q0[:, arm] - q[:, arm]) / scale).clamp(-1.0, 1.0)
        act[:, f1] = finger
        return act

    steps = int(round(seconds / env.step_dt))
    ended = _step_hold(handle, steps, hold)
    err = float((art.data.joint_pos.torch[:, arm] - q0[:, arm]).abs().max())
    obj_pos = obj.data.root_pos_w.torch - env.scene.env_origins
    obj_speeds = obj.data.root_lin_vel_w.torch.norm(dim=-1)
    cycle = _gripper_cycle(handle, art, lambda close: hold(-1.0 if close else 1.0), int(round(1.0 / env.step_dt)))
    out = {"seconds": round(steps * env.step_dt, 3), "arm_pose_error_rad": round(err, 4),
           "object_height_above_table_m": [round(float(z) - TABLE_TOP, 4) for z in obj_pos[:, 2]],
           "object_speed_mps": [round(float(v), 4) for v in obj_speeds],
           "object_sizes_m": _object_shapes(env),
           **{k: v for k, v in cycle.items() if k != "ended"}, "episodes_ended": ended + cycle["ended"]}
    # on the table top (centre 4 mm to 12 cm above it, over the table) and at rest
    on_table = bool(((obj_pos[:, 2] > TABLE_TOP + 0.004) & (obj_pos[:, 2] < TABLE_TOP + 0.12)
                     & (obj_pos[:, 0] > -0.95) & (obj_pos[:, 0] < -0.15)).all())
    out["problems"] = _arm_problems(out) + [text for text, bad in (
        ("object not on the table", not on_table),
        (f"object still moving ({float(obj_speeds.max()):.4f} m/s)", float(obj_speeds.max()) > 0.02))
        if bad]
    return out


def drawer_check(handle, seconds: float = 2.0, pull_n: float = 20.0) -> dict:
    """``franka_drawer`` (``Isaac-Open-Drawer-Franka``, unedited): the arm holds its reset pose for
    ``seconds`` (the task's EMA joint-position-to-limits action set to that pose), the gripper closes
    and opens through the task's binary action (one second each); the drawer-handle frame (the task's
    ``cabinet_frame`` transformer) is compared with where the Sektion cabinet's numbers put it;
    then a pull of ``pull_n`` N along the drawer's opening direction on body ``drawer_handle_top`` for
    one second must slide ``drawer_top_joint`` out (Isaac Lab's drawer actuator: 10 N/m, 1 N s/m)."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    art, cab = env.scene["robot"], env.scene["cabinet"]
    handle.env.reset()
    arm = [art.find_joints(n)[0][0] for n in ARM_JOINTS]
    q0 = art.data.joint_pos.torch[:, arm].clone()
    limits = art.data.soft_joint_pos_limits.torch[:, arm]
    a_arm = (2.0 * (q0 - limits[..., 0]) / (limits[..., 1] - limits[..., 0]) - 1.0).clamp(-1.0, 1.0)

    def act(close: bool = False):
        return torch.cat([a_arm, torch.full((handle.num_envs, 1), -1.0 if close else 1.0)], dim=-1)

    steps = int(round(seconds / env.step_dt))
    ended = _step_hold(handle, steps, act)
    err = float((art.data.joint_pos.torch[:, arm] - q0).abs().max())
    frame = env.scene["cabinet_frame"].data.target_pos_w.torch[:, 0, :] - env.scene.env_origins
    frame_err = float((frame - torch.tensor(HANDLE_EXPECTED)).norm(dim=-1).max())
    cycle = _gripper_cycle(handle, art, act, int(round(1.0 / env.step_dt)))
    # pull the top drawer's handle along the drawer's +x (the cabinet is turned: world -x)
    drawer = cab.find_joints("drawer_top_joint")[0][0]
    bottom = cab.find_joints("drawer_bottom_joint")[0][0]
    handle_body = cab.find_bodies("drawer_handle_top")[0][0]
    start = cab.data.joint_pos.torch[:, drawer].clone()
    root_start = cab.data.root_pos_w.torch.clone()
    quat = cab.data.root_quat_w.torch  # xyzw
    from isaaclab.utils.math import quat_apply  # noqa: PLC0415

    direction = quat_apply(quat, torch.tensor([[1.0, 0.0, 0.0]]).expand(handle.num_envs, 3))
    forces = torch.zeros(handle.num_envs, 1, 3)
    forces[:, 0, :] = pull_n * direction
    cab.permanent_wrench_composer.set_forces_and_torques_index(
        forces=forces, torques=torch.zeros_like(forces), body_ids=[handle_body], is_global=True)
    pulled_ended = _step_hold(handle, int(round(1.0 / env.step_dt)), act)
    cab.permanent_wrench_composer.set_forces_and_torques_index(
        forces=torch.zeros_like(forces), torques=torch.zeros_like(forces), body_ids=[handle_body], is_global=True)
    travel = float((cab.data.joint_pos.torch[:, drawer] - start).min())
    bottom_moved = float(cab.data.joint_pos.torch[:, bottom].abs().max())
    root_moved = float((cab.data.root_pos_w.torch - root_start).norm(dim=-1).max())
    shoulder = art.data.body_pos_w.torch[:, art.find_bodies("panda_link1")[0][0]]  # joint 2's height, 0.333 m up
    reach = float((frame + env.scene.env_origins - shoulder).norm(dim=-1).max())
    out = {"seconds": round(steps * env.step_dt, 3), "arm_pose_error_rad": round(err, 4),
           "handle_frame_m": [[round(float(v), 4) for v in row] for row in frame],
           "handle_frame_expected_m": [round(v, 4) for v in HANDLE_EXPECTED], "handle_frame_error_m": round(frame_err, 4),
           "handle_from_shoulder_m": round(reach, 4),
           **{k: v for k, v in cycle.items() if k != "ended"},
           "pull_n": pull_n, "drawer_travel_m": round(travel, 4), "bottom_drawer_moved_m": round(bottom_moved, 4),
           "cabinet_moved_m": round(root_moved, 4),
           "episodes_ended": ended + cycle["ended"] + pulled_ended}
    out["problems"] = _arm_problems(out) + [text for text, bad in (
        (f"handle frame {frame_err} m from where the task expects it", frame_err > 0.01),
        (f"drawer moved {travel} m under a {pull_n} N pull (< 0.1)", travel < 0.1),
        (f"bottom drawer moved {bottom_moved} m", bottom_moved > 0.01),
        (f"cabinet moved {root_moved} m", root_moved > 0.005),
        (f"handle {reach} m from the shoulder, beyond the Panda's 0.855 m reach", reach > 0.855)) if bad]
    return out


CHECKS = {
    "franka_lift": Check(lift_check, lift_edit),
    "franka_drawer": Check(drawer_check),
}
