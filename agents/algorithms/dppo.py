"""DPPO (Ren et al. 2024, "Diffusion Policy Policy Optimization"): PPO over the denoising chain.

The K denoising steps are an inner MDP (:mod:`agents.diffusion.denoising_mdp`): every step is a
Gaussian whose mean the denoiser predicts and whose std the noise schedule gives, floored at
``min_sampling_std`` while acting, so each step has an exact log-probability. Acting stores the
fine-tuned part of the chain ([fine_tuned + 1] x a per environment step) with each step's
log-probability; the update (:meth:`DPPO.policy_loss`) is PPO's clipped surrogate over every
(environment step, denoising step) pair, with

- the environment step's GAE advantage, discounted across the chain: step i of K' (i = 0 the
  noisiest fine-tuned step) gets ``denoising_discount ** (K' - i - 1)``, so the last step, whose
  output is the action, gets the whole advantage;
- a clip that grows from ``ratio_clip_base`` at the noisiest step to ``ratio_clip`` at the last:
  c_i = base + (clip - base) (exp(rate u) - 1) / (exp(rate) - 1), u = i / (K' - 1)
  (``train_ppo_diffusion_agent.py`` / ``diffusion_ppo.py`` of the original);
- the value network on the environment state only (the pairs of one step share V(s));
- the KL the learning rate adapts on (skrl's rule, the review profile's; ``kl_of``): the chain's,
  per sample the sum of its steps' log-ratios, as its log-probability is the sum of theirs (an upper
  bound of the action's KL: intermediate steps count), or the mean step's (``step``: K' times
  smaller). Measured here (review profile, K = 20, one seed): Cartpole 1600 x 1024 reached 1.71
  (chain) and 4.92 (step); Ant 960 x 256 went from -7.21 to -1.42 (chain) and to -11.60 (step).

Fine-tuning from a prior (``prior``: a file of ``benchmark.prior``, a denoiser fitted to
demonstrations by behaviour cloning): the denoiser and the observation scaler start from the file;
with ``prior_kl_coef`` = beta > 0 a frozen copy stays, and each minibatch adds beta times the
chain's KL to it (:meth:`agents.diffusion.denoising_mdp.DenoisingMDP.kl_to`), the objective
E[R] - beta KL(pi_theta || pi_diff) of the DiffRL proposal, with beta fixed or adapted
(:class:`AdaptiveKLCoefficient`).

Memory: the chains are stored per environment step, 4 (fine_tuned + 1) a bytes each; at 1024
environments, 24 rollout steps, K' = 10 and a 12-dimensional action that is 13.0 MB (plus the
[N, K'] log-probabilities, 1 MB), so whole chains stay cheap at Isaac Lab scale. Evaluation samples
the chain as the original's ``deterministic`` mode does (DDPM: the schedule's std, floored at 1e-3,
none at the last step; DDIM: eta = 0). Every choice beside the original: ``FIDELITY`` below and
``docs/fidelity.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import torch

from agents import execution
from agents.bases.on_policy import ACTIVATIONS, LR_SCHEDULES, VALUE_LOSSES, OnPolicyAgent, OnPolicyAgentConfig
from agents.catalogue import Algorithm
from agents.diffusion.denoiser import Denoiser
from agents.diffusion.denoising_mdp import DenoisingMDP
from agents.diffusion.schedules import NoiseSchedule
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.fidelity import ADAPT, ON_POLICY, Fidelity, Procedure, acts
from agents.settings import ANY, DISCOUNT, HARNESS, NON_NEGATIVE, POSITIVE, Original, choices, \
    profile_setting, setting, table_setting
from tasks.errors import UserError

_GYM = "DPPO original, cfg/gym/finetune/hopper-v2/ft_ppo_diffusion_mlp.yaml"
_DIFFRL = "DiffRL (the diffusion-prior adaptation proposal this project adopted)"
KL_SCHEDULES = ("fixed", "adaptive")
_CODE = "DPPO original"


@dataclasses.dataclass(frozen=True)
class DPPOConfig(OnPolicyAgentConfig):
    """The review's Tables 10-11 for what every on-policy agent shares; DPPO's own settings from its
    paper's Gym fine-tuning setup (the official configs, ``_GYM``)."""

    profile: str = profile_setting()
    observation_normalization: bool = setting(True, f"{HARNESS} (as PPO; the original normalizes Gym "
                                                    "observations by the offline dataset's statistics)",
                                              doc="running mean/std normalization")
    activation: str = setting("mish", f"{_CODE} (critic: CriticObs, Mish)", choices(*ACTIVATIONS),
                              "hidden-layer activation of the value network (the denoiser: Mish)")
    lr_schedule: str = setting("skrl", "review Table 11 (the desired KL every on-policy agent adapts to); "
                                       "the original keeps a constant rate", choices(*LR_SCHEDULES),
                               "the learning rate: KL-adaptive (skrl's rule, GenPO's) or fixed")
    value_loss: str = setting("max_clipped", f"{HARNESS} (as GenPO; the original's value loss is unclipped)",
                              choices(*VALUE_LOSSES), "how the value clip acts (value_clip = 0: unclipped)")
    ratio_clip: float = table_setting("on_policy", "Surrogate clip", POSITIVE,
                                      "PPO ratio clip at the last denoising step")
    # the review's clip at every step: constant across the chain, as the original's Gym configs
    # (whose base equals the clip) have it
    ratio_clip_base: float = table_setting("on_policy", "Surrogate clip", POSITIVE,
                                    "PPO ratio clip at the noisiest fine-tuned step")
    ratio_clip_rate: float = setting(3.0, f"{_GYM}: clip_ploss_coef_rate", POSITIVE,
                                     "how fast the clip grows from the noisiest step to the last")
    diffusion_steps: int = diffusion_steps(20, f"{_GYM}: denoising_steps")
    fine_tuned_steps: int = setting(0, f"{HARNESS}: all K (trained from scratch there is no pre-trained chain "
                                       "to keep; the original fine-tunes 10 of its 20)", NON_NEGATIVE,
                                    "the last K' steps trained, the earlier ones a frozen copy (0: all)")
    ddim_steps: int = setting(0, f"{_GYM} (no DDIM; the Furniture configs use 5)", NON_NEGATIVE,
                              "0: DDPM over all K steps; S > 0: DDIM over S of them (eta 1 acting, 0 evaluating)")
    denoising_discount: float = setting(0.99, f"{_GYM}: gamma_denoising", DISCOUNT,
                                        "discount of the advantage across the denoising steps")
    min_sampling_std: float = setting(0.1, f"{_GYM}: min_sampling_denoising_std", POSITIVE,
                                      "floor of each step's std while acting (exploration)")
    min_logprob_std: float = setting(0.1, f"{_GYM}: min_logprob_denoising_std", POSITIVE,
                                     "floor of each step's std in its log-probability")
    denoised_clip: float = setting(1.0, f"{_GYM}: denoised_clip_value", POSITIVE,
                                   "clamp of the predicted x0 at every step")
    randn_clip: float = setting(3.0, f"{_GYM}: randn_clip_value", POSITIVE,
                                "clamp of each step's standard normal draw while acting")
    kl_of: str = setting("chain", f"{HARNESS}: the original adapts no rate (see the module docstring for "
                                  "what each gave here)", choices("chain", "step"),
                         "the KL the rate adapts on: the whole chain's (sum over steps) or the mean step's")
    prior: str = setting("", f"{HARNESS}: none, trained from scratch (the original fine-tunes a prior pre-trained on "
                             "demonstrations)", ANY, "a prior file of benchmark.prior to start from ('': none)")
    prior_kl_coef: float = setting(0.0, f"{_DIFFRL} Sec. 2.2: L = E[R] - beta KL(pi_theta || pi_diff); {HARNESS}: 0",
                                   NON_NEGATIVE, "beta: the weight of the chain's KL to the frozen prior (0: none)")
    prior_kl_schedule: str = setting("fixed", f"{_DIFFRL} Sec. 2.4 (adaptive: beta_0 max(0.1, 1 - improvement)); "
                                              f"{HARNESS}: fixed", choices(*KL_SCHEDULES),
                                     "beta fixed, or lowered as the return recovers (module docstring)")
    time_embedding_dim: int = time_embedding_dim(16, f"{_CODE} (model/diffusion/mlp_diffusion.py: time_dim 16)")
    time_hidden: int = time_hidden(32, f"{_CODE} (mlp_diffusion.py: time MLP 16-32-16, Mish)")

    ORIGINAL = {
        "actor_lr": Original(1e-4, f"{_GYM}: actor_lr (the critic's 1e-3 has no place: one optimizer)"),
        "actor_hidden": Original([512, 512, 512], f"{_GYM}: mlp_dims (a residual MLP there, a plain one here)"),
        "critic_hidden": Original([256, 256, 256], f"{_GYM}: critic mlp_dims"),
        "learning_epochs": Original(5, f"{_GYM}: update_epochs"),
        "mini_batches": Original(4, f"{_GYM}: batch_size 50000 of 500 x 40 x 10 pairs"),
        "discount": Original(0.99, f"{_GYM}: gamma"),
        "gae_lambda": Original(0.95, f"{_GYM}: gae_lambda"),
        "value_clip": Original(0.0, f"{_GYM}: clip_vloss_coef unset"),
        "entropy_coef": Original(0.0, f"{_GYM}: ent_coef unset (0)"),
        "value_loss_coef": Original(0.5, f"{_GYM}: vf_coef"),
        "grad_norm_clip": Original(0.0, f"{_GYM}: max_grad_norm unset"),
        "lr_schedule": Original("fixed", f"{_GYM}: a cosine schedule whose floor is the rate itself"),
        "fine_tuned_steps": Original(10, f"{_GYM}: ft_denoising_steps"),
        "ratio_clip": Original(0.01, f"{_GYM}: clip_ploss_coef"),
        "ratio_clip_base": Original(0.01, f"{_GYM}: clip_ploss_coef_base"),
    }

    def __post_init__(self):
        steps = self.ddim_steps or self.diffusion_steps
        if self.fine_tuned_steps > steps:
            kind = "DDIM" if self.ddim_steps else "denoising"
            raise UserError(f"invalid value {self.fine_tuned_steps} for setting 'fine_tuned_steps'; valid: "
                            f"0 (all) or in [1, {steps}] (the chain's {kind} steps)")
        if self.prior_kl_coef and not self.prior:
            raise UserError(f"invalid value {self.prior_kl_coef} for setting 'prior_kl_coef' without a prior; valid: 0, "
                            "or set 'prior' to a file of benchmark.prior")
        if self.prior and not self.observation_normalization:
            raise UserError("invalid value False for setting 'observation_normalization' with a prior; valid: true "
                            "(the prior was fitted on observations its scaler standardised)")
        if self.ddim_steps and self.diffusion_steps % self.ddim_steps:
            raise UserError(f"invalid value {self.ddim_steps} for setting 'ddim_steps'; valid: 0 or a divisor "
                            f"of diffusion_steps ({self.diffusion_steps})")


