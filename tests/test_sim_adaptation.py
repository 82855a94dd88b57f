"""Adapting a diffusion prior on the real Isaac Lab (kit-less Newton, CPU): the shifts as the
simulation builds them, and every stage of the pipeline at a tiny size."""

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from benchmark.demos import read_hdf5
from conftest import ROOT

pytestmark = pytest.mark.sim


def test_shifts_reach_the_simulation():
    """All four combinable Cartpole shifts in one env: the pole weighs 3x, the motor pushes 40 %, the
    angle sensor reads 0.15 rad high, and pole start angles go past the clean +-0.25 pi."""
    from tasks.isaaclab_env import open_env
    from tasks.registry import get_task
    from tasks.shifts import check_shifts

    names = check_shifts("cartpole", ["pole_heavy", "motor_weak", "angle_bias", "wide_start"])
    with open_env(get_task("cartpole"), num_envs=64, device="cpu", seed=0, asset_mode="local", shifts=names) as h:
        u = h.unwrapped
        pole = u.cartpole.body_names.index("pole")
        assert torch.allclose(u.cartpole.data.body_mass.torch[:, pole], torch.tensor(3.0))  # the asset's: 1 kg
        assert u.action_scale == pytest.approx(40.0)
        h.env.reset()
        obs, *_ = h.env.step(torch.zeros(64, 1))
        true = u.joint_pos - u.cartpole.data.default_joint_pos.torch
        assert torch.allclose(obs[:, 1] - true[:, 1], torch.tensor(0.15), atol=1e-5)
        assert torch.allclose(obs[:, 0], true[:, 0], atol=1e-6)
        assert (true[:, 1].abs() > 0.25 * torch.pi).any()
        assert [s["name"] for s in h.record["shifts"]] == list(names)


def test_the_pipeline_runs_every_stage_and_resumes(cli, tmp_path):
    manifest = ROOT / "tests" / "data" / "adaptation_tiny.yaml"
    args = ("benchmark.adaptation", "--exp", str(manifest), "--out", str(tmp_path), "--assets", "local")
    result = cli(*args, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    home = tmp_path / "adaptation" / "adaptation_tiny"
    pipe = json.loads((home / "pipeline.json").read_text())
    seed = pipe["seeds"]["0"]
    _, env_args, provenance = read_hdf5(seed["demos"])
    assert provenance["episodes"] == 16 and provenance["run_id"].startswith("cartpole-ppo-n16-s0")
    assert env_args["env_kwargs"]["shifts"] == []
    assert json.loads(open(seed["prior_eval"]["shifted"]).read())["shifts"][0]["name"] == "motor_weak"
    for method in ("scratch", "prior_kl"):
        run = Path(seed["runs"][method])
        meta = json.loads((run / "run.json").read_text())
        assert meta["status"] == "finished" and meta["spec"]["shifts"] == ["motor_weak"]
        assert meta["env"]["shifts"][0]["edits"] == ["action_scale: 100 -> 40 N (motor at 40%)"]
        assert meta["start_eval"]["success_rate"] is not None
        metrics = pd.read_csv(run / "metrics.csv")
        assert {"violations", "filter_interventions", "validation_return", "rollback"} <= set(metrics.columns)
        assert len(json.loads((run / "guard.json").read_text())["validations"]) == 3  # before, at 16, at 32
    prior_run = json.loads((Path(seed["runs"]["prior_kl"]) / "run.json").read_text())
    assert prior_run["agent_config"]["values"]["prior"] == seed["prior"]
    table = pd.read_csv(home / "table.csv")
    assert table["method"].tolist() == ["Diffusion prior only", "DPPO from scratch", "prior + DPPO with KL"]
    assert (home / "curves.png").stat().st_size > 0
    again = cli(*args, timeout=600)
    assert again.returncode == 0 and "$ python -m" not in again.stdout  # every stage was done: none runs again
