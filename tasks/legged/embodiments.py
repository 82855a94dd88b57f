"""The robots of the transfer experiments as data: what differs between Go2, A1, Spot and the Ant.

The review trains on the Unitree Go2 and deploys the policy unchanged on the Unitree A1 and the
Boston Dynamics Spot (Sec. 4.5). Everything robot-specific that an Isaac Lab velocity task config
names lives here, each value taken from the robot's own registered Isaac Lab 3.0 task:

- Go2: ``Isaac-Velocity-Rough-UnitreeGo2``; base ``base``; falls on base contact; physics 200 Hz,
  policy 50 Hz (dt 0.005 s, decimation 4); action scale 0.25.
- A1: ``IsaacContrib-Velocity-Rough-UnitreeA1``; base ``trunk``; falls on trunk contact; 200 / 50 Hz;
  action scale 0.25.
- Spot: ``IsaacContrib-Velocity-Flat-Spot``; base ``body``; falls on contact of ``body`` or ``.*leg``;
  physics 500 Hz, policy 50 Hz (dt 0.002 s, decimation 10); action scale 0.2; no height scanner.
- Ant (offline stand-in): ``Dprl-Velocity-Rough-Ant`` (ours, :mod:`tasks.legged.ant`); base ``torso``;
  200 / 50 Hz; action scale 0.5. ``ant_shifted``: the same with the torso mass x1.5 (the nominal of
  the base-mass event; its +-25% randomization stays) and joint PD stiffness and damping x0.6.

**Joint order.** A policy's action i and its joint-position/velocity observations i refer to the
i-th joint of the *source* articulation, whose order is the USD parse order of the asset (not known
without the asset). The documented orders below are: Unitree (Go2, A1) hips, thighs, calves, each
FL, FR, RL, RR -- the order Isaac Lab's own test ``isaaclab/test/utils/test_string.py`` uses for the
Unitree joint names and the order Isaac Lab-trained Go2 policies are deployed with; Spot hx, hy, kn,
each fl, fr, hl, hr -- the same breadth-first pattern over Spot's names in ``SPOT_CFG``; Ant the
``physics:tensor:jointIndex`` order written in Newton's ``ant.usda``. A scenario maps joints by
*role* (leg x joint kind) and then by name, never by index, and the evaluation records the
articulation's actual ``joint_names`` at run time: evaluating ``*_source`` stores the trained robot's
order in its evaluation of the source scenario, and later transfer evaluations of the same run map from that order,
not the documented one. (Newton parsed the Ant depth-first, leg then foot per leg, as its jointIndex
says; whether it parses Go2 breadth-first as PhysX does was not checkable offline.)

**Sign conventions.** Go2/A1 and Spot default poses in Isaac Lab have the same sign per role (hip
abduction +0.1 left / -0.1 right, hip flexion +0.8..1.1, knee -1.5), so roles map without sign flips.

Nothing here imports Isaac Lab; :func:`load_robot_cfg` does, when a config is built.
"""

from __future__ import annotations

import dataclasses
import importlib

LEGS = ("FL", "FR", "HL", "HR")  # front-left, front-right, hind-left, hind-right
QUADRUPED_ROLES = ("hip_x", "hip_y", "knee")  # abduction, flexion, knee


def _unitree_joints() -> tuple[tuple[str, str], ...]:
    leg = {"FL": "FL", "FR": "FR", "HL": "RL", "HR": "RR"}
    part = {"hip_x": "hip", "hip_y": "thigh", "knee": "calf"}
    return tuple((f"{lg}.{r}", f"{leg[lg]}_{part[r]}_joint") for r in QUADRUPED_ROLES for lg in LEGS)


def _spot_joints() -> tuple[tuple[str, str], ...]:
    part = {"hip_x": "hx", "hip_y": "hy", "knee": "kn"}
    return tuple((f"{lg}.{r}", f"{lg.lower()}_{part[r]}") for r in QUADRUPED_ROLES for lg in LEGS)


def _ant_joints() -> tuple[tuple[str, str], ...]:
    leg = {"FL": "front_left", "FR": "front_right", "HL": "left_back", "HR": "right_back"}
    return tuple((f"{lg}.{r}", f"{leg[lg]}_{kind}") for lg in LEGS for r, kind in (("hip", "leg"), ("ankle", "foot")))


@dataclasses.dataclass(frozen=True)
class Embodiment:
    name: str
    description: str
    robot_cfg: str  # "module:ATTR": an Isaac Lab ArticulationCfg, or a function returning one
    isaaclab_task: str  # the registered task whose robot-specific settings these are
    base_body: str  # carries the height scanner; its mass/COM events and velocity are the base's
    fall_bodies: tuple[str, ...]  # contact of these with anything ends the episode (not a time-out)
    foot_bodies: str  # regex of the feet (air-time reward)
    joints: tuple[tuple[str, str], ...]  # (role, joint name), in the documented articulation order
    joint_order_source: str
    sim_dt: float  # physics step of its own task [s]
    decimation: int  # physics steps per policy step in its own task
    action_scale: float  # its own task's JointPositionAction scale [rad per unit action]
    base_mass_scale: float = 1.0  # embodiment shift: nominal base mass multiplier
    gain_scale: float = 1.0  # embodiment shift: PD stiffness and damping multiplier
    offline_assets: bool = False

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.joints)

    @property
    def control_hz(self) -> float:
        return 1.0 / (self.sim_dt * self.decimation)

    def role_of(self, joint: str) -> str:
        for role, name in self.joints:
            if name == joint:
                return role
        raise KeyError(f"{self.name} has no joint {joint!r}; joints: {', '.join(self.joint_names)}")

    def joint_for(self, role: str) -> str:
        for r, name in self.joints:
            if r == role:
                return name
        raise KeyError(f"{self.name} has no joint with role {role!r}")


