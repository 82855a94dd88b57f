"""Zero-shot KPIs of the review's Sec. 4.5-4.6: Alive, L-MAE and A-MAE, per episode, then averaged.

The review: "Average Lifespan (Alive) before falling, linear mean absolute error (L-MAE), and angular
mean absolute error (A-MAE) between commanded and actual movement" (Sec. 4.5; Table 7, Fig. 7). It
gives no formula; ours, in Isaac Lab's terms (commands and velocities in the robot's base frame, as
the velocity task's observations and tracking rewards use them):

**Per control step t** of an episode (the policy sees observation o_t, the env applies a_t for
``decimation`` physics steps): c_t = (c_x, c_y, c_w) is the velocity command in o_t (the one the
policy acts on; with heading control Isaac Lab recomputes c_w every step), v_t = (v_x, v_y) the base
linear velocity and w_t the base yaw rate at the *end* of that step, before any reset (so the step
that ends an episode is measured on the robot that fell, not on the reset one).

- linear error  e_lin,t = ( |c_x - v_x| + |c_y - v_y| ) / 2   [m/s], the mean absolute error over
  the two components, read literally ("mean absolute error");
- angular error e_ang,t = |c_w - w_t|   [rad/s].

**Per episode** of L steps (L <= T, T the episode length in steps, 1000 for Isaac Lab's 20 s at 50 Hz):

- L-MAE = (1/L) sum_t e_lin,t;  A-MAE = (1/L) sum_t e_ang,t  (mean over the steps lived);
- Alive = L if the episode ended by a non-time-out termination (a fall: Isaac Lab's ``terminated``),
  else T: a time-out (``truncated``, e.g. Spot's out-of-bounds, also flagged a time-out in Isaac Lab)
  counts as the full episode length.

**Aggregated**: mean and population standard deviation over episodes, each episode weighted equally.
Each environment contributes its first ``ceil(episodes / num_envs)`` episodes (as the training
evaluation), so short failing episodes cannot crowd out long ones.

Also kept, not in the review: ``l_err_l2`` = the same per-episode mean of the Euclidean norm
||c_xy - v_xy||, Isaac Lab's own ``error_vel_xy`` command metric, for comparison.
"""

from __future__ import annotations

import math

import torch

from tasks.episodes import EpisodeAccumulator

METRICS = ("alive", "l_mae", "a_mae")
EXTRA = ("l_err_l2",)


def step_errors(command: torch.Tensor, lin_vel_xy: torch.Tensor, yaw_rate: torch.Tensor):
    """(e_lin, e_ang, e_l2) per env for one step; command (N, 3), lin_vel_xy (N, 2), yaw_rate (N,)."""
    diff = command[:, :2] - lin_vel_xy
    return diff.abs().mean(dim=1), (command[:, 2] - yaw_rate).abs(), diff.norm(dim=1)


class EpisodeMetrics:
    """Vectorized per-episode accumulation over ``num_envs`` environments (on
    :class:`tasks.episodes.EpisodeAccumulator`)."""

    def __init__(self, num_envs: int, episodes_per_env: int, max_episode_steps: int, device="cpu"):
        self.max_steps = max_episode_steps
        self.acc = EpisodeAccumulator(num_envs, 3, device=device, per_env=episodes_per_env, keep=True)

    @property
    def done(self) -> bool:
        return self.acc.done

    def step(self, command, lin_vel_xy, yaw_rate, terminated, truncated) -> None:
        """Add one step (see the module docstring for which command and velocity)."""
        errors = torch.stack(step_errors(command, lin_vel_xy, yaw_rate), dim=1)  # e_lin, e_ang, e_l2
        terminated = terminated.view(-1).bool()
        self.acc.step(errors, terminated | truncated.view(-1).bool(), terminated)

    def episodes(self) -> dict[str, list[float]]:
        rows = self.acc.rows()  # sums of e_lin, e_ang, e_l2; length; terminated
        steps, fell = rows[:, 3], rows[:, 4].bool()
        alive = torch.where(fell, steps, torch.full_like(steps, float(self.max_steps)))
        means = rows[:, :3] / steps.clamp(min=1).unsqueeze(1)
        values = torch.cat([alive.unsqueeze(1), means], dim=1)
        return {key: values[:, i].tolist() for i, key in enumerate(METRICS + EXTRA)}

    def summary(self) -> dict[str, dict[str, float]]:
        return summarize(self.episodes())


def summarize(episodes: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """{metric: {"mean", "std"}} over episodes (population std; NaN when there are none)."""
    out = {}
    for key, values in episodes.items():
        t = torch.tensor(values, dtype=torch.float64)
        out[key] = ({"mean": float(t.mean()), "std": float(t.std(unbiased=False))} if t.numel()
                    else {"mean": math.nan, "std": math.nan})
    return out
