"""The classic agents' building blocks, made with skrl's model instantiators and memories.

The review fixes hidden sizes per task (Table 10); activations follow Isaac Lab's skrl configs.
Off-policy actors output in [-1, 1] (tanh), the action range the environment's action scale maps.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from skrl.memories.torch import RandomMemory
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.utils.model_instantiators.torch import deterministic_model, gaussian_model

from agents.settings import HARNESS, CommonConfig, OffPolicyConfig, choices, setting

# the activations skrl's model instantiators accept for hidden layers
ACTIVATIONS = ("elu", "relu", "leaky_relu", "selu", "tanh", "sigmoid", "softplus", "softsign")


def activation_setting(doc: str = "hidden-layer activation of the skrl networks") -> Any:
    return setting("elu", f"{HARNESS} (Isaac Lab's skrl configs)", choices(*ACTIVATIONS), doc)


def bounded(action_space: gymnasium.spaces.Box) -> gymnasium.spaces.Box:
    """The [-1, 1] box the off-policy agents act in (Isaac Lab's action spaces are unbounded)."""
    return gymnasium.spaces.Box(-1.0, 1.0, shape=action_space.shape, dtype=np.float32)


def _mlp(layers: list[int], activation: str, inputs: str = "OBSERVATIONS") -> list[dict]:
    return [{"name": "net", "input": inputs, "layers": list(layers), "activations": activation}]


def gaussian_policy(hidden: list[int], activation: str, obs_space, act_space, device, *, squash: bool = False,
                    initial_log_std: float = 0.0):
    return gaussian_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        clip_actions=squash,
        clip_log_std=True,
        min_log_std=-20.0,
        max_log_std=2.0,
        initial_log_std=initial_log_std,
        network=_mlp(hidden, activation),
        output="tanh(ACTIONS)" if squash else "ACTIONS",
    )


def deterministic_policy(hidden: list[int], activation: str, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        clip_actions=True,
        network=_mlp(hidden, activation),
        output="tanh(ACTIONS)",
    )


def state_value(hidden: list[int], activation: str, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        network=_mlp(hidden, activation),
        output="ONE",
    )


def q_value(hidden: list[int], activation: str, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        network=_mlp(hidden, activation, inputs="concatenate([OBSERVATIONS, ACTIONS])"),
        output="ONE",
    )


def observation_preprocessor(cfg: CommonConfig, obs_space, device) -> dict:
    """skrl config entries for the running mean/std observation scaler, if enabled."""
    if not cfg.observation_normalization:
        return {}
    return {
        "observation_preprocessor": RunningStandardScaler,
        "observation_preprocessor_kwargs": {"size": obs_space, "device": device},
    }


def replay_memory(cfg: OffPolicyConfig, num_envs: int, device: str) -> RandomMemory:
    """skrl's uniform replay buffer; ``memory_size`` transitions per environment, on the device."""
    return RandomMemory(memory_size=cfg.memory_size, num_envs=num_envs, device=device, replacement=True)


def skrl_off_policy_kwargs(cfg: OffPolicyConfig, observation_space, device: str) -> dict:
    """Fields every skrl off-policy agent config (DDPG, TD3, SAC) takes, from the config."""
    return {
        "gradient_steps": cfg.gradient_steps,
        "batch_size": cfg.batch_size,
        "discount_factor": cfg.discount,
        "polyak": cfg.polyak,
        "random_timesteps": cfg.random_timesteps,
        "learning_starts": cfg.random_timesteps,
        "grad_norm_clip": cfg.grad_norm_clip,
        **observation_preprocessor(cfg, observation_space, device),
    }
