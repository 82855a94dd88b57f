"""GenPO (Ding et al. 2025; review Sec. 2.3, Eq. 19-21): PPO with an exactly invertible flow policy.

Rollout: x0 ~ N(0, I_2d) through the coupled flow (:mod:`agents.diffusion.coupled_flow`, N = 5
steps, review Table 9) gives a doubled action (z, y); the environment gets (z + y) / 2 and the
rollout memory stores the doubled action with its exact log-probability (2 d actions per step, as
the original's storage). Update (:meth:`GenPO.minibatch_losses`): PPO's clipped surrogate (Eq. 19)
with the new log-probability of the stored doubled action computed through the inverse chain, the
value loss (the original's max of the unclipped and clipped squared errors), GAE with time-out
bootstrapping, gradient clipping, plus:

- the compression loss ``compress_coef * mean ||z - y||_2`` on fresh samples, always on, as in the
  original (whose ``use_compress`` flag is never read);
- an entropy bonus ``-entropy_coef * mean(-log pi)`` over the stored samples, as in the original
  (the review's Table 11 entropy coefficient; 0 on Cartpole);
- the learning rate adapted toward the table's desired KL (``lr_schedule``): the original's rule
  (``genpo``: after each minibatch's backward, before its step, from the k1 estimate
  mean(old log pi - new log pi): /1.5 above 2 KL*, x1.5 below KL*/2 if the estimate is above -1e-4,
  within [1e-5, 1e-2]) or skrl's ``KLAdaptiveLR`` once per epoch on the k3 estimate (``skrl``).

The log-determinant is the closed form, equal to the original's ``det(jacrev(...))`` (checked in
the tests) at a fraction of the cost; evaluation samples the flow as acting does (the original's
``act_inference`` returns the doubled sample unmixed; the image of x0 = 0 is no mode of a
multimodal policy: on the two-mode bandit it lands between modes). Every choice beside the review
and the original: ``FIDELITY`` below and ``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses

import gymnasium
import numpy as np
import torch
from skrl.agents.torch.ppo import PPO
from skrl.agents.torch.ppo.ppo import compute_gae
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, Model

from agents import execution
from agents.algorithms import ppo
from agents.catalogue import Algorithm
from agents.diffusion.coupled_flow import CoupledFlow
from agents.diffusion.denoiser import Mish, mlp
from agents.diffusion.settings import diffusion_steps, time_embedding_dim
from agents.fidelity import MATH, PROFILE_TEST, Fidelity, Procedure
from agents.settings import (AT_LEAST_ONE, NON_NEGATIVE, OnPolicyConfig, Original, Range, choices, profile_setting,
                             setting)

_T9 = "review Table 9 (GenPO)"
_CODE = "GenPO original"
_ANT = "source/isaaclab_tasks/.../classic/ant/agents/rsl_rl_ppo_cfg.py (the only flow config)"
ACTIVATIONS = {"mish": Mish, "elu": torch.nn.ELU, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
LR_BOUNDS = (1e-5, 1e-2)  # the original's rule (flowppo.py)


@dataclasses.dataclass(frozen=True)
class GenPOConfig(OnPolicyConfig):
    profile: str = profile_setting()
    observation_normalization: bool = setting(False, f"{_CODE} (Ant config: empirical_normalization = False); "
                                                      "the review does not say", doc="running mean/std normalization")
    value_normalization: bool = setting(False, f"{_CODE} (rsl-rl 2.3.0 has none); the review does not say",
                                        doc="running mean/std normalization of the value targets")
    activation: str = setting("mish", f"{_CODE} (the config's activation is used for the critic too)",
                              choices(*ACTIVATIONS), "hidden-layer activation of the value network (the flow: Mish)",
                              legacy="elu")
    diffusion_steps: int = diffusion_steps(5, _T9)
    time_embedding_dim: int = time_embedding_dim(32, f"{_CODE} (reflow/flow.py: SinusoidalPosEmb(32))")
    time_hidden: list[int] = setting([256, 256], f"{_CODE} (reflow/flow.py: time MLP 32-256-256-32, Mish)",
                                     AT_LEAST_ONE, "hidden sizes of the step-embedding MLP", legacy=[64])
    compress_coef: float = setting(0.01, _T9, NON_NEGATIVE, "weight of the compression loss mean ||z - y||")
    mixing: float = setting(0.9, _T9, Range(0, 1, low_open=True), "mixing coefficient p of the coupled flow")
    lr_schedule: str = setting("genpo", f"{_CODE} (flowppo.py update); the review gives only the desired KL",
                               choices("genpo", "skrl"),
                               "KL-adaptive learning rate: the original's per-minibatch k1 rule, or skrl's per epoch",
                               legacy="skrl")
    value_loss: str = setting("max_clipped", f"{_CODE} (flowppo.py: use_clipped_value_loss)",
                              choices("max_clipped", "clipped"),
                              "max of the unclipped and clipped squared errors, or the clipped one (skrl)",
                              legacy="clipped")

    ORIGINAL = {
        "actor_lr": Original(5e-4, f"{_ANT}: learning_rate"),
        "actor_hidden": Original([400, 200, 100], f"{_ANT}: actor_hidden_dims"),
        "critic_hidden": Original([400, 200, 100], f"{_ANT}: critic_hidden_dims"),
        "rollouts": Original(32, f"{_ANT}: num_steps_per_env"),
        "learning_epochs": Original(5, f"{_ANT}: num_learning_epochs"),
        "mini_batches": Original(4, f"{_ANT}: num_mini_batches"),
        "desired_kl": Original(0.01, f"{_ANT}: desired_kl"),
        "discount": Original(0.99, f"{_ANT}: gamma"),
        "gae_lambda": Original(0.95, f"{_ANT}: lam"),
        "ratio_clip": Original(0.2, f"{_ANT}: clip_param"),
        "value_clip": Original(0.2, f"{_ANT}: clip_param (also the value clip)"),
        "entropy_coef": Original(0.0, f"{_ANT}: entropy_coef"),
        "value_loss_coef": Original(1.0, f"{_ANT}: value_loss_coef"),
        "grad_norm_clip": Original(1.0, f"{_ANT}: max_grad_norm"),
        "mixing": Original(0.95, f"{_ANT}: mix_para"),
    }


class FlowPolicy(Model):
    """skrl model wrapper so skrl's PPO machinery (devices, training mode, checkpoints) applies."""

    def __init__(self, cfg: GenPOConfig, observation_space, action_space, device):
        super().__init__(observation_space=observation_space, action_space=action_space, device=device)
        self.flow = CoupledFlow(int(observation_space.shape[0]), int(action_space.shape[0]), cfg.actor_hidden,
                                steps=cfg.diffusion_steps, mixing=cfg.mixing, t_dim=cfg.time_embedding_dim,
                                time_hidden=cfg.time_hidden)

    def compute(self, inputs, *, role: str = ""):
        raise NotImplementedError("GenPO drives its flow directly (GenPO.act / CoupledFlow)")

    act = compute


