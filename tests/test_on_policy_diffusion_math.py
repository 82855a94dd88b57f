"""DPPO's and FPO++'s formulas against references computed here by hand: DPPO's per-step Gaussian
log-probability (std floor, x0 clamp, per-element clamp, mean over the action), the chain's terms,
its DDIM step, its surrogate over (environment step, denoising step) pairs, its acting noise and its
frozen early steps; FPO++'s flow-matching loss, its ratio exp(L_old - L_new), its trust regions
and its acting/evaluation noise."""

import dataclasses
import math

import gymnasium
import numpy as np
import pytest
import torch

from agents.catalogue import build_agent, resolve_config
from agents.diffusion.denoiser import Denoiser
from agents.diffusion.denoising_mdp import DenoisingMDP
from agents.diffusion.flow_matching import VelocityField
from agents.diffusion.schedules import NoiseSchedule
from tasks.registry import get_task

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (3,))
ACT = gymnasium.spaces.Box(-1.0, 1.0, (2,))


def _agent(algo: str, **overrides):
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
    agent.init()
    return agent


def _cosine_abar(steps: int) -> list[float]:
    """abar_k of the cosine schedule (Nichol & Dhariwal), k = 0..K-1, betas clipped at 0.999."""
    f = [math.cos((k / steps + 0.008) / 1.008 * math.pi / 2) ** 2 for k in range(steps + 1)]
    abar, prod = [], 1.0
    for k in range(steps):
        prod *= 1 - min(1 - f[k + 1] / f[k], 0.999)
        abar.append(prod)
    return abar


def _normal_logpdf(x: float, mean: float, std: float) -> float:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


# --- DPPO ------------------------------------------------------------------------------------------
MDP_DEFAULTS = {"ddim_steps": 0, "min_sampling_std": 0.1, "min_logprob_std": 0.1, "denoised_clip": 1.0,
                "randn_clip": 3.0}


def _mdp(steps=4, fine_tuned=4, **kw):
    torch.manual_seed(0)
    return DenoisingMDP(Denoiser(3, 2, [16, 16], t_dim=8, time_hidden=16), NoiseSchedule("cosine", steps),
                        fine_tuned=fine_tuned, **{**MDP_DEFAULTS, **kw})


def test_dppo_step_log_prob_is_the_floored_gaussian_by_hand():
    """Each step's log-probability: the DDPM posterior mean from the clamped x0 prediction, std the
    posterior's floored at min_logprob_std, each element's log-density clamped to [-5, 2], the mean
    over the action. The chain is built so that every piece acts: x0 clamped (large x at a low-noise
    step), the floor (the last steps' std is under 0.1), the lower clamp (a far next value)."""
    steps = 4
    mdp = _mdp(steps, min_logprob_std=0.1, denoised_clip=1.0)
    abar = _cosine_abar(steps)
    state = torch.tensor([[0.3, -0.2, 0.5]])
    chain = torch.tensor([[[0.2, -0.4], [0.9, 0.1], [3.0, -0.2], [1.05, -0.6], [1.0, 1.9]]])
    got = mdp.log_prob(state, chain)[0]
    floors = clamps = x0_clamps = 0
    for i in range(steps):
        k = steps - 1 - i  # the schedule index step i denoises from
        x = chain[0, i]
        with torch.no_grad():
            eps = mdp.denoiser(x.unsqueeze(0), state, torch.tensor([k]))[0]
        a, a_prev = abar[k], abar[k - 1] if k > 0 else 1.0
        beta = 1 - a / a_prev
        var = beta * (1 - a_prev) / (1 - a)
        std = max(math.sqrt(max(var, 1e-20)), 0.1)
        floors += std == 0.1
        terms = []
        for d in range(2):
            x0 = x[d].item() / math.sqrt(a) - math.sqrt(1 / a - 1) * eps[d].item()
            x0_clamps += abs(x0) > 1
            x0 = max(-1.0, min(1.0, x0))
            mean = beta * math.sqrt(a_prev) / (1 - a) * x0 + (1 - a_prev) * math.sqrt(1 - beta) / (1 - a) * x[d].item()
            logp = _normal_logpdf(chain[0, i + 1, d].item(), mean, std)
            clamps += logp < -5 or logp > 2
            terms.append(max(-5.0, min(2.0, logp)))
        assert got[i].item() == pytest.approx(sum(terms) / 2, abs=1e-4), i
    assert floors >= 1 and clamps >= 1 and x0_clamps >= 1  # the chain exercises all three


