"""Final evaluation: mean episode return of the evaluation policy over a fixed number of episodes.

The evaluation policy is the classic agents' mean (or deterministic) action and what each diffusion
algorithm's original evaluates with (``agents.interface.evaluation_action``; the record says which).

All environments are reset together, then each runs its first ``ceil(episodes / num_envs)``
episodes under the evaluation policy; an episode that starts after an environment has its quota is
not counted, so short (failing) episodes cannot crowd out long ones. The reported
mean is over exactly ``num_envs * ceil(episodes / num_envs)`` complete episodes; the success rate is
the share of them that ran to the time limit without a termination (Isaac Lab's Cartpole
``Metrics/success_rate``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from agents.interface import evaluation_action, evaluation_policy
from tasks.episodes import EpisodeAccumulator


@torch.no_grad()
def evaluate(agent, env, unwrapped, *, episodes: int, max_episode_length: int) -> dict[str, Any]:
    num_envs = unwrapped.num_envs
    per_env = math.ceil(episodes / num_envs)
    agent.enable_training_mode(False)
    obs_dict, _ = unwrapped.reset()
    obs = obs_dict["policy"]
    acc = EpisodeAccumulator(num_envs, device=obs.device, per_env=per_env, keep=True)
    for _ in range(per_env * (max_episode_length + 1) + 1):
        obs, rewards, terminated, truncated, _ = env.step(evaluation_action(agent, obs))
        acc.step(rewards.view(-1), terminated | truncated, terminated)
        if acc.done:
            break
    rows = acc.rows()
    returns, lengths, terminated = rows[:, 0], rows[:, 1], rows[:, 2]
    return {
        "episodes": int(returns.numel()),
        "return_mean": float(returns.mean()) if returns.numel() else math.nan,
        "return_std": float(returns.std(unbiased=False)) if returns.numel() else math.nan,
        "length_mean": float(lengths.mean()) if lengths.numel() else math.nan,
        "success_rate": float(1 - terminated.mean()) if terminated.numel() else math.nan,
        "policy": evaluation_policy(agent),
        "returns": [round(float(r), 5) for r in returns],
    }
