"""The training loop: drives any agent of :mod:`agents.interface` on a vectorized Isaac Lab env.

Per vectorized step it does what skrl's ``SequentialTrainer`` does (act, step, record, learn), plus
what a benchmark needs and the trainer does not: the true final observation of episodes that ended
(``extras["final_obs"]``) is what the agent stores as next observation; episode returns are counted
on the device without per-step host syncs; every ``log_interval`` steps one row goes to the run's
metrics file and TensorBoard; checkpoints hold everything needed to resume (:mod:`benchmark.resume`);
NaN/inf in a loss or a parameter stops the run as *diverged* (a result, not a crash).

Given the same seed, settings, device and number of torch threads, a run repeats its metrics exactly
on the CPU, except the columns that time things (:func:`is_timing`).
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable
from typing import Any

import torch
from tqdm import tqdm

from benchmark import resume
from benchmark.store import MetricsWriter, RunDir
from tasks.episodes import EpisodeAccumulator


class Diverged(Exception):
    def __init__(self, timestep: int, reason: str):
        super().__init__(f"diverged at timestep {timestep}: {reason}")
        self.timestep = timestep
        self.reason = reason


@dataclasses.dataclass
class LoopSettings:
    timesteps: int  # vectorized steps in all (per environment)
    log_interval: int
    checkpoint_interval: int  # a multiple of log_interval
    progress: bool = True
    save_memory: bool = False  # checkpoints carry the replay memory (off-policy agents)


# skrl's own per-step episode tracking; the loop counts episodes itself (EpisodeAccumulator).
_OWN_TAGS = ("Reward / ", "Episode / ")


def column_name(tag: str) -> str:
    """skrl's ``"Loss / Policy loss"`` -> ``"loss_policy_loss"``."""
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")


def is_timing(column: str) -> bool:
    """Whether a metrics column measures time (it differs between two runs of the same experiment):
    the loop's wall time and skrl's ``Stats / ... time (ms)``."""
    return column == "wall_time_s" or column.endswith("_time_ms")


def _check_finite(agent, row: dict[str, Any], timestep: int) -> None:
    for key, value in row.items():
        if key.startswith("loss") and isinstance(value, float) and not math.isfinite(value):
            raise Diverged(timestep, f"{key} is {value}")
    for name, module in agent.checkpoint_modules.items():
        if isinstance(module, torch.nn.Module):
            for pname, p in module.named_parameters():
                # skrl's lazy layers have no values before their first forward pass (a policy that
                # has only taken random actions so far)
                if isinstance(p, torch.nn.parameter.UninitializedParameter):
                    continue
                if not torch.isfinite(p).all():
                    raise Diverged(timestep, f"parameter {name}.{pname} is not finite")


def train(agent, env, num_envs: int, settings: LoopSettings, run: RunDir, *,
          start_timestep: int = 0, wall_offset: float = 0.0, rng: dict[str, Any] | None = None,
          on_log: Callable[[dict[str, Any]], None] | None = None, guard=None) -> dict[str, Any]:
    """Train from ``start_timestep`` to ``settings.timesteps``; returns the last metrics row.
    ``rng``: the generators' states saved with the checkpoint resumed from, restored once the
    environments are reset (their reset draws from them too). ``guard``: the run's guardrails
    (:class:`benchmark.guardrails.Guard`): it filters each action, counts violations, and at log
    steps adds its columns and may validate (resetting every environment) and roll back."""
    from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415 (slow import)

    device = agent.device
    metrics = MetricsWriter(run, keep_until_timestep=start_timestep)
    writer = SummaryWriter(log_dir=str(run.tb_dir), purge_step=start_timestep * num_envs or None)
    stats = EpisodeAccumulator(num_envs, device=device)
    agent.enable_training_mode(True)
    obs, _ = env.reset()
    if rng is not None:
        resume.set_rng_state(rng)
    if guard is not None:
        obs = guard.begin(obs, start_timestep)
    nonfinite_action = torch.zeros((), dtype=torch.bool, device=device)  # checked at log time: no per-step sync
    last_row: dict[str, Any] = {}
    t0 = time.perf_counter()
    bar = tqdm(total=settings.timesteps, initial=start_timestep, disable=not settings.progress,
               unit="step", dynamic_ncols=True, mininterval=1.0)
    try:
        for t in range(start_timestep, settings.timesteps):
            agent.pre_interaction(timestep=t, timesteps=settings.timesteps)
            with torch.no_grad():
                actions, _ = agent.act(obs, None, timestep=t, timesteps=settings.timesteps)
                nonfinite_action |= ~torch.isfinite(actions).all()
                if guard is not None:
                    actions = guard.filter(obs, actions)
                next_obs, rewards, terminated, truncated, infos = env.step(actions)
                if guard is not None:
                    guard.observe(terminated)
                done = terminated | truncated
                final = infos.get("final_obs")
                stored_next = torch.where(done, final["policy"], next_obs) if final is not None else next_obs
                stats.step(rewards.view(-1), done.view(-1))
                # skrl agents modify rewards in place (PPO adds the time-out bootstrap): give them a copy
                agent.record_transition(
                    observations=obs, states=None, actions=actions, rewards=rewards.clone(),
                    next_observations=stored_next, next_states=None, terminated=terminated,
                    truncated=truncated, infos=infos, timestep=t, timesteps=settings.timesteps,
                )
            agent.post_interaction(timestep=t, timesteps=settings.timesteps)
            obs = next_obs
            step = t + 1
            bar.update(1)
            if step % settings.log_interval == 0 or step == settings.timesteps:
                extra, restarted = guard.at_log(step, step // settings.log_interval) if guard else ({}, None)
                if restarted is not None:
                    obs = restarted
                    stats.restart()
                last_row = _log(agent, stats, metrics, writer, step, num_envs,
                                wall_offset + time.perf_counter() - t0, extra)
                bar.set_postfix(ret=f"{last_row['return_mean']:.2f}", refresh=False)
                if on_log:
                    on_log(last_row)
                if bool(nonfinite_action):
                    raise Diverged(step, "the policy produced a non-finite action")
                _check_finite(agent, last_row, step)
                if step % settings.checkpoint_interval == 0 or step == settings.timesteps:
                    resume.save(agent, run, step, last_row["wall_time_s"], with_memory=settings.save_memory)
    finally:
        bar.close()
        writer.close()
    return last_row


def _log(agent, stats: EpisodeAccumulator, metrics: MetricsWriter, writer, step: int, num_envs: int,
         wall: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"timestep": step, "env_steps": step * num_envs, "wall_time_s": round(wall, 3)}
    ended = stats.summary()
    row.update(episodes=ended["episodes"], return_mean=ended["mean"], return_std=ended["std"],
               length_mean=ended["length_mean"])
    for tag, values in agent.tracking_data.items():
        if tag.startswith(_OWN_TAGS):
            continue
        if values:  # device tensors (our agents) or floats (skrl's): one read per tag and log row
            device = next((v.device for v in values if torch.is_tensor(v)), "cpu")
            row[column_name(tag)] = float(torch.stack([torch.as_tensor(v).to(device, torch.float64)
                                                       for v in values]).mean())
    row.update(extra or {})
    agent.tracking_data.clear()
    stats.reset_totals()
    metrics.append(row)
    for key, value in row.items():
        if key not in ("timestep", "env_steps") and isinstance(value, (int, float)) and math.isfinite(value):
            writer.add_scalar(key, value, global_step=step * num_envs)
    return row
