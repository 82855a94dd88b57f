"""FPO++ (Yi, Choi et al. 2026, "Flow Policy Gradients for Robot Control"): PPO for a flow policy
with conditional flow-matching losses in place of log-likelihoods (FPO, McAllister et al. 2025; the
review's Sec. 3.3.2, Eq. 21).

Acting: x1 ~ N(0, I) (exploration comes from the initial noise only), ``diffusion_steps`` Euler steps
of the velocity field (:mod:`agents.diffusion.flow_matching`), then Gaussian noise of std
``action_perturb_std`` (FPO++'s entropy regulariser); that perturbed action goes to the environment
and into the rollout memory with ``mc_samples`` (noise, time) pairs, t uniform in [0.005, 0.995],
and each pair's flow-matching loss under the acting policy, L_old (stored as the "log-probability"
-L_old). Update (:meth:`FPOPlusPlus.policy_loss`), with L_new the same pairs' losses now:

- both losses capped at 20 (``cfm_loss_clamp``), the log-ratio L_old - L_new capped at 10 from
  above in the forward pass only (a straight-through clamp: its gradient is the identity);
- the ratio per pair rho_m = exp(L_old,m - L_new,m) (``ratio_per = pair``, FPO++) or one per action
  rho = exp(mean_m L_old,m - mean_m L_new,m) (``action``, FPO's ``average_losses_before_exp``);
- advantages (normalised over the rollout) clamped to +-100 and given to every pair of their step;
- the trust region: ``aspo`` (FPO++): PPO's clipped objective min(rho A, clip(rho, 1 +- eps) A)
  for A > 0, the SPO objective rho A - |A| / (2 eps) (rho - 1)^2 for A <= 0; ``ppo`` (FPO): the
  clipped objective for both; the loss is minus the mean over pairs.

Memory: a stored step holds a + M a + M numbers and M old losses: at 1024 environments, 24 rollout
steps, M = 16 and a 12-dimensional action, 23.2 MB in all.

Evaluation integrates from x1 = 0 (FPO++'s ``eval_mode="zero"``; ``random``: from a draw of N(0, I)),
without the perturbation. Plain FPO is ``--set ratio_per=action trust_region=ppo cfm_reduction=mean``
(its playground also used 10 flow steps, 8 pairs). Every choice beside the original: ``FIDELITY``
below and ``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses

import torch

from agents import execution
from agents.bases.on_policy import ACTIVATIONS, LR_SCHEDULES, VALUE_LOSSES, OnPolicyAgent, OnPolicyAgentConfig
from agents.catalogue import Algorithm
from agents.diffusion.flow_matching import REDUCTIONS, T_RANGE, VelocityField
from agents.diffusion.settings import diffusion_steps
from agents.fidelity import ON_POLICY, Fidelity, Procedure
from agents.settings import AT_LEAST_ONE, HARNESS, NON_NEGATIVE, Original, Range, choices, \
    profile_setting, setting

_CODE = "FPO++ original (isaaclab_fpo)"
_CFG = f"{_CODE} rl_cfg.py / task_cfgs.py, Go2"
LOSS_CAP = 20.0  # fpo.py: cfm_loss_clamp (old and new losses; again for the new one where A < 0)
LOG_RATIO_CAP = 10.0  # fpo.py: the straight-through clamp of the log-ratio, from above
ADVANTAGE_CLAMP = 100.0  # fpo.py: after normalisation
TRUST_REGIONS = ("aspo", "ppo")
RATIO_PER = ("pair", "action")
EVAL_MODES = ("zero", "random")


@dataclasses.dataclass(frozen=True)
class FPOPlusPlusConfig(OnPolicyAgentConfig):
    """The review's Tables 10-11 for what every on-policy agent shares; FPO++'s own settings from its
    official Isaac Lab code (the review describes FPO, Eq. 21, and gives none)."""

    profile: str = profile_setting()
    activation: str = setting("elu", f"{_CFG}: activation (actor and critic)", choices(*ACTIVATIONS),
                              "hidden-layer activation of the velocity field and the value network")
    lr_schedule: str = setting("skrl", "review Table 11 (the desired KL every on-policy agent adapts to, here on "
                                       "the flow-matching ratio); the original keeps a constant rate",
                               choices(*LR_SCHEDULES), "the learning rate: KL-adaptive (skrl's rule, GenPO's) or fixed")
    value_loss: str = setting("max_clipped", f"{HARNESS} (as GenPO; the original's value loss is unclipped)",
                              choices(*VALUE_LOSSES), "how the value clip acts (value_clip = 0: unclipped)")
    entropy_coef: float = setting(0.0, "FPO/FPO++: no likelihood, so no entropy bonus (the original's kNN "
                                       "entropy term is off)", choices(0.0), "entropy bonus weight (none: 0)")
    diffusion_steps: int = diffusion_steps(64, f"{_CFG}: sampling_steps (FPO's playground: 10)")
    mc_samples: int = setting(16, f"{_CFG}: n_samples_per_action (32 for humanoids and Spot; FPO: 8)",
                              AT_LEAST_ONE, "(noise, time) pairs per action in the flow-matching ratio")
    trust_region: str = setting("aspo", f"{_CFG}: trust_region_mode", choices(*TRUST_REGIONS),
                                "aspo: PPO clip for positive advantages, SPO for the rest (FPO++); ppo: FPO's")
    ratio_per: str = setting("pair", f"{_CFG}: one ratio per (noise, time) pair", choices(*RATIO_PER),
                             "pair: FPO++'s per-pair ratios; action: FPO's ratio of the mean losses")
    cfm_reduction: str = setting("sqrt", f"{_CFG}: cfm_loss_reduction", choices(*REDUCTIONS),
                                 "over the action: sum / sqrt(dim) (FPO++) or mean (FPO)")
    action_perturb_std: float = setting(0.02, f"{_CFG}: action_perturb_std", NON_NEGATIVE,
                                        "std of the Gaussian noise added to the sampled action while acting")
    eval_mode: str = setting("zero", f"{_CFG}: act_inference eval_mode (both are logged there)",
                             choices(*EVAL_MODES), "evaluation from zero initial noise, or from a random draw")
    time_embedding_dim: int = setting(8, f"{_CFG}: fixed Fourier time features, 4 frequencies",
                                      Range(low=2, even=True), "Fourier time features [cos(2^j t), sin(2^j t)]")

    ORIGINAL = {
        "ratio_clip": Original(0.05, f"{_CFG}: clip_param (FPO's playground: 0.05 too)"),
        "actor_lr": Original(1e-4, f"{_CFG}: learning_rate (AdamW, weight decay 1e-4)"),
        "actor_hidden": Original([256, 256, 256], f"{_CFG}: actor_hidden_dims"),
        "critic_hidden": Original([768, 768, 768], f"{_CFG}: critic_hidden_dims"),
        "rollouts": Original(24, f"{_CFG}: num_steps_per_env"),
        "learning_epochs": Original(16, f"{_CFG}: num_learning_epochs (32 for Spot, H1, G1)"),
        "mini_batches": Original(4, f"{_CFG}: num_mini_batches"),
        "discount": Original(0.99, f"{_CFG}: gamma"),
        "gae_lambda": Original(0.95, f"{_CFG}: lam"),
        "value_clip": Original(0.0, f"{_CFG}: unclipped value loss"),
        "value_loss_coef": Original(1.0, f"{_CFG}: value_loss_coef (0.5 for Spot)"),
        "grad_norm_clip": Original(1.0, f"{_CFG}: max_grad_norm"),
        "observation_normalization": Original(True, f"{_CFG}: empirical_normalization"),
        "value_normalization": Original(False, f"{_CODE} (rsl-rl: no value normalization)"),
        "lr_schedule": Original("fixed", f"{_CFG}: schedule fixed"),
    }


def straight_through_cap(x: torch.Tensor, cap: float) -> torch.Tensor:
    """min(x, cap) in the forward pass, the identity's gradient in the backward pass."""
    return x + (x.clamp(max=cap) - x).detach()


