"""The diffusion core against closed forms and brute force."""

import math

import gymnasium
import numpy as np
import pytest
import torch

from agents.catalogue import build_agent, resolve_config
from agents.diffusion.denoiser import Denoiser, Mish, sinusoidal_embedding
from agents.diffusion.sampler import denoising_loss, reverse_chain, sample
from agents.diffusion.schedules import SCHEDULES, NoiseSchedule, cosine_betas, linear_betas, vp_betas
from tasks.registry import get_task


def test_schedule_closed_forms():
    assert torch.allclose(linear_betas(3), torch.tensor([1e-4, 0.01005, 2e-2], dtype=torch.float64))
    k, s = 5, 0.008
    abar = [math.cos(((t / k) + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
            for t in range(k + 1)]
    expected = [1 - abar[i + 1] / abar[i] for i in range(k)]
    assert torch.allclose(cosine_betas(k), torch.tensor(expected, dtype=torch.float64).clamp(max=0.999))
    vp = [1 - math.exp(-0.1 / 4 - 0.5 * 9.9 * (2 * k - 1) / 16) for k in range(1, 5)]
    assert torch.allclose(vp_betas(4), torch.tensor(vp, dtype=torch.float64))
    for kind in SCHEDULES:
        sched = NoiseSchedule(kind, 20)
        assert torch.all(sched.betas > 0) and torch.all(sched.betas < 1)
        assert torch.all(sched.abar[1:] < sched.abar[:-1])


@pytest.mark.parametrize("kind", SCHEDULES)
def test_forward_noising_moments(kind):
    torch.manual_seed(0)
    sched = NoiseSchedule(kind, 10)
    x0 = torch.tensor([[0.7, -0.3]]).expand(200_000, 2)
    for k in (0, 4, 9):
        kk = torch.full((x0.shape[0],), k)
        xk = sched.q_sample(x0, kk, torch.randn_like(x0))
        assert torch.allclose(xk.mean(0), sched.sqrt_abar[k] * x0[0], atol=6e-3)
        assert torch.allclose(xk.var(0), (1 - sched.abar[k]).expand(2), rtol=2e-2, atol=1e-4)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_posterior_is_the_bayes_product_of_gaussians(kind):
    """q(x_{k-1}|x_k,x_0) ∝ N(x_k; sqrt(a_k) x_{k-1}, b_k) N(x_{k-1}; sqrt(abar_{k-1}) x_0, 1-abar_{k-1})."""
    sched = NoiseSchedule(kind, 8)
    x0, xk = torch.tensor([[0.4]]), torch.tensor([[-1.1]])
    for k in range(1, 8):
        a, b = sched.alphas[k].double(), sched.betas[k].double()
        abar_prev = sched.abar_prev[k].double()
        precision = a / b + 1 / (1 - abar_prev)
        mean = (math.sqrt(a) * xk.double() / b + math.sqrt(abar_prev) * x0.double() / (1 - abar_prev)) / precision
        got_mean, got_log_var = sched.posterior(x0, xk, torch.tensor([k]))
        assert torch.allclose(got_mean.double(), mean, rtol=1e-4)
        assert torch.allclose(got_log_var.double().exp(), 1 / precision, rtol=1e-4)


def test_x0_prediction_inverts_noising():
    sched = NoiseSchedule("cosine", 10)
    x0, eps, k = torch.randn(5, 3), torch.randn(5, 3), torch.arange(5)
    assert torch.allclose(sched.predict_x0(sched.q_sample(x0, k, eps), k, eps), x0, atol=1e-4)


class OracleDenoiser(Denoiser):
    """Predicts the noise exactly for a point mass at ``target``: the chain must land on it."""

    def __init__(self, sched, target):
        super().__init__(obs_dim=1, act_dim=target.shape[-1], hidden=[4])
        self.sched, self.target = sched, target

    def forward(self, x, state, k):
        return (x - self.sched.sqrt_abar[k].unsqueeze(-1) * self.target) / self.sched.sqrt_one_minus_abar[k].unsqueeze(-1)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_sampler_with_an_oracle_lands_on_the_target_batched(kind):
    sched = NoiseSchedule(kind, 10)
    target = torch.tensor([0.5, -0.25])
    out = sample(OracleDenoiser(sched, target), sched, torch.zeros(7, 1), num=6)
    assert out.shape == (7, 6, 2)
    assert torch.allclose(out, target.expand(7, 6, 2), atol=1e-4)


def test_sampler_clamps_and_is_differentiable_only_when_asked():
    torch.manual_seed(0)
    sched, net = NoiseSchedule("vp", 5), Denoiser(3, 2, [16])
    s = torch.randn(4, 3)
    out = sample(net, sched, s, num=3)
    assert out.abs().max() <= 1 and not out.requires_grad
    out = sample(net, sched, s, grad=True)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_sinusoidal_embedding_and_loss_shapes():
    emb = sinusoidal_embedding(torch.tensor([0, 3]), 16)
    assert emb.shape == (2, 16) and torch.allclose(emb[0, 8:], torch.ones(8))
    default = Denoiser(3, 2, [8], t_dim=6)  # the step MLP's hidden size defaults to 2 t_dim
    assert [m.out_features for m in default.time_mlp if isinstance(m, torch.nn.Linear)] == [12, 6]
    wide = default.double()  # per-row steps in float64: the embedding follows the input's dtype
    out = wide(torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64), torch.arange(4))
    assert out.dtype == torch.float64
    net, sched = Denoiser(3, 2, [8]), NoiseSchedule("linear", 5)
    loss = denoising_loss(net, sched, torch.rand(6, 2), torch.randn(6, 3), weights=torch.ones(6))
    assert loss.dim() == 0 and torch.isfinite(loss)


@pytest.mark.parametrize("noise_ratio", [1.0, 0.5, 0.0])
def test_reverse_chain_noise_scale_in_closed_form(noise_ratio):
    """With a denoiser that predicts no noise and no x0 clamp, every reverse step is linear Gaussian:
    x_{k-1} = (c0_k / sqrt(abar_k) + ck_k) x_k + noise_ratio sigma_k z (no noise at k = 0), so the
    output's variance follows in closed form from x_K ~ N(0, 1)."""

    class ZeroEps(torch.nn.Module):
        net = torch.nn.Sequential(torch.nn.Linear(1, 1))  # the sampler reads the action size here

        def forward(self, x, state, k):
            return torch.zeros_like(x)

    sched = NoiseSchedule("cosine", 4)
    var = 1.0
    for k in reversed(range(4)):
        coef = float(sched.posterior_c0[k] / sched.sqrt_abar[k] + sched.posterior_ck[k])
        var = coef**2 * var + (noise_ratio**2 * float(sched.posterior_log_var[k].exp()) if k > 0 else 0.0)
    torch.manual_seed(0)
    out = sample(ZeroEps(), sched, torch.zeros(200_000, 1), clip=1e9, noise_ratio=noise_ratio)
    assert out.var().item() == pytest.approx(var, rel=0.02)
    assert abs(out.mean().item()) < 5 * math.sqrt(var / 200_000)


@pytest.mark.parametrize("kind", ["cosine", "vp"])
def test_each_step_clamps_the_predicted_x0(kind):
    """The reverse chain clamps the predicted x0 to [-1, 1] at every step, not only its output (DIPO,
    QVPO, DACER): an oracle that predicts x0 = 1.5 at the noisy steps and eps = 0 at the last gives
    the chain computed here with the per-step clamp, not the one without it."""
    sched = NoiseSchedule(kind, 4)

    class Oracle(torch.nn.Module):
        def forward(self, x, s, k):
            if k == 0:
                return torch.zeros_like(x)
            a = sched.abar[k]
            return (x - a.sqrt() * 1.5) / (1 - a).sqrt()

    x_k, state = torch.tensor([[0.0, -0.5]]), torch.zeros(1, 3)

    def by_hand(clamp: bool) -> torch.Tensor:
        x = x_k
        for k in reversed(range(4)):
            x0 = sched.predict_x0(x, k, Oracle()(x, state, k))
            x, _ = sched.posterior(x0.clamp(-1, 1) if clamp else x0, x, k)
        return x.clamp(-1, 1)

    out = reverse_chain(Oracle(), sched, state, x_k, torch.zeros(4, 1, 2), 1.0, 0.0)
    assert torch.allclose(out, by_hand(True), atol=1e-6)
    assert (out - by_hand(False)).abs().max() > 1e-3


def test_sample_replayed_by_hand():
    """``sample`` with the agents' defaults (x0 and output clamped to [-1, 1], full per-step noise),
    replayed from the same generator: x_K, then K noise draws; x0 = x_k / sqrt(abar_k) -
    sqrt(1 / abar_k - 1) eps clamped, x_{k-1} = c0_k x0 + ck_k x_k + sqrt(var_k) z (no noise at
    k = 0), the result clamped. A sharp random denoiser drives x0 past both bounds. (At k = 0 the
    posterior mean is x0 itself, c0 = 1 and ck = 0, so the last clamp guards rounding only.)"""
    torch.manual_seed(0)
    sched, net = NoiseSchedule("cosine", 5), Denoiser(3, 2, [32])
    with torch.no_grad():
        net.net[-1].weight.mul_(8.0)
    state = torch.randn(4, 3)
    out = sample(net, sched, state, num=3, generator=torch.Generator().manual_seed(5))

    gen = torch.Generator().manual_seed(5)
    x = torch.randn(12, 2, generator=gen).double()
    noise = torch.randn(5, 12, 2, generator=gen).double()
    s = state.repeat_interleave(3, dim=0)
    clamped_x0 = set()
    with torch.no_grad():
        for k in reversed(range(5)):
            abar = sched.abar[k].double()
            raw = x / abar.sqrt() - (1 / abar - 1).sqrt() * net(x.float(), s, k).double()
            clamped_x0 |= {int(v) for v in torch.sign(raw[raw.abs() > 1]).tolist()}
            x0 = raw.clamp(-1, 1)
            x = sched.posterior_c0[k].double() * x0 + sched.posterior_ck[k].double() * x
            if k > 0:
                x = x + sched.posterior_var[k].double().sqrt() * noise[k]
    assert clamped_x0 == {-1, 1}
    assert torch.allclose(sched.posterior_c0[0], torch.tensor(1.0)) and sched.posterior_ck[0] == 0
    assert torch.allclose(out.double(), x.clamp(-1, 1).view(4, 3, 2), atol=1e-5)


def test_schedule_refuses_bad_input_and_keeps_its_constants_out_of_checkpoints():
    """A one-step schedule is valid (its k = 0 variance is 0: the log is taken at 1e-20); with more
    steps the log variance at k = 0 copies k = 1's (DDPM's clipped log variance); the constants are
    not saved in checkpoints (they follow from kind and K)."""
    with pytest.raises(ValueError, match="unknown schedule 'sigmoid'; valid: linear, cosine, vp"):
        NoiseSchedule("sigmoid", 5)
    with pytest.raises(ValueError, match="diffusion steps must be positive, got 0"):
        NoiseSchedule("vp", 0)
    for kind in SCHEDULES:
        one = NoiseSchedule(kind, 1)
        assert one.posterior_var[0] == 0 and one.posterior_log_var[0] == pytest.approx(math.log(1e-20))
        for steps in (2, 5):
            sched = NoiseSchedule(kind, steps)
            assert sched.posterior_log_var[0] == sched.posterior_log_var[1]
            assert torch.allclose(sched.posterior_log_var[1:], sched.posterior_var[1:].log())
        assert NoiseSchedule(kind, 3).state_dict() == {}


def test_mish_on_the_cpu_is_torchs_mish():
    x = torch.linspace(-8, 8, 1001)
    assert torch.allclose(Mish()(x), torch.nn.functional.mish(x), atol=1e-6)


def test_step_embedding_refuses_an_odd_size():
    with pytest.raises(ValueError, match="must be even .*got 7"):
        sinusoidal_embedding(torch.tensor([1]), 7)


def test_each_diffusion_agent_runs_its_originals_schedule():
    """Cosine for DIPO and QVPO, VP for DACER (their originals'; the constants: test_schedule_closed_forms)."""
    space = gymnasium.spaces.Box(-np.inf, np.inf, (2,))
    for algo, kind in (("dipo", "cosine"), ("qvpo", "cosine"), ("dacer", "vp")):
        agent = build_agent(algo, resolve_config(algo, get_task("cartpole"), {"diffusion_steps": 3}),
                            observation_space=space, action_space=space, num_envs=2, device="cpu")
        assert agent.schedule.kind == kind and agent.schedule.steps == 3