def fine_tuned(cfg: DPPOConfig) -> int:
    """K': the steps trained, of the chain's DDIM steps or all K."""
    return cfg.fine_tuned_steps or cfg.ddim_steps or cfg.diffusion_steps


def clip_schedule(base: float, clip: float, rate: float, steps: int) -> torch.Tensor:
    """[steps] ratio clips, noisiest fine-tuned step first: base + (clip - base) (e^{rate u} - 1) /
    (e^{rate} - 1), u = i / (steps - 1); one step: the original's u = 0 gives ``base``."""
    u = torch.arange(steps, dtype=torch.float64) / max(steps - 1, 1)
    return (base + (clip - base) * torch.expm1(rate * u) / math.expm1(rate)).float()


def load_checked_prior(cfg: DPPOConfig, obs_dim: int, act_dim: int) -> dict:
    """The prior file ``cfg.prior``, if its denoiser is the one this config builds, else a
    :class:`UserError` naming each difference."""
    from agents.diffusion.behaviour_cloning import load_prior  # noqa: PLC0415

    try:
        prior = load_prior(cfg.prior)
    except FileNotFoundError:
        raise UserError(f"invalid value {cfg.prior!r} for setting 'prior': no such file; valid: a file "
                        "benchmark.prior wrote") from None
    arch = prior["architecture"]
    wanted = {"obs_dim": obs_dim, "act_dim": act_dim, "hidden": list(cfg.actor_hidden),
              "t_dim": cfg.time_embedding_dim, "time_hidden": cfg.time_hidden, "schedule": "cosine",
              "steps": cfg.diffusion_steps}
    wrong = [f"{key} {getattr(arch, key)!r} (this run: {value!r})" for key, value in wanted.items()
             if getattr(arch, key) != value]
    if wrong:
        raise UserError(f"invalid prior {cfg.prior!r} for this run: its denoiser differs in " + ", ".join(wrong)
                        + "; valid: a prior fitted with the run's settings (benchmark.prior --set ...)")
    return prior


