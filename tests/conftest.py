"""Shared fixtures. Tests marked ``sim`` start real Isaac Lab (CPU) and take tens of seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
