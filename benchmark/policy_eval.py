"""Final evaluation: mean episode return of the evaluation policy over a fixed number of episodes.

The evaluation policy is deterministic for the classic agents (the mean action) and is what each
diffusion algorithm's original evaluates with (see ``agents.interface.evaluation_action``).

All environments are reset together, then each runs its first ``ceil(episodes / num_envs)``
episodes under the deterministic policy (mean action); an episode that starts after an environment
has its quota is not counted, so short (failing) episodes cannot crowd out long ones. The reported
mean is over exactly ``num_envs * ceil(episodes / num_envs)`` complete episodes.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from agents.interface import evaluation_action


@torch.no_grad()
def evaluate(agent, env, unwrapped, *, episodes: int, max_episode_length: int) -> dict[str, Any]:
    num_envs = unwrapped.num_envs
    per_env = math.ceil(episodes / num_envs)
    agent.enable_training_mode(False)
    obs_dict, _ = unwrapped.reset()
    obs = obs_dict["policy"]
    device = obs.device
    ret = torch.zeros(num_envs, device=device)
    length = torch.zeros(num_envs, device=device)
    done_count = torch.zeros(num_envs, dtype=torch.long, device=device)
    returns: list[torch.Tensor] = []
    lengths: list[torch.Tensor] = []
    max_steps = per_env * (max_episode_length + 1) + 1
    for _ in range(max_steps):
        actions = evaluation_action(agent, obs)
        obs, rewards, terminated, truncated, _ = env.step(actions)
        ret += rewards.view(-1)
        length += 1
        done = (terminated | truncated).view(-1)
        counted = done & (done_count < per_env)
        if counted.any():
            returns.append(ret[counted].clone())
            lengths.append(length[counted].clone())
        done_count += done.long()
        ret[done] = 0
        length[done] = 0
        if bool((done_count >= per_env).all()):
            break
    all_returns = torch.cat(returns) if returns else torch.zeros(0)
    all_lengths = torch.cat(lengths) if lengths else torch.zeros(0)
    return {
        "episodes": int(all_returns.numel()),
        "return_mean": float(all_returns.mean()) if all_returns.numel() else math.nan,
        "return_std": float(all_returns.std(unbiased=False)) if all_returns.numel() else math.nan,
        "length_mean": float(all_lengths.mean()) if all_lengths.numel() else math.nan,
        "policy": getattr(agent, "evaluation_policy", "deterministic (mean action)"),
        "returns": [round(float(r), 5) for r in all_returns],
    }
