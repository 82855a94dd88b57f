"""Offline asset stand-ins and the missing-asset error (no simulation)."""

import pytest

from tasks.errors import UserError
from tasks import assets
from tasks.registry import get_task


def test_build_local_root(tmp_path):
    root = assets.build_local_root(tmp_path / "assets", robots=False)
    for rel in assets.STANDINS:
        assert (root / rel).is_file(), rel
    from pxr import Sdf, Usd

    cartpole = Usd.Stage.Open(str(root / assets.CARTPOLE))
    robot = cartpole.GetDefaultPrim()
    assert robot.GetPath() == Sdf.Path("/Robot")
    joints = {p.GetName() for p in Usd.PrimRange(robot) if p.GetTypeName().endswith("Joint")}
    assert {"slider_to_cart", "cart_to_pole"} <= joints
    text = (root / assets.CARTPOLE).read_text()
    assert "/World/envs" not in text  # every relationship points inside the new root
    plane = Usd.Stage.Open(str(root / assets.GROUND_PLANE))
    assert any(p.GetTypeName() == "Plane" for p in plane.Traverse())


def test_local_mode_uses_the_local_root(tmp_path, monkeypatch):
    assets.build_local_root(tmp_path / "a", robots=False)  # an existing root is used as it is
    monkeypatch.setenv("DPRL_ASSET_DIR", str(tmp_path / "a"))
    monkeypatch.delenv(assets.ENV_VAR, raising=False)
    source = assets.select_asset_root("local")
    assert source.kind == "local"
    assert (tmp_path / "a" / assets.ANT).exists()
    import os

    assert os.environ[assets.ENV_VAR] == str(tmp_path / "a")


def test_bad_asset_mode():
    with pytest.raises(UserError, match="unknown asset mode 'web'; valid: auto, local, cloud"):
        assets.select_asset_root("web")


def test_missing_robot_asset_is_named_before_simulation(tmp_path):
    from tasks.isaaclab_env import check_assets, load_env_cfg

    source = assets.AssetSource("local", str(tmp_path))
    task = get_task("go2_rough")
    cfg = load_env_cfg(task, num_envs=1, device="cpu", seed=0)
    with pytest.raises(UserError) as err:
        check_assets("task 'go2_rough'", cfg, source)
    message = str(err.value)
    assert "Robots/Unitree/Go2/go2.usd" in message and "ISAACSIM_ASSET_ROOT" in message
