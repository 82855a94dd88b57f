"""Which algorithms the harness knows, and how to build one for a task.

Each algorithm is one module ``agents/<name>.py`` exposing ``FAMILY`` ("on_policy" or
"off_policy": which of the review's Tables 11/12 apply), ``DEFAULTS`` (its own settings, each with
a source) and ``build(cfg, observation_space=, action_space=, num_envs=, device=)`` returning an
object that satisfies :mod:`agents.interface`.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from agents.config import ResolvedConfig, resolve
from tasks.errors import invalid
from tasks.registry import Task

ALGORITHMS = ("ppo", "ddpg", "td3", "sac", "dipo", "qvpo", "dacer", "genpo")


def algorithm_module(name: str) -> ModuleType:
    if name not in ALGORITHMS:
        raise invalid("algorithm", name, ALGORITHMS)
    return importlib.import_module(f"agents.{name}")


def resolve_config(name: str, task: Task, overrides: dict[str, Any] | None = None) -> ResolvedConfig:
    module = algorithm_module(name)
    return resolve(task, module.FAMILY, module.DEFAULTS, overrides)


def build_agent(name: str, cfg: ResolvedConfig, *, observation_space, action_space, num_envs: int, device: str):
    return algorithm_module(name).build(
        cfg, observation_space=observation_space, action_space=action_space, num_envs=num_envs, device=device
    )
