"""A two-mode 2-D bandit (Diffusion-QL's toy problem, Wang et al. 2023) as a vectorized env.

One constant state, actions in [-1, 1]^2, one-step episodes; the reward is a bump around each of two
distant optimal actions, so a policy that can represent two modes can put mass on both. It is a
learning problem of its own for the diffusion agents' tests, not a stand-in for a simulator.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch

MODES = torch.tensor([[0.6, 0.6], [-0.6, -0.6]])
WIDTH = 0.2
SCALE = 10.0  # rewards in [0, 10]: Q-weighted losses (QVPO) scale with Q


def reward(actions: torch.Tensor) -> torch.Tensor:
    dist2 = (actions.unsqueeze(1) - MODES).square().sum(-1)  # [N, 2]
    return SCALE * torch.exp(-dist2 / (2 * WIDTH**2)).max(dim=1).values


def near_mode(actions: torch.Tensor, radius: float = 0.3) -> torch.Tensor:
    """[N, 2] -> [N] index of the mode an action is within ``radius`` of, or -1."""
    dist = (actions.unsqueeze(1) - MODES).norm(dim=-1)
    idx = dist.argmin(dim=1)
    return torch.where(dist.min(dim=1).values < radius, idx, torch.full_like(idx, -1))


class BanditEnv:
    def __init__(self, num_envs: int = 256):
        self.num_envs = num_envs
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,))
        self.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,))
        self.obs = torch.zeros(num_envs, 1)

    def reset(self):
        return self.obs, {}

    def step(self, actions: torch.Tensor):
        r = reward(actions.clamp(-1, 1)).view(-1, 1)
        done = torch.ones(self.num_envs, 1, dtype=torch.bool)
        return self.obs, r, done, torch.zeros_like(done), {"final_obs": {"policy": self.obs}}
