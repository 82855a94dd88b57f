"""Torn files and a full disk never crash a sweep (glue: ``benchmark.train.execute`` on the two-mode
bandit in place of Isaac Lab, in-process and small; tests/test_sim_training.py resumes a real
run). A run is interrupted after its step-32 checkpoint, a file of it is torn, and the run is
trained again: it falls back to the newest whole checkpoint (or restarts) and its attempt says so."""

from __future__ import annotations

import contextlib
import json
import errno
from types import SimpleNamespace

import pytest
import torch

import tasks.isaaclab_env
from bandit import Killed, KilledAt
from conftest import run_json
from benchmark import run as sweep
from benchmark import store as store_module
from benchmark import train
from benchmark.launchers import LocalLauncher
from benchmark.spec import RunSpec
from benchmark.store import RunDir, Store

NUM_ENVS, STEPS = 8, 48  # checkpoints every 16 steps (benchmark.train: a tenth of the budget, at least a log interval)
SPECS = {
    "ppo": {"task": "cartpole", "algo": "ppo", "num_envs": NUM_ENVS, "timesteps": STEPS, "eval_episodes": 8},
    "sac": {"task": "cartpole", "algo": "sac", "num_envs": NUM_ENVS, "timesteps": STEPS, "eval_episodes": 8,
            "overrides": {"memory_size": 8, "batch_size": 32}},
}


@pytest.fixture
def bandit(monkeypatch):
    """Training processes get the bandit instead of Isaac Lab; ``kill_at`` stops the next one there."""
    control = SimpleNamespace(kill_at=None)

    @contextlib.contextmanager
    def open_env(task, *, num_envs, device, seed, asset_mode, shifts=()):
        env = KilledAt(NUM_ENVS, control.kill_at)
        control.kill_at = None
        unwrapped = SimpleNamespace(num_envs=num_envs, reset=lambda: ({"policy": env.obs}, {}))
        yield SimpleNamespace(env=env, unwrapped=unwrapped, num_envs=num_envs, obs_dim=1, act_dim=2,
                              asset_source=SimpleNamespace(kind="test", root=None), max_episode_length=1,
                              record={"asset_source": {"kind": "test"}})

    monkeypatch.setattr(tasks.isaaclab_env, "open_env", open_env)
    torch.set_num_threads(1)
    return control


def _interrupted(tmp_path, bandit, algo: str) -> tuple[RunSpec, RunDir]:
    """A run killed at step 41: checkpoints at 16 and 32 (and the replay memory of 32), rows up to 32."""
    spec = RunSpec.create(**SPECS[algo])
    run = Store(tmp_path).run(spec.run_id)
    train.plan_run(run, spec)
    bandit.kill_at = 41
    with pytest.raises(Killed):
        train.execute(run, progress=False)
    assert [p.name for p in run.checkpoints()] == ["ckpt_16.pt", "ckpt_32.pt"]
    return spec, run


def _again(run: RunDir, spec: RunSpec) -> dict:
    train.plan_run(run, spec)  # what the sweep does before it starts the training process
    train.execute(run, progress=False)
    meta = run_json(run)
    assert meta["status"] == "finished" and run.status() == "finished"
    assert [int(r["timestep"]) for r in run.read_metrics()] == [16, 32, 48]
    assert not list(run.checkpoint_dir.glob("memory_*")), "an ended run keeps no replay memory"
    return meta


