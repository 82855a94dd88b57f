"""The speed report: action selection and update time of every diffusion agent and PPO, eager and
compiled, against the number of diffusion steps K, and the control rate that leaves.

    python -m benchmark.perf_agents [--device cpu|cuda] [--algos ...] [--steps 5 10 20 50]
                                    [--update-steps 5 20] [--envs 1024 4096] [--repeats 3] [--out results/perf]

On synthetic batches at the review's Ant sizes (60-dim states, 8-dim actions, [256, 128, 64]
networks, the review profile; off-policy batch 4096 from a filled replay memory; PPO's and GenPO's
minibatch of 16 rollouts x 1024 envs / 2 = 8192), for each agent and each execution mode
(:mod:`agents.execution`: eager, compiled) it times

- one action selection for each of ``--envs`` environments at each K of ``--steps``; the control
  rate is 1000 / that time in ms: how often a controller running this policy on that many robots at
  once can act (the review's "> 50 Hz" remark);
- one gradient step at each K of ``--update-steps`` (PPO and GenPO: one minibatch step, a whole
  update divided by its minibatch steps);
- eager only: the share of the update spent inside the networks' forward and backward passes
  (module hooks; the rest is sampling bookkeeping, optimizer steps, memory indexing, Python).

Each time is the median of ``--repeats`` calls after a warm-up call (which, compiled, compiles).
Writes ``<out>/perf_agents.csv`` and ``<out>/control_rate.png`` (control rate against K per
algorithm, eager dashed, compiled solid, the 50 Hz line) and prints the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import gymnasium
import numpy as np
import torch

from agents import catalogue, execution
from agents.interface import init_for_loop
from benchmark.store import DEFAULT_ROOT, write_figure, write_text
from tasks.registry import get_task

NUM_ENVS = 1024
ROLLOUTS = 16  # the review's Table 11 on Ant
COLUMNS = ["algo", "mode", "K", "envs", "act_ms", "control_hz", "update_ms", "inside_networks", "act_speedup",
           "update_speedup", "device"]


def timed_algorithms() -> list[str]:
    """The catalogue's diffusion agents, and PPO as the reference."""
    return ["ppo", *(a.name for a in catalogue.algorithms().values() if a.diffusion)]


class NetworkClock:
    """Wall time spent in the forward and backward passes of the given modules (outermost calls)."""

    def __init__(self, modules, device):
        self.total = 0.0
        self.depth = 0
        self.device = device
        self.handles = []
        for m in modules:
            self.handles += [m.register_forward_pre_hook(self._enter), m.register_forward_hook(self._leave),
                             m.register_full_backward_pre_hook(self._enter), m.register_full_backward_hook(self._leave)]

    def _enter(self, *args):
        if self.depth == 0:
            _sync(self.device)
            self.start = time.perf_counter()
        self.depth += 1

    def _leave(self, *args):
        self.depth -= 1
        if self.depth == 0:
            _sync(self.device)
            self.total += time.perf_counter() - self.start

    def remove(self):
        for h in self.handles:
            h.remove()


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _median_ms(fn, device: str, repeats: int) -> float:
    fn()  # warm-up (and, compiled, compilation)
    return 1e3 * statistics.median(_timed(fn, device) for _ in range(repeats))


def build(algo: str, k: int | None, device: str, compiled: bool, overrides: dict | None = None):
    task = get_task("ant")
    cfg = catalogue.resolve_config(algo, task, {**({"diffusion_steps": k} if k is not None else {}), **(overrides or {})})
    obs = gymnasium.spaces.Box(-np.inf, np.inf, (task.obs_dim,))
    act = gymnasium.spaces.Box(-np.inf, np.inf, (task.act_dim,))
    agent = catalogue.build_agent(algo, cfg, observation_space=obs, action_space=act, num_envs=NUM_ENVS,
                                  device=device)
    init_for_loop(agent)
    execution.accelerate(agent, compiled)
    agent.enable_training_mode(True)
    return agent, task


def _record(agent, task, device, steps: int) -> None:
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


def _networks(agent) -> list[torch.nn.Module]:
    """The modules whose forward passes are called (:meth:`agents.interface.HarnessAgent.networks`)."""
    return list(agent.networks().values())


def measure_act(algo, k, device, compiled, envs, repeats) -> float:
    agent, task = build(algo, k, device, compiled)
    obs = torch.randn(envs, task.obs_dim, device=device)

    def act():
        with torch.no_grad():
            agent.act(obs, None, timestep=10**6, timesteps=10**7)
    return _median_ms(act, device, repeats)