class ValueNet(DeterministicMixin, Model):
    """V(s): an MLP with the config's activation (the original's critic is a Mish MLP)."""

    def __init__(self, cfg: GenPOConfig, observation_space, action_space, device):
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device=device)
        DeterministicMixin.__init__(self)
        self.net = mlp([int(observation_space.shape[0]), *cfg.critic_hidden, 1], activation=ACTIVATIONS[cfg.activation])

    def compute(self, inputs, role: str = ""):
        return self.net(inputs["observations"]), {}


class GenPO(PPO):
    evaluation_policy = "a sample of the flow, action (z + y) / 2 (the policy as it acts)"

    def __init__(self, cfg: GenPOConfig, *, observation_space, action_space, num_envs: int, device: str):
        self.config = cfg
        act_dim = int(action_space.shape[0])
        doubled = gymnasium.spaces.Box(-np.inf, np.inf, (2 * act_dim,), dtype=np.float32)
        policy = FlowPolicy(cfg, observation_space, action_space, device)
        value = ValueNet(cfg, observation_space, action_space, device)
        skrl_cfg = ppo.skrl_cfg(cfg, observation_space, device)
        if cfg.lr_schedule == "genpo":
            skrl_cfg.learning_rate_scheduler = None  # the original's rule, in update()
        super().__init__(
            models={"policy": policy, "value": value},
            memory=RandomMemory(memory_size=cfg.rollouts, num_envs=num_envs, device=device),
            observation_space=observation_space, action_space=doubled, device=device, cfg=skrl_cfg,
        )
        self.flow = policy.flow
        self._current_doubled = None
        if cfg.lr_schedule == "genpo":  # the learning rate as a device tensor: the rule reads no value back
            params = list(self.policy.parameters()) + list(self.value.parameters())
            self.optimizer = torch.optim.Adam(params, lr=torch.tensor(float(cfg.actor_lr), device=self.device),
                                              **execution.fused(device))
            self.checkpoint_modules["optimizer"] = self.optimizer

    def enable_compile(self) -> None:
        """The compiled path (agents.execution): the forward and inverse chains, the value network."""
        self.flow.forward_chain = execution.compile_fn(self.flow.forward_chain)
        self.flow.inverse_chain = execution.compile_fn(self.flow.inverse_chain)
        execution.compile_modules(self.value.net)

    def act(self, observations, states, *, timestep: int, timesteps: int):
        obs = self._observation_preprocessor(observations)
        doubled, log_prob = self.flow.sample(obs)
        self._current_obs, self._current_doubled = obs, doubled
        self._current_log_prob = log_prob.unsqueeze(-1)
        if self.training:
            values, _ = self.value.act({"observations": obs, "states": None}, role="value")
            self._current_values = self._value_preprocessor(values, inverse=True)
        return CoupledFlow.env_action(doubled), {"log_prob": self._current_log_prob}

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        doubled, _ = self.flow.sample(self._observation_preprocessor(observations))
        return CoupledFlow.env_action(doubled)

    def record_transition(self, *, observations, states, actions, rewards, next_observations, next_states,
                          terminated, truncated, infos, timestep, timesteps) -> None:
        """Store the doubled action and the *normalized* observation the policy acted on.

        The flow's log-density is sharp in the state, so the update must see exactly the input the
        rollout saw (as rsl-rl, which the original forks, stores normalized observations); the
        running normalizer learns from the raw observations here instead of in the update. A
        time-out adds gamma V(final observation) to its reward, as skrl's PPO does, but computed for
        every step and masked, so no value is read back to decide whether to.
        """
        if not self.training:
            return
        if self.cfg.observation_preprocessor:
            self._observation_preprocessor(observations, train=True)
        self._current_next_observations = next_observations
        if self.cfg.time_limit_bootstrap:
            with torch.no_grad():
                inputs = {"observations": self._observation_preprocessor(next_observations), "states": None}
                next_values = self._value_preprocessor(self.value.act(inputs, role="value")[0], inverse=True)
            rewards = rewards + self.cfg.discount_factor * next_values * truncated
        self.memory.add_samples(observations=self._current_obs, states=states, actions=self._current_doubled,
                                rewards=rewards, terminated=terminated, truncated=truncated,
                                log_prob=self._current_log_prob, values=self._current_values)

    def update(self, *, timestep: int, timesteps: int) -> None:
        with torch.no_grad():
            last_obs = self._observation_preprocessor(self._current_next_observations)
            last_values, _ = self.value.act({"observations": last_obs, "states": None}, role="value")
            last_values = self._value_preprocessor(last_values, inverse=True)
        values = self.memory.get_tensor_by_name("values")
        returns, advantages = compute_gae(
            rewards=self.memory.get_tensor_by_name("rewards"),
            terminated=self.memory.get_tensor_by_name("terminated"),
            truncated=self.memory.get_tensor_by_name("truncated"),
            values=values, last_values=last_values, discount_factor=self.cfg.discount_factor,
            lambda_coefficient=self.cfg.gae_lambda, time_limit_bootstrap=self.cfg.time_limit_bootstrap,
        )
        self.memory.set_tensor_by_name("values", self._value_preprocessor(values, train=True))
        self.memory.set_tensor_by_name("returns", self._value_preprocessor(returns, train=True))
        self.memory.set_tensor_by_name("advantages", advantages)

        sums = dict.fromkeys(("policy", "value", "compress", "entropy"), 0.0)  # device tensors after the first
        steps = 0
        for _ in range(self.cfg.learning_epochs):
            kls = []
            for obs, _, doubled, old_logp, old_values, rets, adv in self.memory.sample(
                    names=self._tensors_names, batch_size=len(self.memory), mini_batches=self.cfg.mini_batches):
                losses = self.minibatch_losses(obs, doubled, old_logp, old_values, rets, adv)
                self.optimizer.zero_grad(set_to_none=True)
                losses["total"].backward()
                if self.cfg.grad_norm_clip > 0:
                    torch.nn.utils.clip_grad_norm_(
                        list(self.policy.parameters()) + list(self.value.parameters()), self.cfg.grad_norm_clip)
                if self.config.lr_schedule == "genpo":
                    self.adapt_learning_rate(losses["kl_k1"])  # before this minibatch's step
                self.optimizer.step()
                kls.append(losses["kl_k3"])
                for key in sums:
                    sums[key] = sums[key] + losses[key].detach()
                steps += 1
            if self.scheduler is not None:
                self.scheduler.step(torch.stack(kls).mean())
        self.track_data("Loss / Policy loss", sums["policy"] / steps)
        self.track_data("Loss / Value loss", sums["value"] / steps)
        self.track_data("Loss / Compression loss", sums["compress"] / steps)
        self.track_data("Policy / Entropy estimate", sums["entropy"] / steps)
        lr = self.optimizer.param_groups[0]["lr"]
        self.track_data("Learning / Learning rate", lr.detach().clone() if torch.is_tensor(lr) else lr)

    def minibatch_losses(self, obs, doubled, old_logp, old_values, returns, advantages) -> dict[str, torch.Tensor]:
        """The losses of one minibatch (review Eq. 19-21, see the module docstring) and the KL estimates."""
        cfg = self.cfg
        new_logp = self.flow.log_prob(doubled, obs).unsqueeze(-1)
        log_ratio = new_logp - old_logp
        ratio = log_ratio.exp()
        surrogate = torch.min(advantages * ratio, advantages * ratio.clamp(1 - cfg.ratio_clip, 1 + cfg.ratio_clip))
        policy_loss = -surrogate.mean()
        entropy_loss = cfg.entropy_loss_scale * new_logp.mean()  # -coef * mean(-log pi)
        fresh, _ = self.flow.sample(obs)
        half = fresh.shape[-1] // 2
        compress_loss = (fresh[:, :half] - fresh[:, half:]).norm(dim=-1).mean()
        predicted, _ = self.value.act({"observations": obs, "states": None}, role="value")
        value_error = (returns - predicted).square()
        if cfg.value_clip > 0:
            clipped = old_values + (predicted - old_values).clamp(-cfg.value_clip, cfg.value_clip)
            clipped_error = (returns - clipped).square()
            value_error = torch.max(value_error, clipped_error) if self.config.value_loss == "max_clipped" \
                else clipped_error
        value_loss = cfg.value_loss_scale * value_error.mean()
        with torch.no_grad():
            kl_k1 = -log_ratio.mean()
            kl_k3 = ((ratio - 1) - log_ratio).mean()
        return {"total": policy_loss + entropy_loss + value_loss + self.config.compress_coef * compress_loss,
                "policy": policy_loss, "value": value_loss, "compress": compress_loss, "entropy": -new_logp.mean(),
                "kl_k1": kl_k1, "kl_k3": kl_k3}

    def adapt_learning_rate(self, kl: torch.Tensor) -> None:
        """The original's rule (flowppo.py): /1.5 above twice the desired KL, x1.5 below half of it
        when the estimate is above -1e-4, within [1e-5, 1e-2]; on the device (no value read back)."""
        desired = self.config.desired_kl
        lr = self.optimizer.param_groups[0]["lr"]
        lower, raise_ = (lr / 1.5).clamp(min=LR_BOUNDS[0]), (lr * 1.5).clamp(max=LR_BOUNDS[1])
        lr.copy_(torch.where(kl > 2 * desired, lower, torch.where((kl < desired / 2) & (kl > -1e-4), raise_, lr)))


