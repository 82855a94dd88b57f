"""The sweep runner without a simulator: manifests shipped, run selection, and the job loop (skip,
resume, failure isolation, no silent retry) on small real processes, locally and on a local Ray
instance."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from benchmark import run as sweep
from tasks.errors import UserError
from benchmark.launchers import LocalLauncher
from benchmark.manifest import load
from benchmark.record import RunRecord
from benchmark.spec import RunSpec
from conftest import run_json


def test_shipped_manifests_expand_to_the_reviews_experiments():
    sizes = {name: len(load(name).runs) for name in ("task_diversity", "parallelization", "diffusion_steps")}
    assert sizes == {"task_diversity": 12 * 8 * 5, "parallelization": 2 * 8 * 4 * 5, "diffusion_steps": 4 * 4 * 5}
    # the 1024-environment runs of Table 5 are Table 4's runs: one directory, trained once
    table4 = {r.run_id for r in load("task_diversity").runs}
    table5 = {r.run_id for r in load("parallelization").runs if r.num_envs == 1024}
    assert len(table5) == 2 * 8 * 5 and table5 <= table4
    # Experiments 4 and 5 evaluate the very Go2 runs of Table 4
    for name, scenarios in (("cross_embodiment", 3), ("ood_terrain", 7)):
        manifest = load(name)
        assert {r.run_id for r in manifest.runs} <= table4 and len(manifest.evaluate) == scenarios


# ids of runs of the shipped manifests: the same settings must keep finding the same run directories.
# The classic agents' ids are those from before settings became typed dataclasses; the diffusion
# agents' are revision 2's (their defaults changed: the review profile fills the review's gaps from
# the originals), and revision 1's runs keep their old ids (below).
PINNED_IDS = {
    "smoke": ["cartpole-ppo-n1024-s0-cbbfcdf6b9", "cartpole-dipo-n1024-s0-2575e2202a",
              "cartpole-genpo-n1024-s0-39a096b123"],
    "task_diversity": ["cartpole-ppo-n1024-s0-43fef8b5cc", "anymal_d_flat-ppo-n1024-s0-f6886fce3a",
                       "cassie_rough-genpo-n1024-s4-e993425993"],
    "diffusion_steps": ["ant-dipo-n1024-s0-0949ae5427", "ant-dacer-n1024-s0-a05368ae33",
                        "ant-genpo-n1024-s4-86f4458616"],
    "parallelization": ["ant-ppo-n8-s0-a82fe7c767", "go2_rough-ppo-n8-s0-573977c283",
                        "go2_rough-genpo-n1024-s4-92e7b08325"],
}


@pytest.mark.parametrize("name", PINNED_IDS)
def test_run_ids_of_the_shipped_manifests_are_pinned(name):
    ids = {spec.run_id for spec in load(name).runs}
    assert set(PINNED_IDS[name]) <= ids


def test_a_revision_1_run_keeps_its_id_and_its_record_reads_back_as_it_ran():
    """Runs made before the diffusion agents' defaults changed: their id is what it was, and their
    recorded config (without the settings added since) reads back with the legacy values."""
    old_meta = {"spec": {"task": "cartpole", "algo": "dipo", "num_envs": 1024, "seed": 0, "timesteps": 640,
                         "overrides": {}, "eval_episodes": 1024},
                "agent_config": {"values": {"observation_normalization": True, "activation": "elu",
                                            "diffusion_steps": 100}}}
    spec = RunSpec.from_record(RunRecord.from_json({"run_id": "x", "status": "finished", **old_meta}))
    assert spec.revision == 1 and spec.run_id == "cartpole-dipo-n1024-s0-e806b89c8a"
    cfg = spec.config.config
    assert (cfg.observation_normalization, cfg.init, cfg.gradient_steps_per, cfg.action_write_back) == \
        (True, "torch", "vector_step", True)
    assert "legacy" in spec.config.sources["init"]
    assert RunSpec.create(task="cartpole", algo="dipo", timesteps=640).revision == 2


def test_an_override_equal_to_the_default_is_the_same_run():
    plain = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0)
    k5 = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0, overrides={"diffusion_steps": 5})
    k10 = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0, overrides={"diffusion_steps": 10})
    assert plain.run_id == k5.run_id != k10.run_id
    assert k10.run_id.startswith("ant-genpo-n1024-s0-")


def test_a_spec_and_its_config_are_rebuilt_from_what_run_json_records():
    spec = RunSpec.create(task="ant", algo="genpo", num_envs=64, seed=1,
                          overrides={"diffusion_steps": 10, "actor_lr": 0.001})
    rebuilt = RunSpec.from_record(RunRecord.from_json(json.loads(json.dumps(spec.initial_record().to_json()))))
    assert rebuilt == spec and rebuilt.run_id == spec.run_id
    assert rebuilt.config == spec.config  # the typed config, read back as data, with its sources


def test_a_planned_run_hands_its_spec_and_config_to_the_training_process_as_data(tmp_path):
    from benchmark.store import Store
    from benchmark.train import planned_spec

    manifest = load("diffusion_steps")
    filters = sweep.parse_filters(["algo=genpo", "diffusion_steps=10", "seed=0"], manifest)
    ((spec, run),) = sweep.plan(manifest, Store(tmp_path), filters)
    (job,) = sweep.train_jobs([(spec, run)], "cpu")
    assert job.args == ["-m", "benchmark.train", "--run-dir", str(run.path), "--device", "cpu", "--compile", "auto",
                        "--no-progress"]
    assert job.state() == "new" and not run.path.exists()  # planning writes nothing until the job starts
    job.prepare()
    meta = run_json(run)
    assert meta["status"] == "planned" and job.state() == "new"
    assert meta["agent_config"]["values"]["diffusion_steps"] == 10
    assert meta["agent_config"]["sources"]["diffusion_steps"] == "override"
    read_back = planned_spec(run)
    assert read_back == spec and read_back.config == spec.config
    job.prepare()  # a second sweep (or a resume) leaves the planned run as it is
    assert run_json(run) == meta


def test_filters_select_by_field_and_by_resolved_grid_value():
    manifest = load("diffusion_steps")
    specs = manifest.runs
    chosen = sweep.select(specs, sweep.parse_filters(["diffusion_steps=5,20", "seed=0"], manifest))
    # GenPO's default K is 5 and QVPO's/DACER's is 20: those runs carry no override, yet match
    assert sorted((s.algo, s.config.values["diffusion_steps"]) for s in chosen) == sorted(
        (a, k) for a in ("dipo", "qvpo", "dacer", "genpo") for k in (5, 20))
    assert {s.seed for s in chosen} == {0}


@pytest.mark.parametrize("items,message", [
    (["bogus=1"], "invalid filter key 'bogus'; valid: task, algo, seed, num_envs, diffusion_steps"),
    (["algo"], "invalid filter 'algo'; valid: KEY=VALUE"),
    (["algo=ppo"], "invalid algo 'ppo' in --filter; valid: dacer, dipo, genpo, qvpo"),
    (["diffusion_steps=7"], "invalid diffusion_steps '7' in --filter; valid: 5, 10, 20, 50"),
])
def test_bad_filters_name_the_valid_values(items, message):
    manifest = load("diffusion_steps")
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        sweep.select(manifest.runs, sweep.parse_filters(items, manifest))


def test_run_cli_dry_run_lists_without_writing(tmp_path, capsys):
    assert sweep.main(["--exp", "parallelization", "--dry-run", "--filter", "algo=ppo", "--filter", "num_envs=8",
                       "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "10 runs: 10 new" in out and "ant-ppo-n8-s4-" in out and "go2_rough-ppo-n8-s0-" in out
    assert list(tmp_path.iterdir()) == []


def test_run_cli_bad_filter_exits_2(tmp_path, capsys):
    assert sweep.main(["--exp", "smoke", "--filter", "seed=3", "--out", str(tmp_path)]) == 2
    assert "invalid seed '3' in --filter; valid: 0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --- the job loop on small real processes ---------------------------------------------------------
SCRIPT = """
import json, pathlib, sys
path = pathlib.Path(sys.argv[1]); outcome = sys.argv[2]
runs = json.loads(path.read_text())["runs"] if path.exists() else 0
path.write_text(json.dumps({"state": outcome, "runs": runs + 1}))
sys.exit(0 if outcome == "finished" else 1)
"""


def _job(tmp_path: Path, key: str, outcome: str) -> sweep.Job:
    state_file = tmp_path / f"{key}.json"

    def state() -> str:
        return json.loads(state_file.read_text())["state"] if state_file.exists() else "new"

    return sweep.Job(key, ["-c", SCRIPT, str(state_file), outcome], tmp_path / f"{key}.log", state)


def _times_run(tmp_path: Path, key: str) -> int:
    return json.loads((tmp_path / f"{key}.json").read_text())["runs"]


def test_job_loop_isolates_failures_skips_done_and_never_retries_silently(tmp_path):
    jobs = [_job(tmp_path, "a", "finished"), _job(tmp_path, "b", "failed"), _job(tmp_path, "c", "finished")]
    outcome = sweep.execute(jobs, LocalLauncher(2), retry_failed=False, what="job")
    assert outcome == {"a": "finished", "b": "failed", "c": "finished"}
    again = sweep.execute(jobs, LocalLauncher(2), retry_failed=False, what="job")
    assert again == outcome
    assert [_times_run(tmp_path, k) for k in "abc"] == [1, 1, 1]  # nothing done twice, b not retried
    sweep.execute(jobs, LocalLauncher(1), retry_failed=True, what="job")
    assert [_times_run(tmp_path, k) for k in "abc"] == [1, 2, 1]


def test_ray_launcher_runs_the_same_jobs_as_local(tmp_path, ray_cluster):
    from benchmark.launchers import RayLauncher

    launcher = RayLauncher(ray_cluster, cpus_per_run=1, gpus_per_run=0)
    assert launcher.capacity == 2
    jobs = [_job(tmp_path, "a", "finished"), _job(tmp_path, "b", "failed"), _job(tmp_path, "c", "finished")]
    outcome = sweep.execute(jobs, launcher, retry_failed=False, what="job")
    assert outcome == {"a": "finished", "b": "failed", "c": "finished"}
    assert [_times_run(tmp_path, k) for k in "abc"] == [1, 1, 1]


def test_ray_launcher_refuses_a_run_bigger_than_the_cluster(ray_cluster):
    from benchmark.launchers import RayLauncher

    with pytest.raises(UserError, match="one run asks for 1 CPUs and 1 GPUs"):
        RayLauncher(ray_cluster, cpus_per_run=1, gpus_per_run=1)


def test_the_sweep_ends_with_the_report_of_the_experiments_runs(tmp_path):
    from analysis_fakes import fake_run
    from benchmark.store import Store

    manifest = load("smoke")
    spec = manifest.runs[0]
    fake_run(tmp_path, spec.run_id, spec.algo, 0, "finished", 4.0)
    fake_run(tmp_path, "another-experiments-run", "sac", 0, "finished", 1.0)
    sweep.report(manifest, Store(tmp_path))
    rows = Store(tmp_path).results_csv("smoke").read_text().splitlines()
    assert len(rows) == 2 and spec.run_id in rows[1]
    assert (Store(tmp_path).report_dir("smoke") / "table.md").exists()


# --- two sweeps on one store ------------------------------------------------------------------------
# a job that, like benchmark.train, holds its run's lock while it works, and does nothing when another
# process holds it or when it finds the run done once it has the lock
LOCKED_SCRIPT = """
import contextlib, json, pathlib, sys, time
from benchmark.store import hold
from tasks.errors import UserError
path = pathlib.Path(sys.argv[1])
with contextlib.ExitStack() as stack:
    try:
        stack.enter_context(hold(pathlib.Path(str(path) + ".lock"), "busy"))
    except UserError:
        sys.exit(2)
    done = json.loads(path.read_text()) if path.exists() else {"state": "new", "runs": 0}
    if done["state"] == "finished":
        sys.exit(0)
    time.sleep(float(sys.argv[2]))
    path.write_text(json.dumps({"state": "finished", "runs": done["runs"] + 1}))
