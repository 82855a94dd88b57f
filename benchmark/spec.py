"""A run's identity and its resolved config: computed once, when the run is planned.

The id is a hash of the settings that change the result (task, algorithm, environments, seed,
budget, overrides that differ from the defaults, evaluation episodes, an evaluation of the untrained
policy before training when asked for), so planning the same run
twice, from one experiment or two, gives the same directory: "skip finished, resume interrupted"
is a directory check and no run is counted twice. The device and the asset root are recorded in
``run.json`` but are not part of the id.

A spec carries its resolved, typed agent config (:mod:`agents.settings`). The planner writes both
into the run directory (:meth:`RunSpec.initial_record`); the training process reads them back from
there (:meth:`RunSpec.from_record`) instead of resolving anything again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

import torch

from agents import catalogue, settings
from benchmark.record import Identity, RunRecord, Status
from tasks.errors import UserError, invalid
from tasks.registry import get_task
from tasks.shifts import check_shifts
from benchmark.guardrails import GuardConfig

DEFAULT_EVAL_EPISODES = 1024  # the final evaluation
DEFAULT_SCENARIO_EPISODES = 64  # a zero-shot evaluation (benchmark.evaluate, a manifest's evaluate list)


DEVICE_NAMES = "cpu, cuda or cuda:N"


def check_device_name(device: object) -> str:
    """``device`` if it names a device at all (cpu, cuda, cuda:N), whether or not this machine has
    it (a manifest may be planned on a machine without the GPU it will run on), else a
    :class:`UserError`."""
    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise UserError(f"invalid device {device!r}; valid: {DEVICE_NAMES}")
    return device


def validate_device(device: str) -> str:
    """``device`` if this machine has it, else a :class:`UserError` listing the ones it has."""
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
    revision: int = 1  # of the algorithm's defaults (agents.catalogue.Algorithm.revision)
    start_eval_episodes: int = 0  # > 0: the untrained policy is evaluated before training (eval_start.json)
    shifts: tuple[str, ...] = ()  # perturbations of the task (tasks.shifts); () is the clean task
    guard: tuple[tuple[str, Any], ...] = ()  # guardrails (benchmark.guardrails); () none
    config: settings.Resolved | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, *, task: str, algo: str, num_envs: int | None = None, seed: int = 0,
               timesteps: int | None = None, overrides: dict[str, Any] | None = None,
               eval_episodes: int = DEFAULT_EVAL_EPISODES, start_eval_episodes: int = 0,
               shifts: tuple[str, ...] | list[str] = (), guard: dict[str, Any] | None = None) -> RunSpec:
        """Validate every field (raising :class:`UserError`), fill defaults from the registry and
        resolve the agent config (once)."""
        t = get_task(task)
        algorithm = catalogue.get(algo)
        if num_envs is None:
            num_envs = int(t.hyperparameters()["common"]["# of environment"][0])
        positive("number of environments", num_envs)
        positive("number of timesteps", timesteps if timesteps is not None else t.default_timesteps)
        positive("number of evaluation episodes", eval_episodes)
        if not isinstance(start_eval_episodes, int) or isinstance(start_eval_episodes, bool) or start_eval_episodes < 0:
            raise UserError(f"invalid number of start evaluation episodes {start_eval_episodes!r}; valid: a "
                            "non-negative integer (0: none)")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise UserError(f"invalid seed {seed!r}; valid: a non-negative integer")
        shifts = check_shifts(task, shifts)
        GuardConfig.parse(task, dict(guard or {}))
        overrides = dict(overrides or {})
        config = settings.resolve(algorithm.config, t, overrides)  # rejects unknown keys, bad types, ranges
        # an override equal to the default (of the profile chosen) is no override: the same run, the same id
        profile = config.values.get("profile", "review")
        new, old = config.values, settings.defaults(algorithm.config, t, profile).values
        kept = {k: new[k] for k in sorted(overrides) if new[k] != old[k] or (k == "profile" and new[k] != "review")}
        return cls(task=task, algo=algo, num_envs=num_envs, seed=seed,
                   timesteps=timesteps if timesteps is not None else t.default_timesteps,
                   overrides=tuple(kept.items()), eval_episodes=eval_episodes,
                   revision=algorithm.revision, start_eval_episodes=start_eval_episodes, shifts=shifts,
                   guard=tuple(sorted((guard or {}).items())), config=config)

    def identity(self) -> dict[str, Any]:
        """What the run id hashes. The algorithm's revision enters it from revision 2 on, so runs of
        revision 1 keep the ids they were made with and a changed default makes new ids; a start
        evaluation enters it when there is one (it steps the environments before training)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}
        out["overrides"] = dict(self.overrides)
        out["shifts"] = list(self.shifts)
        out["guard"] = dict(self.guard)
        if self.revision == 1:
            del out["revision"]
        if not self.start_eval_episodes:
            del out["start_eval_episodes"]
        if not self.shifts:
            del out["shifts"]
        if not self.guard:
            del out["guard"]
        return out

    @property
    def run_id(self) -> str:
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.task}-{self.algo}-n{self.num_envs}-s{self.seed}-{digest}"

    def initial_record(self) -> RunRecord:
        """What a run directory's ``run.json`` holds before the run starts (status ``planned``)."""
        task = get_task(self.task)
        return RunRecord(
            run_id=self.run_id, status=Status.PLANNED, spec=Identity.from_json(self.identity()),
            task={"name": task.name, "isaaclab_id": task.isaaclab_id, "isaaclab2_id": task.isaaclab2_id,
                  "group": task.group, "paper_name": task.paper_name},
            algo=self.algo, seed=self.seed, num_envs=self.num_envs, timesteps=self.timesteps,
            total_env_steps=self.timesteps * self.num_envs, agent_config=self.config.to_json(),
            profile=self.config.values.get("profile", "review"),
            update_ratio=settings.update_ratio(self.config.config, self.num_envs),
        )

    @classmethod
    def from_record(cls, record: RunRecord) -> RunSpec:
        """The spec and typed config a run directory recorded (the inverse of :meth:`initial_record`)."""
        ident = record.spec
        algorithm = catalogue.get(ident.algo)
        config = settings.from_record(algorithm.config, get_task(ident.task), record.agent_config)
        return cls(task=ident.task, algo=ident.algo, num_envs=ident.num_envs, seed=ident.seed,
                   timesteps=ident.timesteps, overrides=tuple(sorted(ident.overrides.items())),
                   eval_episodes=ident.eval_episodes, revision=ident.revision or 1,
                   start_eval_episodes=ident.start_eval_episodes or 0, shifts=tuple(ident.shifts or ()),
                   guard=tuple(sorted((ident.guard or {}).items())), config=config)
