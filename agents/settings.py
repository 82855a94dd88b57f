"""Typed agent settings, declared once beside the code they configure (as skrl's ``*_CFG``).

Each algorithm declares its settings as a frozen dataclass (``agents/algorithms/<name>.py``), built
on the bases here: :class:`CommonConfig` (the review's Table 10, all algorithms), then
:class:`OnPolicyConfig` (Table 11: PPO, GenPO) or :class:`OffPolicyConfig` (Table 12: DDPG, TD3,
SAC, DIPO, QVPO, DACER). Every field is declared with :func:`setting`: its type (the annotation),
its valid range, its default and where that default comes from:

- ``Review(section, name)``: the value the review's Tables 10-12 give for the run's task;
- a plain value with its source: a harness default (the review says nothing; the source names what
  the value follows), an algorithm's own value from the review's Table 9, or the original code's.

:func:`resolve` fills the defaults for a task, applies overrides (``--set key=value``, a manifest's
grid) after checking each against the declared fields, types and ranges, and returns the typed
config with the source of every value; ``to_json`` is what ``run.json`` stores. A setting that
changes nothing is not declared (``tests/test_settings.py`` checks that every field is read).

Profiles. A diffusion agent's config has a ``profile`` setting: ``review`` (the default: what the
review states, the gaps filled from the original implementation) or ``original`` (the official
implementation's own values and procedures). A profile is data: the config class's ``ORIGINAL``
maps settings to :class:`Original` values (each saying where in the original it comes from), which
replace the review profile's values when ``profile=original``; procedure choices are settings like
any other (e.g. DACER's ``entropy_of``). ``profile`` is swept like any other key.

Legacy. A setting declared after runs were made says, with ``legacy``, the value those runs used,
so their recorded configs still read back as what they ran (:func:`from_record`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from typing import Any

import yaml

from tasks.errors import UserError, invalid
from tasks.registry import Task

HARNESS = "harness default"


@dataclasses.dataclass(frozen=True)
class Range:
    """Valid values of a setting: an interval (either end open or closed, or unbounded) or choices."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] | None = None
    even: bool = False

    def contains(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                return False
            if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
                return False
            if self.high is not None and (v > self.high or (self.high_open and v == self.high)):
                return False
            if self.even and v % 2:
                return False
        return True

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        return self._interval() + (", even" if self.even else "")

    def _interval(self) -> str:
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return "any value"


ANY = Range()
POSITIVE = Range(low=0, low_open=True)
NON_NEGATIVE = Range(low=0)
AT_LEAST_ONE = Range(low=1)
UNIT = Range(low=0, high=1)  # probabilities, fractions, lambda
DISCOUNT = Range(low=0, high=1, low_open=True)
NEGATIVE = Range(high=0, high_open=True)


def choices(*values: Any) -> Range:
    return Range(choices=tuple(values))


@dataclasses.dataclass(frozen=True)
class Review:
    """A default taken from the review's Tables 10-12 for the run's task."""

    section: str  # "common" (Table 10), "on_policy" (Table 11) or "off_policy" (Table 12)
    name: str  # the parameter's name in the table


@dataclasses.dataclass(frozen=True)
class Setting:
    default: Any  # a value, or a Review reference resolved per task
    source: str  # where the default comes from ("" for Review defaults: the table says it)
    valid: Range
    doc: str
    legacy: Any = None  # the value runs made before the setting existed used (None: its default)


def setting(default: Any, source: str = "", valid: Range = ANY, doc: str = "", *, legacy: Any = None) -> Any:
    """Declare a config field (see the module docstring); the dataclass field has no default of its
    own, so a config is only ever made complete, by :func:`resolve`."""
    if not isinstance(default, Review) and not source:
        raise ValueError("a setting with a fixed default must say where the value comes from")
    return dataclasses.field(metadata={"setting": Setting(default, source, valid, doc, legacy)})


PROFILES = ("review", "original")


@dataclasses.dataclass(frozen=True)
class Original:
    """A setting's value in the official implementation, and where it comes from there (in words)."""

    value: Any
    where: str


def profile_setting() -> Any:
    return setting("review", f"{HARNESS}: the review's values, gaps filled from the original", choices(*PROFILES),
                   "which values: the review's (gaps from the original) or the official implementation's",
                   legacy="review")


def original_values(cls: type) -> dict[str, Original]:
    """The ``original`` profile of a config class: its ``ORIGINAL`` and its bases', the nearest wins."""
    out: dict[str, Original] = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("ORIGINAL", {}))
    return out