def _tear(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("algo,torn,resumed_from", [
    ("ppo", "ckpt_32.pt", 16),  # on-policy: the previous checkpoint is whole
    ("sac", "ckpt_32.pt", 0),  # off-policy: the previous checkpoint has no replay memory: restart
    ("sac", "memory_32.pt", 0),
])
def test_a_torn_checkpoint_falls_back_and_says_so(tmp_path, bandit, algo, torn, resumed_from):
    spec, run = _interrupted(tmp_path, bandit, algo)
    _tear(run.checkpoint_dir / torn)
    attempt = _again(run, spec)["attempts"][-1]
    assert attempt["resumed_from_timestep"] == resumed_from
    notes = " ".join(attempt["recovered"])
    assert f"{torn} is damaged" in notes
    if torn.startswith("ckpt"):  # kept for inspection (a damaged replay memory is deleted with the others)
        assert (run.checkpoint_dir / f"{torn}.damaged").exists()
    if resumed_from == 0:
        assert "ckpt_16.pt skipped: no replay memory beside it" in notes and "restarts from step 0" in notes


def test_a_killed_off_policy_run_resumes_with_its_replay_memory(tmp_path, bandit):
    spec, run = _interrupted(tmp_path, bandit, "sac")
    attempt = _again(run, spec)["attempts"][-1]
    assert attempt["resumed_from_timestep"] == 32 and "recovered" not in attempt
    assert attempt["replay_memory_restored"] == 8 * NUM_ENVS  # memory_size 8 per environment, full
    assert attempt["determinism"]["torch_threads"] == 1


def test_a_torn_run_json_is_set_aside_rebuilt_and_the_run_resumes(tmp_path, bandit):
    spec, run = _interrupted(tmp_path, bandit, "sac")
    _tear(run.meta_path)
    assert run.status() == "damaged" and run.read_record() is None
    (job,) = sweep.train_jobs([(spec, run)], "cpu")
    assert job.state() == "damaged"
    meta = _again(run, spec)
    assert len(meta["attempts"]) == 1 and meta["attempts"][0]["resumed_from_timestep"] == 32
    assert "run.json was damaged" in meta["attempts"][0]["recovered"][0]
    assert (run.path / "run.json.damaged").exists()


@pytest.mark.parametrize("damage,resumed_from", [
    (lambda text: text[: text.index("\n32,") + 6], 16),  # torn in the step-32 row: ckpt_32 is not covered
    (lambda text: "\udcff\x00" + text, 0),  # not text at all: no row survives, the run restarts
])
def test_a_torn_metrics_file_keeps_its_good_rows(tmp_path, bandit, damage, resumed_from):
    spec, run = _interrupted(tmp_path, bandit, "ppo")
    text = run.metrics_path.read_text()
    run.metrics_path.write_bytes(damage(text).encode("utf-8", "surrogateescape"))
    attempt = _again(run, spec)["attempts"][-1]
    assert attempt["resumed_from_timestep"] == resumed_from
    assert "metrics.csv is damaged" in attempt["recovered"][0]
    assert (run.path / "metrics.csv.damaged").exists()


def test_an_unreadable_run_directory_is_reported_with_its_path(tmp_path, capsys):
    spec = RunSpec.create(**SPECS["ppo"])
    run = Store(tmp_path).run(spec.run_id)
    run.path.parent.mkdir(parents=True)
    run.path.write_text("a file where the run's directory should be")
    assert run.status() == "unreadable"
    outcome = sweep.execute(sweep.train_jobs([(spec, run)], "cpu"), LocalLauncher(1), retry_failed=False,
                            what="run")
    assert outcome == {spec.run_id: "unreadable"}
    assert f"skipped   {spec.run_id} (unreadable; its directory cannot be read); see {run.path}" in \
        capsys.readouterr().out


class FullDisk:
    """Every store write to a file whose name contains ``name`` fails half-way with ENOSPC."""

    def __init__(self, name: str):
        self.name, self.open = name, store_module._open_temporary

    def __call__(self, path):
        f = self.open(path)
        if self.name not in path.name:
            return f
        write = f.write

        def failing(data):
            write(bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        f.write = failing
        return f


def test_a_full_disk_fails_the_run_with_a_message_and_leaves_the_store_intact(tmp_path, bandit, monkeypatch,
                                                                              capsys):
    other = Store(tmp_path).run("another-run")  # a run of the same store, finished earlier
    other.path.mkdir(parents=True)
    other.meta_path.write_text(json.dumps({"run_id": "another-run", "status": "finished"}))
    before = other.meta_path.read_bytes()
    spec = RunSpec.create(**SPECS["sac"])
    run = Store(tmp_path).run(spec.run_id)
    train.plan_run(run, spec)
    monkeypatch.setattr(store_module, "_open_temporary", FullDisk("memory_32"))

    assert train.main(["--run-dir", str(run.path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "memory_32.pt" in err and "Traceback" not in err
    meta = run_json(run)
    assert meta["status"] == "failed" and meta["error"]["type"] == "DiskFull"
    assert "No space left on device while writing" in meta["error"]["message"]
    assert not list(tmp_path.rglob(".*.tmp-*")), "a failed write leaves no temporary file"
    assert [p.name for p in run.checkpoints()] == ["ckpt_16.pt"] and run.memory_path(16).exists()
    assert other.meta_path.read_bytes() == before

    monkeypatch.setattr(store_module, "_open_temporary", store_module._open_temporary.open)  # space freed
    attempt = _again(run, spec)["attempts"][-1]
    assert attempt["resumed_from_timestep"] == 16 and attempt["replay_memory_restored"] == 8 * NUM_ENVS
