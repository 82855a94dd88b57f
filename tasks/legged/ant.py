"""``ant_rough``: Isaac Lab's rough-terrain velocity-tracking task on the Ant (the offline Go2 stand-in).

Built exactly as Isaac Lab builds its per-robot rough tasks (e.g. ``UnitreeGo2RoughEnvCfg``): the
shared ``LocomotionVelocityRoughEnvCfg`` (``ROUGH_TERRAINS_CFG``, 187-ray ``RayCasterCfg`` height scan,
uniform velocity commands with heading control, base-contact termination, 20 s episodes at 50 Hz)
with the robot swapped in by :func:`tasks.legged.envcfg.apply_embodiment`, the terrain heights scaled
down and the reward weights set as Go2's task sets them (the Ant stands in for the Go2 chain).

Stand-in specifics (measured here, Newton MJWarp on the CPU):

- Newton's ``ant.usda`` declares a density of 1 kg/m^3 (0.17 kg in all); with Go2's contact stiffness
  (ke = 160000) such a light robot bounces off the ground, so the spawn sets density 50 kg/m^3
  (about 9 kg in all, torso about 4.3 kg; Go2 is about 15 kg);
- the Ant's own Isaac Lab tasks drive it by joint torque; a velocity task drives the legs by
  joint-position targets, so the actuator is an implicit PD: stiffness 40 N m/rad, damping
  2 N m s/rad, effort limit 30 N m (it stands at about 0.8 m with zero action);
- one physics substep instead of Go2's two (200 Hz solver): 1.5x faster on the CPU, and steadier
  with this light robot (with two, some robots kept bouncing at zero action).

Contact sensors are on for the base-contact termination and the feet air-time reward.
Observation: 3 + 3 + 3 + 3 + 8 + 8 + 8 + 187 = 223 values; action: 8 joint-position offsets.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.actuators import ImplicitActuatorCfg
from isaaclab.utils import configclass, replace

from isaaclab_assets.robots.ant import ANT_CFG
from isaaclab_tasks.core.velocity.velocity_env_cfg import LocomotionVelocityRoughEnvCfg
from tasks.legged.embodiments import EMBODIMENTS
from tasks.legged.envcfg import apply_embodiment

ANT_DENSITY = 50.0  # kg/m^3
ANT_STIFFNESS = 40.0
ANT_DAMPING = 2.0
ANT_EFFORT_LIMIT = 30.0


def ant_robot_cfg():
    """Isaac Lab's ``ANT_CFG`` with contact sensors, density 50 kg/m^3 and PD position actuators."""
    spawn = replace(ANT_CFG.spawn, activate_contact_sensors=True,
                    mass_props={"/.*": [sim_utils.MassCfg(density=ANT_DENSITY)]})
    legs = ImplicitActuatorCfg(joint_names_expr=[".*"], stiffness=ANT_STIFFNESS, damping=ANT_DAMPING,
                               armature=0.05, effort_limit_sim=ANT_EFFORT_LIMIT)
    return replace(ANT_CFG, spawn=spawn, actuators={"legs": legs})


def scale_terrains_for_small_robots(cfg) -> None:
    """The terrain heights Isaac Lab's Go2 rough task uses (``UnitreeGo2RoughEnvCfg``)."""
    terrains = cfg.scene.terrain.terrain_generator.sub_terrains
    terrains["boxes"].grid_height_range = (0.025, 0.1)
    terrains["random_rough"].noise_range = (0.01, 0.06)
    terrains["random_rough"].noise_step = 0.01
    terrains["pyramid_stairs"].step_height_range = (0.025, 0.12)
    terrains["pyramid_stairs_inv"].step_height_range = (0.025, 0.12)


@configclass
class AntRoughEnvCfg(LocomotionVelocityRoughEnvCfg):
    """The Ant on Isaac Lab's rough terrains, tracking velocity commands with a height scan."""

    def __post_init__(self):
        super().__post_init__()
        for preset in {id(p): p for p in (self.sim.physics.default, self.sim.physics.newton_mjwarp)}.values():
            preset.num_substeps = 1
        scale_terrains_for_small_robots(self)
        self.commands.base_velocity.debug_vis = False  # the arrow marker is a cloud asset; runs are headless
        apply_embodiment(self, EMBODIMENTS["ant"])
        # reward weights as in Isaac Lab's UnitreeGo2RoughEnvCfg (minus its base-height term)
        self.rewards.feet_air_time.weight = 0.01
        self.rewards.undesired_contacts = None
        self.rewards.dof_torques_l2.weight = -0.0002
        self.rewards.track_lin_vel_xy_exp.weight = 1.5
        self.rewards.track_ang_vel_z_exp.weight = 0.75
        self.rewards.dof_acc_l2.weight = -2.5e-7
        self.rewards.action_rate_l2.weight = -0.005