def measure_update(algo, k, device, compiled, repeats) -> tuple[float, float | None]:
    """(ms per gradient step, share inside the networks or None when compiled)."""
    on_policy = catalogue.get(algo).on_policy
    # on-policy: the review's Ant minibatch, 16 rollouts x 1024 envs / 2; one epoch per timed update
    agent, task = build(algo, k, device, compiled, {"rollouts": ROLLOUTS, "mini_batches": 2, "learning_epochs": 1}
                        if on_policy else None)
    if on_policy:
        per_update = 2
    else:
        _record(agent, task, device, 8)
        per_update = 1
    clock = None if compiled else NetworkClock(_networks(agent), device)
    times, inside = [], []
    for _ in range(repeats + 1):
        if on_policy:
            agent.memory.reset()
            _record(agent, task, device, ROLLOUTS)
        if clock:
            clock.total = 0.0
        times.append(_timed(lambda: agent.update(timestep=10**6, timesteps=10**7), device) / per_update)
        inside.append(clock.total / per_update if clock else 0.0)
    update = statistics.median(times[1:])
    return 1e3 * update, (statistics.median(inside[1:]) / update if clock else None)


def report(rows: list[dict], out: Path) -> tuple[Path, Path]:
    import pandas as pd  # noqa: PLC0415

    frame = pd.DataFrame(rows)
    for what in ("act", "update"):
        eager = frame[frame["mode"] == "eager"].set_index(["algo", "K", "envs"])[f"{what}_ms"]
        key = frame.set_index(["algo", "K", "envs"]).index
        frame[f"{what}_speedup"] = [float(eager.get(i, np.nan)) / v if m == "compiled" and v else np.nan
                                    for i, v, m in zip(key, frame[f"{what}_ms"], frame["mode"])]
    frame = frame.reindex(columns=COLUMNS)
    csv = write_text(out / "perf_agents.csv", frame.to_csv(index=False))
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    envs = sorted(frame["envs"].dropna().unique())
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4.5), squeeze=False)
    colors = catalogue.colors()
    for ax, n in zip(axes[0], envs):
        for (algo, mode), group in frame[(frame["envs"] == n) & frame["K"].notna()].groupby(["algo", "mode"]):
            ax.plot(group["K"], group["control_hz"], marker="o", color=colors.get(catalogue.label(algo)),
                    linestyle="-" if mode == "compiled" else "--", label=f"{catalogue.label(algo)} ({mode})")
        ax.axhline(50, color="gray", linewidth=1)
        ax.text(ax.get_xlim()[0], 52, "50 Hz", color="gray", fontsize=8)
        ax.set_yscale("log")
        ax.set_xlabel("diffusion steps K")
        ax.set_ylabel("control rate (Hz): 1000 / act time (ms)")
        ax.set_title(f"action selection for {int(n)} environments at once ({frame['device'].iloc[0]})", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return csv, write_figure(fig, out / "control_rate.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf_agents", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--algos", nargs="+", default=timed_algorithms(), choices=timed_algorithms())
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20, 50], help="K for action selection")
    parser.add_argument("--update-steps", type=int, nargs="+", default=None,
                        help="K for updates (default: --steps on CUDA; 5 20 on the CPU, where QVPO's "
                             "update at K = 50 takes minutes)")
    parser.add_argument("--envs", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per figure (default: 3, CPU: 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT / "perf")
    args = parser.parse_args(argv)
    cuda = args.device.startswith("cuda")
    update_steps = args.update_steps or (args.steps if cuda else [k for k in (5, 20) if k in args.steps])
    repeats = args.repeats or (3 if cuda else 1)
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; Ant sizes, review profile; act = one action selection; update = one gradient step")
    print(f"{'algo':6} {'mode':9} {'K':>3} {'envs':>5} {'act (ms)':>9} {'Hz':>7} {'update (ms)':>12} {'in nets':>8}")
    rows = []
    for algo in args.algos:
        diffusion = catalogue.get(algo).diffusion
        for mode in args.modes:
            compiled = mode == "compiled"
            for k in (args.steps if diffusion else [None]):
                update, inside = (measure_update(algo, k, args.device, compiled, repeats)
                                  if k is None or k in update_steps else (np.nan, None))
                for envs in args.envs:
                    act = measure_act(algo, k, args.device, compiled, envs, repeats)
                    rows.append({"algo": algo, "mode": mode, "K": k, "envs": envs, "act_ms": act,
                                 "control_hz": 1e3 / act, "update_ms": update, "inside_networks": inside,
                                 "device": name})
                    share = f"{inside:8.0%}" if inside is not None else f"{'-':>8}"
                    print(f"{algo:6} {mode:9} {k if k else '-':>3} {envs:>5} {act:9.1f} {1e3 / act:7.1f} "
                          f"{update:12.1f} {share}", flush=True)
    csv, png = report(rows, args.out)
    print(f"{csv}\n{png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
