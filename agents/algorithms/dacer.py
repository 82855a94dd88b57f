"""DACER (Wang et al. 2024; review Sec. 2.4, Eq. 22-23, BPTT family): maximise Q of an action
produced by backpropagating through the whole reverse chain, with exploration regulated by an
entropy target.

What the original (JAX) does and this module does too:
- action = chain output + N(0, (0.15 exp(log_alpha))^2), clipped to [-1, 1]; no entropy term in any
  loss: alpha only scales that noise; evaluation uses the chain without the added noise;
- every quantity of an update comes from the parameters it starts with: the TD target's next action
  from the policy and alpha before this update's steps, the policy loss from the critics before
  this update's critic step;
- policy loss -min(mu1, mu2)(s, a) through all K steps (VP schedule, K = 20, review Table 9); policy
  and target updates every 2 iterations ("delayed update");
- distributional critics (DSAC-T): each outputs a mean mu and a std sigma = softplus(.); target
  y = r + gamma (1 - terminated) min(mu1', mu2')(s', a'), a sampled target
  y_s = r + gamma (1 - terminated)(mu' + sigma' clip(z, -3, 3)) from the target net with the smaller
  mean, a' from the live policy with noise (there is no target policy); per net, with b an EMA of
  mean(sigma): y_hat = mu + clip(y_s - mu, -3b, 3b) and loss
  -(b^2 + 0.1) mean[mu sg(y - mu) / (sg sigma^2 + 0.1) + sigma ((sg mu - y_hat)^2 - sg sigma^2) / (sg sigma^3 + 0.1)];
  rewards scaled by ``reward_scale`` (0.2) before both backups;
- log_alpha: one Adam step (lr 0.03) on -log_alpha (target_H - H) on the alpha schedule, H estimated
  by fitting a 3-component full-covariance Gaussian mixture to 200 noisy actions per state and
  reading off the mixture bound (``agents.diffusion.gmm_entropy``): the noise alpha sets is in the
  estimate, so the loop is closed.

The review's values: alpha starts at 0.02, target entropy -dim(a), alpha updated every
``timesteps / 10`` steps (Table 9), its per-task learning rates, batch size and gradient clipping
(Tables 10, 12); the original's (``profile=original``): alpha 3, -0.9 dim(a), every 10,000
updates, learning rates 1e-4, batch 256, no clipping, one update per 20 transitions. Every choice
beside the review and the original: ``FIDELITY`` below and ``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from agents.catalogue import Algorithm
from agents.diffusion.denoiser import mlp
from agents.diffusion.gmm_entropy import ESTIMATORS, gmm_entropy
from agents.bases.off_policy import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig, init_setting, polyak
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.fidelity import CHAIN, MATH, PROFILES, Fidelity, Procedure, acts, noise_schedule, x0_clamp
from agents.settings import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Original, Range, choices, setting

_T9 = "review Table 9 (DACER)"
_CODE = "DACER original"


@dataclasses.dataclass(frozen=True)
class DACERConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(20, _T9)
    time_embedding_dim: int = time_embedding_dim(16, f"{_CODE} (relax/network/blocks.py DACERPolicyNet)")
    time_hidden: int = time_hidden(32, f"{_CODE} (relax/network/blocks.py DACERPolicyNet: 16-32-16, Mish)")
    init: str = init_setting("truncated_normal", f"{_CODE} (Haiku Linear's default); the review does not say")
    entropy_lr: float = setting(0.03, _T9, POSITIVE, "learning rate of log alpha")
    initial_alpha: float = setting(0.02, f"{_T9} (initial entropy value)", POSITIVE,
                                   "initial alpha (noise std = noise_scale x alpha)")
    target_entropy_per_dim: float = setting(-1.0, f"{_T9}: -dim(action)", doc="target entropy / dim(action)")
    alpha_update_every: float = setting(0.1, f"{_T9}: every total timesteps / 10", POSITIVE,
                                        "alpha update interval, in alpha_update_unit", legacy=0.1)
    alpha_update_unit: str = setting("fraction_of_run", f"{_T9}: every total timesteps / 10",
                                     choices("fraction_of_run", "updates"),
                                     "what alpha_update_every counts: a fraction of the run's steps, or updates",
                                     legacy="fraction_of_run")
    noise_scale: float = setting(0.15, f"{_CODE} (relax/network/dacer.py get_action)", NON_NEGATIVE,
                                 "exploration noise std per unit of alpha")
    reward_scale: float = setting(0.2, f"{_CODE} (relax/algorithm/dacer.py reward_scale); the review does not say",
                                  POSITIVE, "rewards are multiplied by this in the critic's targets", legacy=1.0)
    policy_delay: int = setting(2, f"{_CODE} (delay_update)", AT_LEAST_ONE,
                                "critic updates per policy and target update")
    entropy_of: str = setting("noisy_action", f"{_CODE} (cal_entropy samples get_action)",
                              choices("noisy_action", "chain"),
                              "what the entropy is estimated on: the acted (noisy, clipped) action or the chain",
                              legacy="chain")
    entropy_estimator: str = setting("bound", f"{_CODE} (estimate_entropy); the review does not say",
                                     choices(*ESTIMATORS), "mixture entropy: the original's bound or Monte Carlo",
                                     legacy="monte_carlo")
    entropy_samples: int = setting(200, f"{_CODE} (num_samples)", Range(low=2),
                                   "action samples per state for the entropy estimate")
    entropy_states: int = setting(256, f"{_CODE} (the batch size there)", AT_LEAST_ONE,
                                  "states whose action distribution the entropy estimate averages")
    gmm_components: int = setting(3, f"{_CODE} (GaussianMixture(n_components=3))", AT_LEAST_ONE,
                                  "Gaussian-mixture components of the entropy estimate")

    ORIGINAL = {
        "actor_lr": Original(1e-4, "scripts/train_mujoco.py --lr (policy and both Q nets)"),
        "critic_lr": Original(1e-4, "scripts/train_mujoco.py --lr (policy and both Q nets)"),
        "actor_hidden": Original([256, 256, 256], "scripts/train_mujoco.py hidden_sizes: three Mish layers of 256"),
        "critic_hidden": Original([256, 256, 256], "scripts/train_mujoco.py hidden_sizes, per distributional Q"),
        "grad_norm_clip": Original(0.0, "relax/algorithm/dacer.py: plain optax.adam, no clipping"),
        "batch_size": Original(256, "relax/trainer/off_policy.py batch_size"),
        "gradient_steps": Original(0.05, "scripts/train_mujoco.py: 20 vector envs, one update per vector step"),
        "gradient_steps_per": Original("transition", "one update per 20 collected transitions"),
        "initial_alpha": Original(3.0, "relax/network/dacer.py: log_alpha initialised to log(3)"),
        "target_entropy_per_dim": Original(-0.9, "relax/network/dacer.py: target entropy -0.9 dim(action)"),
        "alpha_update_every": Original(10000.0, "relax/algorithm/dacer.py delay_alpha_update = 10000"),
        "alpha_update_unit": Original("updates", "counted in gradient steps, the first at step 0"),
    }
class DistributionalQ(torch.nn.Module):
    """One MLP on concat(s, a) -> (mean, std = softplus)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int]):
        super().__init__()
        self.net = mlp([obs_dim + act_dim, *hidden, 2])

    def forward(self, state, action):
        out = self.net(torch.cat([state, action], dim=-1))
        return out[:, :1], torch.nn.functional.softplus(out[:, 1:])