FIDELITY = Fidelity(
    repository="wadx2019/genpo at commit 5b6711b (flow_rsl_rl/rsl_rl/algorithms/flowppo.py, "
               "modules/reflow/flow.py, modules/actor_critic_flow.py, the Ant rsl_rl_ppo_cfg.py)",
    tests={"lr_schedule": MATH + "test_genpo_learning_rate_rule",
           "value_loss": MATH + "test_genpo_minibatch_losses_on_a_fixed_batch",
           "compress_coef": MATH + "test_genpo_minibatch_losses_on_a_fixed_batch",
           "mixing": "tests/test_genpo_math.py::test_log_prob_matches_brute_force_slogdet_of_the_autograd_jacobian",
           "time_hidden": PROFILE_TEST, "activation": PROFILE_TEST},
    procedures=(
        Procedure("doubled action and coupled flow", "Sec. 2.3, Eq. 20: dummy action (x, y), a = (x + y)/2",
                  "z <- z + dt v(y, s, t_i); y <- y + dt v(z, s, t_i); then the mixing pair; one shared v; "
                  "t_i = i/N; no clamp", "modules/reflow/flow.py _Heun_method and its inverse",
                  "the same (CoupledFlow)", "tests/test_genpo_math.py::test_inverse_of_forward_is_identity"),
        Procedure("log-likelihood", "Eq. 21: exact, change of variables",
                  "log N(x0) - log|det J| with det(jacrev(chain)) in float32 (TF32 on), at rollout and, "
                  "through the inverse, at update", "modules/reflow/flow.py Flow.forward / Flow.inverse",
                  "the closed form |det J| = p^(2 d N) (additive couplings, triangular mixing): the same number",
                  "tests/test_genpo_math.py::test_log_prob_against_a_finite_difference_change_of_variables"),
        Procedure("clipped surrogate", "Eq. 19, clip 0.2 (Table 11)", "max(-A r, -A clip(r)), mean",
                  "algorithms/flowppo.py update", "the same (minibatch_losses)",
                  MATH + "test_genpo_minibatch_losses_on_a_fixed_batch"),
        Procedure("time-outs", "not stated", "rsl-rl: reward += gamma V(s_t) of the current observation",
                  "algorithms/flowppo.py process_env_step", "reward += gamma V(final observation) (skrl's "
                  "time-limit bootstrap with the true final observation)",
                  "tests/test_sim_training.py::test_genpo_learns_cartpole"),
        Procedure("minibatches", "Table 11: epochs, mini-batches", "one permutation reused for all epochs "
                  "(rsl-rl), advantages normalised over the whole rollout", "storage/rollout_storage.py",
                  "a new permutation every epoch (skrl), advantages normalised over the whole rollout",
                  MATH + "test_genpo_minibatch_losses_on_a_fixed_batch"),
        Procedure("evaluation", "not stated", "none: the logged metric is the last 100 training episodes; "
                  "act_inference returns the doubled sample unmixed", "runners/on_policy_flow_runner.py",
                  "a flow sample, action (z + y)/2 (the policy as it acts)",
                  "tests/test_agents.py::test_checkpoint_state_round_trips"),
        Procedure("initialisation", "not stated", "PyTorch's default (init_weights is defined, never called)",
                  "modules/actor_critic_flow.py", "the same", PROFILE_TEST),
    ),
)

ALGORITHM = Algorithm(GenPOConfig, GenPO, label="GenPO", color="#17becf",
                      family="diffusion: proximity (exact likelihood)", order=8, revision=2, fidelity=FIDELITY)
