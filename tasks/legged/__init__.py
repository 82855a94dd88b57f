"""Legged velocity-tracking tasks and their zero-shot evaluation variants (review Sec. 4.5-4.6).

- :mod:`tasks.legged.embodiments`: the robots as data (Go2, A1, Spot, the offline Ant and its shifted
  copy): asset config, base/feet/fall bodies, documented joint order, joint roles, control timing.
- :mod:`tasks.legged.terrains`: the evaluation terrains (review Table 8) from Isaac Lab's generator.
- :mod:`tasks.legged.envcfg`: the edits that turn a velocity-task config into a scenario config
  (robot swap with joint mapping by name, terrain swap, evaluation settings, tracking read-out).
- :mod:`tasks.legged.ant`: ``ant_rough``, Isaac Lab's rough-terrain velocity task on the Ant, the
  offline stand-in for the Go2 chain (Go2, A1 and Spot assets cannot be had offline).

Importing this package does not import Isaac Lab. :func:`register_gym_ids` registers our own gym id
(gymnasium only); ``tasks.registry`` calls it so ``parse_env_cfg`` finds ``ant_rough``.
"""

from __future__ import annotations

ANT_ROUGH_ID = "Dprl-Velocity-Rough-Ant"


def register_gym_ids() -> None:
    """Register ``Dprl-Velocity-Rough-Ant`` with Isaac Lab's manager-based env entry point (idempotent)."""
    import gymnasium as gym  # noqa: PLC0415

    if ANT_ROUGH_ID in gym.registry:
        return
    gym.register(
        id=ANT_ROUGH_ID,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={"env_cfg_entry_point": "tasks.legged.ant:AntRoughEnvCfg"},
    )
