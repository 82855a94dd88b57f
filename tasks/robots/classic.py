"""The ground plane, the cartpole and the ant: files that installed packages already hold.

- ground plane: a collision plane written here (Isaac Lab's spawner needs a ``Plane`` prim; NVIDIA's
  file adds a visual grid), with the ``Looks/theGrid/Shader`` a task's ``GroundPlaneCfg(color=...)``
  tints (the lift task's does); ``generated``;
- cartpole: the robot prim of the cartpole "golden stage" that the isaaclab wheel ships for its own
  tests (NVIDIA's cartpole as Isaac Lab composed it), with the prototypes it references, re-rooted
  as the layer's default prim; ``same-model``;
- ant: Newton's ``examples/assets/ant.usda`` (the MuJoCo ant, with Isaac Lab's joint names); whether
  its masses and geometry equal NVIDIA's ``ant_instanceable.usd`` is not checked; ``stand-in``.
"""

from __future__ import annotations

import shutil

from tasks.robots import usd_edit
from tasks.robots.recipe import (GENERATED, SAME_MODEL, STAND_IN, AssetBuild, BuildContext, Expect, Generated,
                                 InstalledFile)
from tasks.robots.simcheck import Check, steps_finite

GROUND_PLANE = "Isaac/IsaacLab/Environments/Grid/default_ground_plane_checker_v1/default_ground_plane.usda"
CARTPOLE = "Isaac/IsaacLab/Robots/Classic/Cartpole/cartpole.usd"
ANT = "Isaac/Robots/IsaacSim/Ant/ant_instanceable.usd"
GOLDEN = ("source", "isaaclab_tasks", "test", "golden_stages")

_PLANE = """#usda 1.0
(
    defaultPrim = "GroundPlane"
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "GroundPlane"
{
    def Plane "CollisionPlane" (
        prepend apiSchemas = ["PhysicsCollisionAPI"]
    )
    {
        uniform token axis = "Z"
        double length = 100
        double width = 100
    }

    def Scope "Looks"
    {
        def Material "theGrid"
        {
            def Shader "Shader"
            {
                uniform token info:id = "UsdPreviewSurface"
                color3f inputs:diffuse_tint = (1, 1, 1)
            }
        }
    }
}
"""


def make_ground_plane(ctx: BuildContext) -> list[str]:
    ctx.dest.parent.mkdir(parents=True, exist_ok=True)
    ctx.dest.write_text(_PLANE)
    return ["a 100 m x 100 m collision plane and the grid material a task may tint; NVIDIA's file also draws the grid"]


def extract_prim(stage_file, prim: str, dest, prototypes=lambda name: name.startswith("Flattened_Prototype_")) -> None:
    """Copy ``prim`` of a flattened stage file (and the root prims ``prototypes`` selects, which it
    references) into a new layer, re-rooted as its default prim at the origin."""
    from pxr import Sdf  # noqa: PLC0415

    src = Sdf.Layer.FindOrOpen(str(stage_file))
    path = Sdf.Path(prim)
    name = path.name
    out = Sdf.Layer.CreateAnonymous(".usda")
    out.upAxis = "Z"
    out.metersPerUnit = 1.0
    for root_prim in src.rootPrims:
        if prototypes(root_prim.name):
            Sdf.CopySpec(src, root_prim.path, out, root_prim.path)
    Sdf.CopySpec(src, path, out, Sdf.Path(f"/{name}"))
    # CopySpec leaves relationship targets that pointed into the env
    usd_edit.retarget_relationships(out, {path: Sdf.Path(f"/{name}")})
    translate = out.GetPrimAtPath(f"/{name}").GetAttributeAtPath(f"/{name}.xformOp:translate")
    if translate is not None:
        translate.default = (0.0, 0.0, 0.0)
    out.defaultPrim = name
    dest.parent.mkdir(parents=True, exist_ok=True)
    out.Export(str(dest), args={"format": "usda"})


def make_cartpole(ctx: BuildContext) -> list[str]:
    extract_prim(ctx.src, "/World/envs/env_0/Robot", ctx.dest)
    return ["robot prim /World/envs/env_0/Robot of Isaac Lab's test golden stage and the prototypes it references, "
            "re-rooted as /Robot (relationships retargeted), translation zeroed"]


def make_ant(ctx: BuildContext) -> list[str]:
    ctx.dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ctx.src, ctx.dest)
    return ["copied unchanged (Newton's example ant, not NVIDIA's ant_instanceable.usd)"]


ASSETS = (
    AssetBuild("ground_plane", GROUND_PLANE, GENERATED, Generated("tasks/robots/classic.py (make_ground_plane)"),
               make_ground_plane, note="a collision plane; NVIDIA's file also has a visual grid"),
    AssetBuild("cartpole", CARTPOLE, SAME_MODEL,
               InstalledFile("isaaclab", "isaaclab", (*GOLDEN, "cartpole", "newton-*.usda")), make_cartpole,
               Expect(("slider_to_cart", "cart_to_pole"), all_bodies_direct=False, fixed_base=True),  # the rail: welded
               note="NVIDIA's cartpole as the isaaclab wheel's own test stage holds it"),
    AssetBuild("ant", ANT, STAND_IN, InstalledFile("newton", "newton", ("examples", "assets", "ant.usda")), make_ant,
               Expect(scene_beside_ok=True),
               note="Newton's MuJoCo ant with Isaac Lab's joint names; likeness to NVIDIA's ant not checked"),
)

# the cartpole and the ant train in the tests and the smoke run; here only: they build and step
CHECKS = {"cartpole": Check(steps_finite), "ant": Check(steps_finite)}
