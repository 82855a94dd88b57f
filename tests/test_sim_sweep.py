"""A real sweep (Isaac Lab Cartpole, two short PPO runs): killed with SIGKILL in the middle and run
again it finishes every run exactly once; a further invocation does nothing; the same sweep through
a local Ray instance, started at the same time as a local one on the same store, gives the same
results with every run trained once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.manifest import load
from conftest import run_json
from benchmark.store import RunDir, Store

pytestmark = pytest.mark.sim
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = """name: tiny
description: two short PPO runs on Cartpole
tasks: [cartpole]
algorithms: [ppo]
seeds: [0, 1]
num_envs: 64
timesteps: 160
eval_episodes: 64
device: cpu
"""


def _sweep(manifest: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmark.run", "--exp", str(manifest), "--out", str(out), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _attempts(run: RunDir) -> list[dict]:
    return run_json(run)["attempts"]


@pytest.fixture
def manifest(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(MANIFEST)
    return path


def test_sigkill_mid_sweep_then_rerun_finishes_each_run_exactly_once(tmp_path, manifest):
    out = tmp_path / "results"
    first, second = (Store(out).run(spec.run_id) for spec in load(str(manifest)).runs)
    proc = _sweep(manifest, out)
    deadline = time.monotonic() + 600
    while not second.meta_path.exists() or not run_json(second).get("env"):  # the second run is training
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.5)
    time.sleep(2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while second.is_locked():  # the training process died with the runner
        assert time.monotonic() < deadline, "the training process outlived the killed sweep"
        time.sleep(0.2)
    assert first.status() == "finished" and second.status() == "interrupted"

    rerun = _sweep(manifest, out)
    log = rerun.communicate(timeout=900)[0]
    assert rerun.returncode == 0, log
    assert f"resume    {second.path.name}" in log and f"start     {first.path.name}" not in log
    for run in (first, second):
        finished = [a for a in _attempts(run) if a.get("status") == "finished"]
        assert run.status() == "finished" and len(finished) == 1
    assert len(_attempts(first)) == 1
    assert len(_attempts(second)) == 2 and "ended_at" not in _attempts(second)[0]  # the killed attempt
    table = pd.read_csv(out / "tiny" / "results.csv")
    assert sorted(table["run_id"]) == sorted([first.path.name, second.path.name])

    before = [json.dumps(run_json(run)) for run in (first, second)]
    again = _sweep(manifest, out)
    log = again.communicate(timeout=300)[0]
    assert again.returncode == 0 and "start" not in log and "resume" not in log
    assert [json.dumps(run_json(run)) for run in (first, second)] == before


def test_a_local_sweep_and_a_ray_sweep_at_once_on_one_store_train_each_run_once(tmp_path, manifest, ray_cluster):
    out = tmp_path / "results"
    ray = _sweep(manifest, out, "--launcher", "ray", "--address", ray_cluster)
    local = _sweep(manifest, out)
    logs = [proc.communicate(timeout=900)[0] for proc in (ray, local)]
    assert ray.returncode == 0 and local.returncode == 0, logs
    expected = sorted(spec.run_id for spec in load(str(manifest)).runs)
    for run in Store(out).runs(expected):
        assert run.status() == "finished" and len(_attempts(run)) == 1, _attempts(run)  # trained once
    table = pd.read_csv(out / "tiny" / "results.csv")  # written whole by whichever sweep ended last
    assert sorted(table["run_id"]) == expected
    assert set(table["status"]) == {"finished"} and table["eval_return_mean"].notna().all()