class AdaptiveKLCoefficient:
    """beta of the KL to the prior: fixed, or DiffRL's adaptive rule beta_t = beta_0 max(0.1, 1 - p),
    with p the performance improvement, here the fraction of the gap between the first rollout's
    return R_0 and the demonstrations' return R_ref (the expert's, clean) that the last rollout's
    return has closed, clipped to [0, 1]: p = (R - R_0) / (R_ref - R_0) (p = 1 once R_0 >= R_ref).
    R is the mean return of the episodes that ended within the rollout (the rollout's R kept when
    none ended)."""

    def __init__(self, beta: float, schedule: str, *, reference: float | None, num_envs: int, device):
        self.beta, self.schedule, self.reference = beta, schedule, reference
        self.value, self.improvement, self.start = beta, 0.0, None
        self.running = torch.zeros(num_envs, device=device)
        self.ended_sum = torch.zeros((), device=device)
        self.ended_count = torch.zeros((), device=device)

    def step(self, rewards: torch.Tensor, done: torch.Tensor) -> None:
        self.running += rewards.view(-1)
        done = done.view(-1).float()
        self.ended_sum += (self.running * done).sum()
        self.ended_count += done.sum()
        self.running *= 1 - done

    def adapt(self) -> None:
        """Once per update (a host read of the rollout's return)."""
        count = float(self.ended_count)
        if count:
            ret = float(self.ended_sum) / count
            self.start = ret if self.start is None else self.start
            gap = self.reference - self.start
            self.improvement = 1.0 if gap <= 0 else min(max((ret - self.start) / gap, 0.0), 1.0)
        self.ended_sum.zero_()
        self.ended_count.zero_()
        if self.schedule == "adaptive":
            self.value = self.beta * max(0.1, 1.0 - self.improvement)


