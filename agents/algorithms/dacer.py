"""DACER (Wang et al. 2024; review Sec. 2.4, BPTT family): maximise Q of an action produced by
backpropagating through the whole reverse chain, with exploration regulated by an entropy target.

What the original (JAX) does and this module keeps:
- action = chain output + N(0, (0.15 exp(log_alpha))^2), clipped to [-1, 1]; no entropy term in any
  loss: alpha only scales that noise; evaluation uses the chain without the added noise;
- policy loss -min(mu1, mu2)(s, a) through all K steps (VP schedule, K = 20, review Table 9), with
  the critics as they were before this iteration's critic step; policy and target updates every 2
  iterations ("delayed update");
- distributional critics (DSAC-T): each outputs a mean mu and a std sigma = softplus(.); target
  y = r + gamma (1 - terminated) min(mu1', mu2')(s', a'), a sampled target
  y_s = r + gamma (1 - terminated)(mu' + sigma' clip(z, -3, 3)) from the target net with the smaller
  mean, a' from the live policy with noise (there is no target policy); per net, with b an EMA of
  mean(sigma): y_hat = mu + clip(y_s - mu, -3b, 3b) and loss
  -(b^2 + 0.1) mean[mu sg(y - mu) / (sg sigma^2 + 0.1) + sigma ((sg mu - y_hat)^2 - sg sigma^2) / (sg sigma^3 + 0.1)];
- log_alpha: one Adam step (lr 0.03) on -log_alpha (target_H - H) every ``alpha_update_every`` steps,
  H estimated by fitting a 3-component full-covariance Gaussian mixture to 200 actions per state.

Where this differs, on purpose: the entropy is estimated on the chain's output before the added
noise (an estimate on noisy, clipped actions is dominated by the noise); the target entropy is the
review's -dim(a) (the code: -0.9 dim(a)); alpha starts at the review's 0.02 (the code: 3) and is
updated every ``timesteps / 10`` steps as the review's Table 9 says (the code: every 10,000
updates); no reward scaling (the code: 0.2); the review's per-task learning rates, batch size and
gradient clipping (Tables 10, 12).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import torch

from agents.catalogue import Algorithm
from agents.diffusion.denoiser import mlp
from agents.diffusion.gmm_entropy import gmm_entropy
from agents.diffusion.off_policy_base import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig, polyak
from agents.diffusion.sampler import sample
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.settings import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Range, setting

_T9 = "review Table 9 (DACER)"
_CODE = "DACER original"


@dataclasses.dataclass(frozen=True)
class DACERConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(20, _T9)
    time_embedding_dim: int = time_embedding_dim(16, _CODE)
    time_hidden: int = time_hidden(32, _CODE)
    entropy_lr: float = setting(0.03, _T9, POSITIVE, "learning rate of log alpha")
    initial_alpha: float = setting(0.02, _T9, POSITIVE, "initial alpha (noise std = noise_scale x alpha)")
    target_entropy_per_dim: float = setting(-1.0, f"{_T9}: -dim(action)", doc="target entropy / dim(action)")
    alpha_update_fraction: float = setting(0.1, f"{_T9}: every total timesteps / 10", Range(0, 1, low_open=True),
                                           "alpha is updated every this fraction of the run's timesteps")
    noise_scale: float = setting(0.15, _CODE, NON_NEGATIVE, "exploration noise std per unit of alpha")
    policy_delay: int = setting(2, _CODE, AT_LEAST_ONE, "critic updates per policy and target update")
    entropy_samples: int = setting(200, _CODE, Range(low=2), "chain samples per state for the entropy estimate")
    entropy_states: int = setting(256, f"{_CODE} (the batch size there)", AT_LEAST_ONE,
                                  "states whose action distribution the entropy estimate averages")
    gmm_components: int = setting(3, _CODE, AT_LEAST_ONE, "Gaussian-mixture components of the entropy estimate")


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


def dsac_t_loss(mean, std, target, target_sample, b: float) -> torch.Tensor:
    """DSAC-T's critic loss for one net (see the module docstring)."""
    sg_mean, sg_std = mean.detach(), std.detach()
    y_hat = (mean + (target_sample - mean).clamp(-3 * b, 3 * b)).detach()
    mean_term = mean * (target - sg_mean) / (sg_std.square() + 0.1)
    std_term = std * ((sg_mean - y_hat).square() - sg_std.square()) / (sg_std.pow(3) + 0.1)
    return -(b * b + 0.1) * (mean_term + std_term).mean()


