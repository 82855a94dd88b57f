"""DIPO (Yang et al. 2023; review Sec. 2.1, Eq. 10-11, action-gradient family): improve the actions
in memory along grad_a Q, then fit the diffusion policy to them with the plain denoising loss.

Per update, on a batch of (s, a) from the "diffusion memory" (here a column of the replay memory):
``action_gradient_steps`` (20) Adam steps with a fresh optimizer (lr ``action_lr`` = 0.03) on the
actions themselves to maximise min(Q1, Q2), gradient norm clipped over the whole batch tensor, actions
clamped to [-1, 1]; with ``action_write_back`` the improved actions are written back into the memory,
so improvements accumulate across updates, as the paper and the review describe (the original's
write-back is a no-op, see the ledger: its ``original`` profile turns it off). The actor loss is the
epsilon-prediction MSE on the improved actions (review Eq. 3). Critic: twin Q, clipped double-Q
target whose next actions come from a Polyak-averaged target actor running the full chain. Cosine
schedule, K = 100 (review Table 9). Acting samples the chain; evaluation runs it from a random x_K
without per-step noise, as the original does. The original treats time-outs as terminal (a bug);
here they bootstrap. Every choice beside the review and the original: ``FIDELITY`` below and
``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses

import torch

from agents import execution
from agents.catalogue import Algorithm
from agents.bases.off_policy import DiffusionOffPolicyAgent, DiffusionOffPolicyConfig, init_setting
from agents.diffusion.sampler import denoising_loss
from agents.diffusion.settings import diffusion_steps, time_embedding_dim, time_hidden
from agents.fidelity import CHAIN, MATH, PROFILES, Fidelity, Procedure, acts, noise_schedule, x0_clamp
from agents.settings import AT_LEAST_ONE, POSITIVE, Original, setting

_T9 = "review Table 9 (DIPO)"
_CODE = "DIPO original"


@dataclasses.dataclass(frozen=True)
class DIPOConfig(DiffusionOffPolicyConfig):
    diffusion_steps: int = diffusion_steps(100, _T9)
    time_embedding_dim: int = time_embedding_dim(32, f"{_CODE} (agent/model.py: SinusoidalPosEmb(32))")
    time_hidden: int = time_hidden(256, f"{_CODE} (agent/model.py: time MLP 32-256-32, Mish)")
    init: str = init_setting("normal", f"{_CODE} (agent/helpers.py init_weights, as it runs); the review does not say")
    action_gradient_steps: int = setting(20, _T9, AT_LEAST_ONE, "Adam steps on the memory actions per update")
    action_lr: float = setting(0.03, _T9, POSITIVE, "learning rate of the action-gradient steps")
    action_grad_norm_ratio: float = setting(0.1, f"{_CODE} (max norm = act_dim * ratio; README Ant row)", POSITIVE,
                                            "action-gradient norm clip, as a fraction of act_dim")
    action_write_back: bool = setting(True, "review Sec. 2.1 (improved actions are stored in the replay buffer)",
                                      doc="write the improved actions back into the memory", legacy=True)

    ORIGINAL = {
        "actor_lr": Original(3e-4, "main.py --diffusion_lr"),
        "critic_lr": Original(3e-4, "main.py --critic_lr"),
        "actor_hidden": Original([256, 256, 256], "agent/model.py Model: three Mish layers of 256"),
        "critic_hidden": Original([256, 256, 256], "agent/model.py Critic: three Mish layers of 256 per Q"),
        "grad_norm_clip": Original(2.0, "main.py --ac_grad_norm, applied to actor and critic separately"),
        "batch_size": Original(256, "main.py --batch_size"),
        "gradient_steps": Original(1.0, "main.py: one update per environment step, from one environment"),
        "gradient_steps_per": Original("transition", "main.py: a single gym environment, so per transition"),
        "action_write_back": Original(False, "agent/replay_memory.py DiffusionMemory.replace writes into a copy "
                                             "(numpy fancy indexing): the memory never changes"),
    }


class DIPO(DiffusionOffPolicyAgent):
    schedule_kind = "cosine"
    evaluation_policy = "the chain from random x_K without per-step noise (noise_ratio 0, as the original)"

    def init(self, *, trainer_cfg=None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        self.memory.create_tensor(name="diffusion_actions", size=self.action_space, dtype=torch.float32)

    def extra_memory(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"diffusion_actions": actions}

    @torch.no_grad()
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        return self.sample_actions(self.actor, obs)[:, 0]

    @torch.no_grad()
    def evaluate_action(self, obs: torch.Tensor) -> torch.Tensor:
        return self.sample_actions(self.actor, obs, noise_ratio=0.0)[:, 0]

    @torch.no_grad()
    def critic_target(self, next_obs: torch.Tensor) -> torch.Tensor:
        return self.target_critic.min_q(next_obs, self.sample_actions(self.target_actor, next_obs)[:, 0])

    def improve_actions(self, state: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``action_gradient_steps`` Adam steps on the actions toward higher min(Q1, Q2)."""
        a = actions.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([a], lr=self.config.action_lr, eps=1e-5, **execution.fused(self.device))  # fresh
        max_norm = self.act_dim * self.config.action_grad_norm_ratio
        for _ in range(self.config.action_gradient_steps):
            loss = -self.critic.min_q(state, a).sum()
            (grad,) = torch.autograd.grad(loss, a)
            a.grad = grad
            torch.nn.utils.clip_grad_norm_([a], max_norm)
            optimizer.step()
            with torch.no_grad():
                a.clamp_(-1.0, 1.0)
        return a.detach()

    def update_actor(self, timestep, timesteps) -> None:
        idx, batch = self.sample_batch()
        s = batch["observations"]
        improved = self.improve_actions(s, batch["diffusion_actions"])
        if self.config.action_write_back:
            self.memory.tensors_view["diffusion_actions"][idx] = improved  # improvements accumulate
        loss = denoising_loss(self.actor, self.schedule, improved, s)
        self.step_actor(loss)
        self.track_data("Loss / Policy loss", loss.detach())


