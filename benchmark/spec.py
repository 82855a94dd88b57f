"""A run's identity: what to train, validated before anything is built, and its stable id.

The id is a hash of the settings that change the result (task, algorithm, environments, seed,
budget, overrides that differ from the defaults, evaluation episodes), so planning the same run
twice, from one experiment or two, gives the same directory:
"skip finished, resume interrupted" is a directory check and no run is counted twice. The device
and the asset root are recorded in ``run.json`` but are not part of the id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from agents.registry import ALGORITHMS, resolve_config
from tasks.errors import UserError, invalid
from tasks.registry import get_task

DEFAULT_EVAL_EPISODES = 1024


def validate_device(device: str) -> str:
    valid = ["cpu"] + (["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
                       if torch.cuda.is_available() else [])
    if device not in valid:
        raise invalid("device", device, valid)
    return device


def positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UserError(f"invalid {name} {value!r}; valid: a positive integer")
    return value


@dataclasses.dataclass(frozen=True)
class RunSpec:
    task: str
    algo: str
    num_envs: int
    seed: int
    timesteps: int
    overrides: tuple[tuple[str, Any], ...] = ()
    eval_episodes: int = DEFAULT_EVAL_EPISODES

    @classmethod
    def create(cls, *, task: str, algo: str, num_envs: int | None = None, seed: int = 0,
               timesteps: int | None = None, overrides: dict[str, Any] | None = None,
               eval_episodes: int = DEFAULT_EVAL_EPISODES) -> RunSpec:
        """Validate every field (raising :class:`UserError`) and fill defaults from the registry."""
        t = get_task(task)
        if algo not in ALGORITHMS:
            raise invalid("algorithm", algo, ALGORITHMS)
        if num_envs is None:
            num_envs = int(t.hyperparameters()["common"]["# of environment"][0])
        positive("number of environments", num_envs)
        positive("number of timesteps", timesteps if timesteps is not None else t.default_timesteps)
        positive("number of evaluation episodes", eval_episodes)
        if not isinstance(seed, int) or seed < 0:
            raise UserError(f"invalid seed {seed!r}; valid: a non-negative integer")
        resolve_config(algo, t, overrides)  # rejects unknown keys and bad types now
        defaults = resolve_config(algo, t).values
        # an override equal to the default is no override: the same run, the same id
        overrides = {k: v for k, v in sorted((overrides or {}).items()) if defaults.get(k) != v}
        return cls(task=task, algo=algo, num_envs=num_envs, seed=seed,
                   timesteps=timesteps if timesteps is not None else t.default_timesteps,
                   overrides=tuple(overrides.items()), eval_episodes=eval_episodes)

    def identity(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["overrides"] = dict(self.overrides)
        return out

    @classmethod
    def from_identity(cls, ident: dict[str, Any]) -> RunSpec:
        """The spec a run directory's ``run.json`` records (the inverse of :meth:`identity`)."""
        return cls(**{**ident, "overrides": tuple(sorted(ident["overrides"].items()))})

    @property
    def run_id(self) -> str:
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.task}-{self.algo}-n{self.num_envs}-s{self.seed}-{digest}"

    def run_dir(self, root: Path) -> Path:
        return Path(root) / self.run_id

    def agent_config(self):
        return resolve_config(self.algo, get_task(self.task), dict(self.overrides))