# --- the review's Tables 10-12 ---------------------------------------------------------------------
def table_setting(section: str, name: str, valid: Range, doc: str = "") -> Any:
    """A setting whose default is the review's Tables 10-12 entry ``name`` for the run's task."""
    return setting(Review(section, name), valid=valid, doc=doc)


@dataclasses.dataclass(frozen=True)
class CommonConfig:
    """The review's Table 10 (every algorithm) and what every agent shares."""

    actor_lr: float = table_setting("common", "Learning rate (Actor)", POSITIVE,
                             "actor learning rate (on-policy: of the one optimizer actor and critic share)")
    actor_hidden: list[int] = table_setting("common", "Hidden layers (Actor)", AT_LEAST_ONE,
                                     "actor (policy, denoiser, flow) hidden sizes")
    critic_hidden: list[int] = table_setting("common", "Hidden layers (Critic)", AT_LEAST_ONE, "critic (Q or V) hidden sizes")
    discount: float = table_setting("common", "Discount factor", DISCOUNT, "discount gamma")
    grad_norm_clip: float = table_setting("common", "GradNorm clip", NON_NEGATIVE, "gradient-norm clip (0: none)")
    observation_normalization: bool = setting(
        True, f"{HARNESS} (Isaac Lab's skrl configs: RunningStandardScaler)",
        doc="running mean/std normalization of observations")


@dataclasses.dataclass(frozen=True)
class OnPolicyConfig(CommonConfig):
    """The review's Table 11 (PPO, GenPO). Actor and critic share one optimizer and one KL-adaptive
    learning rate (skrl's PPO, rsl-rl's), so Table 10's critic learning rate has no effect here (it
    equals the actor's on every task) and is not a setting."""

    rollouts: int = table_setting("on_policy", "Rollouts", AT_LEAST_ONE, "steps per environment between updates")
    learning_epochs: int = table_setting("on_policy", "Learning epochs", AT_LEAST_ONE, "passes over each rollout")
    mini_batches: int = table_setting("on_policy", "# of mini-batches", AT_LEAST_ONE, "minibatches per epoch")
    gae_lambda: float = table_setting("on_policy", "GAE Smoothing Param.", UNIT, "GAE lambda")
    desired_kl: float = table_setting("on_policy", "Desired KL", POSITIVE, "target of the KL-adaptive learning rate")
    ratio_clip: float = table_setting("on_policy", "Surrogate clip", POSITIVE, "PPO ratio clip")
    value_clip: float = table_setting("on_policy", "Value clip", NON_NEGATIVE, "0: no value clipping")
    entropy_coef: float = table_setting("on_policy", "Entropy coefficient", NON_NEGATIVE, "entropy bonus weight")
    value_loss_coef: float = table_setting("on_policy", "Value loss coefficient", NON_NEGATIVE, "value loss weight")
    value_normalization: bool = setting(True, f"{HARNESS} (Isaac Lab's skrl configs: RunningStandardScaler)")
    time_limit_bootstrap: bool = setting(
        True, f"{HARNESS} (truncation is not termination)", doc="bootstrap time-outs from V(final observation)")