class DPPO(OnPolicyAgent):
    """DPPO on the on-policy base: the stored action is the fine-tuned chain, the log-probability
    one per denoising step, the surrogate :meth:`policy_loss`."""

    evaluation_policy = "the denoising chain as the original's deterministic mode samples it"

    def __init__(self, cfg: DPPOConfig, *, observation_space, action_space, num_envs: int, device: str):
        steps = fine_tuned(cfg)
        super().__init__(cfg, observation_space=observation_space, action_space=action_space, num_envs=num_envs,
                         device=device, stored_action_dim=(steps + 1) * int(action_space.shape[0]),
                         log_prob_dim=steps)
        self.advantage_weights = (cfg.denoising_discount ** torch.arange(steps - 1, -1, -1.0)).to(self.device)
        self.clips = clip_schedule(cfg.ratio_clip_base, cfg.ratio_clip, cfg.ratio_clip_rate, steps).to(self.device)
        self.prior_net = None  # the frozen prior the KL is to
        if cfg.prior:
            self._observation_preprocessor.load_state_dict(self._prior["observation_scaler"])
            if cfg.prior_kl_coef:
                self.prior_net = copy.deepcopy(self.policy.denoiser).requires_grad_(False)
        self.kl_coef = AdaptiveKLCoefficient(cfg.prior_kl_coef, cfg.prior_kl_schedule,
                                             reference=self._prior["dataset"]["provenance"]["return_mean"]
                                             if cfg.prior else None, num_envs=num_envs, device=self.device)

    def make_policy(self, cfg: DPPOConfig) -> torch.nn.Module:
        denoiser = Denoiser(self.obs_dim, self.act_dim, cfg.actor_hidden, t_dim=cfg.time_embedding_dim,
                            time_hidden=cfg.time_hidden)
        self._prior = None
        if cfg.prior:
            self._prior = load_checked_prior(cfg, self.obs_dim, self.act_dim)
            denoiser.load_state_dict(self._prior["denoiser"])
        return DenoisingMDP(denoiser, NoiseSchedule("cosine", cfg.diffusion_steps), fine_tuned=fine_tuned(cfg),
                            ddim_steps=cfg.ddim_steps, min_sampling_std=cfg.min_sampling_std,
                            min_logprob_std=cfg.min_logprob_std, denoised_clip=cfg.denoised_clip,
                            randn_clip=cfg.randn_clip)

    @torch.no_grad()
    def sample(self, obs):
        chain, log_prob = self.policy.sample(obs)
        return chain[:, -1], chain.flatten(1), log_prob

    def log_prob(self, obs, stored):
        return self.policy.log_prob(obs, stored.view(stored.shape[0], -1, self.act_dim))

    def extra_losses(self, obs, stored):
        """beta KL(chain || prior chain) at the stored chains (:meth:`DenoisingMDP.kl_to`), with a prior."""
        if self.prior_net is None:
            return {}
        chain = stored.view(stored.shape[0], -1, self.act_dim)
        return {"Prior KL": (self.kl_coef.value, self.policy.kl_to(self.prior_net, obs, chain).mean())}

    def record_transition(self, *, rewards, terminated, truncated, **kwargs) -> None:
        if self.training and self.prior_net is not None:
            self.kl_coef.step(rewards, terminated | truncated)
        super().record_transition(rewards=rewards, terminated=terminated, truncated=truncated, **kwargs)

    def restart_episodes(self) -> None:
        self.kl_coef.running.zero_()

    def update(self, *, timestep: int, timesteps: int) -> None:
        super().update(timestep=timestep, timesteps=timesteps)
        if self.prior_net is not None:
            self.kl_coef.adapt()
            self.track_data("Prior / KL coefficient", self.kl_coef.value)
            self.track_data("Prior / improvement", self.kl_coef.improvement)

    def resume_state(self) -> dict:
        """The base's, and the adaptive KL coefficient's state."""
        state = super().resume_state()
        state["prior_kl"] = {"value": self.kl_coef.value, "improvement": self.kl_coef.improvement,
                             "start": self.kl_coef.start}
        return state

    def load_resume_state(self, state: dict) -> None:
        super().load_resume_state(state)
        for key, value in state.get("prior_kl", {}).items():
            setattr(self.kl_coef, key, value)

    def kl_log_ratio(self, log_ratio):
        """The chain's log-ratio per sample (the base's sum), or each step's (``kl_of = step``)."""
        return log_ratio if self.config.kl_of == "step" else super().kl_log_ratio(log_ratio)

    def policy_loss(self, log_ratio, advantages):
        """PPO's clipped surrogate per (environment step, denoising step) pair: [B, K'] log-ratios,
        the advantage discounted to each step, each step's own clip; the mean over all pairs."""
        ratio = log_ratio.exp()
        adv = advantages * self.advantage_weights
        clipped = torch.max(torch.min(ratio, 1 + self.clips), 1 - self.clips)
        return -torch.min(adv * ratio, adv * clipped).mean()

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        return self.policy.sample(self._observation_preprocessor(observations), deterministic=True)[0][:, -1]

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"denoiser": self.policy.denoiser, "value": self.value.net}

    def enable_compile(self) -> None:
        """The compiled path (agents.execution): the denoiser and the value network."""
        execution.compile_modules(self.policy.denoiser, self.value.net)