"""


def _locked_job(tmp_path: Path, key: str, seconds: float = 0.5) -> sweep.Job:
    from benchmark.store import is_held

    state_file = tmp_path / f"{key}.json"

    def state() -> str:
        if state_file.exists() and json.loads(state_file.read_text())["state"] == "finished":
            return "finished"
        return "running" if is_held(Path(f"{state_file}.lock")) else "new"

    return sweep.Job(key, ["-c", LOCKED_SCRIPT, str(state_file), str(seconds)], tmp_path / f"{key}.log", state)


def test_two_sweeps_at_once_run_each_job_once_and_both_see_every_job_done(tmp_path):
    keys = ["a", "b", "c", "d"]
    outcomes = []

    def one_sweep():
        jobs = [_locked_job(tmp_path, k) for k in keys]
        outcomes.append(sweep.execute(jobs, LocalLauncher(2), retry_failed=False, what="job", poll=0.1))

    sweeps = [threading.Thread(target=one_sweep) for _ in range(2)]
    for t in sweeps:
        t.start()
    for t in sweeps:
        t.join(120)
    assert outcomes == [dict.fromkeys(keys, "finished")] * 2
    assert [_times_run(tmp_path, k) for k in keys] == [1, 1, 1, 1]


def test_a_sweep_takes_over_a_job_whose_holder_died(tmp_path, capsys):
    job = _locked_job(tmp_path, "a", seconds=0.1)
    holder = subprocess.Popen([sys.executable, "-c", LOCKED_SCRIPT, str(tmp_path / "a.json"), "30"])
    while job.state() != "running":  # the holder has the lock
        assert holder.poll() is None
    assert "waiting" not in capsys.readouterr().out
    threading.Timer(1.0, holder.kill).start()  # the holder dies mid-run
    outcome = sweep.execute([job], LocalLauncher(1), retry_failed=False, what="job", poll=0.1)
    holder.wait()
    assert outcome == {"a": "finished"} and _times_run(tmp_path, "a") == 1
    assert "waiting   a (held by another process)" in capsys.readouterr().out
