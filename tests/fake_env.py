"""A stand-in vectorized env for unit tests of glue code only (the loop's bookkeeping).

It mimics what Isaac Lab's skrl wrapper returns: (N, obs) observations, (N, 1) rewards and done
flags, and ``final_obs`` in the infos for episodes that ended. Every training and learning test
uses real Isaac Lab instead.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch


class FakeVecEnv:
    def __init__(self, num_envs: int = 4, obs_dim: int = 3, act_dim: int = 2, episode_length: int = 5,
                 terminate_env: int | None = None):
        self.num_envs = num_envs
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (obs_dim,))
        self.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (act_dim,))
        self.episode_length = episode_length
        self.terminate_env = terminate_env  # this env terminates (not truncates) at step 2
        self.t = torch.zeros(num_envs, dtype=torch.long)
        self.final_seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def _obs(self) -> torch.Tensor:
        # observation = (env index, step in episode, 1): lets a test see which episode it came from
        idx = torch.arange(self.num_envs, dtype=torch.float32)
        return torch.stack([idx, self.t.float(), torch.ones(self.num_envs)], dim=1)

    def reset(self):
        self.t.zero_()
        return self._obs(), {}

    def step(self, actions: torch.Tensor):
        self.t += 1
        rewards = torch.ones(self.num_envs, 1)
        truncated = (self.t >= self.episode_length).view(-1, 1)
        terminated = torch.zeros(self.num_envs, 1, dtype=torch.bool)
        if self.terminate_env is not None:
            terminated[self.terminate_env] = bool(self.t[self.terminate_env] == 2)
        done = (terminated | truncated).view(-1)
        final = self._obs()
        self.t[done] = 0
        obs = self._obs()
        self.final_seen.append((done.clone(), final.clone()))
        return obs, rewards, terminated, truncated, {"final_obs": {"policy": final}}
