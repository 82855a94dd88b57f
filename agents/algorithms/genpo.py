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

import torch

from agents import execution
from agents.bases.on_policy import ACTIVATIONS, LR_SCHEDULES, VALUE_LOSSES, OnPolicyAgent, OnPolicyAgentConfig
from agents.catalogue import Algorithm
from agents.diffusion.coupled_flow import CoupledFlow
from agents.diffusion.settings import diffusion_steps, time_embedding_dim
from agents.fidelity import MATH, PROFILES, Fidelity, Procedure
from agents.settings import AT_LEAST_ONE, NON_NEGATIVE, Original, Range, choices, profile_setting, setting

_T9 = "review Table 9 (GenPO)"
_CODE = "GenPO original"
_ANT = "source/isaaclab_tasks/.../classic/ant/agents/rsl_rl_ppo_cfg.py (the only flow config)"


@dataclasses.dataclass(frozen=True)
class GenPOConfig(OnPolicyAgentConfig):
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
                               choices(*LR_SCHEDULES),
                               "KL-adaptive learning rate: the original's per-minibatch k1 rule, or skrl's per epoch",
                               legacy="skrl")
    value_loss: str = setting("max_clipped", f"{_CODE} (flowppo.py: use_clipped_value_loss)",
                              choices(*VALUE_LOSSES),
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


class FlowPolicy(torch.nn.Module):
    """The coupled flow as the policy module (its parameters under ``flow.``)."""

    def __init__(self, cfg: GenPOConfig, obs_dim: int, act_dim: int):
        super().__init__()
        self.flow = CoupledFlow(obs_dim, act_dim, cfg.actor_hidden, steps=cfg.diffusion_steps, mixing=cfg.mixing,
                                t_dim=cfg.time_embedding_dim, time_hidden=cfg.time_hidden)


class GenPO(OnPolicyAgent):
    """GenPO on the on-policy base: the flow samples and scores the stored doubled action; the
    compression loss is its one extra loss."""

    evaluation_policy = "a sample of the flow, action (z + y) / 2 (the policy as it acts)"

    def __init__(self, cfg: GenPOConfig, *, observation_space, action_space, num_envs: int, device: str):
        super().__init__(cfg, observation_space=observation_space, action_space=action_space, num_envs=num_envs,
                         device=device, stored_action_dim=2 * int(action_space.shape[0]))
        self.flow = self.policy.flow

    def make_policy(self, cfg: GenPOConfig) -> torch.nn.Module:
        return FlowPolicy(cfg, self.obs_dim, self.act_dim)

    def sample(self, obs):
        doubled, log_prob = self.flow.sample(obs)
        return CoupledFlow.env_action(doubled), doubled, log_prob

    def log_prob(self, obs, stored):
        return self.flow.log_prob(stored, obs)

    def extra_losses(self, obs, stored):
        """The compression loss mean ||z - y|| on fresh samples, always on, as in the original."""
        fresh, _ = self.flow.sample(obs)
        half = fresh.shape[-1] // 2
        return {"Compression loss": (self.config.compress_coef, (fresh[:, :half] - fresh[:, half:]).norm(dim=-1).mean())}

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        doubled, _ = self.flow.sample(self._observation_preprocessor(observations))
        return CoupledFlow.env_action(doubled)

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"flow.velocity": self.flow.velocity, "value": self.value.net}

    def enable_compile(self) -> None:
        """The compiled path (agents.execution): the forward and inverse chains, the value network."""
        self.flow.forward_chain = execution.compile_fn(self.flow.forward_chain)
        self.flow.inverse_chain = execution.compile_fn(self.flow.inverse_chain)
        execution.compile_modules(self.value.net)


FIDELITY = Fidelity(
    repository="wadx2019/genpo at commit 5b6711b (flow_rsl_rl/rsl_rl/algorithms/flowppo.py, "
               "modules/reflow/flow.py, modules/actor_critic_flow.py, the Ant rsl_rl_ppo_cfg.py)",
    tests={"lr_schedule": MATH + "test_genpo_learning_rate_rule",
           "value_loss": MATH + "test_genpo_minibatch_losses_on_a_fixed_batch",
           "compress_coef": MATH + "test_genpo_minibatch_losses_on_a_fixed_batch",
           "mixing": "tests/test_genpo_math.py::test_log_prob_matches_brute_force_slogdet_of_the_autograd_jacobian"},
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
                  "modules/actor_critic_flow.py", "the same",
                  PROFILES + "test_genpo_keeps_pytorchs_default_initialisation"),
    ),
)

ALGORITHM = Algorithm(GenPOConfig, GenPO, label="GenPO", color="#17becf",
                      family="diffusion: proximity (exact likelihood)", order=8, revision=2, fidelity=FIDELITY)