class FPOPlusPlus(OnPolicyAgent):
    """FPO++ on the on-policy base: the stored action carries its (noise, time) pairs, the stored
    "log-probability" is -L_old per pair, the surrogate :meth:`policy_loss`."""

    evaluation_policy = "the flow integrated from zero (eval_mode zero) or random initial noise, unperturbed"

    def __init__(self, cfg: FPOPlusPlusConfig, *, observation_space, action_space, num_envs: int, device: str):
        act_dim, pairs = int(action_space.shape[0]), cfg.mc_samples
        super().__init__(cfg, observation_space=observation_space, action_space=action_space, num_envs=num_envs,
                         device=device, stored_action_dim=act_dim + pairs * act_dim + pairs, log_prob_dim=pairs)

    def make_policy(self, cfg: FPOPlusPlusConfig) -> torch.nn.Module:
        return VelocityField(self.obs_dim, self.act_dim, cfg.actor_hidden, cfg.time_embedding_dim,
                             activation=ACTIVATIONS[cfg.activation])

    def split(self, stored: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A stored row -> (action [B, a], noise [B, M, a], time [B, M])."""
        a, m = self.act_dim, self.config.mc_samples
        return stored[:, :a], stored[:, a:a + m * a].view(-1, m, a), stored[:, a + m * a:]

    @torch.no_grad()
    def sample(self, obs):
        cfg = self.config
        action = self.policy.sample(obs, torch.randn(obs.shape[0], self.act_dim, device=obs.device),
                                    cfg.diffusion_steps)
        action = action + cfg.action_perturb_std * torch.randn_like(action)
        eps = torch.randn(obs.shape[0], cfg.mc_samples, self.act_dim, device=obs.device)
        t = T_RANGE[0] + (T_RANGE[1] - T_RANGE[0]) * torch.rand(obs.shape[0], cfg.mc_samples, device=obs.device)
        stored = torch.cat([action, eps.flatten(1), t], dim=-1)
        return action, stored, self.log_prob(obs, stored)

    def log_prob(self, obs, stored):
        """-L per pair, each loss capped at ``LOSS_CAP``: what stands in for log pi in the ratio."""
        action, eps, t = self.split(stored)
        return -self.policy.cfm_losses(obs, action, eps, t, self.config.cfm_reduction).clamp(max=LOSS_CAP)

    def policy_loss(self, log_ratio, advantages):
        """The module docstring's surrogate over [B, M] log-ratios L_old - L_new."""
        cfg = self.config
        if cfg.ratio_per == "action":
            log_ratio = log_ratio.mean(dim=-1, keepdim=True)
        ratio = straight_through_cap(log_ratio, LOG_RATIO_CAP).exp()
        adv = advantages.clamp(-ADVANTAGE_CLAMP, ADVANTAGE_CLAMP)
        objective = torch.min(adv * ratio, adv * ratio.clamp(1 - cfg.ratio_clip, 1 + cfg.ratio_clip))
        if cfg.trust_region == "aspo":
            spo = adv * ratio - adv.abs() / (2 * cfg.ratio_clip) * (ratio - 1).square()
            objective = torch.where(adv > 0, objective, spo)
        return -objective.mean()

    def kl_log_ratio(self, log_ratio):
        """Each pair's L_old - L_new: the pairs estimate one quantity, they are not factors of a
        density, so the pseudo-KL averages them."""
        return log_ratio

    def policy_stats(self, new_logp):
        return {"Policy / Flow-matching loss": -new_logp.mean()}

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        obs = self._observation_preprocessor(observations)
        draw = torch.zeros if self.config.eval_mode == "zero" else torch.randn
        return self.policy.sample(obs, draw(obs.shape[0], self.act_dim, device=obs.device), self.config.diffusion_steps)

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"velocity": self.policy.net, "value": self.value.net}

    def enable_compile(self) -> None:
        """The compiled path (agents.execution): the velocity and value networks."""
        execution.compile_modules(self.policy.net, self.value.net)


