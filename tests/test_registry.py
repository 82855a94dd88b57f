"""The task registry: the review's 12 tasks plus A1, their ids, dims and per-task hyperparameters."""

import pytest

from tasks.errors import UserError
from tasks.registry import GROUPS, all_tasks, get_task

# Table 3 of the review: (state dim, action dim)
PAPER_DIMS = {
    "cartpole": (4, 1), "ant": (60, 8), "humanoid": (87, 21), "franka_lift": (36, 8),
    "franka_drawer": (31, 8), "shadow_cube": (157, 20), "anymal_d_flat": (48, 12), "spot_flat": (48, 12),
    "go2_rough": (235, 12), "g1_rough": (310, 37), "h1_rough": (256, 19), "cassie_rough": (235, 12),
}


def test_twelve_benchmark_tasks_the_a1_target_the_offline_legged_proxy_and_the_allegro_alternative():
    tasks = all_tasks()
    assert [t.name for t in tasks.values() if t.role == "benchmark"] == list(PAPER_DIMS)
    assert tasks["a1_rough"].role == "transfer-target" and tasks["ant_rough"].role == "offline-proxy"
    # the review's Allegro Cube row is the Shadow hand's task (its dims); Isaac Lab's Allegro task keeps its name
    assert tasks["allegro_cube"].role == "alternative" and tasks["shadow_cube"].paper_name == "Allegro Cube"
    assert [t.name for t in tasks.values() if t.paper_name == "Allegro Cube"] == ["shadow_cube"]
    assert {t.group for t in tasks.values()} == set(GROUPS)
    assert len({t.isaaclab_id for t in tasks.values()}) == 15
    assert len({t.isaaclab2_id for t in tasks.values()}) == 15


@pytest.mark.parametrize("name,dims", PAPER_DIMS.items())
def test_paper_dimensions(name, dims):
    t = get_task(name)
    assert (t.obs_dim, t.act_dim) == dims


def test_every_task_has_all_three_tables():
    for task in all_tasks().values():
        tables = task.hyperparameters()
        assert len(tables["common"]) == 7 and len(tables["on_policy"]) == 9 and len(tables["off_policy"]) == 4


def test_table_values_are_parsed_with_types():
    go2 = get_task("go2_rough").hyperparameters()
    assert go2["common"]["Hidden layers (Actor)"] == ([512, 256, 128], "Table 10")
    assert go2["common"]["Learning rate (Actor)"] == (1e-3, "Table 10")
    assert get_task("h1_rough").hyperparameters()["common"]["Discount factor"][0] == 0.995
    assert get_task("franka_drawer").hyperparameters()["on_policy"]["Rollouts"] == (96, "Table 11")


def test_isaaclab_ids_are_registered():
    gym = pytest.importorskip("gymnasium")
    import isaaclab_tasks  # noqa: F401

    for task in all_tasks().values():
        assert task.isaaclab_id in gym.registry, task.isaaclab_id


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(UserError, match=r"invalid task 'cartpol'; valid: cartpole, ant, .*a1_rough"):
        get_task("cartpol")
