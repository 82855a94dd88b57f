"""Networks of the classic agents, built with skrl's model instantiators from a resolved config.

The review fixes hidden sizes per task (Table 10); activations follow Isaac Lab's skrl configs.
Off-policy actors output in [-1, 1] (tanh), the action range the environment's action scale maps.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.utils.model_instantiators.torch import deterministic_model, gaussian_model

from agents.config import ResolvedConfig


def bounded(action_space: gymnasium.spaces.Box) -> gymnasium.spaces.Box:
    """The [-1, 1] box the off-policy agents act in (Isaac Lab's action spaces are unbounded)."""
    return gymnasium.spaces.Box(-1.0, 1.0, shape=action_space.shape, dtype=np.float32)


def _mlp(layers: list[int], activation: str, inputs: str = "OBSERVATIONS") -> list[dict]:
    return [{"name": "net", "input": inputs, "layers": list(layers), "activations": activation}]


def gaussian_policy(cfg: ResolvedConfig, obs_space, act_space, device, *, squash: bool = False):
    return gaussian_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        clip_actions=squash,
        clip_log_std=True,
        min_log_std=-20.0,
        max_log_std=2.0,
        initial_log_std=cfg.values.get("initial_log_std", 0.0),
        network=_mlp(cfg["actor_hidden"], cfg["activation"]),
        output="tanh(ACTIONS)" if squash else "ACTIONS",
    )


def deterministic_policy(cfg: ResolvedConfig, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        clip_actions=True,
        network=_mlp(cfg["actor_hidden"], cfg["activation"]),
        output="tanh(ACTIONS)",
    )


def state_value(cfg: ResolvedConfig, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        network=_mlp(cfg["critic_hidden"], cfg["activation"]),
        output="ONE",
    )


def q_value(cfg: ResolvedConfig, obs_space, act_space, device):
    return deterministic_model(
        observation_space=obs_space,
        action_space=act_space,
        device=device,
        network=_mlp(cfg["critic_hidden"], cfg["activation"], inputs="concatenate([OBSERVATIONS, ACTIONS])"),
        output="ONE",
    )


def observation_preprocessor(cfg: ResolvedConfig, obs_space, device) -> dict:
    """skrl config entries for the running mean/std observation scaler, if enabled."""
    if not cfg["observation_normalization"]:
        return {}
    return {
        "observation_preprocessor": RunningStandardScaler,
        "observation_preprocessor_kwargs": {"size": obs_space, "device": device},
    }
