"""A run's record (``run.json``) and a zero-shot evaluation's (``eval/<scenario>.json``) as typed data.

The store (:mod:`benchmark.store`) reads and writes these files only through the classes here:
:class:`RunRecord` (its :class:`Identity`, each :class:`Attempt`, the start and final
:class:`Evaluation`) and :class:`ScenarioEval`, with :class:`Status` for what a run or an
evaluation is. ``from_json`` reads every file written before (a key a version did not write gets
its default; a key this version does not know is kept in ``extra`` and written back), ``to_json``
writes the same JSON the files always held (absent values left out), so old run directories load
and new ones read the same to older tools.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class Status(str, enum.Enum):
    """What ``run.json`` says (``planned`` .. ``failed``), and what the store derives from it and the
    run's lock (:meth:`benchmark.store.RunDir.status`: ``new``, ``interrupted``, ``damaged``,
    ``unreadable``). A str: it is the same JSON and compares equal to its value."""

    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"
    DIVERGED = "diverged"
    FAILED = "failed"
    NEW = "new"
    INTERRUPTED = "interrupted"
    DAMAGED = "damaged"
    UNREADABLE = "unreadable"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:  # messages name the value, as they did when statuses were strings
        return repr(self.value)


DONE = (Status.FINISHED, Status.DIVERGED)  # a result: never trained again


def _known(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} - {"extra"}


def _split(cls, data: dict) -> tuple[dict, dict]:
    known = _known(cls)
    return {k: v for k, v in data.items() if k in known}, {k: v for k, v in data.items() if k not in known}


def _json(obj) -> dict[str, Any]:
    """A record's fields as JSON (nested records too), None and empty ``extra`` left out, extras last."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.name == "extra":
            continue
        value = getattr(obj, f.name)
        if value is None:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif dataclasses.is_dataclass(value):
            value = value.to_json()
        elif isinstance(value, list):
            value = [v.to_json() if dataclasses.is_dataclass(v) else v for v in value]
        out[f.name] = value
    out.update(obj.extra)
    return out


class _Record:
    """``from_json``/``to_json`` of the records below: the keys a record knows become its fields
    (:meth:`_convert` turns nested ones into their records), the others stay in ``extra``."""

    @classmethod
    def _convert(cls, known: dict) -> dict:
        return known

    @classmethod
    def from_json(cls, data: dict):
        known, extra = _split(cls, data)
        return cls(**cls._convert(known), extra=extra)

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclasses.dataclass
class Identity(_Record):
    """What the run id hashes (:meth:`benchmark.spec.RunSpec.identity`)."""

    task: str
    algo: str
    num_envs: int
    seed: int
    timesteps: int
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    eval_episodes: int = 1024
    revision: int | None = None  # absent: revision 1
    start_eval_episodes: int | None = None  # absent: none
    shifts: list[str] | None = None  # absent: the clean task (tasks.shifts)
    guard: dict[str, Any] | None = None  # absent: no guardrails (benchmark.guardrails)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)



@dataclasses.dataclass
class Evaluation(_Record):
    """An evaluation of the policy over whole episodes (:mod:`benchmark.policy_eval`), its summary."""

    episodes: int
    return_mean: float
    return_std: float
    length_mean: float | None = None
    success_rate: float | None = None  # episodes that ran to the time limit (absent: runs before it was kept)
    policy: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict | None) -> Evaluation | None:
        return super().from_json(data) if data else None


@dataclasses.dataclass
class Attempt(_Record):
    """One training process's go at the run."""

    started_at: str
    device: str | None = None
    git: dict | None = None
    compile: dict | None = None
    determinism: dict | None = None
    resumed_from_timestep: int | None = None
    replay_memory_restored: int | None = None
    recovered: list[str] | None = None
    ended_at: str | None = None
    status: Status | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def _convert(cls, known: dict) -> dict:
        if known.get("status") is not None:
            known["status"] = Status(known["status"])
        return known


@dataclasses.dataclass
class RunRecord(_Record):
    """``run.json``: the spec and resolved config (written when the run is planned), provenance,
    every attempt, the environment as built, the evaluations and the status (written last)."""

    run_id: str
    status: Status
    spec: Identity
    task: dict = dataclasses.field(default_factory=dict)  # name, ids, group, the review's name
    algo: str = ""
    seed: int = 0
    num_envs: int = 0
    timesteps: int = 0
    total_env_steps: int = 0
    agent_config: dict = dataclasses.field(default_factory=dict)  # values and sources (agents.settings)
    profile: str = "review"
    update_ratio: dict | None = None
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    versions: dict | None = None
    git: dict | None = None
    machine: dict | None = None
    created_at: str | None = None
    device: str | None = None
    determinism: dict | None = None
    physics: dict | None = None
    asset_source: dict | None = None
    env: dict | None = None  # obs_dim, act_dim, max_episode_length as built
    start_eval: Evaluation | None = None
    final_eval: Evaluation | None = None
    divergence: dict | None = None
    error: dict | None = None
    recovered: list[str] | None = None  # fallbacks met while planning, for the next attempt
    ended_at: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def _convert(cls, known: dict) -> dict:
        known["status"] = Status(known.get("status", Status.PLANNED))
        known["spec"] = Identity.from_json(known["spec"])
        known["attempts"] = [Attempt.from_json(a) for a in known.get("attempts") or []]
        for key in ("start_eval", "final_eval"):
            known[key] = Evaluation.from_json(known.get(key))
        return known

    @property
    def asset_class(self) -> str | None:
        return (self.asset_source or {}).get("kind")

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclasses.dataclass
class ScenarioEval(_Record):
    """``eval/<scenario>.json``: a trained policy evaluated zero-shot on a scenario (:mod:`benchmark.evaluate`)."""

    scenario: str
    status: Status
    source_task: str = ""
    episodes: int = 0
    max_episode_steps: int | None = None
    metrics: dict | None = None  # alive, l_mae, a_mae: {mean, std} each (tasks.metrics)
    run_id: str | None = None
    algo: str | None = None
    asset_source: dict | None = None
    joints: dict | None = None  # the articulation's order, the policy's order (what later transfers map by)
    error: dict | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def _convert(cls, known: dict) -> dict:
        known["status"] = Status(known["status"])
        return known

    @property
    def asset_class(self) -> str | None:
        return (self.asset_source or {}).get("kind")
