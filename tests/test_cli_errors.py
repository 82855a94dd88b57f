"""Bad input: exit code 2, a message naming the bad value and the valid ones, nothing written."""

import pytest

from benchmark import run as run_cli_module
from benchmark import train


@pytest.mark.parametrize("args,message", [
    (["--task", "cartpol", "--algo", "ppo"], "invalid task 'cartpol'; valid: cartpole, ant"),
    (["--task", "cartpole", "--algo", "ppg"], "invalid algorithm 'ppg'; valid: ppo, ddpg, td3, sac"),
    (["--task", "cartpole", "--algo", "ppo", "--num-envs", "0"], "invalid number of environments 0"),
    (["--task", "cartpole", "--algo", "ppo", "--num-envs", "-8"], "invalid number of environments -8"),
    (["--task", "cartpole", "--algo", "ppo", "--device", "cuda:7"], "invalid device 'cuda:7'; valid: cpu"),
    (["--task", "cartpole", "--algo", "ppo", "--device", "tpu"], "invalid device 'tpu'; valid: cpu"),
    (["--task", "cartpole", "--algo", "ppo", "--timesteps", "0"], "invalid number of timesteps 0"),
    (["--task", "cartpole", "--algo", "ppo", "--set", "lr=1"], "invalid agent setting 'lr'; valid: "),
    (["--task", "cartpole", "--algo", "ppo", "--set", "actor_lr=-0.001"],
     "invalid value -0.001 for setting 'actor_lr'; valid: > 0"),
    (["--task", "cartpole", "--algo", "genpo", "--set", "diffusion_steps=0"],
     "invalid value 0 for setting 'diffusion_steps'; valid: >= 1"),
    (["--task", "cartpole"], "give both --task and --algo"),
    ([], "nothing to train"),
])
def test_train_rejects_bad_input_before_building_anything(tmp_path, capsys, args, message):
    out = tmp_path / "runs"
    assert train.main([*args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_train_run_dir_without_a_planned_run_is_an_error(tmp_path, capsys):
    assert train.main(["--run-dir", str(tmp_path / "empty")]) == 2
    assert "no readable run.json" in capsys.readouterr().err
    assert not (tmp_path / "empty").exists()


def test_run_rejects_unknown_experiment(tmp_path, capsys):
    assert run_cli_module.main(["--exp", "no_such_exp", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'no_such_exp'; valid: " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_exit_code_is_two_in_a_real_process(cli, tmp_path):
    result = cli("benchmark.train", "--task", "nope", "--algo", "ppo", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "invalid task 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_a_manifest_that_is_not_text_exits_2_in_a_real_process(cli, tmp_path):
    manifest = tmp_path / "binary.yaml"
    manifest.write_bytes(bytes(range(256)))
    result = cli("benchmark.run", "--exp", str(manifest), "--dry-run", "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert f"{manifest}: not a manifest: not UTF-8 text" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