def test_dppo_chain_log_prob_is_the_sum_of_its_steps():
    """The batched log-probability of a sampled chain (all fine-tuned steps in one denoiser call)
    has one term per step, each equal to that step scored on its own, so their sum is the chain's
    log-probability; with fine_tuned < K only the last steps are scored, by position; the
    log-probabilities acting computes on the way equal them (DDPM, and DDIM at eta 1)."""
    for steps, fine_tuned, ddim in ((5, 5, 0), (6, 3, 0), (8, 2, 4)):
        mdp = _mdp(steps, fine_tuned, ddim_steps=ddim)
        steps = ddim or steps
        state = torch.randn(7, 3)
        with torch.no_grad():
            chain, acted = mdp.sample(state)
            batched = mdp.log_prob(state, chain)
        assert chain.shape == (7, fine_tuned + 1, 2) and batched.shape == (7, fine_tuned)
        assert torch.allclose(acted, batched, atol=1e-5)  # what acting stored is what the update scores
        total = torch.zeros(7)
        for j in range(fine_tuned):
            pos = torch.full((7,), steps - fine_tuned + j)
            with torch.no_grad():
                mean, std = mdp.mean_std(chain[:, j], state, pos, eta=1.0)
            step = torch.distributions.Normal(mean, std.clamp(min=0.1)).log_prob(chain[:, j + 1]).clamp(-5, 2)
            assert torch.allclose(batched[:, j], step.mean(-1), atol=1e-5)
            total += step.mean(-1)
        assert torch.allclose(batched.sum(-1), total, atol=1e-5)


def test_dppo_ddim_step_by_hand():
    """DDIM over S of K steps (leading spacing: t = 8, 6, 4, 2, 0 for K = 10, S = 5): x0 clamped,
    eps recomputed from it, sigma = eta sqrt((1 - abar') / (1 - abar) (1 - abar / abar')),
    mean = sqrt(abar') x0 + sqrt(1 - abar' - sigma^2) eps, with abar' the next step's (1 after t = 0)."""
    mdp = _mdp(10, 5, ddim_steps=5)
    assert mdp.t.tolist() == [8, 6, 4, 2, 0]
    abar = _cosine_abar(10)
    state, x = torch.tensor([[0.1, 0.2, -0.3]]), torch.tensor([[0.7, -1.4]])
    for i, (t, t_prev) in enumerate(((8, 6), (2, 0), (0, None))):
        i = [8, 6, 4, 2, 0].index(t)
        with torch.no_grad():
            eps = mdp.denoiser(x, state, torch.tensor([t]))[0]
            mean, sigma = mdp.mean_std(x, state, torch.tensor([i]), eta=1.0)
        a, a_prev = abar[t], abar[t_prev] if t_prev is not None else 1.0
        s = math.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
        assert sigma.item() == pytest.approx(max(s, 1e-10), rel=1e-4)
        for d in range(2):
            x0 = max(-1.0, min(1.0, (x[0, d].item() - math.sqrt(1 - a) * eps[d].item()) / math.sqrt(a)))
            e = (x[0, d].item() - math.sqrt(a) * x0) / math.sqrt(1 - a)
            want = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - s * s, 0.0)) * e
            assert mean[0, d].item() == pytest.approx(want, abs=1e-5)


def test_dppo_acting_noise_is_floored():
    """While acting, each step adds std max(sigma_k, min_sampling_std) times a standard normal
    clamped to +-randn_clip: at the last step (sigma ~ 0) the noise is min_sampling_std times a
    clamped normal, whose std is known in closed form for the clamp c = 1.5 used here."""
    mdp = _mdp(4, 4, min_sampling_std=0.2, randn_clip=1.5)
    state = torch.randn(1, 3).expand(20000, 3)
    torch.manual_seed(3)
    with torch.no_grad():
        chain, _ = mdp.sample(state)
        mean, _ = mdp.mean_std(chain[:, -2], state, torch.full((20000,), 3), eta=1.0)
    noise = chain[:, -1] - mean
    c = 1.5
    phi, cdf = math.exp(-c * c / 2) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(c / math.sqrt(2)))
    clamped_std = math.sqrt((2 * cdf - 1) - 2 * c * phi + 2 * c * c * (1 - cdf))
    assert noise.abs().max().item() <= 0.2 * c + 1e-5
    assert noise.std().item() == pytest.approx(0.2 * clamped_std, rel=0.03)


