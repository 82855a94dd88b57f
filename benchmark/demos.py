"""Demonstrations: a trained run's policy recorded into an offline-RL dataset (robomimic's HDF5 layout).

    python -m benchmark.demos --run-dir results/runs/<expert run> --episodes 256 --out results/demos/cartpole.hdf5

The expert is a finished run of the harness (e.g. PPO on Cartpole); its newest checkpoint acts with
its evaluation policy (:func:`agents.interface.evaluation_action`) on the run's task, or on the task
with ``--shift`` perturbations. Each environment records its first ``ceil(episodes / num_envs)``
whole episodes (as the final evaluation counts them), so short failing episodes cannot crowd out
long ones.

The file is robomimic's layout, which robomimic, LeRobot's converters and plain h5py read::

    data                      attrs: total (transitions), env_args (JSON), provenance (JSON)
    data/demo_<i>             attrs: num_samples, terminated
    data/demo_<i>/obs/policy        [T, obs_dim] float32, the observation each action was taken on
    data/demo_<i>/next_obs/policy   [T, obs_dim]
    data/demo_<i>/actions           [T, act_dim] the action sent to the environment
    data/demo_<i>/rewards           [T]
    data/demo_<i>/dones             [T] 1 at the episode's last step

``provenance`` names the run, its checkpoint and timestep, the seed, the task, its Isaac Lab id and
shifts, the episode count and the success rate (success: the episode ran to its time limit without
a termination, Isaac Lab's Cartpole ``Metrics/success_rate``). The file is written whole or not at
all (a temporary file renamed into place).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import io
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark.store import atomic_write_bytes
from tasks.errors import UserError, cli_main


@dataclasses.dataclass
class Episode:
    obs: np.ndarray  # [T, obs_dim]
    next_obs: np.ndarray  # [T, obs_dim]
    actions: np.ndarray  # [T, act_dim]
    rewards: np.ndarray  # [T]
    terminated: bool  # ended by a termination, not the time limit

    def __len__(self) -> int:
        return len(self.rewards)


@torch.no_grad()
def record_episodes(act, env, *, num_envs: int, episodes: int, max_episode_length: int) -> list[Episode]:
    """Each environment's first ``ceil(episodes / num_envs)`` whole episodes under ``act`` (obs ->
    action); ``env`` is skrl-wrapped and gives the true final observation of an ended episode in
    ``infos["final_obs"]`` (the harness's envs set ``compute_final_obs``)."""
    per_env = math.ceil(episodes / num_envs)
    obs, _ = env.reset()
    steps: list[list[tuple]] = [[] for _ in range(num_envs)]
    out: list[list[Episode]] = [[] for _ in range(num_envs)]
    for _ in range(per_env * (max_episode_length + 1) + 1):
        action = act(obs)
        next_obs, rewards, terminated, truncated, infos = env.step(action)
        ended = (terminated | truncated).view(-1)
        final = next_obs
        if bool(ended.any()) and "final_obs" in infos:
            final = torch.where(ended.view(-1, 1), _policy_obs(infos["final_obs"]), next_obs)
        rows = zip(obs.cpu().numpy(), final.cpu().numpy(), action.cpu().numpy(), rewards.view(-1).cpu().numpy())
        for i, row in enumerate(rows):
            if len(out[i]) < per_env:
                steps[i].append(row)
        for i in torch.nonzero(ended).view(-1).tolist():
            if len(out[i]) < per_env:
                o, n, a, r = (np.stack(x) for x in zip(*steps[i]))
                out[i].append(Episode(o.astype(np.float32), n.astype(np.float32), a.astype(np.float32),
                                      r.astype(np.float32), bool(terminated.view(-1)[i])))
            steps[i] = []
        obs = next_obs
        if all(len(e) >= per_env for e in out):
            break
    return [episode for per in out for episode in per]


def _policy_obs(final_obs: Any) -> torch.Tensor:
    return final_obs["policy"] if isinstance(final_obs, dict) else final_obs


def success_rate(episodes: list[Episode]) -> float:
    return float(np.mean([not e.terminated for e in episodes])) if episodes else math.nan


def write_hdf5(path: Path, episodes: list[Episode], *, env_args: dict, provenance: dict) -> None:
    """``episodes`` into ``path`` in the layout of the module docstring, whole or not at all."""
    import h5py  # noqa: PLC0415

    if not episodes:
        raise UserError(f"no episodes to write to {path}; valid: at least one whole episode")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(len(e) for e in episodes)
        data.attrs["env_args"] = json.dumps(env_args)
        data.attrs["provenance"] = json.dumps(provenance)
        for i, e in enumerate(episodes):
            demo = data.create_group(f"demo_{i}")
            demo.attrs["num_samples"] = len(e)
            demo.attrs["terminated"] = e.terminated
            demo.create_dataset("obs/policy", data=e.obs)
            demo.create_dataset("next_obs/policy", data=e.next_obs)
            demo.create_dataset("actions", data=e.actions)
            demo.create_dataset("rewards", data=e.rewards)
            dones = np.zeros(len(e), dtype=np.int64)
            dones[-1] = 1
            demo.create_dataset("dones", data=dones)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def read_hdf5(path: Path) -> tuple[list[Episode], dict, dict]:
    """The episodes, env_args and provenance of a file :func:`write_hdf5` wrote."""
    import h5py  # noqa: PLC0415

    if not Path(path).is_file():
        raise UserError(f"no demonstration file {str(path)!r}; valid: a file benchmark.demos wrote")
    with h5py.File(path, "r") as f:
        data = f["data"]
        names = sorted(data.keys(), key=lambda n: int(n.split("_")[1]))
        episodes = [Episode(data[n]["obs/policy"][()], data[n]["next_obs/policy"][()], data[n]["actions"][()],
                            data[n]["rewards"][()], bool(data[n].attrs["terminated"])) for n in names]
        return episodes, json.loads(data.attrs["env_args"]), json.loads(data.attrs["provenance"])


def record_run(run_dir: Path, out: Path, *, episodes: int, num_envs: int, device: str, shifts: tuple[str, ...],
               asset_mode: str) -> dict:
    """Record ``episodes`` of the run's newest checkpoint into ``out``; returns the provenance."""
    from agents.interface import evaluation_action, evaluation_policy, load_module_states  # noqa: PLC0415
    from benchmark.evaluate import agent_for_run  # noqa: PLC0415
    from benchmark.store import RunDir  # noqa: PLC0415
    from tasks.isaaclab_env import open_env  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415
    from tasks.shifts import check_shifts  # noqa: PLC0415

    run = RunDir(run_dir)
    record = run.read_record()
    if record is None or run.latest_checkpoint() is None:
        raise UserError(f"invalid expert run {str(run_dir)!r}: no run.json or no checkpoint; valid: a run "
                        "directory trained by benchmark.train")
    task = get_task(record.spec.task)
    shifts = check_shifts(task.name, shifts)
    ckpt = run.latest_checkpoint()
    with open_env(task, num_envs=num_envs, device=device, seed=record.seed, asset_mode=asset_mode,
                  shifts=shifts) as handle:
        agent = agent_for_run(record, handle.env, device)
        state = torch.load(ckpt, map_location=device, weights_only=False)
        load_module_states(agent, state["modules"])
        agent.enable_training_mode(False)
        recorded = record_episodes(lambda o: evaluation_action(agent, o), handle.env, num_envs=handle.num_envs,
                                   episodes=episodes, max_episode_length=handle.max_episode_length)
        env_args = {"env_name": task.isaaclab_id, "type": "isaaclab",
                    "env_kwargs": {"task": task.name, "shifts": list(shifts), "physics": task.physics,
                                   "max_episode_length": handle.max_episode_length,
                                   "step_dt": float(handle.unwrapped.step_dt)}}
    provenance = {"run_id": record.run_id, "run_dir": str(run_dir), "algo": record.algo,
                  "checkpoint": ckpt.name, "checkpoint_timestep": int(state["timestep"]), "seed": record.seed,
                  "task": task.name, "isaaclab_id": task.isaaclab_id, "shifts": list(shifts),
                  "policy": evaluation_policy(agent), "num_envs": num_envs, "episodes": len(recorded),
                  "transitions": sum(len(e) for e in recorded),
                  "return_mean": float(np.mean([e.rewards.sum() for e in recorded])),
                  "success_rate": success_rate(recorded),
                  "success": "the episode ran to its time limit without a termination"}
    write_hdf5(out, recorded, env_args=env_args, provenance=provenance)
    return provenance


def build_parser() -> argparse.ArgumentParser:
    from tasks.assets import MODES  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m benchmark.demos", description=__doc__.split("\n")[0])
    p.add_argument("--run-dir", type=Path, required=True, help="the expert: a run directory trained by benchmark.train")
    p.add_argument("--out", type=Path, required=True, help="the HDF5 file to write")
    p.add_argument("--episodes", type=int, default=256)
    p.add_argument("--num-envs", type=int, default=64)
    p.add_argument("--shift", action="append", default=[], metavar="NAME", help="record on a perturbed task")
    p.add_argument("--device", default="cpu")
    p.add_argument("--assets", default="auto", choices=MODES)
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    from benchmark.spec import positive, validate_device  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    positive("number of episodes", args.episodes)
    positive("number of environments", args.num_envs)
    prov = record_run(args.run_dir, args.out, episodes=args.episodes, num_envs=args.num_envs,
                      device=validate_device(args.device), shifts=tuple(args.shift), asset_mode=args.assets)
    print(f"{args.out}: {prov['episodes']} episodes, {prov['transitions']} transitions of {prov['run_id']} "
          f"(return {prov['return_mean']:.2f}, success {prov['success_rate']:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
