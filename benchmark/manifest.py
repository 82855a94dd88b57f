"""Experiment manifests (``experiments/<name>.yaml``): parse, validate strictly, expand into runs.

A manifest names tasks, algorithms, seeds, the number of environments (one, or a list to sweep),
the training budget (``timesteps``, with optional per-algorithm ``budgets``; ``per_task``: a task's
own ``num_envs`` and ``timesteps``), the evaluation (``eval_episodes``; ``start_eval_episodes``: the
untrained policy evaluated first; ``evaluate``: zero-shot scenarios run on each trained policy, over
``scenario_episodes`` episodes each), and an optional grid of agent-setting overrides (every combination is run). Any mistake (a file that is
not UTF-8 text, not YAML or not a mapping; an unknown key, task, algorithm, scenario or setting; a
wrong type; a value outside its range, as each setting declares it in :mod:`agents.settings`; a
device that is not cpu, cuda or cuda:N; an empty list; a run listed twice) is a :class:`UserError`
that names the file, the key, the value and the valid choices, raised before any run starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import UserError
from benchmark.spec import DEFAULT_EVAL_EPISODES, DEFAULT_SCENARIO_EPISODES, RunSpec, check_device_name

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
KEYS = {
    "name": str, "description": str, "tasks": list, "algorithms": list, "seeds": list,
    "num_envs": (int, list), "timesteps": int, "device": str, "eval_episodes": int, "grid": dict,
    "budgets": dict, "evaluate": list, "scenario_episodes": int, "start_eval_episodes": int, "per_task": dict,
}
PER_TASK_KEYS = ("num_envs", "timesteps")  # what a task may set for itself (per_task: {task: {key: value}})
REQUIRED = ("name", "tasks", "algorithms", "seeds")
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # the experiment's folder beside the run store


@dataclasses.dataclass(frozen=True)
class Manifest:
    name: str
    path: Path
    description: str
    tasks: tuple[str, ...]
    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    num_envs: tuple[int | None, ...]
    timesteps: int | None
    device: str
    eval_episodes: int
    grid: dict[str, tuple[Any, ...]]
    budgets: dict[str, int] = dataclasses.field(default_factory=dict)  # per-algorithm timesteps
    evaluate: tuple[str, ...] = ()  # zero-shot scenarios (tasks.scenarios)
    scenario_episodes: int = DEFAULT_SCENARIO_EPISODES  # episodes per zero-shot evaluation
    start_eval_episodes: int = 0  # > 0: each run evaluates its untrained policy first
    per_task: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # a task's own num_envs, timesteps
    runs: tuple[RunSpec, ...] = ()  # every run, expanded once by load()


def expand(manifest: Manifest) -> tuple[RunSpec, ...]:
    """Every (task, algorithm, environments, grid point, seed) of ``manifest`` as a validated run
    spec with its resolved config, in a stable order."""
    keys = sorted(manifest.grid)
    points = [dict(zip(keys, values)) for values in itertools.product(*(manifest.grid[k] for k in keys))]
    specs: dict[str, RunSpec] = {}
    for task, algo, num_envs, point, seed in itertools.product(manifest.tasks, manifest.algorithms,
                                                               manifest.num_envs, points, manifest.seeds):
        own = manifest.per_task.get(task, {})
        try:
            spec = RunSpec.create(task=task, algo=algo, num_envs=own.get("num_envs", num_envs), seed=seed,
                                  timesteps=own.get("timesteps", manifest.budgets.get(algo, manifest.timesteps)),
                                  overrides=point, eval_episodes=manifest.eval_episodes,
                                  start_eval_episodes=manifest.start_eval_episodes)
        except UserError as err:
            raise UserError(f"{manifest.path}: {err}") from None
        if spec.run_id in specs:
            raise UserError(f"{manifest.path}: run {spec.run_id} is listed twice (a repeated task, "
                            f"algorithm, seed, environment count or grid value)")
        specs[spec.run_id] = spec
    return tuple(specs.values())


def available() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))


def _read(name_or_path: str) -> tuple[Path, dict]:
    """The manifest file's path and its YAML mapping, or a :class:`UserError` saying why not."""
    path = Path(name_or_path)
    if not path.suffix:
        path = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise UserError(f"unknown experiment {name_or_path!r}; valid: {', '.join(available())}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not a manifest: not UTF-8 text ({err}); valid: a YAML file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot be read ({err.strerror or err}); valid: a readable YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return path, data


def _check_keys(path: Path, data: dict) -> None:
    """Known keys of the right types, the required ones present, lists not empty, names as names."""
    for key, value in data.items():
        if key not in KEYS:
            raise UserError(f"{path}: unknown key {key!r}; valid: {', '.join(KEYS)}")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            kinds = " or ".join(t.__name__ for t in _kinds(KEYS[key]))
            raise UserError(f"{path}: key {key!r} must be a {kinds}, got {value!r}")
    for key in REQUIRED:
        if key not in data:
            raise UserError(f"{path}: missing required key {key!r}")
    for key in ("tasks", "algorithms", "seeds", "num_envs", "evaluate"):
        if isinstance(data.get(key), list) and not data[key]:
            raise UserError(f"{path}: key {key!r} is an empty list")
    for key in ("tasks", "algorithms", "evaluate"):
        for item in data.get(key) or []:
            if not isinstance(item, str):
                raise UserError(f"{path}: key {key!r}: invalid entry {item!r}; valid: a name (a string)")
    if not NAME.fullmatch(data["name"]) or data["name"] == "runs":
        raise UserError(f"{path}: key 'name': invalid experiment name {data['name']!r}; valid: letters, digits, "
                        "'_', '-' and '.' (not first), and not 'runs' (the run store's folder)")
    if "device" in data:
        try:
            check_device_name(data["device"])
        except UserError as err:
            raise UserError(f"{path}: key 'device': {err}") from None
    if data.get("scenario_episodes", 1) <= 0:
        raise UserError(f"{path}: invalid number of scenario episodes {data['scenario_episodes']}; "
                        "valid: a positive integer")


def _check_values(path: Path, data: dict) -> None:
    """The grid's lists, the per-task settings and the per-algorithm budgets."""
    for key, values in (data.get("grid") or {}).items():
        if not isinstance(values, list) or not values:
            raise UserError(f"{path}: grid key {key!r} must be a non-empty list of values, got {values!r}")
    for task, own in (data.get("per_task") or {}).items():
        if task not in data["tasks"]:
            raise UserError(f"{path}: per_task names {task!r}, which is not among the tasks; "
                            f"valid: {', '.join(data['tasks'])}")
        if not isinstance(own, dict):
            raise UserError(f"{path}: per_task {task!r} must be a mapping of {', '.join(PER_TASK_KEYS)}, got {own!r}")
        for key, value in own.items():
            if key not in PER_TASK_KEYS:
                raise UserError(f"{path}: per_task {task!r}: unknown key {key!r}; valid: {', '.join(PER_TASK_KEYS)}")
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise UserError(f"{path}: per_task {task!r}: {key} must be a positive integer, got {value!r}")
    for algo, steps in (data.get("budgets") or {}).items():
        if algo not in data["algorithms"]:
            raise UserError(f"{path}: budgets names {algo!r}, which is not among the algorithms; "
                            f"valid: {', '.join(data['algorithms'])}")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
            raise UserError(f"{path}: budget of {algo!r} must be a positive integer, got {steps!r}")


def load(name_or_path: str) -> Manifest:
    """The manifest ``name_or_path`` (an experiment's name or a file), validated, its runs expanded."""
    path, data = _read(name_or_path)
    _check_keys(path, data)
    _check_values(path, data)
    num_envs = data.get("num_envs")
    manifest = Manifest(
        name=data["name"], path=path, description=data.get("description", ""),
        tasks=tuple(data["tasks"]), algorithms=tuple(data["algorithms"]), seeds=tuple(data["seeds"]),
        num_envs=tuple(num_envs) if isinstance(num_envs, list) else (num_envs,), timesteps=data.get("timesteps"),
        device=data.get("device", "cpu"), eval_episodes=data.get("eval_episodes", DEFAULT_EVAL_EPISODES),
        grid={k: tuple(v) for k, v in (data.get("grid") or {}).items()}, budgets=dict(data.get("budgets") or {}),
        evaluate=tuple(data.get("evaluate") or ()),
        scenario_episodes=data.get("scenario_episodes", DEFAULT_SCENARIO_EPISODES),
        start_eval_episodes=data.get("start_eval_episodes", 0),
        per_task={k: dict(v) for k, v in (data.get("per_task") or {}).items()},
    )
    manifest = dataclasses.replace(manifest, runs=expand(manifest))  # validates every run now
    if manifest.evaluate:
        _check_scenarios(manifest)
    return manifest


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _check_scenarios(manifest: Manifest) -> None:
    """Every scenario must exist and start from a task the manifest trains."""
    from tasks.scenarios import get_scenario  # noqa: PLC0415

    for name in manifest.evaluate:
        try:
            scenario = get_scenario(name)
        except UserError as err:
            raise UserError(f"{manifest.path}: key 'evaluate': {err}") from None
        if scenario.source_task not in manifest.tasks:
            raise UserError(f"{manifest.path}: scenario {name!r} evaluates policies trained on "
                            f"{scenario.source_task!r}, which is not among the tasks; valid tasks: "
                            f"{', '.join(manifest.tasks)}")
