"""Every offline asset in real Isaac Lab (Newton, CPU), 2 environments each: in the task that loads it
(tasks/robots/simcheck.py, one process for all fourteen tasks, about 5 minutes on 2 cores), and the
Go2, A1 and Spot as the zero-shot scenarios put them into Go2's task (tasks/robots/standcheck.py)."""

import json

import pytest

from tasks.registry import get_task

pytestmark = pytest.mark.sim

# what each task's check measured beyond its dims (tasks/robots/<family>.py has the numbers and the why)
STANDS = ("go2_rough", "a1_rough", "anymal_d_flat")  # four feet loaded, base up, no episode ended
KNOWN_FALLS = {"spot_flat", "g1_rough", "h1_rough", "cassie_rough"}  # under the task's own gains: measured, stated


def test_every_task_builds_and_its_assets_pass_their_checks(cli):
    result = cli("tasks.robots.simcheck", timeout=1800)
    rows = {r["task"]: r for r in (json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))}
    assert set(rows) == {"cartpole", "ant", "go2_rough", "a1_rough", "spot_flat", "humanoid", "g1_rough", "h1_rough",
                         "franka_lift", "franka_drawer", "shadow_cube", "allegro_cube", "anymal_d_flat",
                         "cassie_rough"}, result.stdout[-2000:] + result.stderr[-3000:]
    for task, row in rows.items():
        assert row["problems"] == [], (task, row)
        if task not in ("franka_lift",):  # the core Newton lift task is not the review's (tasks.csv notes)
            assert (row["obs_dim"], row["act_dim"]) == (get_task(task).obs_dim, get_task(task).act_dim), task
    assert (rows["franka_lift"]["obs_dim"], rows["franka_lift"]["act_dim"]) == (100, 9)
    for task in STANDS:
        assert rows[task]["episodes_ended"] == 0 and rows[task]["feet_in_contact"] == 4, rows[task]
    assert {t for t, r in rows.items() if r.get("known")} == KNOWN_FALLS
    assert rows["franka_drawer"]["drawer_travel_m"] > 0.1 and rows["franka_lift"]["finger_travel_m"] > 0.03
    assert rows["shadow_cube"]["episodes_ended"] == 0 and rows["shadow_cube"]["cube_above_palm_end"] > 0.02
    assert {r["asset_class"] for r in rows.values()} == {"same-model", "equivalent", "stand-in"}
    assert rows["anymal_d_flat"]["config_edits"] and rows["anymal_d_flat"]["asset_class"] == "equivalent"
    assert result.returncode == 0


def test_go2_and_a1_stand_and_spot_spawns_with_isaac_labs_names(cli):
    result = cli("tasks.robots.standcheck", "--robots", "go2,a1,spot", "--seconds", "2", "--num-envs", "2")
    rows = {r["robot"]: r for r in (json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))}
    assert set(rows) == {"go2", "a1", "spot"}, result.stdout + result.stderr[-3000:]
    for robot, row in rows.items():
        assert row["problems"] == [], (robot, row)
        assert row["num_joints"] == 12 and row["height_scan_rays"] == 187 and row["height_scan_finite"]
        assert row["obs_dim"] == 235  # Go2's policy input: the transfer keeps the source's layout
    for robot in ("go2", "a1"):  # standing: no fall, all four feet loaded, the base well off the ground
        assert rows[robot]["episodes_ended"] == 0 and rows[robot]["feet_in_contact"] == 4
        assert rows[robot]["base_height_end"] > 0.2
    assert rows["go2"]["mass_kg"] == pytest.approx(15.4, abs=0.3)  # 15.21 authored + Newton's 4 feet
    assert rows["a1"]["mass_kg"] == pytest.approx(12.46, abs=0.3)
    assert rows["spot"]["mass_kg"] == pytest.approx(50.34 + 4 * 0.195, abs=0.5)
    assert rows["spot"]["joint_names"][:3] == ["fl_hx", "fl_hy", "fl_kn"]
    assert result.returncode == 0