class DACER(DiffusionOffPolicyAgent):
    schedule_kind = "vp"
    uses_target_actor = False
    adam_eps = 1e-8  # optax's default
    evaluation_policy = "the chain without the added Gaussian noise (as the original)"

    def __init__(self, cfg, **kwargs):
        super().__init__(cfg, **kwargs)
        self.critic = TwinDistributionalQ(self.obs_dim, self.act_dim, cfg.critic_hidden).to(self.device)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, eps=self.adam_eps)
        self.log_alpha = torch.tensor(math.log(cfg.initial_alpha), device=self.device, requires_grad=True)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=cfg.entropy_lr)
        self.target_entropy = cfg.target_entropy_per_dim * self.act_dim
        self.sigma_ema: list[float] | None = None
        self.checkpoint_modules.update(critic=self.critic, target_critic=self.target_critic,
                                       critic_optimizer=self.critic_optimizer, log_alpha=self.log_alpha,
                                       alpha_optimizer=self.alpha_optimizer)

    def noisy(self, chain: torch.Tensor) -> torch.Tensor:
        std = self.config.noise_scale * self.log_alpha.exp()
        return (chain + std * torch.randn_like(chain)).clamp(-1.0, 1.0)

    @torch.no_grad()
    def explore(self, obs):
        return self.noisy(sample(self.actor, self.schedule, obs)[:, 0])

    @torch.no_grad()
    def evaluate_action(self, obs):
        return sample(self.actor, self.schedule, obs)[:, 0]

    def update(self, *, timestep: int, timesteps: int) -> None:
        _, batch = self.sample_batch()
        s, a, s2 = batch["observations"], batch["actions"], batch["next_observations"]
        if self.updates % self.config.policy_delay == 0:  # uses the critics before this step's update
            self.critic.requires_grad_(False)
            policy_loss = -self.critic.min_q(s, self.noisy(sample(self.actor, self.schedule, s, grad=True)[:, 0]))
            self.step_actor(policy_loss.mean())
            self.critic.requires_grad_(True)
            self.track_data("Loss / Policy loss", policy_loss.mean().item())
        with torch.no_grad():
            a2 = self.noisy(sample(self.actor, self.schedule, s2)[:, 0])
            (m1, s1), (m2, s2_) = self.target_critic(s2, a2)
            not_done = batch["terminated"].logical_not().float()
            gamma = self.config.discount
            target = batch["rewards"] + gamma * not_done * torch.min(m1, m2)
            z = torch.randn_like(m1).clamp(-3, 3)
            drawn = torch.where(m1 <= m2, m1 + s1 * z, m2 + s2_ * z)
            target_sample = batch["rewards"] + gamma * not_done * drawn
        (mu1, sd1), (mu2, sd2) = self.critic(s, a)
        tau = self.config.polyak
        means = [sd1.detach().mean().item(), sd2.detach().mean().item()]
        self.sigma_ema = means if self.sigma_ema is None else [(1 - tau) * e + tau * m
                                                              for e, m in zip(self.sigma_ema, means)]
        critic_loss = (dsac_t_loss(mu1, sd1, target, target_sample, self.sigma_ema[0])
                       + dsac_t_loss(mu2, sd2, target, target_sample, self.sigma_ema[1]))
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        torch.nn.utils.clip_grad_norm_(self.critic.parameters(), self.config.grad_norm_clip)
        self.critic_optimizer.step()
        if self.updates % self.config.policy_delay == 0:
            polyak(self.target_critic, self.critic, tau)
        every = max(1, int(timesteps * self.config.alpha_update_fraction))
        if timestep % every == 0 and self.last_alpha_step != timestep:
            self.update_alpha(s)
            self.last_alpha_step = timestep
        self.updates += 1
        self.track_data("Loss / Critic loss", critic_loss.item())
        self.track_data("Q-network / Q1 (mean)", mu1.mean().item())
        self.track_data("Policy / alpha", self.log_alpha.exp().item())

    last_alpha_step = -1

    @torch.no_grad()
    def entropy(self, states: torch.Tensor) -> torch.Tensor:
        n = self.config.entropy_samples
        chain = sample(self.actor, self.schedule, states[: self.config.entropy_states], num=n)
        return gmm_entropy(chain, components=self.config.gmm_components).mean()

    def update_alpha(self, states: torch.Tensor) -> None:
        entropy = self.entropy(states)
        loss = -self.log_alpha * (self.target_entropy - entropy)
        self.alpha_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.alpha_optimizer.step()
        self.track_data("Policy / Entropy estimate", float(entropy))


ALGORITHM = Algorithm(DACERConfig, DACER, label="DACER", color="#e377c2", family="diffusion: BPTT", order=7)