@dataclasses.dataclass(frozen=True)
class OffPolicyConfig(CommonConfig):
    """The review's Table 12 (DDPG, TD3, SAC, DIPO, QVPO, DACER)."""

    critic_lr: float = table_setting("common", "Learning rate (Critic)", POSITIVE, "critic learning rate")
    batch_size: int = table_setting("off_policy", "Batch size", AT_LEAST_ONE, "transitions per gradient step")
    # skrl's memory_size: transitions kept *per environment* (4096 x num_envs in all)
    memory_size: int = table_setting("off_policy", "Replay buffer size", AT_LEAST_ONE,
                              "replay transitions kept per environment")
    polyak: float = table_setting("off_policy", "Soft update parameter", Range(0, 1, low_open=True),
                           "Polyak rate of the target networks")
    random_timesteps: int = table_setting("off_policy", "Random action steps", NON_NEGATIVE,
                                   "steps of uniform random actions before learning starts")
    gradient_steps: int = setting(1, f"{HARNESS} (skrl default)", AT_LEAST_ONE,
                                  "gradient steps per vectorized environment step")


def update_ratio(cfg: CommonConfig, num_envs: int) -> dict[str, float]:
    """How much learning a collected transition gets: gradient steps per vectorized step, the batch
    (minibatch) size, and gradient samples (batch rows) per collected transition. On-policy: each
    transition is in one minibatch per epoch, so samples per transition = epochs."""
    if isinstance(cfg, OnPolicyConfig):
        return {"gradient_steps_per_vector_step": cfg.learning_epochs * cfg.mini_batches / cfg.rollouts,
                "batch_size": cfg.rollouts * num_envs / cfg.mini_batches,
                "gradient_samples_per_transition": float(cfg.learning_epochs)}
    per = getattr(cfg, "gradient_steps_per", "vector_step")
    per_step = float(cfg.gradient_steps) * (num_envs if per == "transition" else 1)
    return {"gradient_steps_per_vector_step": per_step, "batch_size": cfg.batch_size,
            "gradient_samples_per_transition": per_step * cfg.batch_size / num_envs}


# --- resolution ------------------------------------------------------------------------------------
def declared(cls: type) -> dict[str, tuple[Any, Setting]]:
    """``{field: (type, Setting)}`` of a config class, in declaration order (bases first)."""
    return _declared(cls)


@functools.cache
def _declared(cls: type) -> dict[str, tuple[Any, Setting]]:
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f.metadata["setting"]) for f in dataclasses.fields(cls)}


def _type_name(kind: Any) -> str:
    return "list of positive integers" if typing.get_origin(kind) is list else kind.__name__


def coerce(key: str, kind: Any, value: Any) -> Any:
    """``value`` as the declared ``kind`` (an int where a float is declared, 32.0 for an int, ...)
    or a :class:`UserError` naming the setting, the value and the expected type."""
    ok: Any = None
    if kind is bool:
        ok = value if isinstance(value, bool) else None
    elif isinstance(value, bool):
        ok = None
    elif kind is float and isinstance(value, (int, float)):
        ok = float(value)
    elif kind is int and isinstance(value, int):
        ok = value
    elif kind is int and isinstance(value, float) and value.is_integer():
        ok = int(value)
    elif kind is str and isinstance(value, str):
        ok = value
    elif typing.get_origin(kind) is list and isinstance(value, list) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        ok = list(value)
    if ok is None:
        raise UserError(f"invalid value {value!r} for setting {key!r}; valid: a {_type_name(kind)}"
                        + (" (true or false)" if kind is bool else ""))
    return ok


