"""Resolve one algorithm's hyperparameters for one task, remembering where every value came from.

Order of precedence (later wins):

1. harness defaults (``HARNESS_DEFAULTS``): settings the review does not state, taken from
   Isaac Lab's own skrl configs for its tasks or from the algorithm papers; each says so;
2. the review's per-task tables: Table 10 (all algorithms), Table 11 (PPO, GenPO),
   Table 12 (off-policy algorithms);
3. the algorithm's own module (``agents.<algo>.DEFAULTS``), e.g. TD3's policy delay;
4. user overrides (``--set key=value`` or a manifest's grid), checked against the known keys.

The result is a flat ``{key: value}`` dict plus ``{key: source}``, both written into ``run.json``,
so "what did this run use" never needs the code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from tasks.errors import UserError, invalid
from tasks.registry import Task

# review parameter name -> config key, per section of Tables 10-12
_COMMON = {
    "Learning rate (Actor)": "actor_lr",
    "Learning rate (Critic)": "critic_lr",
    "Hidden layers (Actor)": "actor_hidden",
    "Hidden layers (Critic)": "critic_hidden",
    "Discount factor": "discount",
    "GradNorm clip": "grad_norm_clip",
}
_ON_POLICY = {
    "Rollouts": "rollouts",
    "Learning epochs": "learning_epochs",
    "# of mini-batches": "mini_batches",
    "GAE Smoothing Param.": "gae_lambda",
    "Desired KL": "desired_kl",
    "Surrogate clip": "ratio_clip",
    "Value clip": "value_clip",
    "Entropy coefficient": "entropy_coef",
    "Value loss coefficient": "value_loss_coef",
}
_OFF_POLICY = {
    "Batch size": "batch_size",
    # skrl's memory_size: transitions kept *per environment* (4096 x num_envs in all).
    "Replay buffer size": "memory_size",
    "Soft update parameter": "polyak",
    "Random action steps": "random_timesteps",
}

HARNESS = "harness default"
HARNESS_DEFAULTS: dict[str, dict[str, tuple[Any, str]]] = {
    "common": {
        "activation": ("elu", f"{HARNESS} (Isaac Lab's skrl configs)"),
        "observation_normalization": (True, f"{HARNESS} (Isaac Lab's skrl configs: RunningStandardScaler)"),
    },
    "on_policy": {
        "initial_log_std": (0.0, f"{HARNESS} (Isaac Lab's skrl configs)"),
        "value_normalization": (True, f"{HARNESS} (Isaac Lab's skrl configs: RunningStandardScaler)"),
        # Isaac Lab time-outs are truncations: bootstrap from V(final observation).
        "time_limit_bootstrap": (True, f"{HARNESS} (truncation is not termination)"),
    },
    "off_policy": {
        "gradient_steps": (1, f"{HARNESS} (skrl default)"),
    },
}


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    values: dict[str, Any]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_json(self) -> dict[str, Any]:
        return {"values": dict(self.values), "sources": dict(self.sources)}


def parse_override(text: str) -> tuple[str, Any]:
    """``"actor_lr=1e-3"`` -> ``("actor_lr", 0.001)`` (values parsed as YAML scalars or lists)."""
    if "=" not in text:
        raise UserError(f"invalid override {text!r}; expected key=value, e.g. actor_lr=0.001")
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


def _check_type(key: str, old: Any, new: Any) -> Any:
    if isinstance(old, bool) or isinstance(new, bool):
        if not isinstance(new, bool) or not isinstance(old, bool):
            raise UserError(f"override {key}={new!r}: expected true or false")
        return new
    if isinstance(old, float) and isinstance(new, int):
        return float(new)
    if isinstance(old, int) and isinstance(new, float) and new.is_integer():
        return int(new)
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(v, int) and v > 0 for v in new):
        return new
    if type(old) is not type(new):
        raise UserError(f"override {key}={new!r}: expected {type(old).__name__}, like {old!r}")
    return new


def resolve(task: Task, family: str, algo_defaults: dict[str, tuple[Any, str]],
            overrides: dict[str, Any] | None = None) -> ResolvedConfig:
    """Merge harness defaults, the review's tables for ``task``, the algorithm's defaults and overrides."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(key: str, value: Any, source: str) -> None:
        values[key] = value
        sources[key] = source

    for section in ("common", family):
        for key, (value, source) in HARNESS_DEFAULTS[section].items():
            put(key, value, source)
    tables = task.hyperparameters()
    for section, names in (("common", _COMMON), (family, _ON_POLICY if family == "on_policy" else _OFF_POLICY)):
        for paper_name, key in names.items():
            value, table = tables[section][paper_name]
            put(key, value, f"review {table} ({task.paper_hparams_name})")
    for key, (value, source) in algo_defaults.items():
        put(key, value, source)
    for key, value in (overrides or {}).items():
        if key not in values:
            raise invalid("agent setting", key, sorted(values))
        put(key, _check_type(key, values[key], value), "override")
    return ResolvedConfig(values, sources)
