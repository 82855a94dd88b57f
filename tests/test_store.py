"""Run identity and run directories: stable ids, atomic status, locks, checkpoints, metrics."""

import json
import multiprocessing
import threading
import time

import pytest

from benchmark.record import RunRecord, Status
from benchmark.spec import RunSpec
from benchmark.store import MetricsWriter, RunDir, hold, is_held
from tasks.errors import UserError


def record(status: Status) -> RunRecord:
    out = RunSpec.create(task="cartpole", algo="ppo", seed=0).initial_record()
    out.status = status
    return out


def test_run_id_is_stable_and_depends_on_what_changes_results():
    a = RunSpec.create(task="cartpole", algo="ppo", seed=0)
    assert a.run_id == RunSpec.create(task="cartpole", algo="ppo", seed=0, num_envs=1024, timesteps=2400).run_id
    assert a.run_id.startswith("cartpole-ppo-n1024-s0-")
    others = [RunSpec.create(task="cartpole", algo="ppo", seed=1),
              RunSpec.create(task="cartpole", algo="ppo", seed=0, timesteps=100),
              RunSpec.create(task="cartpole", algo="ppo", seed=0, overrides={"actor_lr": 1e-3}),
              RunSpec.create(task="cartpole", algo="sac", seed=0)]
    assert len({a.run_id, *(o.run_id for o in others)}) == 5


def test_defaults_come_from_the_registry():
    spec = RunSpec.create(task="ant", algo="td3")
    assert (spec.num_envs, spec.timesteps) == (1024, 16000)


def test_status_lifecycle(tmp_path):
    run = RunDir(tmp_path / "r")
    assert run.status() == "new"
    run.write_record(record(Status.RUNNING))
    assert run.status() == "interrupted"  # nobody holds the lock
    with run.lock():
        assert run.status() == "running"
    run.write_record(record(Status.FINISHED))
    assert run.status() == "finished"
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"
    assert not list((tmp_path / "r").glob(".*.tmp-*"))


def _hold(path, ready):
    with RunDir(path).lock():
        ready.set()
        time.sleep(30)


def test_lock_of_a_live_process_is_seen_and_dies_with_it(tmp_path):
    run = RunDir(tmp_path / "r")
    run.write_record(record(Status.RUNNING))
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold, args=(run.path, ready))
    proc.start()
    assert ready.wait(20)
    assert run.status() == "running"
    proc.kill()
    proc.join()
    assert run.status() == "interrupted"


def test_a_lock_is_taken_while_another_process_probes_it_and_refused_while_held(tmp_path):
    """is_held takes the lock for an instant; a run starting in that instant must still start."""
    lock = tmp_path / ".lock"
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            is_held(lock)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        busy = 0
        for _ in range(300):
            try:
                with hold(lock, "busy"):
                    pass
            except UserError:
                busy += 1
    finally:
        stop.set()
        prober.join()
    assert busy == 0
    with hold(lock, "busy"), pytest.raises(UserError, match="held elsewhere"):
        with hold(lock, "held elsewhere", grace_s=0.05):
            pass


def test_checkpoints_keep_the_newest_two_and_the_replay_memory_of_the_newest_only(tmp_path):
    run = RunDir(tmp_path / "r")
    for t in (16, 32, 48):
        run.save_checkpoint({"timestep": t}, t, memory={"tensors": {}})
    (run.checkpoint_dir / "ckpt_x.pt").write_text("not one of ours")
    assert [p.name for p in run.checkpoints()] == ["ckpt_32.pt", "ckpt_48.pt"]
    assert run.latest_checkpoint().name == "ckpt_48.pt"
    assert sorted(p.name for p in run.checkpoint_dir.glob("memory_*")) == ["memory_48.pt"]
    run.drop_memory()
    assert not list(run.checkpoint_dir.glob("memory_*")) and run.latest_checkpoint().name == "ckpt_48.pt"


def test_a_run_held_by_a_live_process_is_running_whatever_run_json_says(tmp_path):
    run = RunDir(tmp_path / "r")
    assert run.create_record(record(Status.PLANNED)) and not run.create_record(record(Status.FINISHED))
    assert run.read_record() == record(Status.PLANNED) and run.status() == "new"
    with run.lock():  # another sweep's training process has just taken it
        assert run.status() == "running"
    run.meta_path.write_text('{"status": "runn')
    assert run.status() == "damaged" and run.meta_problem().startswith("JSONDecodeError")
    run.meta_path.write_text('{"status": "running"}')  # JSON, but not a run record
    assert run.status() == "damaged" and run.meta_problem().startswith("not a run record")


def test_a_record_reads_back_as_written_and_old_files_still_load(tmp_path):
    """Every run.json written before the typed record (a v1 file as benchmark.train wrote it at
    commit 305ff07) loads; an unknown key is kept and written back; the JSON is the same shape."""
    old = {"run_id": "cartpole-ppo-n64-s0-abc", "status": "finished",
           "spec": {"task": "cartpole", "algo": "ppo", "num_envs": 64, "seed": 0, "timesteps": 32, "overrides": {},
                    "eval_episodes": 64},
           "task": {"name": "cartpole"}, "algo": "ppo", "seed": 0, "num_envs": 64, "timesteps": 32,
           "total_env_steps": 2048, "agent_config": {"values": {}, "sources": {}}, "profile": "review",
           "attempts": [{"started_at": "t0", "device": "cpu", "compile": {"mode": "auto", "compiled": False},
                         "resumed_from_timestep": 0, "ended_at": "t1", "status": "finished", "note": "kept"}],
           "final_eval": {"episodes": 64, "return_mean": 4.5, "return_std": 0.1, "length_mean": 300.0,
                          "policy": "mean"}, "a_later_key": [1, 2], "ended_at": "t1"}
    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    run.meta_path.write_text(json.dumps(old))
    loaded = run.read_record()
    assert loaded.status == Status.FINISHED and loaded.spec.timesteps == 32 and loaded.spec.revision is None
    assert loaded.final_eval.return_mean == 4.5 and loaded.attempts[0].status == Status.FINISHED
    assert loaded.attempts[0].extra == {"note": "kept"} and loaded.extra == {"a_later_key": [1, 2]}
    assert loaded.to_json() == old  # nothing lost or added, every key back
    assert RunSpec.from_record(loaded).run_id.startswith("cartpole-ppo-n64-s0-")


def test_metrics_header_widens_and_resume_truncates(tmp_path):
    run = RunDir(tmp_path / "r")
    writer = MetricsWriter(run)
    writer.append({"timestep": 1, "env_steps": 4, "wall_time_s": 0.1})
    writer.append({"timestep": 2, "env_steps": 8, "wall_time_s": 0.2, "loss_x": 1.5})
    rows = run.read_metrics()
    assert rows[0]["loss_x"] == "" and rows[1]["loss_x"] == "1.5"
    MetricsWriter(run, keep_until_timestep=1)
    assert [r["timestep"] for r in run.read_metrics()] == ["1"]
