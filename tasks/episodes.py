"""Per-episode sums over vectorized environments: the one episode accumulator of the harness.

Each step adds per-environment values (a reward, tracking errors, ...) to running sums; when an
environment's episode ends, its sums and length are *counted* and its running sums start again.
With ``per_env`` set, only each environment's first ``per_env`` episodes are counted (evaluation:
short failing episodes cannot crowd out long ones). Counted episodes feed device-side totals (count,
sum, sum of squares, length), read without a host sync per step (the training loop), and, with
``keep``, each counted episode's row (sums, length, terminated) is kept for per-episode results
(evaluations; keeping one costs a host sync on steps where an episode ends).

Used by the training loop (returns per log interval), the final evaluation (every episode's return)
and the zero-shot metrics (:mod:`tasks.metrics`: Alive, L-MAE, A-MAE).
"""

from __future__ import annotations

import math

import torch


class EpisodeAccumulator:
    def __init__(self, num_envs: int, fields: int = 1, *, device="cpu", per_env: int | None = None,
                 keep: bool = False):
        self.per_env, self.keep = per_env, keep
        self.running = torch.zeros(num_envs, fields, device=device)
        self.length = torch.zeros(num_envs, device=device)
        self.finished = torch.zeros(num_envs, dtype=torch.long, device=device)
        self._rows: list[torch.Tensor] = []  # kept episodes: (k, fields + 2): sums, length, terminated
        self.reset_totals()

    def restart(self) -> None:
        """Every environment was reset outside training: the episodes under way are not counted."""
        self.running.zero_()
        self.length.zero_()

    def reset_totals(self) -> None:
        """Zero the totals of counted episodes (the kept rows stay)."""
        device = self.running.device
        self.count = torch.zeros((), device=device)
        self.total = torch.zeros(self.running.shape[1], device=device)
        self.total_sq = torch.zeros(self.running.shape[1], device=device)
        self.length_total = torch.zeros((), device=device)

    @property
    def done(self) -> bool:
        """Whether every environment has finished its ``per_env`` episodes (a host sync)."""
        return self.per_env is not None and bool((self.finished >= self.per_env).all())

    def step(self, values: torch.Tensor, done: torch.Tensor, terminated: torch.Tensor | None = None) -> None:
        """Add one step: ``values`` (N,) or (N, fields), ``done`` (N,) episodes that ended with this
        step (``terminated`` (N,): those that ended by a termination rather than a time-out)."""
        self.running += values.view(self.running.shape)
        self.length += 1
        done = done.view(-1).bool()
        counted = done & (self.finished < self.per_env) if self.per_env is not None else done
        c = counted.float()
        self.count += c.sum()
        self.total += (self.running * c.unsqueeze(1)).sum(0)
        self.total_sq += (self.running.square() * c.unsqueeze(1)).sum(0)
        self.length_total += (self.length * c).sum()
        if self.keep and bool(counted.any()):
            term = terminated.view(-1).bool() if terminated is not None else torch.zeros_like(done)
            self._rows.append(torch.cat([self.running[counted], self.length[counted].unsqueeze(1),
                                         term[counted].float().unsqueeze(1)], dim=1))
        self.finished += done.long()
        keep_running = (~done).float()
        self.running *= keep_running.unsqueeze(1)
        self.length *= keep_running

    def summary(self, field: int = 0) -> dict[str, float]:
        """Counted episodes since the last :meth:`reset_totals`: count, mean, population std of the
        sums of ``field``, mean length (NaN when none ended)."""
        n = float(self.count)
        if n == 0:
            return {"episodes": 0, "mean": math.nan, "std": math.nan, "length_mean": math.nan}
        mean = float(self.total[field]) / n
        var = max(float(self.total_sq[field]) / n - mean * mean, 0.0)
        return {"episodes": int(n), "mean": mean, "std": math.sqrt(var), "length_mean": float(self.length_total) / n}

    def rows(self) -> torch.Tensor:
        """Kept episodes in the order they ended, (k, fields + 2): sums, length, terminated (on the CPU)."""
        width = self.running.shape[1] + 2
        return torch.cat(self._rows).cpu() if self._rows else torch.zeros(0, width)
