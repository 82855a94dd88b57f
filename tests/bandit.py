"""Two-mode 2-D bandits (Diffusion-QL's toy problem, Wang et al. 2023) as vectorized envs.

Actions in [-1, 1]^2, one-step episodes; the reward is a bump around each of two distant optimal
actions, so a policy that can represent two modes can put mass on both. ``BanditEnv`` has one
constant state; ``StateBanditEnv`` two states whose modes differ. They are learning problems of
their own for the diffusion agents' tests, not stand-ins for a simulator.
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


# The same bumps made state-dependent: in state 0 the modes lie on the diagonal, in state 1 on the
# anti-diagonal, so a policy must condition on the state to put mass on each state's two modes.
STATE_MODES = torch.stack([MODES, MODES * torch.tensor([1.0, -1.0])])  # [state, mode, dim]


class Killed(Exception):
    """What :class:`KilledAt` raises: a run stopped in the middle of a step, as a kill would."""


class KilledAt(BanditEnv):
    """The bandit, stopped in the middle of vectorized step ``at`` (1-based; None: never)."""

    def __init__(self, num_envs: int, at: int | None):
        super().__init__(num_envs)
        self.at, self.steps = at, 0

    def step(self, actions):
        self.steps += 1
        if self.steps == self.at:
            raise Killed
        return super().step(actions)


def state_reward(states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    dist2 = (actions.unsqueeze(1) - STATE_MODES[states]).square().sum(-1)  # [N, 2]
    return SCALE * torch.exp(-dist2 / (2 * WIDTH**2)).max(dim=1).values


def state_mode_coverage(state: int, actions: torch.Tensor, radius: float = 0.3) -> torch.Tensor:
    """[2]: the share of ``actions`` within ``radius`` of each of ``state``'s two modes."""
    dist = (actions.unsqueeze(1) - STATE_MODES[state]).norm(dim=-1)  # [N, 2]
    return (dist < radius).float().mean(dim=0)


class StateBanditEnv:
    """One-step episodes; each env draws state 0 or 1 (observed one-hot) for every episode."""

    def __init__(self, num_envs: int = 256, seed: int = 0):
        self.num_envs = num_envs
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,))
        self.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,))
        self.generator = torch.Generator().manual_seed(seed)
        self.states = torch.zeros(num_envs, dtype=torch.long)

    def _draw(self) -> torch.Tensor:
        self.states = torch.randint(0, 2, (self.num_envs,), generator=self.generator)
        return torch.nn.functional.one_hot(self.states, 2).float()

    def reset(self):
        return self._draw(), {}

    def step(self, actions: torch.Tensor):
        r = state_reward(self.states, actions.clamp(-1, 1)).view(-1, 1)
        done = torch.ones(self.num_envs, 1, dtype=torch.bool)
        final = torch.nn.functional.one_hot(self.states, 2).float()
        return self._draw(), r, done, torch.zeros_like(done), {"final_obs": {"policy": final}}
