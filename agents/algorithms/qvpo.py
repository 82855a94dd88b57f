"""QVPO (Ding et al. 2024; review Sec. 2.2, Q-weighting family): fit the diffusion policy to its own
best samples, weighted by how much better than average they are under Q.

Per update, for each state of the batch: draw ``sampling_number`` (64) actions with the full chain in
one batched call, keep the best under Q, weight w = max(Q(s, a*) - mean_i Q(s, a_i), 0) (the
advantage over the policy's own samples, clipped at 0). Entropy term: ``batch_sampling_number`` (10)
uniform random actions per state, fitted with weight w times an entropy coefficient that decays
linearly from ``entropy_weight`` (0.02) to a floor of 0.002 (reached at 90% of training). Loss: the weighted
epsilon-MSE over the chosen and the uniform actions (review Eq. 3 with weights; a plain mean, the
weights are not normalised, as the original). Acting: best of 4 chain samples by Q while exploring,
best of 32 at evaluation; TD target: the best of 4 target-actor samples by the target critic. Cosine
schedule, K = 20 (review Table 9). Q is min(Q1, Q2) throughout. The review's "alpha mean / std" and
"running q mean / std" feed only Q transforms other than the default advantage ("qadv") in the
original, so they have no effect there and none here.
"""

from __future__ import annotations

import dataclasses

import torch

from agents.catalogue import Algorithm
from agents.diffusion.off_policy_base import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig
from agents.diffusion.sampler import denoising_loss, sample
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.settings import AT_LEAST_ONE, NON_NEGATIVE, setting

_T9 = "review Table 9 (QVPO)"
_CODE = "QVPO original"


@dataclasses.dataclass(frozen=True)
class QVPOConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(20, _T9)
    time_embedding_dim: int = time_embedding_dim(32, _CODE)
    time_hidden: int = time_hidden(256, _CODE)
    sampling_number: int = setting(64, _T9, AT_LEAST_ONE, "chain samples per state in an update")
    batch_sampling_number: int = setting(10, _T9, NON_NEGATIVE, "uniform entropy actions per state in an update")
    entropy_weight: float = setting(0.02, _T9, NON_NEGATIVE, "initial entropy coefficient")
    entropy_weight_final: float = setting(0.002, f"{_CODE} (linear decay to this floor)", NON_NEGATIVE,
                                          "floor of the linearly decaying entropy coefficient")
    explore_candidates: int = setting(4, _CODE, AT_LEAST_ONE, "chain samples per state when acting (best by Q)")
    eval_candidates: int = setting(32, _CODE, AT_LEAST_ONE, "chain samples per state when evaluating")
    target_candidates: int = setting(4, _CODE, AT_LEAST_ONE, "target-actor samples per state for the TD target")


def best_of(critic, state: torch.Tensor, candidates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, s], [B, N, a] -> the best candidate per state under min(Q1, Q2) ([B, a]) and all Q ([B, N])."""
    batch, num, act_dim = candidates.shape
    q = critic.min_q(state.repeat_interleave(num, dim=0), candidates.reshape(batch * num, act_dim)).view(batch, num)
    best = q.argmax(dim=1)
    return candidates[torch.arange(batch, device=state.device), best], q


def qvpo_weights(q: torch.Tensor) -> torch.Tensor:
    """[B, N] candidate values -> [B] weights max(max_i q_i - mean_i q_i, 0) for the best candidate."""
    return (q.max(dim=1).values - q.mean(dim=1)).clamp(min=0)


class QVPO(DiffusionOffPolicyAgent):
    schedule_kind = "cosine"
    evaluation_policy = "best of eval_candidates (32) chain samples by min(Q1, Q2) (as the original)"

    @torch.no_grad()
    def _best(self, critic, obs: torch.Tensor, num: int) -> torch.Tensor:
        return best_of(critic, obs, sample(self.actor, self.schedule, obs, num=num))[0]

    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        return self._best(self.critic, obs, self.config.explore_candidates)

    def evaluate_action(self, obs: torch.Tensor) -> torch.Tensor:
        return self._best(self.critic, obs, self.config.eval_candidates)

    @torch.no_grad()
    def critic_target(self, next_obs: torch.Tensor) -> torch.Tensor:
        candidates = sample(self.target_actor, self.schedule, next_obs, num=self.config.target_candidates)
        return self.target_critic.min_q(next_obs, best_of(self.target_critic, next_obs, candidates)[0])

    def entropy_coefficient(self, timestep: int, timesteps: int) -> float:
        """The original's schedule: max(floor, w0 (1 - t / T)), reaching the floor at 0.9 T."""
        start = self.config.entropy_weight
        return max(self.config.entropy_weight_final, start * (1 - timestep / max(timesteps, 1)))

    def update_actor(self, timestep, timesteps) -> None:
        s = self.sample_batch()[1]["observations"]  # a batch of its own; stored actions are not used
        with torch.no_grad():
            best, q = best_of(self.critic, s, sample(self.actor, self.schedule, s, num=self.config.sampling_number))
            w = qvpo_weights(q)
            m = self.config.batch_sampling_number
            uniform = torch.rand(s.shape[0] * m, self.act_dim, device=s.device) * 2 - 1
            coef = self.entropy_coefficient(timestep, timesteps)
        actions = torch.cat([best, uniform])
        states = torch.cat([s, s.repeat_interleave(m, dim=0)])
        weights = torch.cat([w, coef * w.repeat_interleave(m)])
        loss = denoising_loss(self.actor, self.schedule, actions, states, weights=weights)
        self.step_actor(loss)
        self.track_data("Loss / Policy loss", loss.item())
        self.track_data("Policy / Q weight (mean)", w.mean().item())


ALGORITHM = Algorithm(QVPOConfig, QVPO, label="QVPO", color="#8c564b", family="diffusion: Q-weighting", order=6)