class TwinDistributionalQ(torch.nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: list[int]):
        super().__init__()
        self.q1 = DistributionalQ(obs_dim, act_dim, hidden)
        self.q2 = DistributionalQ(obs_dim, act_dim, hidden)

    def forward(self, state, action):
        return self.q1(state, action), self.q2(state, action)

    def min_q(self, state, action):
        (m1, _), (m2, _) = self(state, action)
        return torch.min(m1, m2)


def dsac_t_loss(mean, std, target, target_sample, b) -> torch.Tensor:
    """DSAC-T's critic loss for one net (see the module docstring)."""
    sg_mean, sg_std = mean.detach(), std.detach()
    y_hat = (mean + torch.clamp(target_sample - mean, -3 * b, 3 * b)).detach()
    mean_term = mean * (target - sg_mean) / (sg_std.square() + 0.1)
    std_term = std * ((sg_mean - y_hat).square() - sg_std.square()) / (sg_std.pow(3) + 0.1)
    return -(b * b + 0.1) * (mean_term + std_term).mean()


class DACER(DiffusionOffPolicyAgent):
    schedule_kind = "vp"
    uses_target_actor = False
    adam_eps = 1e-8  # optax's default
    evaluation_policy = "the chain without the added Gaussian noise (as the original)"

    def __init__(self, cfg: DACERConfig, **kwargs):
        super().__init__(cfg, **kwargs)
        self.log_alpha = torch.tensor(math.log(cfg.initial_alpha), device=self.device, requires_grad=True)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=cfg.entropy_lr)
        self.target_entropy = cfg.target_entropy_per_dim * self.act_dim
        self.sigma_ema: torch.Tensor | None = None  # b of DSAC-T, one per Q net, on the device
        self.last_alpha_step = -1
        self.checkpoint_modules.update(log_alpha=self.log_alpha, alpha_optimizer=self.alpha_optimizer)

    def resume_state(self) -> dict:
        """Beyond the base's: DSAC-T's running mean of the critics' std and the last alpha step."""
        return {**super().resume_state(), "sigma_ema": self.sigma_ema, "last_alpha_step": self.last_alpha_step}

    def load_resume_state(self, state: dict) -> None:
        super().load_resume_state(state)
        self.sigma_ema, self.last_alpha_step = state["sigma_ema"], state["last_alpha_step"]

    def make_critic(self, cfg: DACERConfig) -> torch.nn.Module:
        return TwinDistributionalQ(self.obs_dim, self.act_dim, cfg.critic_hidden)

    def noisy(self, chain: torch.Tensor) -> torch.Tensor:
        std = self.config.noise_scale * self.log_alpha.exp()
        return (chain + std * torch.randn_like(chain)).clamp(-1.0, 1.0)

    @torch.no_grad()
    def explore(self, obs):
        return self.noisy(self.sample_actions(self.actor, obs)[:, 0])

    @torch.no_grad()
    def evaluate_action(self, obs):
        return self.sample_actions(self.actor, obs)[:, 0]

    @torch.no_grad()
    def critic_targets(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(y, y_s): the mean target and the sampled one (module docstring), rewards scaled."""
        s2 = batch["next_observations"]
        (m1, s1), (m2, s2_) = self.target_critic(s2, self.noisy(self.sample_actions(self.actor, s2)[:, 0]))
        reward = self.config.reward_scale * batch["rewards"]
        discount = self.config.discount * batch["terminated"].logical_not().float()
        z = torch.randn_like(m1).clamp(-3, 3)
        drawn = torch.where(m1 <= m2, m1 + s1 * z, m2 + s2_ * z)
        return reward + discount * torch.min(m1, m2), reward + discount * drawn

    def update(self, *, timestep: int, timesteps: int) -> None:
        _, batch = self.sample_batch()
        s, a = batch["observations"], batch["actions"]
        target, target_sample = self.critic_targets(batch)  # from the policy and alpha this update starts with
        delayed = self.updates % self.config.policy_delay == 0
        if delayed:  # the critics before this update's critic step
            self.critic.requires_grad_(False)
            policy_loss = -self.critic.min_q(s, self.noisy(self.sample_actions(self.actor, s, grad=True)[:, 0]))
            self.step_actor(policy_loss.mean())
            self.critic.requires_grad_(True)
            self.track_data("Loss / Policy loss", policy_loss.mean().detach())
        (mu1, sd1), (mu2, sd2) = self.critic(s, a)
        tau = self.config.polyak
        means = torch.stack([sd1.detach().mean(), sd2.detach().mean()])
        self.sigma_ema = means if self.sigma_ema is None else torch.lerp(self.sigma_ema, means, tau)
        critic_loss = (dsac_t_loss(mu1, sd1, target, target_sample, self.sigma_ema[0])
                       + dsac_t_loss(mu2, sd2, target, target_sample, self.sigma_ema[1]))
        self.step_critic(critic_loss)
        if delayed:
            polyak(self.target_critic, self.critic, tau)
        if self.alpha_due(timestep, timesteps):
            self.update_alpha(s)
        self.updates += 1
        self.track_data("Loss / Critic loss", critic_loss.detach())
        self.track_data("Q-network / Q1 (mean)", mu1.mean().detach())
        self.track_data("Policy / alpha", self.log_alpha.exp().detach())

    def alpha_due(self, timestep: int, timesteps: int) -> bool:
        """Whether this update also steps alpha: every ``alpha_update_every`` updates (the original:
        10,000, the first at update 0), or every that fraction of the run's steps (the review: 1/10)."""
        every = self.config.alpha_update_every
        if self.config.alpha_update_unit == "updates":
            return self.updates % max(1, int(every)) == 0
        steps = max(1, int(timesteps * every))
        if timestep % steps == 0 and self.last_alpha_step != timestep:
            self.last_alpha_step = timestep
            return True
        return False

    @torch.no_grad()
    def entropy(self, states: torch.Tensor) -> torch.Tensor:
        """The mean over states of the entropy estimate of the action distribution (module docstring)."""
        states = states[: self.config.entropy_states]
        actions = self.sample_actions(self.actor, states, num=self.config.entropy_samples)
        if self.config.entropy_of == "noisy_action":
            actions = self.noisy(actions)
        return gmm_entropy(actions, components=self.config.gmm_components,
                           estimator=self.config.entropy_estimator).mean()

    def update_alpha(self, states: torch.Tensor) -> None:
        entropy = self.entropy(states)
        loss = -self.log_alpha * (self.target_entropy - entropy)
        self.alpha_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.alpha_optimizer.step()
        self.track_data("Policy / Entropy estimate", entropy.detach())


FIDELITY = Fidelity(
    repository="happy-yan/DACER-Diffusion-with-Online-RL at commit 848c1f2 (relax/algorithm/dacer.py, "
               "relax/network/dacer.py, relax/network/blocks.py, relax/utils/diffusion.py, scripts/train_mujoco.py), "
               "its README's command (Humanoid-v3)",
    tests={"polyak": MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates",
           "policy_delay": MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates",
           "reward_scale": CHAIN + "test_off_policy_critic_reaches_the_chain_q",
           "entropy_of": MATH + "test_dacer_entropy_sees_the_noise_alpha_sets",
           "entropy_estimator": MATH + "test_gmm_entropy_bound_and_monte_carlo",
           "alpha_update_every": MATH + "test_dacer_alpha_schedules",
           "alpha_update_unit": MATH + "test_dacer_alpha_schedules",
           "init": PROFILES + "test_initialisation_schemes",
           "gradient_steps_per": PROFILES + "test_update_ratio_per_transition"},
    procedures=(
        noise_schedule("VP (b_min 0.1, b_max 10)", "relax/utils/diffusion.py vp_beta_schedule"),
        x0_clamp("relax/utils/diffusion.py p_sample (x0 clipped)"),
        Procedure("target-update frequency", "Table 9: 1", "targets Polyak-averaged with the policy step, every "
                  "delay_update (2) updates", "relax/algorithm/dacer.py", "the same: every policy_delay (2) updates "
                  "in both profiles; the review's 1 is the row Table 9 repeats for DIPO, QVPO and DACER (DIPO's "
                  "update_actor_target_every), not a setting of DACER's",
                  MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates"),
        Procedure("policy loss", "Eq. 22: -Q(s, a_theta), a_theta from the whole chain (BPTT)",
                  "-mean min(mu1, mu2) of the noisy, clipped chain action, through all K steps, with the critics "
                  "before this update's critic step; every 2nd update", "relax/algorithm/dacer.py policy_loss_fn",
                  "the same", MATH + "test_dacer_policy_step_climbs_the_critic"),
        Procedure("critic loss", "not stated (DSAC-T)", "distributional mean/std heads, 3-sigma clipped sampled "
                  "target from the target net with the smaller mean, b an EMA (0.005) of the batch-mean sigma",
                  "relax/algorithm/dacer.py q_loss_fn; relax/network/dacer.py q_evaluate",
                  "the same (dsac_t_loss)", MATH + "test_dsac_t_loss_on_a_tiny_batch"),
        Procedure("TD target's next action", "not stated", "from the policy and alpha this update starts with "
                  "(one jitted step reads the incoming state), noisy and clipped; no target policy",
                  "relax/algorithm/dacer.py stateless_update", "the same (critic_targets before any step)",
                  MATH + "test_dacer_td_target_uses_the_policy_before_its_step"),
        Procedure("alpha loss", "Eq. 23", "-log_alpha (target_H - H), one Adam step", "relax/algorithm/dacer.py",
                  "the same", MATH + "test_dacer_alpha_schedules"),
        Procedure("time embedding", "not stated", "scaled sinusoid (frequencies 10000^(-j/8), times 1/sqrt(16))",
                  "relax/network/blocks.py scaled_sinusoidal_encoding",
                  "the DIPO-style sinusoid (frequencies 10000^(-j/7), unscaled), then the same 16-32-16 MLP",
                  "tests/test_diffusion_math.py::test_sinusoidal_embedding_and_loss_shapes"),
        Procedure("optimizers", "not stated", "optax.adam (eps 1e-8) per Q net and for the policy",
                  "relax/algorithm/dacer.py", "torch Adam (eps 1e-8), one for both Q nets: the same per-parameter "
                  "steps unless a gradient clip couples them (the review profile clips at 1.0 per optimizer)",
                  PROFILES + "test_adam_eps_follows_the_original"),
        Procedure("time-outs", "not stated", "bootstrapped (done = terminated), true final observation kept",
                  "relax/utils/experience.py; relax/env/vector/worker3.py", "the same",
                  CHAIN + "test_off_policy_critic_reaches_the_chain_q"),
        Procedure("observation normalisation", "not stated", "none", "scripts/train_mujoco.py",
                  "none in both profiles (observation_normalization)", acts("dacer", "observation_normalization")),
        Procedure("warm-up and replay size", "Table 12: 4 random-action steps, buffer 4096",
                  "2e5 random transitions (3e4 for other envs), buffer 1e6", "scripts/train_mujoco.py",
                  "the review's in both profiles", acts("dacer", "random_timesteps", "memory_size")),
    ),
)

ALGORITHM = Algorithm(DACERConfig, DACER, label="DACER", color="#e377c2", family="diffusion: BPTT", order=7,
                      revision=2, fidelity=FIDELITY)