@pytest.mark.parametrize("ddim_steps", [0, 2])
def test_dppo_evaluation_chain_by_hand(ddim_steps):
    """Evaluation (deterministic): DDPM steps with their std floored at 1e-3 and no noise at the last
    step; DDIM steps with eta = 0 and no noise; the earlier steps on the frozen denoiser. Acting: eta 1
    and the std floored at min_sampling_std. Replayed by hand from the same draws."""
    mdp = _mdp(4, 2, ddim_steps=ddim_steps, min_sampling_std=0.2, randn_clip=1.5)
    with torch.no_grad():
        for p in mdp.denoiser.parameters():
            p.add_(0.3)  # the live denoiser now differs from the frozen copy of the first steps
    state = torch.randn(6, 3)
    for deterministic in (True, False):
        torch.manual_seed(7)
        with torch.no_grad():
            chain, _ = mdp.sample(state, deterministic=deterministic)
        torch.manual_seed(7)
        x, steps = torch.randn(6, 2), mdp.steps
        out = [x] if steps == 2 else []  # the chain starts at the first fine-tuned step's input
        for i in range(steps):
            with torch.no_grad():
                mean, std = mdp.mean_std(x, state, torch.full((6,), i), eta=0.0 if deterministic else 1.0,
                                         net=mdp.frozen if i < steps - 2 else None)
            if deterministic:
                drawn = torch.zeros_like(std) if ddim_steps or i == steps - 1 else std.clamp(min=1e-3)
            else:
                drawn = std.clamp(min=0.2)
            x = mean + drawn * torch.randn_like(x).clamp(-1.5, 1.5)
            if i + 1 >= steps - 2:
                out.append(x)
        assert torch.allclose(chain, torch.stack(out, dim=1), atol=1e-6), (ddim_steps, deterministic)
    assert not torch.allclose(chain[:, 1], chain[:, 2])


def test_dppo_settings_that_do_not_fit_the_chain_are_refused():
    from tasks.errors import UserError

    with pytest.raises(UserError, match=r"fine_tuned_steps'; valid: 0 \(all\) or in \[1, 4\] \(the chain's "
                                        r"denoising steps\)"):
        resolve_config("dppo", get_task("ant"), {"diffusion_steps": 4, "fine_tuned_steps": 5})
    with pytest.raises(UserError, match=r"in \[1, 2\] \(the chain's DDIM steps\)"):
        resolve_config("dppo", get_task("ant"), {"diffusion_steps": 4, "ddim_steps": 2, "fine_tuned_steps": 3})
    with pytest.raises(UserError, match=r"'ddim_steps'; valid: 0 or a divisor of diffusion_steps \(10\)"):
        resolve_config("dppo", get_task("ant"), {"diffusion_steps": 10, "ddim_steps": 4})
    assert resolve_config("dppo", get_task("ant"), {"diffusion_steps": 10, "ddim_steps": 5})["ddim_steps"] == 5


def test_dppo_chain_guards_its_shape_and_keeps_no_schedule_in_checkpoints():
    """fine_tuned in [1, K] and DDIM steps dividing K, else an error naming both; a frozen copy only
    when fewer than K steps are fine-tuned; the step tables derive from the config, not checkpoints."""
    with pytest.raises(ValueError, match=r"fine-tuned steps must be in \[1, 4\], got 0"):
        _mdp(4, 0)
    with pytest.raises(ValueError, match=r"DDIM steps 3 must divide the denoising steps 4"):
        _mdp(4, 1, ddim_steps=3)
    assert _mdp(4, 1).frozen is not None and _mdp(4, 4).frozen is None
    assert not {"t", "abar_t", "abar_prev_t"} & set(_mdp(4, 4).state_dict())


def test_dppo_trains_only_the_fine_tuned_steps():
    """With fine_tuned_steps < K the earlier steps use a frozen copy of the initial denoiser: outside
    the optimizer, untouched by a change of the trained denoiser, which moves only the chain's
    fine-tuned part."""
    agent = _agent("dppo", diffusion_steps=6, fine_tuned_steps=2)
    mdp = agent.policy
    trained = {id(p) for group in agent.optimizer.param_groups for p in group["params"]}
    assert not any(id(p) in trained for p in mdp.frozen.parameters())
    assert all(id(p) in trained for p in mdp.denoiser.parameters())
    state = torch.randn(5, 3)
    torch.manual_seed(4)
    with torch.no_grad():
        before, _ = mdp.sample(state)
        for p in mdp.denoiser.parameters():
            p.add_(0.5)
    torch.manual_seed(4)
    with torch.no_grad():
        after, _ = mdp.sample(state)
    assert before.shape == (5, 3, 2)
    assert torch.equal(before[:, 0], after[:, 0])  # the input of the first fine-tuned step: frozen steps
    assert not torch.allclose(before[:, -1], after[:, -1])


