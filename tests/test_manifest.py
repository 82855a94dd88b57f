"""Experiment manifests: the smoke manifest expands; each kind of bad manifest is rejected early."""

import pytest

from tasks.errors import UserError
from benchmark.manifest import available, load


def test_smoke_manifest_expands_to_all_eight_algorithms_with_their_budgets():
    m = load("smoke")
    runs = m.runs
    assert [r.algo for r in runs] == ["ppo", "ddpg", "td3", "sac", "dipo", "qvpo", "dacer", "genpo"]
    assert {(r.task, r.num_envs, r.seed) for r in runs} == {("cartpole", 1024, 0)}
    assert {r.algo: r.timesteps for r in runs} == {"ppo": 960, "ddpg": 320, "td3": 320, "sac": 320, "dipo": 96,
                                                   "qvpo": 16, "dacer": 320, "genpo": 512}
    assert "smoke" in available()


def test_environment_counts_are_a_sweep_dimension(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\ntasks: [cartpole, ant]\nalgorithms: [ppo, sac]\nseeds: [0, 1]\nnum_envs: [8, 64]\n")
    runs = load(str(path)).runs
    assert len(runs) == 16 and len({r.run_id for r in runs}) == 16
    assert {(r.task, r.num_envs) for r in runs} == {(t, n) for t in ("cartpole", "ant") for n in (8, 64)}


def test_grid_expands_every_combination(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("name: g\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0, 1]\n"
                    "grid: {actor_lr: [0.001, 0.0003], rollouts: [16, 32]}\n")
    runs = load(str(path)).runs
    assert len(runs) == 8
    assert len({r.run_id for r in runs}) == 8


def test_a_task_may_set_its_own_environments_and_budget_and_runs_may_evaluate_first(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ntasks: [cartpole, ant]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: 64\ntimesteps: 96\n"
                    "start_eval_episodes: 32\nper_task: {ant: {num_envs: 16, timesteps: 48}}\n")
    runs = {r.task: r for r in load(str(path)).runs}
    assert (runs["cartpole"].num_envs, runs["cartpole"].timesteps) == (64, 96)
    assert (runs["ant"].num_envs, runs["ant"].timesteps) == (16, 48)
    assert runs["ant"].start_eval_episodes == 32 and runs["ant"].identity()["start_eval_episodes"] == 32
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: t\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: 64\ntimesteps: 96\n")
    before = load(str(plain)).runs[0]
    assert "start_eval_episodes" not in before.identity()  # the ids of runs without one are unchanged
    assert before.run_id != runs["cartpole"].run_id  # evaluating first steps the environments: another run


@pytest.mark.parametrize("body,message", [
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nper_task: {ant: {num_envs: 8}}\n",
     "per_task names 'ant', which is not among the tasks; valid: cartpole"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nper_task: {cartpole: {seeds: 8}}\n",
     "per_task 'cartpole': unknown key 'seeds'; valid: num_envs, timesteps"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nper_task: {cartpole: {timesteps: 0}}\n",
     "per_task 'cartpole': timesteps must be a positive integer, got 0"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nstart_eval_episodes: -1\n",
     "invalid number of start evaluation episodes -1"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nepochs: 3\n", "unknown key 'epochs'; valid: name"),
    ("name: x\ntasks: [cartpol]\nalgorithms: [ppo]\nseeds: [0]\n", "invalid task 'cartpol'; valid: cartpole"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [dpo]\nseeds: [0]\n", "invalid algorithm 'dpo'; valid: ppo"),
    ("name: x\ntasks: []\nalgorithms: [ppo]\nseeds: [0]\n", "key 'tasks' is an empty list"),
    ("name: x\ntasks: cartpole\nalgorithms: [ppo]\nseeds: [0]\n", "key 'tasks' must be a list"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: many\n", "key 'num_envs' must be a int"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: 0\n", "invalid number of environments 0"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ngrid: {lr: [1]}\n", "invalid agent setting 'lr'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ngrid: {actor_lr: []}\n", "grid key 'actor_lr'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\n", "missing required key 'seeds'"),
    ("- just\n- a list\n", "expected a mapping"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nbudgets: {sac: 10}\n", "budgets names 'sac'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nbudgets: {ppo: 0}\n", "budget of 'ppo'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: []\n", "key 'num_envs' is an empty list"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nnum_envs: [8, x]\n", "invalid number of environments 'x'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [-1]\n", "invalid seed -1; valid: a non-negative"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0, 0]\n", "is listed twice"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ngrid: {actor_lr: [x]}\n", "actor_lr"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nevaluate: []\n", "key 'evaluate' is an empty list"),
    ("name: x\ntasks: [go2_rough]\nalgorithms: [ppo]\nseeds: [0]\nevaluate: [go2_to_a2]\n",
     "key 'evaluate': invalid scenario 'go2_to_a2'; valid: go2_source"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nevaluate: [go2_to_a1]\n",
     "scenario 'go2_to_a1' evaluates policies trained on 'go2_rough', which is not among the tasks"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\nscenario_episodes: 0\n",
     "invalid number of scenario episodes 0"),
    # ranges, as each setting declares its own (agents.settings), before any run starts
    ("name: x\ntasks: [ant]\nalgorithms: [genpo]\nseeds: [0]\ngrid: {diffusion_steps: [5, 0]}\n",
     "invalid value 0 for setting 'diffusion_steps'; valid: >= 1"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ngrid: {actor_lr: [-0.001]}\n",
     "invalid value -0.001 for setting 'actor_lr'; valid: > 0"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [sac]\nseeds: [0]\ngrid: {discount: [1.5]}\n",
     "invalid value 1.5 for setting 'discount'; valid: in (0, 1]"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [sac]\nseeds: [0]\ngrid: {batch_size: [0]}\n",
     "invalid value 0 for setting 'batch_size'; valid: >= 1"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ntimesteps: 0\n", "invalid number of timesteps 0"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ndevice: tpu\n",
     "key 'device': invalid device 'tpu'; valid: cpu, cuda or cuda:N"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ndevice: 'cuda:'\n", "invalid device 'cuda:'"),
    ("name: x\ntasks: [cartpole]\nalgorithms: [[ppo]]\nseeds: [0]\n", "key 'algorithms': invalid entry ['ppo']"),
    ("name: ../elsewhere\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\n", "invalid experiment name '../elsewhere'"),
    ("name: runs\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\n", "invalid experiment name 'runs'"),
    ("name: [x\n", "not valid YAML"),
])
def test_bad_manifests_name_the_file_and_the_key(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(UserError) as err:
        load(str(path))
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_gpu_device_is_planned_on_a_machine_without_one(tmp_path):
    path = tmp_path / "gpu.yaml"
    path.write_text("name: gpu\ntasks: [cartpole]\nalgorithms: [ppo]\nseeds: [0]\ndevice: cuda:1\n")
    assert load(str(path)).device == "cuda:1"  # checked against the machine only when runs start


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"name: x\n\xff\xfe\x00tasks"), "not a manifest: not UTF-8 text"),
    (lambda p: p.mkdir(), "cannot be read"),
])
def test_an_unreadable_manifest_is_a_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.yaml"
    make(path)
    with pytest.raises(UserError) as err:
        load(str(path))
    assert str(path) in str(err.value) and message in str(err.value)
