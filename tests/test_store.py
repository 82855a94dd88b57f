"""Run identity and run directories: stable ids, atomic status, locks, checkpoints, metrics."""

import json
import multiprocessing
import time

from benchmark.store import MetricsWriter, RunDir
from benchmark.spec import RunSpec


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
    run.write_meta({"status": "running"})
    assert run.status() == "interrupted"  # nobody holds the lock
    with run.lock():
        assert run.status() == "running"
    run.write_meta({"status": "finished"})
    assert run.status() == "finished"
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"
    assert not list((tmp_path / "r").glob(".*.tmp-*"))


def _hold(path, ready):
    with RunDir(path).lock():
        ready.set()
        time.sleep(30)


def test_lock_of_a_live_process_is_seen_and_dies_with_it(tmp_path):
    run = RunDir(tmp_path / "r")
    run.write_meta({"status": "running"})
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold, args=(run.path, ready))
    proc.start()
    assert ready.wait(20)
    assert run.status() == "running"
    proc.kill()
    proc.join()
    assert run.status() == "interrupted"


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
    assert run.create_meta({"status": "planned"}) and not run.create_meta({"status": "other"})
    assert run.read_meta() == {"status": "planned"} and run.status() == "new"
    with run.lock():  # another sweep's training process has just taken it
        assert run.status() == "running"
    run.meta_path.write_text('{"status": "runn')
    assert run.status() == "damaged" and run.meta_problem().startswith("JSONDecodeError")


def test_metrics_header_widens_and_resume_truncates(tmp_path):
    run = RunDir(tmp_path / "r")
    writer = MetricsWriter(run)
    writer.append({"timestep": 1, "env_steps": 4, "wall_time_s": 0.1})
    writer.append({"timestep": 2, "env_steps": 8, "wall_time_s": 0.2, "loss_x": 1.5})
    rows = run.read_metrics()
    assert rows[0]["loss_x"] == "" and rows[1]["loss_x"] == "1.5"
    MetricsWriter(run, keep_until_timestep=1)
    assert [r["timestep"] for r in run.read_metrics()] == ["1"]
