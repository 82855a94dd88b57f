"""Experiment manifests (``experiments/<name>.yaml``): parse, validate strictly, expand into runs.

A manifest names tasks, algorithms, seeds, the number of environments, the training budget
(``timesteps``, with optional per-algorithm ``budgets``), the evaluation, and an optional grid of
agent-setting overrides (every combination is run). Any mistake
(an unknown key, task, algorithm or setting, a wrong type, an empty list) is a :class:`UserError`
that names the file, the key and the valid choices, raised before any run starts.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import yaml

from benchmark.errors import UserError
from benchmark.spec import DEFAULT_EVAL_EPISODES, RunSpec

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
KEYS = {
    "name": str, "description": str, "tasks": list, "algorithms": list, "seeds": list,
    "num_envs": int, "timesteps": int, "device": str, "eval_episodes": int, "grid": dict, "budgets": dict,
}
REQUIRED = ("name", "tasks", "algorithms", "seeds")


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str
    path: Path
    description: str
    tasks: tuple[str, ...]
    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    num_envs: int | None
    timesteps: int | None
    device: str
    eval_episodes: int
    grid: dict[str, tuple[Any, ...]]
    budgets: dict[str, int] = dataclasses.field(default_factory=dict)  # per-algorithm timesteps

    def runs(self) -> list[RunSpec]:
        """Every (task, algorithm, seed, grid point) as a validated run spec, in a stable order."""
        keys = sorted(self.grid)
        points = [dict(zip(keys, values)) for values in itertools.product(*(self.grid[k] for k in keys))]
        specs = []
        for task, algo, seed, point in itertools.product(self.tasks, self.algorithms, self.seeds, points):
            try:
                specs.append(RunSpec.create(task=task, algo=algo, num_envs=self.num_envs, seed=seed,
                                            timesteps=self.budgets.get(algo, self.timesteps), overrides=point,
                                            eval_episodes=self.eval_episodes))
            except UserError as err:
                raise UserError(f"{self.path}: {err}") from None
        return specs


def available() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))


def load(name_or_path: str) -> Manifest:
    path = Path(name_or_path)
    if not path.suffix:
        path = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise UserError(f"unknown experiment {name_or_path!r}; valid: {', '.join(available())}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    for key, value in data.items():
        if key not in KEYS:
            raise UserError(f"{path}: unknown key {key!r}; valid: {', '.join(KEYS)}")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            raise UserError(f"{path}: key {key!r} must be a {KEYS[key].__name__}, got {value!r}")
    for key in REQUIRED:
        if key not in data:
            raise UserError(f"{path}: missing required key {key!r}")
    for key in ("tasks", "algorithms", "seeds"):
        if not data[key]:
            raise UserError(f"{path}: key {key!r} is an empty list")
    grid = data.get("grid") or {}
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"{path}: grid key {key!r} must be a non-empty list of values, got {values!r}")
    budgets = data.get("budgets") or {}
    for algo, steps in budgets.items():
        if algo not in data["algorithms"]:
            raise UserError(f"{path}: budgets names {algo!r}, which is not among the algorithms; "
                            f"valid: {', '.join(data['algorithms'])}")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
            raise UserError(f"{path}: budget of {algo!r} must be a positive integer, got {steps!r}")
    manifest = Manifest(
        name=data["name"], path=path, description=data.get("description", ""),
        tasks=tuple(data["tasks"]), algorithms=tuple(data["algorithms"]), seeds=tuple(data["seeds"]),
        num_envs=data.get("num_envs"), timesteps=data.get("timesteps"), device=data.get("device", "cpu"),
        eval_episodes=data.get("eval_episodes", DEFAULT_EVAL_EPISODES),
        grid={k: tuple(v) for k, v in grid.items()}, budgets=dict(budgets),
    )
    manifest.runs()  # validates every task, algorithm, seed and override now
    return manifest
