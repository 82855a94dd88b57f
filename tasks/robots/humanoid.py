"""The Humanoid of ``Isaac-Humanoid-Direct``: NVIDIA's nv_humanoid, from a file newton ships.

Isaac Lab 3.0's ``HUMANOID_CFG`` (``isaaclab_assets/robots/humanoid.py``) reads
``{root}/Isaac/Robots/IsaacSim/Humanoid/humanoid_instanceable.usd`` and spawns it with the torso at
1.34 m; the task (``isaaclab_tasks/core/locomotion/humanoid``) drives its 21 joint axes with efforts
``gear * clamp(action, -1, 1)`` (``JOINT_GEARS`` in ``humanoid_common.py``) and ends an episode when
the torso drops below ``termination_height`` = 0.8 m.

Source: ``newton==1.6.1`` (installed with the project) holds ``newton/examples/assets/humanoid.usda``,
NVIDIA's nv_humanoid (the MJCF of IsaacGymEnvs, ``assets/mjcf/nv_humanoid.xml``, read in a public
copy of that repository) as Isaac Sim's MJCF importer writes it: 16 bodies each a direct child of
the robot prim (head and hands as bodies on fixed joints, as in that MJCF), 2- and 3-axis joints as
D6 ``PhysicsJoint`` prims named after their child body, and capsule/sphere colliders of density
1000. What was checked against what:

- joint set and ranges: the 21 axes Newton reports in Isaac Lab (``lower_waist:0/1``, ``pelvis``,
  ``*_thigh:0/1/2``, ``*_shin``, ``*_foot:0/1``, ``*_upper_arm:0/1``, ``*_lower_arm``) are every
  name ``JOINT_GEARS`` and ``HUMANOID_CFG``'s actuator expressions address, and their limits are
  the ranges of IsaacGymEnvs' nv_humanoid.xml (hip x -45..15, hip y -120..45, shoulders -90..70
  degrees), not those of newton's own ``nv_humanoid.xml`` (hip x -25..5, hip y -80..20, shoulders
  -60..60: the Gym humanoid's). The joint gains the file carries (waist 20/5, thigh axis 1 20/5,
  shin 5/0.1, foot 2/1, ...) are the stiffness/damping ``HUMANOID_CFG`` sets;
- gears: ``*_thigh:1`` (gear 135) is the axis with the hip-y range, the MJCF's 135 hip motor;
- masses: Newton computes 40.844 kg in all from the colliders (torso 5.854 + head 3.054, lower
  arm 0.962 + hand 0.268, pelvis 6.616, thigh 4.752, shin 2.756, foot 1.131, upper arm 1.661,
  lower waist 2.262), the body masses MuJoCo 3.12 computes for the same geometry in newton's
  ``nv_humanoid.xml`` (40.844 kg; head in the torso, hands in the lower arms there). The file
  authors densities, not masses, so the build recomputes the total from its colliders.

Conversions (:func:`make_humanoid`): the layer's ``PhysicsScene`` removed; five hinge joints renamed
to Isaac Lab's names (``abdomen_x`` -> ``pelvis``, ``*_knee`` -> ``*_shin``, ``*_elbow`` ->
``*_lower_arm``); the importer's 20 ``PhysicsCollisionGroup`` prims removed. Those groups put each
collider in a group of its own that filters only a group without colliders, which in UsdPhysics
(PhysX) filters nothing; Newton's USD importer turns each into its own collision group id and the
ground plane gets group 1, so only the head (group 1) touched the ground and the body fell through
the floor (seen: feet at -0.41 m, the torso in free fall, the episode ended after 19 steps).
Without them every collider is in Newton's default group, colliding with the ground and with
non-adjacent links (Isaac Lab's config enables self-collisions), as UsdPhysics reads the file.

Class ``same-model``: NVIDIA's own humanoid description converted by NVIDIA's importer; NVIDIA's
``humanoid_instanceable.usd`` itself (instanced visuals, Isaac Sim's prim layout) was not compared.

Check (:func:`check_humanoid`, 2 environments, Newton on the CPU): the task drives joint torques, so
under zero action the humanoid only has ``HUMANOID_CFG``'s weak joint springs and falls. Measured:
obs 87 / act 21 (the review's), 21 joints named as ``JOINT_GEARS`` expects (none left at a unit
gear), 16 bodies, 40.844 kg; torso at 1.34 m after reset; the feet land (lowest foot body origin
0.019 m above the ground, foot capsule radius 0.027 m; before the collision-group fix -0.41 m), the
torso sinks while the feet stay on the ground, and the task's own termination (torso below 0.8 m)
ends the two episodes after 0.80 s and 0.67 s (48 and 40 steps; in free fall through the floor it
was 0.32 s); observations finite.
A short PPO run (16 environments, 64 timesteps) finished: episodes of 22-23 steps under the initial
random policy, 34.5 steps for the mean action.
"""

