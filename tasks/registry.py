"""The benchmark's tasks as data: the review's 12 Isaac Lab tasks plus the Unitree A1 transfer target.

Two tables live beside this module and are the single source of truth:

- ``tasks.csv``: short name, group, Isaac Lab 3.0 id, Isaac Lab 2.x id, the review's state/action
  dimensions (Table 3), the default training budget, the physics preset every run selects explicitly
  (``newton_mjwarp``: kit-less Newton with the MuJoCo-Warp solver) and whether its assets can be
  built offline.
- ``paper_hyperparameters.csv``: the review's Tables 10-12 (per-task learning rates, hidden layers,
  discount, grad clip; on-policy and off-policy settings), copied from the paper data. Table 12's
  "Random action steps = 4" row covers all 12 tasks in the review; the paper data had it for the
  first six only, and the other six rows were added here from the review's text.

Nothing here imports Isaac Lab, so listing and validating tasks is instant. One task is the
harness's own, not Isaac Lab's: ``ant_rough`` (``Dprl-Velocity-Rough-Ant``, the offline stand-in for
the Go2 transfer chain, :mod:`tasks.legged.ant`); loading the table registers its gym id
(gymnasium only) so Isaac Lab's ``parse_env_cfg`` finds it like any registered task.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
from pathlib import Path

from tasks.errors import invalid

HERE = Path(__file__).resolve().parent
GROUPS = ("classic", "manipulation", "locomotion")

# Table names in paper_hyperparameters.csv -> the short section names used in configs.
_SECTIONS = {
    "all (Table 10)": "common",
    "on-policy: PPO, GenPO (Table 11)": "on_policy",
    "off-policy: DDPG, TD3, SAC, DIPO, QVPO, DACER (Table 12)": "off_policy",
}
_TABLE_OF_SECTION = {"common": "Table 10", "on_policy": "Table 11", "off_policy": "Table 12"}


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    group: str
    role: str  # "benchmark" (one of the review's 12) or "transfer-target"
    isaaclab_id: str
    isaaclab2_id: str
    obs_dim: int  # as the review states it (Table 3); for an alternative task, as Isaac Lab builds it
    act_dim: int
    paper_name: str  # the task's name in the review's result tables
    paper_hparams_name: str  # the task's column in the review's Tables 10-12
    default_timesteps: int  # vectorized env steps (per environment)
    physics: str  # the Isaac Lab physics preset selected by name (``physics=<preset>``), e.g. newton_mjwarp
    offline_assets: bool  # whether `python -m tasks.assets` can build its assets
    notes: str
    table_note: str = ""  # printed under every results table the task appears in (a substitution)

    def hyperparameters(self) -> dict[str, dict[str, tuple[object, str]]]:
        """``{section: {parameter: (value, "Table N")}}`` from the review's Tables 10-12."""
        return _paper_hyperparameters()[self.paper_hparams_name]


@functools.cache
def all_tasks() -> dict[str, Task]:
    from tasks.legged import register_gym_ids  # noqa: PLC0415

    register_gym_ids()
    with open(HERE / "tasks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    tasks = {}
    for row in rows:
        tasks[row["name"]] = Task(
            name=row["name"],
            group=row["group"],
            role=row["role"],
            isaaclab_id=row["isaaclab_id"],
            isaaclab2_id=row["isaaclab2_id"],
            obs_dim=int(row["obs_dim"]),
            act_dim=int(row["act_dim"]),
            paper_name=row["paper_name"],
            paper_hparams_name=row["paper_hparams_name"],
            default_timesteps=int(row["default_timesteps"]),
            physics=row["physics"],
            offline_assets=row["offline_assets"] == "yes",
            notes=row["notes"],
            table_note=row.get("table_note", ""),
        )
    return tasks


def task_names() -> list[str]:
    return list(all_tasks())


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise invalid("task", name, tasks)
    return tasks[name]


def _parse_value(text: str) -> object:
    text = text.strip()
    if text.startswith("["):
        return [int(v) for v in ast.literal_eval(text)]
    number = float(text)
    return int(number) if number.is_integer() and "e" not in text.lower() and "." not in text else number


@functools.cache
def _paper_hyperparameters() -> dict[str, dict[str, dict[str, tuple[object, str]]]]:
    out: dict[str, dict[str, dict[str, tuple[object, str]]]] = {}
    with open(HERE / "paper_hyperparameters.csv", newline="") as f:
        for row in csv.DictReader(f):
            section = _SECTIONS[row["group"]]
            per_task = out.setdefault(row["task"], {s: {} for s in _TABLE_OF_SECTION})
            per_task[section][row["parameter"]] = (_parse_value(row["value"]), _TABLE_OF_SECTION[section])
    return out
