"""The sweep runner without a simulator: manifests shipped, run selection, and the job loop (skip,
resume, failure isolation, no silent retry) on small real processes, locally and on a local Ray
instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark import run as sweep
from tasks.errors import UserError
from benchmark.launchers import LocalLauncher
from benchmark.manifest import load
from benchmark.spec import RunSpec


def test_shipped_manifests_expand_to_the_reviews_experiments():
    sizes = {name: len(load(name).runs()) for name in ("task_diversity", "parallelization", "diffusion_steps")}
    assert sizes == {"task_diversity": 12 * 8 * 5, "parallelization": 2 * 8 * 4 * 5, "diffusion_steps": 4 * 4 * 5}
    # the 1024-environment runs of Table 5 are Table 4's runs: one directory, trained once
    table4 = {r.run_id for r in load("task_diversity").runs()}
    table5 = {r.run_id for r in load("parallelization").runs() if r.num_envs == 1024}
    assert len(table5) == 2 * 8 * 5 and table5 <= table4
    # Experiments 4 and 5 evaluate the very Go2 runs of Table 4
    for name, scenarios in (("cross_embodiment", 3), ("ood_terrain", 7)):
        manifest = load(name)
        assert {r.run_id for r in manifest.runs()} <= table4 and len(manifest.evaluate) == scenarios


def test_an_override_equal_to_the_default_is_the_same_run():
    plain = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0)
    k5 = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0, overrides={"diffusion_steps": 5})
    k10 = RunSpec.create(task="ant", algo="genpo", num_envs=1024, seed=0, overrides={"diffusion_steps": 10})
    assert plain.run_id == k5.run_id != k10.run_id
    assert k10.run_id.startswith("ant-genpo-n1024-s0-")


def test_a_spec_is_rebuilt_from_what_run_json_records():
    spec = RunSpec.create(task="ant", algo="genpo", num_envs=64, seed=1,
                          overrides={"diffusion_steps": 10, "actor_lr": 0.001})
    rebuilt = RunSpec.from_identity(json.loads(json.dumps(spec.identity())))
    assert rebuilt == spec and rebuilt.run_id == spec.run_id


def test_filters_select_by_field_and_by_resolved_grid_value():
    manifest = load("diffusion_steps")
    specs = manifest.runs()
    chosen = sweep.select(specs, sweep.parse_filters(["diffusion_steps=5,20", "seed=0"], manifest))
    # GenPO's default K is 5 and QVPO's/DACER's is 20: those runs carry no override, yet match
    assert sorted((s.algo, s.agent_config().values["diffusion_steps"]) for s in chosen) == sorted(
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
        sweep.select(manifest.runs(), sweep.parse_filters(items, manifest))


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