from __future__ import annotations

import math

from tasks.robots import usd_edit
from tasks.robots.recipe import SAME_MODEL, AssetBuild, BuildContext, Expect, InstalledFile
from tasks.robots.simcheck import Check

HUMANOID = "Isaac/Robots/IsaacSim/Humanoid/humanoid_instanceable.usd"

# Newton's file names its five hinge joints after the MJCF joints; Isaac Lab's config (HUMANOID_CFG's
# actuator expressions and JOINT_GEARS in isaaclab_tasks/core/locomotion/humanoid/humanoid_common.py)
# names them after their child bodies, as the file already names its D6 joints.
RENAME = {"abdomen_x": "pelvis", "right_knee": "right_shin", "left_knee": "left_shin",
          "right_elbow": "right_lower_arm", "left_elbow": "left_lower_arm"}

BODIES = ("torso", "head", "lower_waist", "pelvis", "right_thigh", "right_shin", "right_foot", "left_thigh",
          "left_shin", "left_foot", "right_upper_arm", "right_lower_arm", "right_hand", "left_upper_arm",
          "left_lower_arm", "left_hand")

# the 21 joint axes as Isaac Lab reports them on Newton (a D6 joint's axes get ":0", ":1", ...)
JOINTS = tuple(sorted(("lower_waist:0", "lower_waist:1", "pelvis", *(
    f"{side}_{j}" for side in ("left", "right") for j in (
        "thigh:0", "thigh:1", "thigh:2", "shin", "foot:0", "foot:1", "upper_arm:0", "upper_arm:1", "lower_arm")))))

# MuJoCo 3.12's body masses for the same geometry (newton's nv_humanoid.xml, density 1000), summed
MJCF_MASS_KG = 40.844
INIT_HEIGHT = 1.34  # HUMANOID_CFG.init_state.pos[2]


def collider_mass(stage) -> float:
    """Total mass of the robot's colliders at their bodies' density (capsules and spheres; the
    file authors ``physics:density`` per body and no masses)."""
    from pxr import Usd, UsdGeom, UsdPhysics  # noqa: PLC0415

    total = 0.0
    for body in Usd.PrimRange(stage.GetDefaultPrim()):
        if not body.HasAPI(UsdPhysics.RigidBodyAPI):
            continue
        density = UsdPhysics.MassAPI(body).GetDensityAttr().Get() or 1000.0
        for prim in Usd.PrimRange(body):
            if not prim.HasAPI(UsdPhysics.CollisionAPI):
                continue
            if prim.IsA(UsdGeom.Capsule):
                cap = UsdGeom.Capsule(prim)
                r, h = cap.GetRadiusAttr().Get(), cap.GetHeightAttr().Get()
                volume = math.pi * r * r * h + 4.0 / 3.0 * math.pi * r ** 3
            elif prim.IsA(UsdGeom.Sphere):
                volume = 4.0 / 3.0 * math.pi * UsdGeom.Sphere(prim).GetRadiusAttr().Get() ** 3
            else:
                raise ValueError(f"unexpected collider {prim.GetPath()} ({prim.GetTypeName()})")
            total += density * volume
    return total


def make_humanoid(ctx: BuildContext) -> list[str]:
    from pxr import Sdf, UsdPhysics  # noqa: PLC0415

    stage = usd_edit.open_flat(ctx.src)
    scene = usd_edit.remove_prims(stage, lambda p: p.IsA(UsdPhysics.Scene))
    groups = usd_edit.remove_prims(stage, lambda p: p.IsA(UsdPhysics.CollisionGroup))
    joints = stage.GetDefaultPrim().GetPath().AppendChild("joints")
    edit = Sdf.BatchNamespaceEdit()
    for old, new in RENAME.items():
        edit.Add(Sdf.NamespaceEdit.Rename(joints.AppendChild(old), new))
    if not stage.GetRootLayer().Apply(edit):
        raise RuntimeError("renaming the humanoid's joints failed")
    mass = collider_mass(stage)
    if abs(mass - MJCF_MASS_KG) > 0.01 * MJCF_MASS_KG:
        raise RuntimeError(f"the humanoid's colliders weigh {mass:.3f} kg, not the nv_humanoid's {MJCF_MASS_KG} kg")
    usd_edit.export(stage, ctx.dest)
    return [f"removed {len(scene)} prim(s): {', '.join(scene)}",
            f"removed {len(groups)} PhysicsCollisionGroup prims (Newton read each as its own collision group, "
            "so the feet passed through the ground)",
            "renamed 5 hinge joints to Isaac Lab's names: " + ", ".join(f"{o} -> {n}" for o, n in RENAME.items()),
            f"masses from density 1000 (none authored): colliders weigh {mass:.3f} kg in all"]


