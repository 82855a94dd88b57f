"""What a checkpoint holds, and how an interrupted run resumes from it as the same experiment.

A checkpoint, ``checkpoints/ckpt_<t>.pt`` after vectorized step t, holds the agent's modules
(networks, optimizers, normalizers), its running state beyond them
(:func:`agents.interface.resume_state`: skrl's counters, the learning-rate scheduler, the action
spaces' generators, the agent's own ``resume_state()``), the random generators (python, numpy,
torch's CPU generator and, on CUDA, every device's) and the training wall time so far. An
off-policy agent's replay memory goes beside the newest checkpoint (``memory_<t>.pt``, written
before the checkpoint that names it; the older one is deleted, and all are deleted when the run
ends). An on-policy agent needs none: its checkpoints fall on update boundaries, where the rollout
memory has been consumed.

Resuming takes the newest checkpoint that is whole: it loads, its step is covered by the rows of
the metrics file, and (when training goes on) its replay memory loads. A damaged file is set aside
(``<name>.damaged``) and the next older checkpoint tried; with none left the run restarts from step 0
(the same experiment: the seed is set again before the agent is built). Each fallback is a note the
training process keeps in the run's attempt. The generators are restored after the environments
are reset (:func:`benchmark.loop.train`), so the agent's random draws continue where they stopped;
the simulator's own state is not saved: every environment starts a fresh episode on resume, as in
Isaac Lab's own trainers.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import torch

from agents.interface import (load_memory_state, load_module_states, load_resume_state, memory_state,
                              memory_transitions, module_states, resume_state)
from benchmark.store import MetricsWriter, RunDir, set_aside

FORMAT = 2  # 1: modules + rng (no memory, no running state); 2: this module


@dataclasses.dataclass
class Resume:
    """Where a run continues: the step, the wall time so far, the generators to restore once the
    environments are reset, and what had to be skipped to get there."""

    timestep: int = 0
    wall_time_s: float = 0.0
    rng: dict[str, Any] | None = None
    memory_transitions: int | None = None  # restored replay transitions (None: no memory restored)
    notes: list[str] = dataclasses.field(default_factory=list)


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())  # a checkpoint loaded onto a GPU has them there
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save(agent, run: RunDir, timestep: int, wall_time: float, *, with_memory: bool) -> None:
    """Checkpoint ``agent`` after ``timestep`` (with its replay memory when ``with_memory``)."""
    memory = memory_state(agent) if with_memory else None
    state = {"format": FORMAT, "timestep": timestep, "wall_time_s": wall_time, "modules": module_states(agent),
             "agent_state": resume_state(agent), "rng": rng_state(), "memory": memory is not None}
    run.save_checkpoint(state, timestep, memory=memory)


def restore(agent, run: RunDir, *, timesteps: int, needs_memory: bool) -> Resume:
    """Load the newest whole checkpoint into ``agent`` (see the module docstring); ``timesteps`` is
    the run's budget (a checkpoint at the budget needs no memory: nothing is trained after it)."""
    out = Resume()
    rows, problem = run.check_metrics()
    covered = int(rows[-1]["timestep"]) if rows else 0
    if problem:
        kept = set_aside(run.metrics_path, copy=True)
        MetricsWriter(run, keep_until_timestep=covered)  # rewrites the file with its good rows
        out.notes.append(f"{run.metrics_path.name} is damaged ({problem}; kept as {kept.name}): its rows up to "
                         f"step {covered} are kept")
    for path in reversed(run.checkpoints()):
        step = run.checkpoint_timestep(path)
        if step > covered:
            out.notes.append(f"{path.name} skipped: {run.metrics_path.name} has rows only up to step {covered}")
            continue
        state = _load(path, agent.device, out.notes,
                      lambda s, step=step: s.get("timestep") == step and "modules" in s)
        if state is None:
            continue
        memory = None
        if needs_memory and step < timesteps:
            if not state.get("memory"):
                out.notes.append(f"{path.name} skipped: it was saved without the replay memory")
                continue
            if not run.memory_path(step).exists():
                out.notes.append(f"{path.name} skipped: no replay memory beside it (the newest checkpoint alone "
                                 "keeps one)")
                continue
            memory = _load(run.memory_path(step), agent.device, out.notes, lambda s: "tensors" in s)
            if memory is None:
                out.notes.append(f"{path.name} skipped: its replay memory is damaged")
                continue
        load_module_states(agent, state["modules"])
        load_resume_state(agent, state.get("agent_state") or {})
        if memory is not None:
            load_memory_state(agent, memory)
            out.memory_transitions = memory_transitions(memory)
        out.timestep, out.wall_time_s, out.rng = step, float(state["wall_time_s"]), state["rng"]
        return out
    if out.notes:
        out.notes.append("no usable checkpoint: the run restarts from step 0")
    return out


def _load(path, device, notes: list[str], valid) -> dict | None:
    """A checkpoint file's contents, or None (noted; a damaged file is set aside)."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        if not isinstance(state, dict) or not valid(state):
            raise ValueError("not a checkpoint of this run")
    except FileNotFoundError:
        notes.append(f"{path.name} is missing")
        return None
    except Exception as err:  # noqa: BLE001 (torn files fail in many ways: zip, pickle, EOF, ...)
        kept = set_aside(path)
        notes.append(f"{path.name} is damaged ({type(err).__name__}: {err}; kept as {kept.name})")
        return None
    return state
