"""Edits that make a converted robot USD look like the robot files Isaac Lab's configs expect.

Isaac Lab's robot configs and sensors address links by regex *one level below the robot prim*
(``{ENV_REGEX_NS}/Robot/trunk``, ``{ENV_REGEX_NS}/Robot/.*_foot``; the contact sensor's pattern is
``{ENV_REGEX_NS}/Robot/[^/]*``), as NVIDIA's robot USDs lay them out. The URDF and MJCF converters
instead nest each link inside its parent (``/a1_description/Geometry/trunk/FR_hip/FR_upper/...``).
:func:`relink` moves every rigid body to a direct child of the default prim, keeping the poses of
the links relative to each other and putting the articulation root body at the prim's origin, and
points every relationship (joint ``body0``/``body1``, filtered pairs)
at the moved prims; joint frames are body-relative, so they stay valid. The same pass renames
links and joints to Isaac Lab's names. :func:`remove_prims` drops what must not be in a robot asset
(the converter's fixed ``root_joint`` to the world, MuJoCo actuator prims).

All edits work on one in-memory stage whose root layer is then exported; nothing here imports
Isaac Lab (``pxr`` comes with the isaaclab install).
"""

from __future__ import annotations

from pathlib import Path


def open_flat(path: Path):
    """The file's composed stage flattened into one anonymous layer, opened as a stage, the same on
    every build: instanced prims (a converter's materials) are de-instanced first, since flattening
    names their prototypes ``Flattened_Prototype_<n>`` in no fixed order (the unreferenced
    prototypes are then dropped), and no comment names the source file."""
    from pxr import Usd  # noqa: PLC0415

    stage = Usd.Stage.Open(str(path))
    for prim in stage.Traverse():
        if prim.IsInstanceable():
            prim.SetInstanceable(False)
    flat = stage.Flatten(addSourceFileComment=False)
    for spec in list(flat.rootPrims):
        if spec.name.startswith("Flattened_Prototype_"):
            del flat.rootPrims[spec.name]
    return Usd.Stage.Open(flat)


def _remove_spec(layer, path) -> None:
    spec = layer.GetPrimAtPath(path)
    if spec is None:
        return
    parent = spec.nameParent if spec.nameParent else layer.pseudoRoot
    del parent.nameChildren[spec.name]


def remove_prims(stage, predicate) -> list[str]:
    """Remove every prim for which ``predicate(prim)`` is true (with its subtree); returns their paths."""
    doomed = [p.GetPath() for p in stage.Traverse() if predicate(p)]
    # parents before children: skip paths already removed with an ancestor
    removed = []
    for path in sorted(doomed, key=lambda p: p.pathElementCount):
        if any(path.HasPrefix(r) for r in removed):
            continue
        _remove_spec(stage.GetRootLayer(), path)
        removed.append(path)
    return [str(p) for p in removed]


def retarget_relationships(layer, moves: dict) -> None:
    """Point every relationship target under an old path at the same place under its new path."""
    from pxr import Sdf  # noqa: PLC0415

    olds = sorted(moves, key=lambda p: -p.pathElementCount)  # longest prefix first

    def fix(path):
        for old in olds:
            if path.HasPrefix(old):
                return path.ReplacePrefix(old, moves[old])
        return path

    def visit(path):
        spec = layer.GetObjectAtPath(path)
        if isinstance(spec, Sdf.RelationshipSpec):
            items = list(spec.targetPathList.GetAddedOrExplicitItems())
            fixed = [fix(p) for p in items]
            if fixed != items:
                spec.targetPathList.ClearEdits()
                spec.targetPathList.explicitItems = fixed

    layer.Traverse(Sdf.Path.absoluteRootPath, visit)