FIDELITY = Fidelity(
    repository="amazon-far/fpo-control, initial release cd38cea (isaaclab_experiments/isaaclab_fpo: "
               "algorithms/fpo.py, modules/actor_critic.py, rl_cfg.py, task_cfgs.py); FPO: akanazawa/fpo at 418c255",
    tests={"ratio_clip": ON_POLICY + "test_fpo_trust_region_on_hand_built_advantages",
           "trust_region": ON_POLICY + "test_fpo_trust_region_on_hand_built_advantages",
           "ratio_per": ON_POLICY + "test_fpo_ratio_is_the_exponentiated_loss_difference",
           "mc_samples": ON_POLICY + "test_fpo_ratio_is_the_exponentiated_loss_difference",
           "cfm_reduction": ON_POLICY + "test_fpo_cfm_loss_by_hand",
           "action_perturb_std": ON_POLICY + "test_fpo_explores_from_the_initial_noise_and_evaluates_from_zero",
           "diffusion_steps": ON_POLICY + "test_fpo_explores_from_the_initial_noise_and_evaluates_from_zero",
           "time_embedding_dim": ON_POLICY + "test_fpo_cfm_loss_by_hand",
           "eval_mode": ON_POLICY + "test_fpo_explores_from_the_initial_noise_and_evaluates_from_zero",
           "lr_schedule": ON_POLICY + "test_a_fixed_rate_stays_and_the_kl_rule_moves_it"},
    resolve_only={"entropy_coef": "0 is its only valid value: a flow policy has no likelihood to take an entropy of",
                  "EMA of the weights": "not done"},
    procedures=(
        Procedure("flow-matching ratio", "Eq. 21: r = exp(L_old - L_new)", "per (noise, time) pair, pairs and "
                  "L_old stored at rollout; losses capped at 20, the log-ratio at 10 (straight-through)",
                  "algorithms/fpo.py update", "the same",
                  ON_POLICY + "test_fpo_ratio_is_the_exponentiated_loss_difference"),
        Procedure("trust region", "Eq. 19's clip", "ASPO: PPO clip for A > 0, SPO for A <= 0; advantages "
                  "clamped to +-100 after normalisation", "algorithms/fpo.py update", "the same (trust_region)",
                  ON_POLICY + "test_fpo_trust_region_on_hand_built_advantages"),
        Procedure("time sampling", "not stated", "t = 0.005 + 0.99 u, u uniform (inverse-CDF beta 1)",
                  "algorithms/fpo.py act", "the same",
                  ON_POLICY + "test_fpo_ratio_is_the_exponentiated_loss_difference"),
        Procedure("optimizer", "Table 10: the actor's rate", "AdamW (weight decay 1e-4) over actor and critic, "
                  "one loss, one gradient clip", "rl_cfg.py", "Adam without weight decay (the base's, every "
                  "on-policy agent's), one loss, one gradient clip",
                  "tests/test_bases.py::test_one_adam_trains_policy_and_value_at_the_actor_rate"),
        Procedure("EMA of the weights", "not stated", "an exponential moving average (0.95, reset at update 500) "
                  "for checkpoints and evaluation; rollouts use the live weights", "algorithms/fpo.py",
                  "none: evaluation uses the live weights", ""),
        Procedure("minibatches", "Table 11: epochs, mini-batches", "one permutation reused for all epochs "
                  "(rsl-rl); advantages normalised over the rollout", "rsl-rl storage",
                  "a new permutation every epoch (skrl); advantages normalised over the rollout",
                  ON_POLICY + "test_fpo_trust_region_on_hand_built_advantages"),
        Procedure("evaluation", "not stated", "Euler from x1 = 0 (eval_mode zero), unperturbed",
                  "modules/actor_critic.py act_inference", "the same",
                  ON_POLICY + "test_fpo_explores_from_the_initial_noise_and_evaluates_from_zero"),
    ),
)

ALGORITHM = Algorithm(FPOPlusPlusConfig, FPOPlusPlus, label="FPO++", color="#393b79",
                      family="diffusion: proximity (flow-matching ratio)", order=10, fidelity=FIDELITY)
