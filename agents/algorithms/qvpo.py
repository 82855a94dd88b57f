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
original, so they have no effect there and none here. The original runs this path only with its
README's flags ``--weighted --aug`` (without them it falls back to a DIPO-like action gradient).
Every choice beside the review and the original: ``FIDELITY`` below and ``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses

import torch

from agents.catalogue import Algorithm
from agents.bases.off_policy import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig, init_setting
from agents.diffusion.sampler import denoising_loss
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.fidelity import MATH, PROFILES, Fidelity, Procedure, acts, noise_schedule, x0_clamp
from agents.settings import AT_LEAST_ONE, NON_NEGATIVE, Original, setting

_T9 = "review Table 9 (QVPO)"
_CODE = "QVPO original"


@dataclasses.dataclass(frozen=True)
class QVPOConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(20, _T9)
    time_embedding_dim: int = time_embedding_dim(32, f"{_CODE} (agent/model.py: SinusoidalPosEmb(32))")
    time_hidden: int = time_hidden(256, f"{_CODE} (agent/model.py: time MLP 32-256-32, Mish)")
    init: str = init_setting("normal", f"{_CODE} (agent/helpers.py init_weights, as it runs); the review does not say")
    sampling_number: int = setting(64, _T9, AT_LEAST_ONE, "chain samples per state in an update")
    batch_sampling_number: int = setting(10, _T9, NON_NEGATIVE, "uniform entropy actions per state in an update")
    entropy_weight: float = setting(0.02, _T9, NON_NEGATIVE, "initial entropy coefficient")
    entropy_weight_final: float = setting(0.002, f"{_CODE} (linear decay to this floor)", NON_NEGATIVE,
                                          "floor of the linearly decaying entropy coefficient")
    explore_candidates: int = setting(4, _CODE, AT_LEAST_ONE, "chain samples per state when acting (best by Q)")
    eval_candidates: int = setting(32, _CODE, AT_LEAST_ONE, "chain samples per state when evaluating")
    target_candidates: int = setting(4, _CODE, AT_LEAST_ONE, "target-actor samples per state for the TD target")

    ORIGINAL = {
        "actor_lr": Original(1e-4, "main.py --diffusion_lr"),
        "critic_lr": Original(3e-4, "main.py --critic_lr"),
        "actor_hidden": Original([256, 256, 256], "agent/model.py Model: three Mish layers of 256"),
        "critic_hidden": Original([256, 256, 256], "agent/model.py Critic: three Mish layers of 256 per Q"),
        "grad_norm_clip": Original(2.0, "main.py --ac_grad_norm, applied to actor and critic separately"),
        "batch_size": Original(256, "main.py --batch_size (critic and actor batches)"),
        "gradient_steps": Original(1.0, "main.py: one update per environment step, from one environment"),
        "gradient_steps_per": Original("transition", "main.py: a single gym environment, so per transition"),
    }


def best_of(critic, state: torch.Tensor, candidates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, s], [B, N, a] -> the best candidate per state under min(Q1, Q2) ([B, a]) and all Q ([B, N])."""
    batch, num, act_dim = candidates.shape
    q = critic.min_q(state.repeat_interleave(num, dim=0), candidates.reshape(batch * num, act_dim)).view(batch, num)
    best = q.argmax(dim=1)
    return candidates[torch.arange(batch, device=state.device), best], q


def weighted_batch(states, best, weights, uniform, coef: float):
    """The rows of QVPO's weighted denoising loss (review Eq. 16): each state's best action with
    weight w, and its ``m`` uniform actions (``uniform`` [B m, a], state-major) with weight coef x w.
    Returns (actions, states, weights); the loss is their weighted mean, not normalised."""
    m = uniform.shape[0] // states.shape[0]
    return (torch.cat([best, uniform]), torch.cat([states, states.repeat_interleave(m, dim=0)]),
            torch.cat([weights, coef * weights.repeat_interleave(m)]))


def qvpo_weights(q: torch.Tensor) -> torch.Tensor:
    """[B, N] candidate values -> [B] weights max(max_i q_i - mean_i q_i, 0) for the best candidate."""
    return (q.max(dim=1).values - q.mean(dim=1)).clamp(min=0)


class QVPO(DiffusionOffPolicyAgent):
    schedule_kind = "cosine"
    evaluation_policy = "best of eval_candidates (32) chain samples by min(Q1, Q2) (as the original)"

    @torch.no_grad()
    def _best(self, critic, obs: torch.Tensor, num: int) -> torch.Tensor:
        return best_of(critic, obs, self.sample_actions(self.actor, obs, num=num))[0]

    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        return self._best(self.critic, obs, self.config.explore_candidates)

    def evaluate_action(self, obs: torch.Tensor) -> torch.Tensor:
        return self._best(self.critic, obs, self.config.eval_candidates)

    @torch.no_grad()
    def critic_target(self, next_obs: torch.Tensor) -> torch.Tensor:
        candidates = self.sample_actions(self.target_actor, next_obs, num=self.config.target_candidates)
        return self.target_critic.min_q(next_obs, best_of(self.target_critic, next_obs, candidates)[0])

    def entropy_coefficient(self, timestep: int, timesteps: int) -> float:
        """The original's schedule: max(floor, w0 (1 - t / T)), reaching the floor at 0.9 T."""
        start = self.config.entropy_weight
        return max(self.config.entropy_weight_final, start * (1 - timestep / max(timesteps, 1)))

    def update_actor(self, timestep, timesteps) -> None:
        s = self.sample_batch()[1]["observations"]  # a batch of its own; stored actions are not used
        with torch.no_grad():
            best, q = best_of(self.critic, s, self.sample_actions(self.actor, s, num=self.config.sampling_number))
            w = qvpo_weights(q)
            m = self.config.batch_sampling_number
            uniform = torch.rand(s.shape[0] * m, self.act_dim, device=s.device) * 2 - 1
            coef = self.entropy_coefficient(timestep, timesteps)
        loss = denoising_loss(self.actor, self.schedule, *weighted_batch(s, best, w, uniform, coef))
        self.step_actor(loss)
        self.track_data("Loss / Policy loss", loss.detach())
        self.track_data("Policy / Q weight (mean)", w.mean().detach())


