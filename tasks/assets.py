"""Where Isaac Lab reads its USD assets from, and the offline stand-ins we can build ourselves.

Isaac Lab resolves every robot and the ground plane under one asset root (NVIDIA's cloud bucket by
default, or the folder named by ``ISAACSIM_ASSET_ROOT``), and it reads that variable once, when
``isaaclab.utils.assets`` is imported. So :func:`select_asset_root` must run before any Isaac Lab
import in the process; ``tasks.isaaclab_env`` does that.

Offline, the cloud root is unreachable. :func:`build_local_root` makes a local root from files that
ship inside installed wheels (nothing is downloaded):

- ground plane: a collision plane written here (Isaac Lab's spawner needs a ``Plane`` prim);
- cartpole: the robot prim of the cartpole "golden stage" that the isaaclab wheel ships for its own
  tests, with the prototypes it references, re-rooted as the layer's default prim;
- ant: Newton's ``examples/assets/ant.usda`` (same joint names as Isaac Lab's ant).

These are *stand-ins*: geometry and joints match, masses and gains are whatever the source files
hold. Every run records which source it used (:class:`AssetSource`) so stand-in results are never
mistaken for results on NVIDIA's assets.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from tasks.errors import UserError

# Isaac Lab 3.0.0's default asset root (from its kit file); used for the reachability probe only.
CLOUD_ROOT = "https://omniverse-content-production.s3-us-west-2.amazonaws.com/Assets/Isaac/6.2"
ENV_VAR = "ISAACSIM_ASSET_ROOT"
MODES = ("auto", "local", "cloud")

GROUND_PLANE = "Isaac/IsaacLab/Environments/Grid/default_ground_plane_checker_v1/default_ground_plane.usda"
CARTPOLE = "Isaac/IsaacLab/Robots/Classic/Cartpole/cartpole.usd"
ANT = "Isaac/Robots/IsaacSim/Ant/ant_instanceable.usd"
BUILDABLE = (GROUND_PLANE, CARTPOLE, ANT)


def default_local_root() -> Path:
    """The local asset root: ``$DPRL_ASSET_DIR`` or ``.assets/`` at the project root."""
    env = os.environ.get("DPRL_ASSET_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".assets"


@dataclasses.dataclass(frozen=True)
class AssetSource:
    """What a run read its assets from; written into every ``run.json``."""

    kind: str  # "cloud", "local-standins" or "user" (ISAACSIM_ASSET_ROOT set by the user)
    root: str

    @property
    def is_standin(self) -> bool:
        return self.kind == "local-standins"


def cloud_reachable(timeout: float = 3.0) -> bool:
    host = urlparse(CLOUD_ROOT).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def select_asset_root(mode: str = "auto") -> AssetSource:
    """Decide the asset root for this process and export it to Isaac Lab.

    ``auto``: a user-set ``ISAACSIM_ASSET_ROOT`` wins; else the cloud root if it answers; else the
    local stand-in root (built on first use). ``local`` forces the stand-ins, ``cloud`` the cloud.
    """
    if mode not in MODES:
        raise UserError(f"unknown asset mode {mode!r}; valid: {', '.join(MODES)}")
    user_root = os.environ.get(ENV_VAR)
    if mode == "auto" and user_root and os.environ.get("DPRL_ASSET_KIND") != "local-standins":
        return AssetSource("user", user_root)
    if mode == "cloud" or (mode == "auto" and cloud_reachable()):
        os.environ.pop(ENV_VAR, None)
        return AssetSource("cloud", CLOUD_ROOT)
    root = default_local_root()
    if not all((root / rel).exists() for rel in BUILDABLE):
        build_local_root(root)
    os.environ[ENV_VAR] = str(root)
    # Marks the variable as ours, so a child process in "auto" mode records it as stand-ins too.
    os.environ["DPRL_ASSET_KIND"] = "local-standins"
    return AssetSource("local-standins", str(root))


def missing_assets(usd_paths: list[str], source: AssetSource, config_root: str) -> list[str]:
    """The task's USD files absent under ``source`` (nothing is checked on the cloud).

    ``config_root`` is the root Isaac Lab resolved its config paths against; paths under it are
    checked relative to ``source.root``, so the check holds even if Isaac Lab was imported first.
    """
    if source.kind == "cloud":
        return []
    missing = []
    for path in usd_paths:
        if path.startswith(config_root):
            path = str(Path(source.root) / path[len(config_root):].lstrip("/"))
        if "://" in path or not Path(path).exists():
            missing.append(path)
    return missing


def _site_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise UserError(f"package {package!r} is not installed; run `make setup` first")
    return Path(spec.origin).parent.joinpath(*parts)


def _write_ground_plane(dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(
        """#usda 1.0
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
}
"""
    )


def _write_cartpole(dest: Path) -> None:
    from pxr import Sdf  # noqa: PLC0415 (pxr comes with the isaaclab install)

    stages = sorted(glob.glob(str(_site_file("isaaclab", "source", "isaaclab_tasks", "test", "golden_stages",
                                             "cartpole", "newton-*.usda"))))
    if not stages:
        raise UserError("the isaaclab wheel's cartpole golden stage was not found; reinstall isaaclab==3.0.0")
    src = Sdf.Layer.FindOrOpen(stages[0])
    robot = Sdf.Path("/World/envs/env_0/Robot")
    out = Sdf.Layer.CreateAnonymous(".usda")
    out.upAxis = "Z"
    out.metersPerUnit = 1.0
    for prim in src.rootPrims:
        if prim.name.startswith("Flattened_Prototype_"):
            Sdf.CopySpec(src, prim.path, out, prim.path)
    Sdf.CopySpec(src, robot, out, Sdf.Path("/Robot"))
    # CopySpec leaves relationship targets that pointed into env_0; point them at the new root.
    _retarget(out, str(robot), "/Robot")
    out.GetPrimAtPath("/Robot").GetAttributeAtPath("/Robot.xformOp:translate").default = (0.0, 0.0, 0.0)
    out.defaultPrim = "Robot"
    dest.parent.mkdir(parents=True, exist_ok=True)
    out.Export(str(dest), args={"format": "usda"})


def _retarget(layer, old: str, new: str) -> None:
    from pxr import Sdf  # noqa: PLC0415

    def visit(path):
        spec = layer.GetObjectAtPath(path)
        if isinstance(spec, Sdf.RelationshipSpec):
            items = list(spec.targetPathList.GetAddedOrExplicitItems())
            fixed = [Sdf.Path(str(p).replace(old, new, 1)) if str(p).startswith(old) else p for p in items]
            if fixed != items:
                spec.targetPathList.ClearEdits()
                spec.targetPathList.explicitItems = fixed

    layer.Traverse(Sdf.Path.absoluteRootPath, visit)


def _write_ant(dest: Path) -> None:
    src = _site_file("newton", "examples", "assets", "ant.usda")
    if not src.exists():
        raise UserError(f"Newton's ant asset is missing at {src}; reinstall isaaclab==3.0.0")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def build_local_root(root: Path) -> Path:
    """Build (or rebuild) every stand-in under ``root``; writes into a temporary folder, then swaps."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".assets-build-", dir=root.parent))
    try:
        _write_ground_plane(tmp / GROUND_PLANE)
        _write_cartpole(tmp / CARTPOLE)
        _write_ant(tmp / ANT)
        (tmp / "STANDINS.txt").write_text(
            "Offline stand-ins built by `python -m tasks.assets`, not NVIDIA's assets.\n"
            + "\n".join(BUILDABLE)
            + "\n"
        )
        if root.exists():
            shutil.rmtree(root)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m tasks.assets", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="where to build (default: .assets/)")
    args = parser.parse_args(argv)
    root = build_local_root(args.root or default_local_root())
    print(f"built offline stand-ins under {root}:")
    for rel in BUILDABLE:
        print(f"  {rel}")
    print(f"Isaac Lab reads them when {ENV_VAR}={root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