_UNITREE_ORDER = ("hips, thighs, calves, each FL FR RL RR: Isaac Lab's Unitree joint order "
                  "(isaaclab/test/utils/test_string.py; Isaac Lab Go2 deployments)")

EMBODIMENTS: dict[str, Embodiment] = {
    "go2": Embodiment(
        name="go2", description="Unitree Go2 (Isaac Lab UNITREE_GO2_CFG, DC motors)",
        robot_cfg="isaaclab_assets.robots.unitree:UNITREE_GO2_CFG", isaaclab_task="Isaac-Velocity-Rough-UnitreeGo2",
        base_body="base", fall_bodies=("base",), foot_bodies=".*_foot", joints=_unitree_joints(),
        joint_order_source=_UNITREE_ORDER, sim_dt=0.005, decimation=4, action_scale=0.25,
    ),
    "a1": Embodiment(
        name="a1", description="Unitree A1 (Isaac Lab UNITREE_A1_CFG, DC motors)",
        robot_cfg="isaaclab_assets.robots.unitree:UNITREE_A1_CFG",
        isaaclab_task="IsaacContrib-Velocity-Rough-UnitreeA1",
        base_body="trunk", fall_bodies=("trunk",), foot_bodies=".*_foot", joints=_unitree_joints(),
        joint_order_source=_UNITREE_ORDER, sim_dt=0.005, decimation=4, action_scale=0.25,
    ),
    "spot": Embodiment(
        name="spot", description="Boston Dynamics Spot (Isaac Lab SPOT_CFG, delayed/remotized PD)",
        robot_cfg="isaaclab_assets.robots.spot:SPOT_CFG", isaaclab_task="IsaacContrib-Velocity-Flat-Spot",
        base_body="body", fall_bodies=("body", ".*leg"), foot_bodies=".*_foot", joints=_spot_joints(),
        joint_order_source="hx, hy, kn, each fl fr hl hr: breadth-first over SPOT_CFG's joint names "
                           "(the order Isaac Lab Spot policies are deployed with)",
        sim_dt=0.002, decimation=10, action_scale=0.2,
    ),
    "ant": Embodiment(
        name="ant", description="Ant (Newton's ant.usda stand-in) with PD position control",
        robot_cfg="tasks.legged.ant:ant_robot_cfg", isaaclab_task="Dprl-Velocity-Rough-Ant",
        base_body="torso", fall_bodies=("torso",), foot_bodies=".*_foot", joints=_ant_joints(),
        joint_order_source="physics:tensor:jointIndex order in Newton's examples/assets/ant.usda",
        sim_dt=0.005, decimation=4, action_scale=0.5, offline_assets=True,
    ),
}
EMBODIMENTS["ant_shifted"] = dataclasses.replace(
    EMBODIMENTS["ant"], name="ant_shifted", base_mass_scale=1.5, gain_scale=0.6,
    description="Ant with a 1.5x torso mass and 0.6x joint PD stiffness and damping",
)


def joint_map(source: Embodiment, target: Embodiment, source_order: tuple[str, ...] | None = None) -> dict[str, str]:
    """``{source joint: target joint}`` by role, in ``source_order`` (default: the documented one)."""
    order = tuple(source_order) if source_order is not None else source.joint_names
    if sorted(order) != sorted(source.joint_names):
        raise ValueError(f"source joint order {order} is not a permutation of {source.name}'s joints "
                         f"{source.joint_names}")
    return {name: target.joint_for(source.role_of(name)) for name in order}


def load_robot_cfg(embodiment: Embodiment):
    """The embodiment's Isaac Lab ``ArticulationCfg`` (imports Isaac Lab), with its shift applied."""
    from isaaclab.assets import ArticulationCfg  # noqa: PLC0415
    from isaaclab.utils import replace  # noqa: PLC0415

    module, attr = embodiment.robot_cfg.split(":")
    obj = getattr(importlib.import_module(module), attr)
    cfg = obj if isinstance(obj, ArticulationCfg) else obj()
    cfg = replace(cfg, prim_path="{ENV_REGEX_NS}/Robot")
    if embodiment.gain_scale != 1.0:
        actuators = {}
        for key, act in cfg.actuators.items():
            actuators[key] = replace(act, stiffness=_scaled(act.stiffness, embodiment.gain_scale),
                                     damping=_scaled(act.damping, embodiment.gain_scale))
        cfg = replace(cfg, actuators=actuators)
    return cfg


def _scaled(value, factor: float):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: v * factor for k, v in value.items()}
    return value * factor