FIDELITY = Fidelity(
    repository="wadx2019/qvpo at commit 40a1974 (agent/qvpo.py, agent/diffusion.py, agent/q_transform.py, main.py), "
               "run with its README's --weighted --aug",
    tests={"polyak": MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates",
           "entropy_weight": MATH + "test_qvpo_entropy_coefficient_decays_linearly_to_its_floor",
           "entropy_weight_final": MATH + "test_qvpo_entropy_coefficient_decays_linearly_to_its_floor",
           "init": PROFILES + "test_initialisation_schemes",
           "gradient_steps_per": PROFILES + "test_update_ratio_per_transition"},
    resolve_only={"running Q mean/std, alpha mean/std": "not kept: only Q transforms other than qadv read them"},
    procedures=(
        noise_schedule("cosine (s = 0.008, betas clipped at 0.999)", "agent/helpers.py cosine_beta_schedule"),
        x0_clamp("agent/diffusion.py p_mean_variance (clip_denoised) and sample"),
        Procedure("target-update frequency", "Table 9: 1", "the target actor and critic Polyak-averaged after every "
                  "update", "agent/qvpo.py train", "the same: every update",
                  MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates"),
        Procedure("Q weights", "Eq. 16: w = max(Q(s, a*) - mean Q, 0)", "qadv: the best of 64 chain samples by "
                  "min(Q1, Q2) after this update's critic step, advantage over their mean clamped at 0, not "
                  "normalised", "agent/q_transform.py QAdv; agent/qvpo.py action_aug",
                  "the same (qvpo_weights, best_of)", MATH + "test_qvpo_weights_on_a_hand_built_batch"),
        Procedure("entropy term", "Table 9: batch sampling number 10, entropy weight 0.02",
                  "10 uniform actions per state, weight w x a coefficient decaying linearly from 0.02 to a floor "
                  "of 0.002 at 90% of the run", "agent/qvpo.py action_aug; main.py (entropy_alpha)",
                  "the same, decay over the run's vectorized steps",
                  MATH + "test_qvpo_actor_loss_on_a_fixed_batch"),
        Procedure("actor loss", "Eq. 16", "weighted epsilon-MSE, a plain mean over the chosen and uniform rows",
                  "agent/diffusion.py loss; agent/helpers.py WeightedL2", "the same",
                  MATH + "test_qvpo_actor_loss_on_a_fixed_batch"),
        Procedure("running Q mean/std, alpha mean/std", "Table 9: 1 / 0, 0.001 / 0.001",
                  "initialised 0 / 1 (the review's are swapped) and read only by Q transforms other than qadv",
                  "agent/qvpo.py __init__; agent/q_transform.py", "not kept: no effect under qadv", ""),
        Procedure("acting, evaluation, TD target", "not stated", "best of 4 chain samples by the critic; best of "
                  "32 to evaluate (noise kept); target actor's best of 4 by the target critic; time-outs terminal",
                  "main.py --behavior_sample, --eval_sample, --target_sample; main.py mask",
                  "the same, but time-outs bootstrap from the true final observation (not copied: a bug)",
                  MATH + "test_best_of_picks_the_highest_q_candidate"),
        Procedure("observation normalisation", "not stated", "none", "main.py",
                  "none in both profiles (observation_normalization)", acts("qvpo", "observation_normalization")),
        Procedure("warm-up and replay size", "Table 12: 4 random-action steps, buffer 4096",
                  "10,000 random transitions, buffer 1e6", "main.py --start_steps, --buffer_size",
                  "the review's in both profiles", acts("qvpo", "random_timesteps", "memory_size")),
    ),
)

ALGORITHM = Algorithm(QVPOConfig, QVPO, label="QVPO", color="#8c564b", family="diffusion: Q-weighting", order=6,
                      revision=2, fidelity=FIDELITY)