def test_dppo_clip_schedule_by_hand():
    """clip_i = base + (clip - base) (e^{rate u_i} - 1) / (e^rate - 1), u_i = i / (K' - 1): from base at
    the noisiest fine-tuned step to clip at the last; one step gets base (the original's u = 0)."""
    from agents.algorithms.dppo import clip_schedule

    assert torch.allclose(clip_schedule(0.1, 0.5, 3.0, 2), torch.tensor([0.1, 0.5]))
    mid = 0.1 + 0.4 * math.expm1(1.5) / math.expm1(3.0)
    assert torch.allclose(clip_schedule(0.1, 0.5, 3.0, 3), torch.tensor([0.1, mid, 0.5]))
    assert torch.allclose(clip_schedule(0.1, 0.5, 3.0, 1), torch.tensor([0.1]))


def test_dppo_surrogate_on_hand_built_pairs():
    """PPO's clipped objective per (environment step, denoising step) pair, the advantage discounted
    by gamma_d^(K' - i - 1) and the clip c_i = base + (clip - base)(e^{rate u} - 1)/(e^{rate} - 1),
    u = i / (K' - 1), against the same computed by hand pair by pair."""
    agent = _agent("dppo", diffusion_steps=3, fine_tuned_steps=3, ratio_clip=0.1, ratio_clip_base=0.02,
                   ratio_clip_rate=3.0, denoising_discount=0.9)
    log_ratio = torch.tensor([[0.05, -0.2, 0.3], [0.01, 0.15, -0.08], [-0.3, 0.0, 0.04]], requires_grad=True)
    adv = torch.tensor([[1.5], [-0.7], [2.0]])
    got = agent.policy_loss(log_ratio, adv)
    total = 0.0
    for b in range(3):
        for i in range(3):
            u = i / 2
            clip = 0.02 + (0.1 - 0.02) * (math.exp(3 * u) - 1) / (math.exp(3) - 1)
            a = adv[b, 0].item() * 0.9 ** (2 - i)
            r = math.exp(log_ratio[b, i].item())
            total += min(a * r, a * max(1 - clip, min(1 + clip, r)))
    assert got.item() == pytest.approx(-total / 9, abs=1e-6)
    assert agent.clips[0].item() == pytest.approx(0.02) and agent.clips[-1].item() == pytest.approx(0.1)


