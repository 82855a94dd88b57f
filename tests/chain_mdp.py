"""A chain MDP with a known Q, for the off-policy critics (targets, discounting, truncation).

Positions 0..L-1, observed one-hot. Every step moves one position to the right whatever the action
and pays reward 1; the step into the last position *terminates* the episode. Episodes start at a
uniformly drawn position in 0..L-2 and are *truncated* (a time-out) after ``time_limit`` steps if
they have not terminated, with the true final observation in ``final_obs`` as Isaac Lab gives it.

The reward does not depend on the action, so every policy has the same Q:
Q(p, a) = sum_{k < L-1-p} gamma^k = (1 - gamma^(L-1-p)) / (1 - gamma). A critic that bootstraps
from the truncated episodes' final observations converges to it; one that treats a time-out as a
termination underestimates the positions from which episodes get truncated; a wrong discount or a
target network that is never updated misses it everywhere. It is a learning problem of its own for
the tests (as the bandit), not a stand-in for a simulator.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch


class ChainEnv:
    def __init__(self, num_envs: int = 64, length: int = 6, time_limit: int = 3, act_dim: int = 2, seed: int = 0):
        self.num_envs, self.length, self.time_limit = num_envs, length, time_limit
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (length,))
        self.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (act_dim,))
        self.generator = torch.Generator().manual_seed(seed)
        self.position = torch.zeros(num_envs, dtype=torch.long)
        self.steps = torch.zeros(num_envs, dtype=torch.long)

    def _start(self, mask: torch.Tensor) -> None:
        starts = torch.randint(0, self.length - 1, (self.num_envs,), generator=self.generator)
        self.position = torch.where(mask, starts, self.position)
        self.steps = torch.where(mask, torch.zeros_like(self.steps), self.steps)

    def _obs(self) -> torch.Tensor:
        return torch.nn.functional.one_hot(self.position, self.length).float()

    def reset(self):
        self._start(torch.ones(self.num_envs, dtype=torch.bool))
        return self._obs(), {}

    def step(self, actions: torch.Tensor):
        self.position = self.position + 1
        self.steps = self.steps + 1
        terminated = self.position == self.length - 1
        truncated = ~terminated & (self.steps >= self.time_limit)
        final = self._obs()
        self._start(terminated | truncated)
        rewards = torch.ones(self.num_envs, 1)
        return (self._obs(), rewards, terminated.view(-1, 1), truncated.view(-1, 1),
                {"final_obs": {"policy": final}})


def true_q(length: int, gamma: float) -> torch.Tensor:
    """Q of positions 0..L-2 (the last position is terminal)."""
    steps_left = torch.arange(length - 1, 0, -1, dtype=torch.float64)
    return (1 - gamma**steps_left) / (1 - gamma)
