"""Shifts: named perturbations of a task, as data (issue: adapting on the fly).

A shift is one change to a task's registered Isaac Lab config, made with Isaac Lab's own means
(an event term of the event manager, the observation noise model of a direct env, a config value),
so that "clean" and "shifted" are the same task built with a different perturbation set. A run
names its shifts (``benchmark.train --shift``); they enter its id and ``run.json`` (``env.shifts``:
each name with the edits in words), and the same names select them in a manifest.

Cartpole's (``Isaac-Cartpole-Direct``; what blueprint and DiffRL list as world shifts):

- ``pole_heavy``: the pole's mass x3 (inertia rescaled), Isaac Lab's ``randomize_rigid_body_mass``
  at start-up with a fixed scale;
- ``motor_weak``: the cart's motor at 40 % of its force (the env's ``action_scale``, 100 N -> 40 N);
- ``angle_bias``: the pole-angle sensor reads 0.15 rad too high (a constant observation bias,
  Isaac Lab's ``ConstantNoiseCfg`` in the env's observation noise model);
- ``obs_noise``: Gaussian noise of std 0.05 on every observation (``GaussianNoiseCfg``);
- ``wide_start``: the pole starts within +-0.4 pi rad instead of +-0.25 pi (start positions).

Two shifts that edit the same part of the config (both noise models) cannot be combined: asking
for them together is refused, naming the pair.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Any

from tasks.errors import UserError, invalid


@dataclasses.dataclass(frozen=True)
class Shift:
    name: str
    task: str  # tasks.csv name of the task it perturbs
    description: str
    part: str  # the part of the config it edits: two shifts of one part do not combine
    edit: Callable[[Any], list[str]]  # applies the shift to an env config; returns the edits in words


def _pole_mass(scale: float) -> Callable[[Any], list[str]]:
    def edit(cfg: Any) -> list[str]:
        from isaaclab.envs.mdp.events import randomize_rigid_body_mass  # noqa: PLC0415
        from isaaclab.managers import EventTermCfg, SceneEntityCfg  # noqa: PLC0415
        from isaaclab.utils import configclass  # noqa: PLC0415

        @configclass
        class ShiftEvents:
            pole_mass = EventTermCfg(func=randomize_rigid_body_mass, mode="startup", params={
                "asset_cfg": SceneEntityCfg("cartpole", body_names="pole"),
                "mass_distribution_params": (scale, scale), "operation": "scale", "recompute_inertia": True})

        cfg.events = ShiftEvents()
        return [f"events.pole_mass: randomize_rigid_body_mass at startup, pole mass x{scale} (inertia rescaled)"]

    return edit


def _action_scale(factor: float) -> Callable[[Any], list[str]]:
    def edit(cfg: Any) -> list[str]:
        before = cfg.action_scale
        cfg.action_scale = before * factor
        return [f"action_scale: {before:g} -> {cfg.action_scale:g} N (motor at {factor:.0%})"]

    return edit


def _observation_noise(kind: str, value: float | list[float]) -> Callable[[Any], list[str]]:
    def edit(cfg: Any) -> list[str]:
        import torch  # noqa: PLC0415
        from isaaclab.utils.noise import ConstantNoiseCfg, GaussianNoiseCfg, NoiseModelCfg  # noqa: PLC0415

        tensor = torch.tensor(value, device=cfg.sim.device) if isinstance(value, list) else value
        noise = ConstantNoiseCfg(bias=tensor) if kind == "bias" else GaussianNoiseCfg(mean=0.0, std=tensor)
        cfg.observation_noise_model = NoiseModelCfg(noise_cfg=noise)
        return [f"observation_noise_model: {type(noise).__name__}({'bias' if kind == 'bias' else 'std'}={value})"]

    return edit


def _pole_start(half_range: float) -> Callable[[Any], list[str]]:
    def edit(cfg: Any) -> list[str]:
        before = cfg.initial_pole_angle_range
        cfg.initial_pole_angle_range = (-half_range, half_range)
        return [f"initial_pole_angle_range: ({before[0]:.3f}, {before[1]:.3f}) -> "
                f"({-half_range:.3f}, {half_range:.3f}) rad"]

    return edit


SHIFTS: dict[str, Shift] = {s.name: s for s in (
    Shift("pole_heavy", "cartpole", "the pole's mass x3", "events", _pole_mass(3.0)),
    Shift("motor_weak", "cartpole", "the cart's motor at 40 % of its force", "action_scale", _action_scale(0.4)),
    Shift("angle_bias", "cartpole", "the pole-angle sensor reads 0.15 rad high", "observation_noise",
          _observation_noise("bias", [0.0, 0.15, 0.0, 0.0])),
    Shift("obs_noise", "cartpole", "Gaussian noise (std 0.05) on every observation", "observation_noise",
          _observation_noise("std", 0.05)),
    Shift("wide_start", "cartpole", "the pole starts within +-0.4 pi rad (+-0.25 pi clean)", "pole_start",
          _pole_start(0.4 * math.pi)),
)}


def check_shifts(task: str, names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a sorted tuple, if each is a shift of ``task`` and no two edit one part; else a
    :class:`UserError` naming the bad value and the valid ones."""
    names = tuple(sorted(set(names)))
    valid = [s.name for s in SHIFTS.values() if s.task == task]
    for name in names:
        if name not in valid:
            raise invalid(f"shift for task {task!r}", name, valid or ["none: this task has no shifts"])
    parts: dict[str, str] = {}
    for name in names:
        other = parts.setdefault(SHIFTS[name].part, name)
        if other != name:
            raise UserError(f"invalid shifts {other!r} and {name!r} together: both edit the {SHIFTS[name].part}; "
                            "valid: at most one of them")
    return names


def apply_shifts(cfg: Any, names: Iterable[str]) -> list[dict[str, Any]]:
    """Apply the (checked) shifts to an env config; what ``run.json`` keeps of each."""
    return [{"name": name, "description": SHIFTS[name].description, "edits": SHIFTS[name].edit(cfg)}
            for name in names]
