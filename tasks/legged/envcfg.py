"""Edits that turn a velocity-tracking task config into an evaluation scenario config.

All functions take a resolved Isaac Lab ``ManagerBasedRLEnvCfg`` of the locomotion-velocity family
(``LocomotionVelocityRoughEnvCfg`` and its per-robot subclasses) and change it in place. One code
path serves the real chain (Go2 -> A1 / Spot) and the offline one (Ant -> shifted Ant): only the
:class:`~tasks.legged.embodiments.Embodiment` differs.

- :func:`apply_embodiment`: the robot and every body name the config names, as Isaac Lab's own
  per-robot tasks set them in ``__post_init__`` (height scanner on the base, base-contact
  termination, base mass/COM/force events, feet for the air-time reward), plus the embodiment shift.
- :func:`retarget`: zero-shot deployment on another robot (review Sec. 4.5). The policy keeps its
  observation layout (proprioception + the 187-ray height scan, which the target gets on its own
  base even where its Isaac Lab task has none, as Spot's) and its control rate (50 Hz); the target
  joints are addressed *by name* in the source policy's joint order, both in the action term and in
  the joint observations (``preserve_order=True``), so the articulation's parse order never matters.
  The physics step is the target task's own (Spot 2 ms, whose actuator delays count physics steps);
  the action scale stays the source's (a policy output means the same joint offset in radians on
  every robot; Spot's own task uses 0.2, Go2's 0.25). Solver settings stay the source's Newton ones
  (Spot's registered task defaults to PhysX, which does not run kit-less).
- :func:`evaluation_settings`: Isaac Lab's ``play_mode`` (no observation noise, no pushes, curriculum
  off), no terrain-level curriculum, fixed terrain seed, no command arrows (their marker is a
  cloud asset; nothing is rendered), ``compute_final_obs`` and a ``tracking``
  observation group (base-frame linear and angular velocity and the velocity command, noise-free)
  read by :mod:`tasks.metrics`.
"""

from __future__ import annotations

from tasks.legged.embodiments import Embodiment, joint_map, load_robot_cfg
from tasks.legged.terrains import fixed_layout

TRACKING_GROUP = "tracking"
TRACKING_LAYOUT = {"lin_vel": slice(0, 3), "ang_vel": slice(3, 6), "command": slice(6, 9)}
_BASE_EVENTS = ("add_base_mass", "base_com", "base_external_force_torque")


def apply_embodiment(cfg, emb: Embodiment) -> None:
    """Put ``emb`` into a velocity config: robot, base/feet/fall bodies, timing, action scale, shift."""
    cfg.scene.robot = load_robot_cfg(emb)
    if cfg.scene.height_scanner is not None:
        cfg.scene.height_scanner.prim_path = "{ENV_REGEX_NS}/Robot/" + emb.base_body
    cfg.terminations.base_contact.params["sensor_cfg"].body_names = list(emb.fall_bodies)
    for name in _BASE_EVENTS:
        term = getattr(cfg.events, name, None)
        if term is not None:
            term.params["asset_cfg"].body_names = emb.base_body
    air = getattr(cfg.rewards, "feet_air_time", None)
    if air is not None:
        air.params["sensor_cfg"].body_names = emb.foot_bodies
    set_timing(cfg, emb.sim_dt, emb.decimation)
    cfg.actions.joint_pos.scale = emb.action_scale
    if emb.base_mass_scale != 1.0:
        term = getattr(cfg.events, "add_base_mass", None)
        if term is None or term.params.get("operation") != "scale":
            raise ValueError("a base-mass shift needs the source's add_base_mass event with operation 'scale'")
        lo, hi = term.params["mass_distribution_params"]
        term.params["mass_distribution_params"] = (lo * emb.base_mass_scale, hi * emb.base_mass_scale)


def set_timing(cfg, sim_dt: float, decimation: int) -> None:
    """Physics step and decimation, with the sensor periods the velocity base config derives from them."""
    cfg.sim.dt = sim_dt
    cfg.decimation = decimation
    cfg.sim.render_interval = decimation
    if cfg.scene.height_scanner is not None:
        cfg.scene.height_scanner.update_period = decimation * sim_dt
    if cfg.scene.contact_forces is not None:
        cfg.scene.contact_forces.update_period = sim_dt


def retarget(cfg, source: Embodiment, target: Embodiment, source_order: tuple[str, ...] | None = None) -> dict:
    """Deploy the source policy on ``target`` (in place); returns what was mapped, for the record."""
    from isaaclab.managers import SceneEntityCfg  # noqa: PLC0415

    step_dt = cfg.sim.dt * cfg.decimation
    source_scale = cfg.actions.joint_pos.scale
    mapping = joint_map(source, target, source_order)
    apply_embodiment(cfg, target)
    decimation = round(step_dt / target.sim_dt)
    if abs(decimation * target.sim_dt - step_dt) > 1e-9:
        raise ValueError(f"{target.name}'s physics step {target.sim_dt} s does not divide the policy step {step_dt} s")
    set_timing(cfg, target.sim_dt, decimation)
    cfg.actions.joint_pos.scale = source_scale
    names = list(mapping.values())
    cfg.actions.joint_pos.joint_names = names
    cfg.actions.joint_pos.preserve_order = True
    for term_name in ("joint_pos", "joint_vel"):
        term = getattr(cfg.observations.policy, term_name)
        term.params["asset_cfg"] = SceneEntityCfg("robot", joint_names=names, preserve_order=True)
    return {
        "joint_map": mapping,
        "policy_hz": 1.0 / step_dt,
        "physics_dt": target.sim_dt,
        "decimation": decimation,
        "action_scale": source_scale,
        "target_task_action_scale": target.action_scale,
    }


def evaluation_settings(cfg, *, num_envs: int, device: str, seed: int) -> None:
    """Isaac Lab play mode plus what a reproducible, measurable evaluation needs (in place)."""
    cfg.play_mode()
    if getattr(cfg.curriculum, "terrain_levels", None) is not None:
        cfg.curriculum.terrain_levels = None
    gen = cfg.scene.terrain.terrain_generator
    if gen is not None:
        fixed_layout(gen)
    cfg.scene.num_envs = num_envs
    cfg.sim.device = device
    cfg.seed = seed
    cfg.compute_final_obs = True
    cfg.commands.base_velocity.debug_vis = False  # arrow markers: a viewer-only asset, no viewer here
    setattr(cfg.observations, TRACKING_GROUP, tracking_group())


def tracking_group():
    """Noise-free base-frame linear velocity, angular velocity and velocity command (9 values)."""
    from isaaclab.envs import mdp  # noqa: PLC0415
    from isaaclab.managers import ObservationGroupCfg, ObservationTermCfg  # noqa: PLC0415
    from isaaclab.utils import configclass  # noqa: PLC0415

    @configclass
    class TrackingCfg(ObservationGroupCfg):
        lin_vel = ObservationTermCfg(func=mdp.base_lin_vel)
        ang_vel = ObservationTermCfg(func=mdp.base_ang_vel)
        command = ObservationTermCfg(func=mdp.generated_commands, params={"command_name": "base_velocity"})

        def __post_init__(self):
            self.enable_corruption = False
            self.concatenate_terms = True

    return TrackingCfg()
