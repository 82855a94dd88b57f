"""Shared fixtures. Tests marked ``sim`` start real Isaac Lab (CPU) and take tens of seconds.

Every test starts from its own random state: python's, numpy's and torch's generators are seeded
from the test's id (plus ``--rng-seed``, 0 by default) before it runs, so no test's verdict depends
on which tests ran before it. pytest-randomly shuffles the order on every run (its seed is printed
in the header; ``-p no:randomly`` keeps the file order, ``--randomly-seed=N`` repeats an order), so
a test that leans on another's leftovers fails soon rather than some day; its own reseeding is turned
off here (as ``--randomly-dont-reset-seed`` would): the fixture below owns the seeds.
``--rng-seed=N`` runs every test from another random state: the check that a verdict holds for
more than one seed.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    if config.pluginmanager.hasplugin("randomly"):
        config.option.randomly_reset_seed = False


def pytest_addoption(parser):
    parser.addoption("--rng-seed", type=int, default=0,
                     help="added to every test's seed (python, numpy, torch; default 0)")


@pytest.fixture(autouse=True)
def seeded_generators(request):
    """Seed python's, numpy's and torch's global generators from the test's id and ``--rng-seed``."""
    seed = (zlib.crc32(request.node.nodeid.encode()) + request.config.getoption("rng_seed")) % 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def run_json(run) -> dict:
    """A run directory's ``run.json`` as the file holds it (the tests check the file itself)."""
    import json  # noqa: PLC0415

    return json.loads(run.meta_path.read_text())


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``python -m <module> args`` from the project root, capturing output."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A real local Ray instance on loopback, as a cluster head would be started."""
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    subprocess.run([str(ray_bin), "start", "--head", "--port", str(port), "--num-cpus", "2",
                    "--include-dashboard", "false", "--disable-usage-stats",
                    "--temp-dir", str(tmp_path_factory.mktemp("ray"))], check=True, capture_output=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True)
