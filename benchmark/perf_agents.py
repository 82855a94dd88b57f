"""Update and action-selection time of the diffusion agents against the number of diffusion steps K.

    python -m benchmark.perf_agents [--device cpu|cuda] [--steps 5 10 20 50] [--repeats 3]

On synthetic batches at the review's sizes (Ant: 60-dim states, 8-dim actions, [256, 128, 64]
networks; off-policy batch 4096 from a filled replay memory; GenPO's PPO minibatch of
16 rollouts x 1024 envs / 2 = 8192, per Table 11 for Ant), it times one update (one gradient step) and
one action-selection call for 1024 environments. It also measures, by module hooks, how much of an
update is spent inside the denoiser (or flow) and critic forward and backward passes; the rest is
everything else (sampling bookkeeping, optimizer steps, memory indexing, Python).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import gymnasium
import numpy as np
import torch

from agents import catalogue
from agents.interface import init_for_loop
from tasks.registry import get_task

NUM_ENVS = 1024


def diffusion_algorithms() -> list[str]:
    """The catalogue's diffusion agents (the ones with a chain of K steps to time)."""
    return [a.name for a in catalogue.algorithms().values() if a.diffusion]


class NetworkClock:
    """Wall time spent in the forward and backward passes of the given modules (outermost calls)."""

    def __init__(self, modules, device):
        self.total = 0.0
        self.depth = 0
        self.device = device
        for m in modules:
            m.register_forward_pre_hook(self._enter)
            m.register_forward_hook(self._leave)
            m.register_full_backward_pre_hook(self._enter)
            m.register_full_backward_hook(self._leave)

    def _sync(self):
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def _enter(self, *args):
        if self.depth == 0:
            self._sync()
            self.start = time.perf_counter()
        self.depth += 1

    def _leave(self, *args):
        self.depth -= 1
        if self.depth == 0:
            self._sync()
            self.total += time.perf_counter() - self.start


def _agent(algo: str, k: int, device: str):
    task = get_task("ant")
    cfg = catalogue.resolve_config(algo, task, {"diffusion_steps": k})
    obs = gymnasium.spaces.Box(-np.inf, np.inf, (task.obs_dim,))
    act = gymnasium.spaces.Box(-np.inf, np.inf, (task.act_dim,))
    agent = catalogue.build_agent(algo, cfg, observation_space=obs, action_space=act, num_envs=NUM_ENVS,
                                  device=device)
    init_for_loop(agent)
    agent.enable_training_mode(True)
    return agent, task


def _fill(agent, task, device, steps: int):
    for t in range(steps):
        obs = torch.randn(NUM_ENVS, task.obs_dim, device=device)
        with torch.no_grad():
            actions, _ = agent.act(obs, None, timestep=10**6, timesteps=10**7)
            agent.record_transition(
                observations=obs, states=None, actions=actions, rewards=torch.randn(NUM_ENVS, 1, device=device),
                next_observations=torch.randn(NUM_ENVS, task.obs_dim, device=device), next_states=None,
                terminated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool, device=device),
                truncated=torch.zeros(NUM_ENVS, 1, dtype=torch.bool, device=device), infos={}, timestep=t,
                timesteps=10**7)


def _timed(fn, device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(algo: str, k: int, device: str, repeats: int) -> dict:
    agent, task = _agent(algo, k, device)
    on_policy = catalogue.get(algo).on_policy
    if on_policy:
        agent.cfg.mini_batches = 2  # Table 11 for Ant: 16 rollouts, 4 epochs, 2 mini-batches
        agent.cfg.learning_epochs = 1
        modules = [agent.flow.velocity, agent.value]
        steps_per_update = agent.cfg.mini_batches
    else:
        modules = [agent.actor, agent.critic] + ([agent.target_actor] if agent.target_actor is not None else [])
        modules.append(agent.target_critic)
        steps_per_update = 1
    clock = NetworkClock(modules, device)
    obs = torch.randn(NUM_ENVS, task.obs_dim, device=device)
    with torch.no_grad():
        acts = [_timed(lambda: agent.act(obs, None, timestep=10**6, timesteps=10**7), device) for _ in range(repeats + 1)]
    updates, inside = [], []
    for _ in range(repeats + 1):
        if on_policy:
            _fill(agent, task, device, agent.cfg.rollouts)
            clock.total = 0.0
            updates.append(_timed(lambda: agent.update(timestep=0, timesteps=10**7), device) / steps_per_update)
            inside.append(clock.total / steps_per_update)
            agent.memory.reset()
        else:
            if len(agent.memory) == 0:
                _fill(agent, task, device, 8)
            clock.total = 0.0
            updates.append(_timed(lambda: agent.update(timestep=10**6, timesteps=10**7), device))
            inside.append(clock.total)
    update = statistics.median(updates[1:])
    share_outside = 1 - statistics.median(inside[1:]) / update
    return {"algo": algo, "K": k, "act_ms": 1e3 * statistics.median(acts[1:]), "update_ms": 1e3 * update,
            "outside_networks": share_outside}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf_agents", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20, 50])
    parser.add_argument("--algos", nargs="+", default=diffusion_algorithms(), choices=diffusion_algorithms())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; Ant sizes; act = one action selection for {NUM_ENVS} envs; update = one gradient step")
    print(f"{'algo':6} {'K':>3} {'act (ms)':>10} {'update (ms)':>12} {'outside nets':>13}")
    for algo in args.algos:
        for k in args.steps:
            r = measure(algo, k, args.device, args.repeats)
            print(f"{algo:6} {k:>3} {r['act_ms']:>10.1f} {r['update_ms']:>12.1f} {r['outside_networks']:>12.0%}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
