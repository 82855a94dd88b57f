"""Guardrails for fine-tuning online: an execution-time action filter, a fixed validation set
evaluated periodically, and automatic rollback to the last good policy (the practical blueprint's
deployment checklist).

A run asks for them with ``--guard KEY=VALUE`` (a manifest: ``guard: {...}``); they enter its id.

- ``filter=true``: before each step, an action that would push the system further past a limit is
  replaced by 0 (no push) for that environment. The limits are per task, as data (:data:`LIMITS`,
  on the policy's observation: Cartpole's cart position +-2.4 m, 80 % of the 3 m at which the
  episode ends, and cart speed +-3 m/s). Logged per interval: ``filter_interventions``, the share of
  environment steps whose action was changed; ``violations``, the episodes that ended by a
  termination (for Cartpole: the cart left the track), whether or not the filter is on. The filter
  acts while training only: validations and the run's evaluations measure the policy alone.
- ``validate_every=N``: every N log intervals (and once before training), the policy's evaluation
  action runs one episode in every environment from the same start states each time (the reset
  draws are made under a fixed seed, ``validation_seed``, in a forked generator, so training's own
  draws are untouched); logged: ``validation_return``, ``validation_success`` (the share of episodes
  that ran to the time limit). Training then restarts from a reset of every environment (the
  episodes validation cut short are not counted). Validation runs right after an update (N log
  intervals are whole rollouts for the on-policy agents), so no stored rollout spans it.
- ``rollback_drop=d`` (with validation): a validation is *good* when its ``rollback_metric``
  (``success``, the default, or ``return``: the validation's mean return, for tasks where success is
  rare) is at least the best seen so far minus d; the policy of the last good validation is kept (``guard_good.pt`` in the
  run directory), and a validation below the bar restores it (agent modules, optimizer and
  normalizers; a lazily built module not yet initialised then, e.g. skrl's PPO value network before
  its first update, keeps its weights), logged as ``rollback`` = 1 and listed in ``guard.json`` with the step and the two
  values.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import torch

from agents.settings import coerce
from benchmark.store import atomic_write_json, atomic_write_with
from tasks.errors import UserError


@dataclasses.dataclass(frozen=True)
class Limit:
    obs_index: int  # the policy observation's element the limit is on
    bound: float  # |obs| above it: no action pushing it further
    action_index: int  # the action element that pushes it (positive: toward +obs)
    what: str


LIMITS: dict[str, tuple[Limit, ...]] = {
    "cartpole": (Limit(0, 2.4, 0, "cart position [m]; the episode ends at 3"),
                 Limit(2, 3.0, 0, "cart speed [m/s]")),
}


@dataclasses.dataclass(frozen=True)
class GuardConfig:
    filter: bool = False
    validate_every: int = 0  # log intervals between validations; 0: none
    validation_seed: int = 12345
    rollback_drop: float = -1.0  # < 0: no rollback
    rollback_metric: str = "success"  # or "return"

    @classmethod
    def parse(cls, task: str, items: dict[str, Any]) -> GuardConfig:
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        for key in items:
            if key not in fields:
                raise UserError(f"invalid guard setting {key!r}; valid: {', '.join(fields)}")
        kinds = {"bool": bool, "int": int, "float": float, "str": str}
        cfg = cls(**{k: coerce(f"guard {k}", kinds[fields[k]], v) for k, v in items.items()})
        if cfg.filter and task not in LIMITS:
            raise UserError(f"invalid guard setting filter=true for task {task!r}: no limits for it; valid: "
                            f"tasks {', '.join(LIMITS)}")
        if cfg.validate_every < 0:
            raise UserError(f"invalid guard setting validate_every={cfg.validate_every}; valid: 0 (none) or more")
        if cfg.rollback_metric not in ("success", "return"):
            raise UserError(f"invalid guard setting rollback_metric={cfg.rollback_metric!r}; valid: success, return")
        if cfg.rollback_drop >= 0 and not cfg.validate_every:
            raise UserError("invalid guard setting rollback_drop without validation; valid: with validate_every > 0")
        return cfg


def filter_actions(limits: tuple[Limit, ...], obs: torch.Tensor, actions: torch.Tensor):
    """(actions with each push past a limit set to 0, [N] whether an environment's action changed)."""
    out, changed = actions.clone(), torch.zeros(actions.shape[0], dtype=torch.bool, device=actions.device)
    for lim in limits:
        value, push = obs[:, lim.obs_index], out[:, lim.action_index]
        outward = ((value > lim.bound) & (push > 0)) | ((value < -lim.bound) & (push < 0))
        out[:, lim.action_index] = torch.where(outward, torch.zeros_like(push), push)
        changed |= outward
    return out, changed


class Guard:
    """The guardrails of one run (module docstring); the loop calls :meth:`filter`, :meth:`observe`
    every step and :meth:`at_log` at each log step."""

    def __init__(self, cfg: GuardConfig, task: str, run, agent, env, unwrapped, max_episode_length: int, *,
                 start_timestep: int = 0):
        self.cfg, self.agent, self.env, self.unwrapped = cfg, agent, env, unwrapped
        self.max_episode_length = max_episode_length
        self.limits = LIMITS.get(task, ()) if cfg.filter else ()
        device = agent.device
        self.changed = torch.zeros((), device=device)
        self.steps = torch.zeros((), device=device)
        self.violations = torch.zeros((), device=device)
        self.state_path, self.good_path = run.guard_path, run.guard_good_path
        self.state = run.read_guard() or {"best": None, "good_timestep": None, "rollbacks": [], "validations": []}
        if self.state["validations"]:  # resumed: what the replayed steps will redo is dropped
            for key in ("rollbacks", "validations"):
                self.state[key] = [e for e in self.state[key] if e["timestep"] <= start_timestep]

    def begin(self, obs: torch.Tensor, start_timestep: int) -> torch.Tensor:
        """Before the first step of a fresh run: the first validation (the baseline rollback keeps
        to; in ``guard.json``), then training starts from a reset."""
        if start_timestep or not self.cfg.validate_every:
            return obs
        self.validate(0)
        return self.unwrapped.reset()[0]["policy"]

    def filter(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        if not self.limits:
            return actions
        out, changed = filter_actions(self.limits, obs, actions)
        self.changed += changed.float().sum()
        return out

    def observe(self, terminated: torch.Tensor) -> None:
        self.violations += terminated.float().sum()
        self.steps += terminated.numel()

    def at_log(self, step: int, log_index: int) -> tuple[dict[str, Any], torch.Tensor | None]:
        """The row's guard columns, and the observation to go on from when validation reset the envs."""
        row = {"violations": float(self.violations)}
        if self.limits:
            row["filter_interventions"] = float(self.changed / self.steps.clamp(min=1))
        self.changed.zero_(), self.steps.zero_(), self.violations.zero_()
        if not self.cfg.validate_every or log_index % self.cfg.validate_every:
            return row, None
        row.update(self.validate(step))
        obs, _ = self.unwrapped.reset()
        return row, obs["policy"]

    def validate(self, step: int) -> dict[str, Any]:
        """Evaluate on the fixed start states; keep the policy if good, roll back if not."""
        from benchmark.policy_eval import evaluate  # noqa: PLC0415

        with torch.random.fork_rng(devices=[self.agent.device] if str(self.agent.device).startswith("cuda") else []):
            torch.manual_seed(self.cfg.validation_seed)
            result = evaluate(self.agent, self.env, self.unwrapped, episodes=self.unwrapped.num_envs,
                              max_episode_length=self.max_episode_length)
        self.agent.enable_training_mode(True)
        success = result["success_rate"]
        row = {"validation_return": result["return_mean"], "validation_success": success, "rollback": 0}
        self.state["validations"].append({"timestep": step, "return": result["return_mean"], "success": success})
        if self.cfg.rollback_drop >= 0:
            value = success if self.cfg.rollback_metric == "success" else result["return_mean"]
            best = self.state["best"]
            if best is None or value >= best - self.cfg.rollback_drop:
                self.state["best"] = value if best is None else max(best, value)
                self.state["good_timestep"] = step
                snapshot = _snapshot(self.agent)
                atomic_write_with(self.good_path, lambda f: torch.save(snapshot, f))
            else:
                kept = _restore(self.agent, torch.load(self.good_path, map_location=self.agent.device,
                                                       weights_only=False))
                self.state["rollbacks"].append({"timestep": step, self.cfg.rollback_metric: value, "best": best,
                                                "restored_from_timestep": self.state["good_timestep"],
                                                **({"not_restored": kept} if kept else {})})
                row["rollback"] = 1
        self.agent.restart_episodes()
        atomic_write_json(self.state_path, self.state)
        return row


def _snapshot(agent) -> dict:
    from agents.interface import module_states  # noqa: PLC0415

    return copy.deepcopy(module_states(agent))


def _restore(agent, snapshot: dict) -> list[str]:
    """Load the snapshot's module states into ``agent``, except those of modules that had not been
    initialised when it was taken (skrl's lazy layers, e.g. a value network no validation calls,
    before the first update): those keep their current weights. Returns their names."""
    from agents.interface import load_module_states  # noqa: PLC0415

    def lazy(state) -> bool:
        values = state.values() if isinstance(state, dict) else [state]
        return any(isinstance(v, torch.nn.parameter.UninitializedTensorMixin) for v in values)

    kept = sorted(name for name, state in snapshot.items() if lazy(state))
    load_module_states(agent, {name: state for name, state in snapshot.items() if name not in kept})
    return kept
