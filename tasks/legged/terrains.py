"""The evaluation terrains of the review's Table 8, built from Isaac Lab's terrain generator configs.

Source (in-distribution) terrains are the source task's *own* sub-terrain configs (so Go2's
robot-scaled heights carry over): random = ``random_rough`` (``HfRandomUniformTerrainCfg``), stairs =
``pyramid_stairs`` + ``pyramid_stairs_inv``, pyramid = ``hf_pyramid_slope`` + ``hf_pyramid_slope_inv``.

Target (OOD) terrains, review Table 8 wording -> Isaac Lab generator, at the fixed difficulty 0.5:

- Box, "boxes of fixed width and random heights": ``MeshRandomGridTerrainCfg``, 0.45 m cells, height
  parameter 0.15 m (Go2's training mix already holds this generator at 0.025-0.10 m, so only the
  taller boxes are new);
- Wave, "smooth, oscillating sinusoidal height pattern": ``HfWaveTerrainCfg``, 4 waves per 8 m tile,
  0.30 m peak to peak (max slope about 0.47, above the training slopes' 0.4);
- Obstacle, "randomly distributed pillars with varying height offsets": ``HfDiscreteObstaclesTerrainCfg``
  in ``choice`` mode (each block +-0.20 m or +-0.10 m), 40 blocks 0.25-0.75 m wide per tile;
- Stepping stone, "isolated stepping stones separated by gaps": ``HfSteppingStonesTerrainCfg``, 0.45 m
  stones, 0.125 m gaps, 1 m deep holes, flat stones.

Every scenario terrain: curriculum off, ``difficulty_range = (d, d)`` (Isaac Lab samples the
difficulty uniformly from that range when the curriculum is off, so every tile has exactly d), a 5 x 5
grid of 8 m tiles (Isaac Lab's play-mode size) and generator seed 0, so every algorithm walks the
same ground. The same values serve Go2 and the Ant stand-in.
"""

from __future__ import annotations

import dataclasses

DIFFICULTY = 0.5
GRID = 5  # rows and columns of tiles (Isaac Lab's velocity play mode uses 5 x 5)
TERRAIN_SEED = 0


@dataclasses.dataclass(frozen=True)
class TerrainSpec:
    name: str
    paper_name: str  # the row of the review's Table 8
    in_distribution: bool
    description: str
    source_sub_terrains: tuple[str, ...] = ()  # taken from the source task's generator


TERRAINS: dict[str, TerrainSpec] = {
    "random": TerrainSpec("random", "Random", True, "source random_rough terrain, difficulty 0.5",
                          ("random_rough",)),
    "stairs": TerrainSpec("stairs", "Stairs", True, "source pyramid stairs (up and down), difficulty 0.5",
                          ("pyramid_stairs", "pyramid_stairs_inv")),
    "pyramid": TerrainSpec("pyramid", "Pyramid", True, "source pyramid slopes (up and down), difficulty 0.5",
                           ("hf_pyramid_slope", "hf_pyramid_slope_inv")),
    "box": TerrainSpec("box", "Box", False, "random-height boxes, 0.45 m wide, height 0.15 m"),
    "wave": TerrainSpec("wave", "Wave", False, "sinusoidal waves, 2 m wavelength, 0.30 m peak to peak"),
    "obstacle": TerrainSpec("obstacle", "Obstacle", False, "40 pillars per tile, heights +-0.10/0.20 m"),
    "stepping_stones": TerrainSpec("stepping_stones", "Stepstone", False,
                                   "0.45 m stones, 0.125 m gaps, 1 m deep holes"),
}


def _ood_sub_terrains(name: str) -> dict:
    import isaaclab.terrains as tg  # noqa: PLC0415

    if name == "box":
        return {"box": tg.MeshRandomGridTerrainCfg(grid_width=0.45, grid_height_range=(0.05, 0.25),
                                                   platform_width=2.0)}
    if name == "wave":
        return {"wave": tg.HfWaveTerrainCfg(amplitude_range=(0.1, 0.5), num_waves=4, border_width=0.25)}
    if name == "obstacle":
        return {"obstacle": tg.HfDiscreteObstaclesTerrainCfg(
            obstacle_height_mode="choice", obstacle_width_range=(0.25, 0.75), obstacle_height_range=(0.1, 0.3),
            num_obstacles=40, platform_width=2.0, border_width=0.25)}
    if name == "stepping_stones":
        return {"stepping_stones": tg.HfSteppingStonesTerrainCfg(
            stone_height_max=0.0, stone_width_range=(0.3, 0.6), stone_distance_range=(0.05, 0.2),
            holes_depth=-1.0, platform_width=2.0, border_width=0.25)}
    raise KeyError(name)


def scenario_generator(source_generator, spec: TerrainSpec):
    """A copy of the source task's ``TerrainGeneratorCfg`` holding only ``spec``'s sub-terrains."""
    from isaaclab.utils import replace  # noqa: PLC0415

    if spec.source_sub_terrains:
        missing = [k for k in spec.source_sub_terrains if k not in source_generator.sub_terrains]
        if missing:
            raise KeyError(f"the source terrain generator has no sub-terrain {missing}")
        subs = {k: replace(source_generator.sub_terrains[k]) for k in spec.source_sub_terrains}
    else:
        subs = _ood_sub_terrains(spec.name)
    gen = replace(source_generator, sub_terrains=subs, difficulty_range=(DIFFICULTY, DIFFICULTY))
    return fixed_layout(gen)


def fixed_layout(generator):
    """Curriculum off, the play-mode grid and a fixed generator seed (in place; returns it)."""
    generator.curriculum = False
    generator.num_rows = GRID
    generator.num_cols = GRID
    generator.seed = TERRAIN_SEED
    generator.use_cache = False
    return generator