# --- FPO++ -----------------------------------------------------------------------------------------
def _fourier(t: float, dim: int) -> list[float]:
    return [math.cos(2**j * t) for j in range(dim // 2)] + [math.sin(2**j * t) for j in range(dim // 2)]


def test_fpo_cfm_loss_by_hand():
    """||v(x_t, s, t) - (eps - a)||^2 with x_t = t eps + (1 - t) a, time features cos/sin(2^j t),
    reduced as sum / sqrt(dim) (FPO++) or mean (FPO), for every (noise, time) pair."""
    torch.manual_seed(0)
    field = VelocityField(3, 2, [16], t_dim=8, activation=torch.nn.ELU)
    state, action = torch.randn(2, 3), torch.randn(2, 2)
    eps, t = torch.randn(2, 3, 2), torch.rand(2, 3)
    for reduction in ("sqrt", "mean"):
        got = field.cfm_losses(state, action, eps, t, reduction)
        for b in range(2):
            for m in range(3):
                tt = t[b, m].item()
                x_t = tt * eps[b, m] + (1 - tt) * action[b]
                inp = torch.cat([state[b], torch.tensor(_fourier(tt, 8)), x_t]).unsqueeze(0)
                with torch.no_grad():
                    v = field.net(inp)[0]
                sq = (v - (eps[b, m] - action[b])).square()
                want = sq.sum() / math.sqrt(2) if reduction == "sqrt" else sq.mean()
                assert got[b, m].item() == pytest.approx(want.item(), rel=1e-5)


def test_velocity_field_uses_the_configured_activation():
    field = VelocityField(3, 2, [8, 8], 4, torch.nn.ELU)
    assert sum(isinstance(m, torch.nn.ELU) for m in field.net) == 2
    assert not any(isinstance(m, (torch.nn.Mish, torch.nn.SiLU)) for m in field.net)


def test_fpo_ratio_is_the_exponentiated_loss_difference():
    """Acting stores the action with M (noise, time) pairs, t in [0.005, 0.995], and -L_old per
    pair; after the policy moves, the log-ratio the base forms is L_old - L_new pair by pair (FPO++),
    and with ratio_per = action the surrogate uses exp(mean L_old - mean L_new) (FPO); each loss is
    capped at 20."""
    for ratio_per in ("pair", "action"):
        agent = _agent("fpopp", mc_samples=4, diffusion_steps=4, ratio_clip=1e6, trust_region="ppo",
                       ratio_per=ratio_per)
        torch.manual_seed(1)
        obs = torch.randn(6, 3)
        _, stored, old = agent.sample(obs)
        action, eps, t = agent.split(stored)
        assert stored.shape == (6, 2 + 4 * 2 + 4) and old.shape == (6, 4)
        _, many, _ = agent.sample(torch.randn(2000, 3))
        times = agent.split(many)[2]  # 8000 draws: uniform on [0.005, 0.995], ends reached
        assert 0.005 <= times.min() < 0.006 and 0.994 < times.max() <= 0.995
        losses_old = agent.policy.cfm_losses(obs, action, eps, t, "sqrt")
        assert torch.allclose(old, -losses_old)
        with torch.no_grad():
            for p in agent.policy.parameters():
                p.add_(0.01 * torch.randn_like(p))
        losses_new = agent.policy.cfm_losses(obs, action, eps, t, "sqrt")
        log_ratio = agent.log_prob(obs, stored) - old
        assert torch.allclose(log_ratio, losses_old - losses_new, atol=1e-6)
        adv = torch.linspace(0.5, 1.5, 6).view(-1, 1)  # positive and a huge clip: the loss is -mean(A r)
        ratio = (losses_old - losses_new).exp() if ratio_per == "pair" \
            else (losses_old.mean(-1, keepdim=True) - losses_new.mean(-1, keepdim=True)).exp()
        assert agent.policy_loss(log_ratio, adv).item() == pytest.approx(-(adv * ratio).mean().item(), rel=1e-5)
    far = stored[:1].clone()
    far[:, 2:10] = 100.0  # noise far from anything the field predicts: each loss is capped at 20
    assert torch.equal(agent.log_prob(obs[:1], far), torch.full((1, 4), -20.0))


def test_fpo_trust_region_on_hand_built_advantages():
    """ASPO (FPO++): min(r A, clip(r) A) for A > 0, r A - |A| / (2 eps) (r - 1)^2 for A <= 0; PPO
    (FPO): the clipped objective for both; a log-ratio above 10 counts as 10 in the value and as
    itself in the gradient (straight-through); advantages are clamped to +-100."""
    log_ratio = torch.tensor([[0.02, -0.3], [0.2, 0.01], [-0.1, 12.0], [0.0, 0.04], [0.01, -0.02], [0.2, -0.01],
                              [0.03, -0.04]], requires_grad=True)
    adv = torch.tensor([[1.0], [-2.0], [-0.5], [0.0], [150.0], [1.0], [-150.0]])  # +-150 clamped to +-100
    n = 2 * len(adv)
    for region in ("aspo", "ppo"):
        agent = _agent("fpopp", mc_samples=2, ratio_clip=0.05, trust_region=region)
        got = agent.policy_loss(log_ratio, adv)
        total, grads = 0.0, torch.zeros(len(adv), 2)
        for b in range(len(adv)):
            for m in range(2):
                a, r = max(-100.0, min(100.0, adv[b, 0].item())), math.exp(min(log_ratio[b, m].item(), 10.0))
                clipped = max(0.95, min(1.05, r))
                if region == "aspo" and a <= 0:
                    total += r * a - abs(a) / 0.1 * (r - 1) ** 2
                    grads[b, m] = -(a - abs(a) / 0.05 * (r - 1)) * r / n
                else:
                    total += min(r * a, clipped * a)
                    grads[b, m] = -(a * r / n if r * a <= clipped * a else 0.0)
        assert got.item() == pytest.approx(-total / n, rel=1e-6)
        (grad,) = torch.autograd.grad(got, log_ratio)
        assert torch.allclose(grad, grads, rtol=1e-5), (region, grad, grads)


def test_fpo_explores_from_the_initial_noise_and_evaluates_from_zero():
    """Acting: Euler steps (K of them, x <- x - v(x, s, t_i) / K, t_i = 1 - i / K) from x1 ~ N(0, I),
    then N(0, action_perturb_std^2) added; evaluation: the same steps from x1 = 0 (eval_mode zero)
    or from a draw of N(0, I) (random), no perturbation."""
    agent = _agent("fpopp", diffusion_steps=5, action_perturb_std=0.05, observation_normalization=False)
    obs = torch.randn(4000, 3)

    def euler(x):
        for i in range(5):
            t = torch.full((x.shape[0],), 1 - i / 5)
            x = x - agent.policy(x, obs, t) / 5
        return x

    with torch.no_grad():
        torch.manual_seed(5)
        acted, _, _ = agent.sample(obs)
        torch.manual_seed(5)
        flowed = euler(torch.randn(4000, 2))
        assert (acted - flowed).std().item() == pytest.approx(0.05, rel=0.05)
        assert (acted - flowed).mean().abs().item() < 0.005
        evaluated = agent.act_eval(obs)
        assert torch.allclose(evaluated, euler(torch.zeros(4000, 2)), atol=1e-6)
        assert torch.equal(evaluated, agent.act_eval(obs))
    agent.config = dataclasses.replace(agent.config, eval_mode="random")
    with torch.no_grad():
        torch.manual_seed(6)
        evaluated = agent.act_eval(obs)
        torch.manual_seed(6)
        assert torch.allclose(evaluated, euler(torch.randn(4000, 2)), atol=1e-6)


# --- the base's learning-rate schedules as these agents use them ------------------------------------
@pytest.mark.parametrize("algo", ["dppo", "fpopp"])
def test_a_fixed_rate_stays_and_the_kl_rule_moves_it(algo):
    """lr_schedule fixed (the originals') leaves the rate at actor_lr through an update; skrl's KL
    rule (the review profile's) moves it (the first epochs' KL is far below half the desired KL)."""
    small = {"rollouts": 2, "mini_batches": 1, "learning_epochs": 2, "diffusion_steps": 2, "actor_lr": 1e-3}
    for schedule in ("fixed", "skrl"):
        agent = _agent(algo, lr_schedule=schedule, **small)
        agent.enable_training_mode(True)
        torch.manual_seed(0)
        for t in range(2):
            obs = torch.randn(2, 3)
            with torch.no_grad():
                actions, _ = agent.act(obs, None, timestep=t, timesteps=2)
                agent.record_transition(observations=obs, states=None, actions=actions, rewards=torch.randn(2, 1),
                                        next_observations=torch.randn(2, 3), next_states=None,
                                        terminated=torch.zeros(2, 1, dtype=torch.bool),
                                        truncated=torch.zeros(2, 1, dtype=torch.bool), infos={}, timestep=t,
                                        timesteps=2)
            agent.post_interaction(timestep=t, timesteps=2)
        lr = agent.optimizer.param_groups[0]["lr"]
        assert "Loss / Policy loss" in agent.tracking_data
        assert (lr == 1e-3) == (schedule == "fixed"), (schedule, lr)


def test_the_kl_estimates_the_rate_adapts_on_are_of_the_whole_policy():
    """The learning rate adapts toward a desired KL: DPPO's estimates are of the chain's log-ratio
    (the sum of its steps', as its log-probability is the sum of theirs; kl_of = chain) or of each
    step's (kl_of = step, averaged); FPO++'s average its pairs (estimates of one quantity)."""
    torch.manual_seed(0)
    obs = torch.randn(4, 3)
    for algo, kl_of, whole in (("dppo", "chain", lambda d: d.sum(-1)), ("dppo", "step", lambda d: d),
                               ("fpopp", None, lambda d: d)):
        agent = _agent(algo, diffusion_steps=3, mc_samples=3) if algo == "fpopp" \
            else _agent(algo, diffusion_steps=3, kl_of=kl_of)
        _, stored, _ = agent.sample(obs)
        with torch.no_grad():
            new = agent.log_prob(obs, stored)
        delta = torch.linspace(-0.3, 0.4, new.numel()).view(new.shape)  # new - old, by construction
        got = agent.minibatch_losses(obs, stored, new - delta, torch.zeros(4, 1), torch.zeros(4, 1), torch.ones(4, 1))
        w = whole(delta)
        assert got["kl_k1"].item() == pytest.approx(-w.mean().item(), abs=1e-5)
        assert got["kl_k3"].item() == pytest.approx(((w.exp() - 1) - w).mean().item(), abs=1e-5)
