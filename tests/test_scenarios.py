"""Scenario configs (tasks/scenarios.py, tasks/legged/) built and checked without simulation."""

import contextlib
import io

import pytest

from tasks.errors import UserError
from tasks.legged.embodiments import EMBODIMENTS, joint_map
from tasks.scenarios import SCENARIOS, build_env_cfg, get_scenario, source_scenario

GO2 = ["go2_source", "go2_to_a1", "go2_to_spot", "go2_terrain_random", "go2_terrain_stairs", "go2_terrain_pyramid",
       "go2_terrain_box", "go2_terrain_wave", "go2_terrain_obstacle", "go2_terrain_stepping_stones"]
ANT = ["ant_source", "ant_to_shifted", "ant_terrain_random", "ant_terrain_stairs", "ant_terrain_pyramid",
       "ant_terrain_box", "ant_terrain_wave", "ant_terrain_obstacle", "ant_terrain_stepping_stones"]
PAPER = {"go2_source": "Go2 (source)", "go2_to_a1": "A1 transfer", "go2_to_spot": "Spot transfer",
         "go2_terrain_wave": "Wave terrain", "go2_terrain_obstacle": "Obstacle",
         "go2_terrain_stepping_stones": "Stepping stone"}


def test_the_fixed_scenario_names_and_their_review_names():
    assert list(SCENARIOS) == GO2 + ANT
    assert {n: s.paper_name for n, s in SCENARIOS.items() if s.paper_name} == PAPER
    assert all(SCENARIOS[n].source_task == "go2_rough" for n in GO2)
    assert all(SCENARIOS[n].source_task == "ant_rough" for n in ANT)
    in_dist = {n for n, s in SCENARIOS.items() if s.in_distribution}
    assert in_dist == {f"{p}_{k}" for p in ("go2", "ant") for k in
                       ("source", "terrain_random", "terrain_stairs", "terrain_pyramid")}
    assert {s.kind for s in SCENARIOS.values()} == {"embodiment", "terrain"}
    assert source_scenario("go2_rough").name == "go2_source"


def test_unknown_scenario_names_the_valid_ones():
    valid = r"invalid scenario 'go2_to_b1'; valid: go2_source, go2_to_a1, .*ant_to_shifted"
    with pytest.raises(UserError, match=valid):
        get_scenario("go2_to_b1")


@pytest.mark.parametrize("source,target", [("go2", "a1"), ("go2", "spot"), ("ant", "ant_shifted")])
def test_joint_maps_cover_every_joint_by_name(source, target):
    s, t = EMBODIMENTS[source], EMBODIMENTS[target]
    mapping = joint_map(s, t)
    assert list(mapping) == list(s.joint_names)
    assert sorted(mapping.values()) == sorted(t.joint_names)  # a bijection onto the target's joints
    assert all(s.role_of(a) == t.role_of(b) for a, b in mapping.items())
    shuffled = tuple(reversed(s.joint_names))  # a recorded run-time order: the map follows the names
    assert list(joint_map(s, t, shuffled)) == list(shuffled)
    with pytest.raises(ValueError):
        joint_map(s, t, s.joint_names[:-1])


def test_go2_to_spot_maps_unitree_legs_onto_spot_legs():
    mapping = joint_map(EMBODIMENTS["go2"], EMBODIMENTS["spot"])
    assert mapping["FL_hip_joint"] == "fl_hx" and mapping["RR_thigh_joint"] == "hr_hy"
    assert mapping["RL_calf_joint"] == "hl_kn"
    assert joint_map(EMBODIMENTS["go2"], EMBODIMENTS["a1"])["RL_calf_joint"] == "RL_calf_joint"


@pytest.fixture(scope="module")
def configs():
    """Every scenario's config, built once against the local asset root (no simulation)."""
    mp = pytest.MonkeyPatch()
    mp.delenv("ISAACSIM_ASSET_ROOT", raising=False)
    mp.delenv("DPRL_ASSET_KIND", raising=False)
    from tasks.assets import select_asset_root

    select_asset_root("local")
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for name in SCENARIOS:
            out[name] = build_env_cfg(name, num_envs=8, device="cpu", seed=3)
    yield out
    mp.undo()


