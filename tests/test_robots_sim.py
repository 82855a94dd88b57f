"""The offline Go2, A1 and Spot in real Isaac Lab (Newton, CPU): spawned into Go2's rough velocity task
as the zero-shot scenarios put them, held at the default pose for 2 s (tasks/robots/standcheck.py).
One process for the three robots: about a minute and a half on 2 cores."""

import json

import pytest

pytestmark = pytest.mark.sim


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