def check(key: str, kind: Any, spec: Setting, value: Any) -> Any:
    """Coerce and range-check one value of a declared setting."""
    value = coerce(key, kind, value)
    if not spec.valid.contains(value):
        raise UserError(f"invalid value {value!r} for setting {key!r}; valid: {spec.valid.describe()}")
    return value


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A complete, typed config and where each of its values came from."""

    config: Any  # an instance of the algorithm's config dataclass
    sources: dict[str, str]

    @property
    def values(self) -> dict[str, Any]:
        """``{setting: value}`` in declaration order (lists copied: the config stays as resolved)."""
        return {f.name: _copy(getattr(self.config, f.name)) for f in dataclasses.fields(self.config)}

    def __getitem__(self, key: str) -> Any:
        return getattr(self.config, key)

    def to_json(self) -> dict[str, Any]:
        return {"values": self.values, "sources": dict(self.sources)}

    def with_overrides(self, overrides: dict[str, Any]) -> Resolved:
        """A copy with ``overrides`` applied, each checked against its declaration."""
        fields = declared(type(self.config))
        values, sources = self.values, dict(self.sources)
        for key, value in overrides.items():
            if key not in fields:
                raise invalid("agent setting", key, list(fields))
            if key == "profile" and value != values["profile"]:
                raise ValueError("a profile changes many values: resolve() it, do not override it")
            kind, spec = fields[key]
            values[key] = check(key, kind, spec, value)
            sources[key] = "override"
        return Resolved(type(self.config)(**values), sources)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def defaults(cls: type, task: Task, profile: str = "review") -> Resolved:
    """The config ``cls`` for ``task`` with every value at its default in ``profile`` (the review's
    tables for the task where a field says so; the original's values under ``original``)."""
    return _defaults(cls, task.name, profile)


@functools.cache
def _defaults(cls: type, task_name: str, profile: str) -> Resolved:
    from tasks.registry import get_task  # noqa: PLC0415

    task = get_task(task_name)
    tables = task.hyperparameters()
    fields = declared(cls)
    values, sources = {}, {}
    for key, (kind, spec) in fields.items():
        if isinstance(spec.default, Review):
            value, table = tables[spec.default.section][spec.default.name]
            source = f"review {table} ({task.paper_hparams_name})"
        else:
            value, source = spec.default, spec.source
        values[key] = check(key, kind, spec, value)
        sources[key] = source
    if profile != "review":
        if "profile" not in fields:
            raise invalid("agent setting", "profile", list(fields))
        check("profile", *fields["profile"], profile)
        for key, original in original_values(cls).items():
            values[key] = check(key, *fields[key], original.value)
            sources[key] = f"original: {original.where}"
        values["profile"], sources["profile"] = profile, "override"
    return Resolved(cls(**values), sources)


def resolve(cls: type, task: Task, overrides: dict[str, Any] | None = None) -> Resolved:
    """Defaults for ``task`` in the profile the overrides name (``review`` when none), then the
    other overrides (checked: unknown key, type, range)."""
    overrides = dict(overrides or {})
    profile = overrides.pop("profile", "review")
    return defaults(cls, task, profile).with_overrides(overrides)


def from_record(cls: type, task: Task, record: dict[str, Any]) -> Resolved:
    """The config a run directory recorded (``run.json``'s ``agent_config``) as typed data: the
    recorded value and source of every declared setting, each checked again; a setting declared
    after the run was made takes its ``legacy`` value (what such runs used), or its default, and
    says so; a recorded key that is no longer declared (a setting removed because it changed
    nothing) is ignored."""
    fields = declared(cls)
    values = {k: v for k, v in (record.get("values") or {}).items() if k in fields}
    base = defaults(cls, task, values.get("profile", "review"))
    recorded = record.get("sources") or {}
    missing = {k: spec.legacy for k, (_, spec) in fields.items() if k not in values and spec.legacy is not None}
    resolved = base.with_overrides({**values, **missing})
    sources = {k: recorded.get(k, "recorded") if k in values
               else "legacy value (the setting did not exist when the run was made)" if k in missing
               else f"{base.sources[k]} (not in the record)" for k in fields}
    return Resolved(resolved.config, sources)


def parse_override(text: str) -> tuple[str, Any]:
    """``"actor_lr=1e-3"`` -> ``("actor_lr", 0.001)`` (values parsed as YAML scalars or lists)."""
    if "=" not in text:
        raise UserError(f"invalid override {text!r}; valid: key=value, e.g. actor_lr=0.001")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise UserError(f"invalid override value for {key!r}: {raw!r} ({err})") from None
    if isinstance(value, str):  # YAML reads "1e-3" as a string; accept plain numbers written so
        try:
            value = float(value)
        except ValueError:
            pass
    return key.strip(), value