def policy_obs_dim(cfg, embodiment) -> int:
    """The policy observation size from the config alone (what the ObservationManager will build)."""
    action = cfg.actions.joint_pos
    n_act = len(action.joint_names) if action.preserve_order else len(embodiment.joints)
    total = 0
    for term in vars(cfg.observations.policy).values():
        if not hasattr(term, "func") or term is None:
            continue
        name = term.func.__name__
        if name in ("base_lin_vel", "base_ang_vel", "projected_gravity", "generated_commands"):
            total += 3
        elif name in ("joint_pos_rel", "joint_vel_rel"):
            joints = term.params.get("asset_cfg").joint_names if "asset_cfg" in term.params else None
            total += len(joints) if joints else len(embodiment.joints)
        elif name == "last_action":
            total += n_act
        elif name == "height_scan":
            pattern = cfg.scene.height_scanner.pattern_cfg
            starts, _ = pattern.func(pattern, device="cpu")
            total += starts.shape[0]
        else:
            raise AssertionError(f"unexpected observation term {name}")
    return total


@pytest.mark.parametrize("name", GO2 + ANT)
def test_observation_layout_matches_the_source_policy(configs, name):
    cfg, _ = configs[name]
    scenario = SCENARIOS[name]
    expected = 235 if scenario.source_task == "go2_rough" else 223  # Go2: the review's Table 3
    assert policy_obs_dim(cfg, EMBODIMENTS[scenario.target_embodiment]) == expected
    assert cfg.scene.height_scanner.prim_path.endswith("/" + EMBODIMENTS[scenario.target_embodiment].base_body)


@pytest.mark.parametrize("name,target", [("go2_to_a1", "a1"), ("go2_to_spot", "spot"),
                                         ("ant_to_shifted", "ant_shifted")])
def test_embodiment_scenarios_address_joints_by_name_in_the_policy_order(configs, name, target):
    cfg, record = configs[name]
    source = EMBODIMENTS[SCENARIOS[name].source_embodiment]
    names = list(joint_map(source, EMBODIMENTS[target]).values())
    action = cfg.actions.joint_pos
    assert action.joint_names == names and action.preserve_order
    for term in ("joint_pos", "joint_vel"):
        asset = getattr(cfg.observations.policy, term).params["asset_cfg"]
        assert asset.joint_names == names and asset.preserve_order
    assert record["joint_map"] == dict(zip(source.joint_names, names))
    assert cfg.sim.dt * cfg.decimation == pytest.approx(0.02)  # the policy keeps its 50 Hz
    assert action.scale == source.action_scale  # and its action scale (documented choice)
    body_names = cfg.terminations.base_contact.params["sensor_cfg"].body_names
    assert body_names == list(EMBODIMENTS[target].fall_bodies)


def test_spot_runs_its_own_physics_step_under_the_source_policy_rate(configs):
    cfg, record = configs["go2_to_spot"]
    assert (cfg.sim.dt, cfg.decimation) == (0.002, 10)
    assert record["action_scale"] == 0.25 and record["target_task_action_scale"] == 0.2
    assert cfg.scene.robot.spawn.usd_path.endswith("Robots/BostonDynamics/spot/spot.usd")
    assert cfg.scene.height_scanner is not None  # Spot's own task has none


def test_shifted_ant_alters_mass_and_gains(configs):
    source, _ = configs["ant_source"]
    shifted, _ = configs["ant_to_shifted"]
    lo, hi = source.events.add_base_mass.params["mass_distribution_params"]
    assert shifted.events.add_base_mass.params["mass_distribution_params"] == pytest.approx((1.5 * lo, 1.5 * hi))
    a, b = source.scene.robot.actuators["legs"], shifted.scene.robot.actuators["legs"]
    assert (b.stiffness, b.damping) == pytest.approx((0.6 * a.stiffness, 0.6 * a.damping))


