"""What DDPG, TD3 and SAC (and the off-policy diffusion agents) share: replay memory and the
review's Table 12 settings mapped onto skrl's configuration fields."""

from __future__ import annotations

from skrl.memories.torch import RandomMemory

from agents import models
from agents.config import ResolvedConfig


def replay_memory(cfg: ResolvedConfig, num_envs: int, device: str) -> RandomMemory:
    """skrl's uniform replay buffer; ``memory_size`` transitions per environment, on the device."""
    return RandomMemory(memory_size=cfg["memory_size"], num_envs=num_envs, device=device, replacement=True)


def skrl_cfg_kwargs(cfg: ResolvedConfig, observation_space, device: str) -> dict:
    """Fields every skrl off-policy agent config takes, from the resolved config."""
    return {
        "gradient_steps": cfg["gradient_steps"],
        "batch_size": cfg["batch_size"],
        "discount_factor": cfg["discount"],
        "polyak": cfg["polyak"],
        "random_timesteps": cfg["random_timesteps"],
        "learning_starts": cfg["random_timesteps"],
        "grad_norm_clip": cfg["grad_norm_clip"],
        **models.observation_preprocessor(cfg, observation_space, device),
    }