def relink(stage, rename: dict[str, str] | None = None) -> dict[str, str]:
    """Move every rigid body to a direct child of the default prim and rename links and joints.

    ``rename`` maps old prim names (links and joints) to new ones. Each body's transform becomes its
    pose relative to the robot root (a single matrix op). Returns ``{old path: new path}`` for the
    record. Raises ``ValueError`` if two prims would land on the same path.
    """
    from pxr import Sdf, Usd, UsdGeom, UsdPhysics  # noqa: PLC0415

    rename = rename or {}
    layer = stage.GetRootLayer()
    root = stage.GetDefaultPrim()
    # 1. joints take Isaac Lab's names where they are
    joint_moves = {}
    for prim in list(stage.Traverse()):
        if prim.IsA(UsdPhysics.Joint) and prim.GetName() in rename:
            joint_moves[prim.GetPath()] = prim.GetPath().GetParentPath().AppendChild(rename[prim.GetName()])
    for old, new in joint_moves.items():
        Sdf.CopySpec(layer, old, layer, new)
        _remove_spec(layer, old)
    retarget_relationships(layer, joint_moves)
    # 2. where each body goes, and its pose relative to the robot root
    cache = UsdGeom.XformCache()
    bodies = [p for p in Usd.PrimRange(root) if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    # poses relative to the articulation root body, which lands at the robot prim's origin (as in
    # NVIDIA's robot USDs; the Spot MJCF puts its body 0.75 m up, the spawn height of its scene)
    base = next((p for p in bodies if p.HasAPI(UsdPhysics.ArticulationRootAPI)), root)
    root_inv = cache.GetLocalToWorldTransform(base).GetInverse()
    moves: dict = {}
    poses = {}
    for body in bodies:
        new = root.GetPath().AppendChild(rename.get(body.GetName(), body.GetName()))
        if new in moves.values():
            raise ValueError(f"two links would both become {new}")
        moves[body.GetPath()] = new
        poses[new] = cache.GetLocalToWorldTransform(body) * root_inv
    clashes = [str(n) for o, n in moves.items() if n != o and stage.GetPrimAtPath(n) and n not in moves]
    if clashes:
        raise ValueError(f"moving links would overwrite existing prims: {clashes}")
    # 3. every relationship (joint bodies, filtered pairs, ...) points at the final places first
    retarget_relationships(layer, moves)
    # 4. copy each body with its subtree under a temporary name, drop the nested bodies from each
    #    copy (each has its own), delete the originals, then give the copies their final names
    tmp = {old: root.GetPath().AppendChild(f"__relink_{i}") for i, old in enumerate(moves)}
    for old, t in tmp.items():
        Sdf.CopySpec(layer, old, layer, t)
    for old, t in tmp.items():
        for other in moves:
            if other != old and other.HasPrefix(old):
                _remove_spec(layer, other.ReplacePrefix(old, t))
    for old in sorted(moves, key=lambda p: p.pathElementCount):
        if layer.GetPrimAtPath(old) is not None:
            _remove_spec(layer, old)
    for old, t in tmp.items():
        Sdf.CopySpec(layer, t, layer, moves[old])
        _remove_spec(layer, t)
    for new, pose in poses.items():
        UsdGeom.Xformable(stage.GetPrimAtPath(new)).MakeMatrixXform().Set(pose)
    done = {str(o): str(n) for o, n in {**joint_moves, **moves}.items() if o != n}
    return done


def drop_external_files(stage) -> list[str]:
    """Remove every asset-valued attribute that points at a file by absolute path (a converter's
    textures in its scratch folder, deleted after the build: a dangling reference that also names
    the build machine's folders); returns the attributes removed. Visual only."""
    from pxr import Sdf  # noqa: PLC0415

    removed = []
    for prim in stage.Traverse():
        for attr in prim.GetAttributes():
            value = attr.Get() if attr.GetTypeName() == Sdf.ValueTypeNames.Asset else None
            if value is not None and value.path.startswith("/"):
                prim.RemoveProperty(attr.GetName())
                removed.append(str(attr.GetPath()))
    return removed


def export(stage, dest: Path) -> None:
    """The stage's root layer to ``dest`` with reproducible bytes: no reference to a file by absolute
    path (:func:`drop_external_files`), the layer's documentation (where a converter leaves its
    scratch path) cleared, the text format (a ``.usd`` may hold either; the binary format's byte
    order varies between runs)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    drop_external_files(stage)
    layer = stage.GetRootLayer()
    layer.documentation = ""
    layer.Export(str(dest), args={"format": "usda"})