_REPO = "BellmanTimeHut/DIPO"
FIDELITY = Fidelity(
    repository=f"{_REPO} at commit c6d8d1b (agent/DiPo.py, agent/diffusion.py, agent/helpers.py, main.py)",
    tests={"polyak": MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates",
           "action_lr": MATH + "test_dipo_first_action_step_is_the_action_learning_rate",
           "action_write_back": MATH + "test_dipo_writes_improved_actions_back_only_when_set",
           "init": PROFILES + "test_initialisation_schemes",
           "gradient_steps_per": PROFILES + "test_update_ratio_per_transition"},
    procedures=(
        noise_schedule("cosine (s = 0.008, betas clipped at 0.999)", "agent/helpers.py cosine_beta_schedule"),
        x0_clamp("agent/diffusion.py p_mean_variance (clip_denoised) and sample"),
        Procedure("target-update frequency", "Table 9: 1", "the target actor and critic Polyak-averaged after every "
                  "update (update_actor_target_every 1)", "agent/DiPo.py train; main.py", "the same: every update",
                  MATH + "test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates"),
        Procedure("action gradient", "Eq. 10: a <- a + eta grad_a Q, stored back (Sec. 2.1)",
                  "20 Adam steps (fresh optimizer, lr 0.03, eps 1e-5) on -min(Q1, Q2) summed over the batch, "
                  "global L2 clip act_dim x 0.1 over the batch tensor, clamp to [-1, 1], with the critic after "
                  "this update's critic step", "agent/DiPo.py action_gradient",
                  "the same (improve_actions)", MATH + "test_dipo_action_gradient_raises_q_on_a_quadratic_critic"),
        Procedure("actor loss", "Eq. 11 (denoising MSE on improved actions)",
                  "epsilon-prediction MSE, step k uniform, mean over batch and dimensions",
                  "agent/diffusion.py loss / p_losses", "the same (denoising_loss)",
                  "tests/test_diffusion_math.py"),
        Procedure("TD target", "not stated", "target actor's full noisy chain (one sample), min of the target "
                  "twin Q; time-outs treated as terminal (done includes gym's TimeLimit)",
                  "agent/DiPo.py train; main.py mask", "the same, but time-outs bootstrap from the true final "
                  "observation (terminal time-outs bias the targets: a bug, not copied)",
                  CHAIN + "test_off_policy_critic_reaches_the_chain_q"),
        Procedure("exploration and evaluation", "not stated", "one chain sample with noise to act; the chain from "
                  "random x_K without per-step noise (noise_ratio 0) to evaluate", "agent/diffusion.py sample",
                  "the same", MATH + "test_dipo_evaluates_the_chain_without_per_step_noise"),
        Procedure("Adam eps", "not stated", "1e-5 for actor and critic", "agent/DiPo.py __init__",
                  "the same (a constant)", PROFILES + "test_adam_eps_follows_the_original"),
        Procedure("update order", "not stated", "critic step, then action gradient and actor step on a batch of "
                  "its own, then Polyak updates of both targets", "agent/DiPo.py train",
                  "the same", CHAIN + "test_off_policy_critic_reaches_the_chain_q"),
        Procedure("observation normalisation", "not stated", "none", "main.py (raw gym observations)",
                  "none in both profiles (observation_normalization)", acts("dipo", "observation_normalization")),
        Procedure("warm-up and replay size", "Table 12: 4 random-action steps, buffer 4096",
                  "10,000 random transitions, buffer 1e6", "main.py --start_steps, --buffer_size",
                  "the review's in both profiles: 4 vectorized steps (4096 transitions at 1024 envs), 4096 "
                  "transitions per environment (4.2 M at 1024 envs)", acts("dipo", "random_timesteps", "memory_size")),
    ),
)

ALGORITHM = Algorithm(DIPOConfig, DIPO, label="DIPO", color="#9467bd", family="diffusion: action gradient", order=5,
                      revision=2, fidelity=FIDELITY)
