"""Zero-shot evaluation scenarios: cross-embodiment transfer and OOD terrains (review Sec. 4.5-4.6).

The review trains on the Unitree Go2 (rough terrain, proprioception + height scan) and deploys the
policy without fine-tuning (Table 7, Fig. 7):

- on the source robot and terrains ("Go2 (source)"), the in-distribution reference;
- on other robots: Unitree A1 ("A1 transfer") and Boston Dynamics Spot ("Spot transfer");
- on terrains of Table 8: the source terrains random, stairs, pyramid (in distribution) and the
  unseen box, wave, obstacle (pillars) and stepping stones.

Each scenario's Isaac Lab env config is the *source task's registered config* with evaluation
settings (:func:`tasks.legged.envcfg.evaluation_settings`) and one change: the robot
(:func:`tasks.legged.envcfg.retarget`) or the terrain (:mod:`tasks.legged.terrains`). The offline
chain ``ant_rough`` -> ``ant_*`` is the same code with the Ant embodiments (Go2, A1 and Spot assets
cannot be had offline); ``ant_to_shifted`` alters the Ant's torso mass (x1.5) and PD gains (x0.6).

``*_source`` and the embodiment scenarios walk the source task's training terrain mix (curriculum
off, the training difficulty range, terrain seed 0); the terrain scenarios one terrain type at a
fixed difficulty (0.5). Nothing here imports Isaac Lab until :func:`build_env_cfg` runs.
"""

from __future__ import annotations

import dataclasses

from tasks.errors import invalid
from tasks.legged.embodiments import EMBODIMENTS
from tasks.legged.terrains import TERRAINS

KINDS = ("embodiment", "terrain")


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    source_task: str  # tasks.csv name of the task the policy was trained on
    target: str  # what the policy is deployed on, in words
    kind: str  # "embodiment" or "terrain"
    in_distribution: bool
    paper_name: str  # the scenario column of analysis/reference/transfer_ood.csv, or ""
    source_embodiment: str  # tasks.legged.embodiments key
    target_embodiment: str
    terrain: str | None  # tasks.legged.terrains key; None: the source task's training terrains

    @property
    def embodiment_changes(self) -> bool:
        return self.source_embodiment != self.target_embodiment


# source task -> (scenario prefix, source embodiment, robot name, [(suffix, target embodiment, paper name)])
_SOURCES = {
    "go2_rough": ("go2", "go2", "Go2", [("to_a1", "a1", "A1 transfer"), ("to_spot", "spot", "Spot transfer")]),
    "ant_rough": ("ant", "ant", "Ant", [("to_shifted", "ant_shifted", "")]),
}
_PAPER_TERRAIN = {"wave": "Wave terrain", "obstacle": "Obstacle", "stepping_stones": "Stepping stone"}


def _table() -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    for task, (prefix, source, robot, targets) in _SOURCES.items():
        out[f"{prefix}_source"] = Scenario(
            f"{prefix}_source", task, f"{robot} on its training terrains (curriculum off)", "embodiment", True,
            "Go2 (source)" if prefix == "go2" else "", source, source, None)
        for suffix, target, paper in targets:
            emb = EMBODIMENTS[target]
            out[f"{prefix}_{suffix}"] = Scenario(
                f"{prefix}_{suffix}", task, f"{emb.description} on the training terrains", "embodiment", False,
                paper, source, target, None)
        for key, spec in TERRAINS.items():
            name = f"{prefix}_terrain_{key}"
            out[name] = Scenario(
                name, task, f"{robot} on {spec.name.replace('_', ' ')}: {spec.description}", "terrain",
                spec.in_distribution, _PAPER_TERRAIN.get(key, "") if prefix == "go2" else "", source, source, key)
    return out


SCENARIOS: dict[str, Scenario] = _table()


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise invalid("scenario", name, SCENARIOS)
    return SCENARIOS[name]


def scenarios_for(task: str) -> list[Scenario]:
    return [s for s in SCENARIOS.values() if s.source_task == task]


def source_scenario(task: str) -> Scenario:
    """The in-distribution reference of ``task``: its robot on its training terrains."""
    return next(s for s in scenarios_for(task) if s.kind == "embodiment" and not s.embodiment_changes)


def build_env_cfg(name: str, *, num_envs: int, device: str, seed: int,
                  source_joint_order: tuple[str, ...] | None = None):
    """The scenario's Isaac Lab env config and a record of what was changed (no simulation).

    ``source_joint_order``: the joint names of the trained policy's articulation, in its order, when
    known (recorded by evaluating the ``*_source`` scenario); else the embodiment's documented order.
    The Isaac Lab asset root must be chosen first (:func:`tasks.assets.select_asset_root`).
    """
    from tasks.isaaclab_env import load_env_cfg  # noqa: PLC0415
    from tasks.legged.envcfg import evaluation_settings, retarget  # noqa: PLC0415
    from tasks.legged.terrains import scenario_generator  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    scenario = get_scenario(name)
    cfg = load_env_cfg(get_task(scenario.source_task), num_envs=num_envs, device=device, seed=seed)
    record: dict = {"source_embodiment": scenario.source_embodiment, "target_embodiment": scenario.target_embodiment}
    if scenario.embodiment_changes:
        record.update(retarget(cfg, EMBODIMENTS[scenario.source_embodiment],
                               EMBODIMENTS[scenario.target_embodiment], source_joint_order))
        record["source_joint_order"] = "recorded" if source_joint_order else "documented"
    if scenario.terrain is not None:
        spec = TERRAINS[scenario.terrain]
        cfg.scene.terrain.terrain_generator = scenario_generator(cfg.scene.terrain.terrain_generator, spec)
        record["terrain"] = {"name": spec.name, "paper_name": spec.paper_name, "description": spec.description,
                             "sub_terrains": sorted(cfg.scene.terrain.terrain_generator.sub_terrains)}
    evaluation_settings(cfg, num_envs=num_envs, device=device, seed=seed)
    gen = cfg.scene.terrain.terrain_generator
    if gen is not None:
        record["terrain_difficulty_range"] = list(gen.difficulty_range)
        record["terrain_seed"] = gen.seed
    return cfg, record


def scenario_record(name: str, cfg, source) -> dict:
    """``{"physics": ..., "asset_source": ...}`` of a scenario's config, for its ``eval/<name>.json``
    (the source task's physics preset; the provenance of every file the scenario loads)."""
    from tasks.isaaclab_env import env_record  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    return env_record(get_task(get_scenario(name).source_task), cfg, source)