FIDELITY = Fidelity(
    repository="irom-princeton/dppo at commit cc7234a (model/diffusion/diffusion_ppo.py, diffusion_vpg.py, "
               "agent/finetune/train_ppo_diffusion_agent.py, cfg/gym/finetune/hopper-v2/ft_ppo_diffusion_mlp.yaml)",
    tests={"ratio_clip": ON_POLICY + "test_dppo_surrogate_on_hand_built_pairs",
           "ratio_clip_base": ON_POLICY + "test_dppo_surrogate_on_hand_built_pairs",
           "ratio_clip_rate": ON_POLICY + "test_dppo_surrogate_on_hand_built_pairs",
           "denoising_discount": ON_POLICY + "test_dppo_surrogate_on_hand_built_pairs",
           "min_logprob_std": ON_POLICY + "test_dppo_step_log_prob_is_the_floored_gaussian_by_hand",
           "min_sampling_std": ON_POLICY + "test_dppo_acting_noise_is_floored",
           "fine_tuned_steps": ON_POLICY + "test_dppo_trains_only_the_fine_tuned_steps",
           "ddim_steps": ON_POLICY + "test_dppo_ddim_step_by_hand",
           "denoised_clip": ON_POLICY + "test_dppo_step_log_prob_is_the_floored_gaussian_by_hand",
           "randn_clip": ON_POLICY + "test_dppo_acting_noise_is_floored",
           "lr_schedule": ON_POLICY + "test_a_fixed_rate_stays_and_the_kl_rule_moves_it",
           "kl_of": ON_POLICY + "test_the_kl_estimates_the_rate_adapts_on_are_of_the_whole_policy",
           "prior": ADAPT + "test_dppo_starts_from_a_prior_and_refuses_one_of_another_shape",
           "prior_kl_coef": ADAPT + "test_dppo_adds_the_weighted_kl_to_its_prior",
           "prior_kl_schedule": ADAPT + "test_adaptive_kl_coefficient_by_hand"},
    resolve_only={"rewards": "not done: rewards reach the update as the environment gives them"},
    procedures=(
        Procedure("denoising steps as an MDP", "not in the review (DPPO: Sec. 4, the two-layer MDP)",
                  "each step a Gaussian N(mu_theta(x_k, s, k), max(sigma_k, 0.1)^2); log-probs clamped to "
                  "[-5, 2] per element and averaged over the action", "model/diffusion/diffusion_vpg.py "
                  "get_logprobs, diffusion_ppo.py loss", "the same (agents/diffusion/denoising_mdp.py)",
                  ON_POLICY + "test_dppo_step_log_prob_is_the_floored_gaussian_by_hand"),
        Procedure("chain log-probability", "not in the review", "one term per step; the ratio per step, never "
                  "of the whole chain", "diffusion_ppo.py loss", "the same: [B, K'] terms; their sum is the "
                  "chain's (checked)", ON_POLICY + "test_dppo_chain_log_prob_is_the_sum_of_its_steps"),
        Procedure("minibatches", "not in the review", "shuffled (environment step, denoising step) pairs; "
                  "advantages normalised per minibatch", "agent/finetune/train_ppo_diffusion_agent.py run",
                  "shuffled environment steps, each with all K' of its pairs (the same pairs per epoch, "
                  "grouped); advantages normalised over the whole rollout, as the base does for every "
                  "on-policy agent", ON_POLICY + "test_dppo_surrogate_on_hand_built_pairs"),
        Procedure("optimizers", "Table 10: actor and critic rates (equal)", "AdamW, actor 1e-4 and critic 1e-3, "
                  "gradient clipping on the actor only", "train_ppo_diffusion_agent.py",
                  "one Adam over denoiser and value network at actor_lr (the base's), gradient norm clipped "
                  "over both", "tests/test_bases.py::test_one_adam_trains_policy_and_value_at_the_actor_rate"),
        Procedure("rewards", "not stated", "scaled by a running std of the discounted return, clipped to +-10 "
                  "(reward_scale_running)", "util/reward_scaling.py", "not scaled (no on-policy agent of the "
                  "harness scales rewards); value targets normalised when value_normalization is on",
                  ""),
        Procedure("pre-training", "not stated", "fine-tunes a policy pre-trained on demonstrations",
                  "README; agent/pretrain", "from scratch by default, as every agent of the harness (the frozen "
                  "earlier steps, fine_tuned_steps < K, are then a frozen random network); with prior=<file>, "
                  "from a denoiser fitted to demonstrations (benchmark.demos, benchmark.prior)",
                  ON_POLICY + "test_dppo_trains_only_the_fine_tuned_steps"),
        Procedure("KL for the learning rate", "Table 11: a desired KL (of PPO's and GenPO's whole policy)",
                  "none adapted: a fixed rate; approx_kl per pair only for the target-KL stop",
                  "train_ppo_diffusion_agent.py", "kl_of: the chain's (the sum over its steps of the per-step "
                  "log-ratios) or the mean step's; K = 20, one seed: Cartpole 1.71 (chain) vs 4.92 (step), Ant "
                  "-7.2 -> -1.4 (chain) vs -11.6 (step, the rate held at its 1e-2 ceiling)",
                  ON_POLICY + "test_the_kl_estimates_the_rate_adapts_on_are_of_the_whole_policy"),
        Procedure("rollout size", "Table 11: rollouts (PPO, GenPO)", "500 steps of 40 environments per "
                  "iteration (Gym; Furniture: 88 of 1000)", "cfg/gym/finetune/hopper-v2/ft_ppo_diffusion_mlp.yaml",
                  "Table 11's rollouts at the run's environment count, in both profiles (the original's are "
                  "MuJoCo-scale)", acts("dppo", "rollouts")),
        Procedure("target KL", "not stated", "target_kl early stop (1 in the Gym configs: never reached)",
                  "train_ppo_diffusion_agent.py", "no early stop; the review profile adapts the rate "
                  "toward the desired KL instead (lr_schedule)", acts("dppo", "desired_kl")),
        Procedure("evaluation", "not stated", "deterministic: DDPM std max(sigma_k, 1e-3), none at the last "
                  "step; DDIM eta 0", "diffusion_vpg.py forward", "the same",
                  "tests/test_agents.py::test_checkpoint_state_round_trips"),
    ),
)

ALGORITHM = Algorithm(DPPOConfig, DPPO, label="DPPO", color="#bcbd22",
                      family="diffusion: proximity (denoising MDP)", order=9, fidelity=FIDELITY)