@pytest.mark.parametrize("name", GO2 + ANT)
def test_evaluation_settings(configs, name):
    cfg, record = configs[name]
    gen = cfg.scene.terrain.terrain_generator
    assert not gen.curriculum and gen.seed == 0 and (gen.num_rows, gen.num_cols) == (5, 5)
    assert cfg.curriculum.terrain_levels is None
    assert not cfg.observations.policy.enable_corruption
    assert cfg.events.push_robot is None and cfg.compute_final_obs
    assert cfg.scene.num_envs == 8 and cfg.seed == 3
    assert hasattr(cfg.observations, "tracking")
    terrain = SCENARIOS[name].terrain
    if terrain is None:
        assert gen.difficulty_range == (0.0, 1.0) and len(gen.sub_terrains) == 6  # the training mix
    else:
        assert gen.difficulty_range == (0.5, 0.5) and record["terrain"]["name"] == terrain


def test_ood_terrains_use_isaac_lab_generators(configs):
    kinds = {name: type(next(iter(configs[f"go2_terrain_{name}"][0].scene.terrain.terrain_generator
                                  .sub_terrains.values()))).__name__
             for name in ("box", "wave", "obstacle", "stepping_stones", "random")}
    assert kinds == {"box": "MeshRandomGridTerrainCfg", "wave": "HfWaveTerrainCfg",
                     "obstacle": "HfDiscreteObstaclesTerrainCfg", "stepping_stones": "HfSteppingStonesTerrainCfg",
                     "random": "HfRandomUniformTerrainCfg"}
    # the in-distribution terrains keep the source task's (Go2-scaled) heights
    rough = configs["go2_terrain_random"][0].scene.terrain.terrain_generator.sub_terrains["random_rough"]
    assert rough.noise_range == (0.01, 0.06)


@pytest.mark.parametrize("name", ["go2", "a1", "spot"])
def test_embodiments_match_their_registered_isaac_lab_tasks(configs, name):
    from tasks.isaaclab_env import load_env_cfg
    from tasks.legged.embodiments import load_robot_cfg
    from tasks.registry import get_task

    emb = EMBODIMENTS[name]
    task = {"go2": "go2_rough", "a1": "a1_rough", "spot": "spot_flat"}[name]
    with contextlib.redirect_stdout(io.StringIO()):
        reg = load_env_cfg(get_task(task), num_envs=1, device="cpu", seed=0)
    assert reg.scene.robot.spawn.usd_path == load_robot_cfg(emb).spawn.usd_path
    assert (reg.sim.dt, reg.decimation, reg.actions.joint_pos.scale) == (emb.sim_dt, emb.decimation, emb.action_scale)
    terms = reg.terminations
    falls = terms.base_contact if hasattr(terms, "base_contact") else terms.body_contact
    bodies = falls.params["sensor_cfg"].body_names
    assert (list(bodies) if not isinstance(bodies, str) else [bodies]) == list(emb.fall_bodies)
    # every documented joint name is matched by the robot's actuator and default-pose patterns
    import re

    robot = reg.scene.robot
    patterns = [p for act in robot.actuators.values() for p in act.joint_names_expr]
    for joint in emb.joint_names:
        assert any(re.fullmatch(p, joint) for p in patterns), joint
        assert any(re.fullmatch(p, joint) for p in robot.init_state.joint_pos), joint


def test_the_ant_task_is_the_same_builder_with_the_ant_embodiment():
    from tasks.registry import get_task

    task = get_task("ant_rough")
    assert (task.obs_dim, task.act_dim, task.offline_assets) == (223, 8, True)
    assert EMBODIMENTS["ant"].isaaclab_task == task.isaaclab_id


def test_tasks_list_shows_every_scenario(cli):
    result = cli("tasks.list", "--assets", "local", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for name in SCENARIOS:
        assert name in lines, name
    assert lines["ant_to_shifted"].rstrip().endswith("yes")
    assert "same-model" in lines["go2_to_a1"] and lines["go2_to_a1"].rstrip().endswith("yes")
    assert lines["ant_rough"].rstrip().endswith("yes") and "stand-in" in lines["ant_rough"]
    assert "newton_mjwarp" in lines["spot_flat"] and "same-model" in lines["spot_flat"]
    for task, kind in (("h1_rough", "same-model"), ("anymal_d_flat", "equivalent"), ("franka_drawer", "stand-in"),
                       ("shadow_cube", "same-model"), ("cassie_rough", "equivalent")):  # every task runs offline
        assert kind in lines[task] and lines[task].rstrip().endswith("yes"), lines[task]