ASSETS = (
    AssetBuild("humanoid", HUMANOID, SAME_MODEL,
               InstalledFile("newton", "newton", ("examples", "assets", "humanoid.usda")), make_humanoid,
               # only the hinge joints: the 2- and 3-axis joints are D6 prims, which inspect_usd does not
               # count (check_humanoid checks all 21 axes); no mass range: the file authors densities only
               # (make_humanoid checks the colliders' total)
               Expect(tuple(RENAME.values()), BODIES),
               "NVIDIA's nv_humanoid (IsaacGymEnvs' MJCF) as Isaac Sim's MJCF importer wrote it, shipped in newton; "
               "joint ranges, gains, gears and masses checked"),
)


def check_humanoid(handle, seconds: float = 3.0) -> dict:
    """Reset, then zero action (zero joint effort) for up to ``seconds``: the torso starts at the
    config's height, the feet land on the ground instead of passing through it, and the task's own
    termination (torso below ``termination_height``) ends every episode; structure and dims too."""
    import torch  # noqa: PLC0415

    env = handle.unwrapped
    art = env.scene["robot"]
    names = list(art.joint_names)
    gears = [float(g) for g in env.joint_gears]
    limits = art.data.joint_pos_limits.torch[0]
    hip_y = [round(math.degrees(float(v))) for v in limits[names.index("left_thigh:1")]]
    feet = art.find_bodies(["left_foot", "right_foot"])[0]
    handle.env.reset()
    start = art.data.root_pos_w.torch[:, 2] - env.scene.env_origins[:, 2]
    zero = torch.zeros(handle.num_envs, handle.act_dim)
    steps = int(round(seconds / env.step_dt))
    ended_at = torch.full((handle.num_envs,), -1)
    lowest_foot, lowest_body, finite = math.inf, math.inf, True
    for i in range(steps):
        obs, _, terminated, truncated, _ = handle.env.step(zero)
        finite &= bool(torch.isfinite(obs).all())
        done = (terminated | truncated).view(-1).cpu()
        ended_at[(ended_at < 0) & done] = i + 1
        live = ~done  # bodies of an ended episode are already back at the spawn pose
        z = art.data.body_pos_w.torch[..., 2] - env.scene.env_origins[:, 2:3]
        if live.any():
            lowest_foot = min(lowest_foot, float(z[live][:, feet].min()))
            lowest_body = min(lowest_body, float(z[live].min()))
        if (ended_at > 0).all():
            break
    out = {"joint_names_match": sorted(names) == list(JOINTS), "unit_gears": sum(g == 1.0 for g in gears),
           "hip_y_gear": gears[names.index("left_thigh:1")], "hip_y_range_deg": hip_y,
           "torso_height_reset": round(float(start.min()), 4), "termination_height": env.cfg.termination_height,
           "ended_after_s": [round(int(s) * env.step_dt, 3) if s > 0 else None for s in ended_at],
           "lowest_foot_body_z": round(lowest_foot, 4), "lowest_body_z": round(lowest_body, 4),
           "obs_finite": finite}
    ended = (ended_at > 0).all()
    out["problems"] = [p for p, bad in (
        (f"joints {sorted(names)} are not {list(JOINTS)}", not out["joint_names_match"]),
        (f"{out['unit_gears']} joint(s) not matched by JOINT_GEARS", out["unit_gears"] > 0),
        (f"hip y axis has gear {out['hip_y_gear']} and range {hip_y} (wanted 135, [-120, 45])",
         out["hip_y_gear"] != 135.0 or hip_y != [-120, 45]),
        (f"{art.num_bodies} bodies (wanted {len(BODIES)})", art.num_bodies != len(BODIES)),
        (f"mass {float(art.data.body_mass.torch[0].sum()):.3f} kg (wanted {MJCF_MASS_KG})",
         abs(float(art.data.body_mass.torch[0].sum()) - MJCF_MASS_KG) > 0.05),
        (f"torso at {out['torso_height_reset']} m after reset (wanted {INIT_HEIGHT})",
         abs(out["torso_height_reset"] - INIT_HEIGHT) > 0.01),
        (f"a foot went {out['lowest_foot_body_z']} m below the ground", out["lowest_foot_body_z"] < -0.02),
        (f"not every episode ended within {seconds} s under zero action", not ended),
        ("observations not finite", not finite)) if bad]
    return out


CHECKS = {"humanoid": Check(check_humanoid)}
