"""GenPO's coupled flow: exact inverse, and the closed-form log-likelihood against brute force."""

import math

import pytest
import torch
from torch.func import jacrev

from agents.diffusion.coupled_flow import CoupledFlow


@pytest.fixture
def flow():
    torch.manual_seed(0)
    return CoupledFlow(obs_dim=3, act_dim=2, hidden=[16, 16], steps=5, mixing=0.9).double()


def test_inverse_of_forward_is_identity(flow):
    x0, s = torch.randn(64, 4, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64)
    assert torch.allclose(flow.inverse_chain(flow.forward_chain(x0, s), s), x0, atol=1e-5)
    f32 = CoupledFlow(obs_dim=3, act_dim=2, hidden=[16, 16], steps=5, mixing=0.9)
    x, st = torch.randn(64, 4), torch.randn(64, 3)
    assert torch.allclose(f32.inverse_chain(f32.forward_chain(x, st), st), x, atol=1e-5)


def test_log_prob_matches_brute_force_slogdet_of_the_autograd_jacobian(flow):
    s = torch.randn(3, dtype=torch.float64)
    for _ in range(5):
        x0 = torch.randn(4, dtype=torch.float64)
        chain = lambda x: flow.forward_chain(x.unsqueeze(0), s.unsqueeze(0)).squeeze(0)  # noqa: E731
        jac = jacrev(chain)(x0)
        sign, logabsdet = torch.linalg.slogdet(jac)
        brute = torch.distributions.Normal(0.0, 1.0).log_prob(x0).sum() - logabsdet
        doubled = chain(x0)
        ours = flow.log_prob(doubled.unsqueeze(0), s.unsqueeze(0)).squeeze(0)
        assert torch.allclose(ours, brute, atol=1e-8)
        assert sign > 0 and math.isclose(float(logabsdet), flow.log_det(), abs_tol=1e-8)


def test_sampled_log_prob_equals_log_prob_of_the_sample(flow):
    s = torch.randn(10, 3, dtype=torch.float64)
    doubled, logp = flow.sample(s)
    assert torch.allclose(flow.log_prob(doubled, s), logp.to(torch.float64), atol=1e-6)


def test_env_action_averages_the_halves_and_deterministic_sample_is_fixed(flow):
    assert torch.equal(CoupledFlow.env_action(torch.tensor([[1.0, 2.0, 3.0, 6.0]])), torch.tensor([[2.0, 4.0]]))
    s = torch.randn(4, 3, dtype=torch.float64)
    a1, _ = flow.sample(s, deterministic=True)
    a2, _ = flow.sample(s, deterministic=True)
    assert torch.equal(a1, a2)


def test_log_prob_is_differentiable_through_the_inverse(flow):
    s = torch.randn(8, 3, dtype=torch.float64)
    doubled, _ = flow.sample(s)
    flow.log_prob(doubled.detach(), s).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in flow.parameters())


@pytest.mark.parametrize("act_dim", [1, 2])
def test_log_prob_against_a_finite_difference_change_of_variables(act_dim):
    """log pi(x_N) = log N(x0) - log|det d x_N / d x0| with the Jacobian taken by central finite
    differences of the forward chain (no autograd), in 1-D and 2-D actions (2-D and 4-D doubled)."""
    torch.manual_seed(1)
    flow = CoupledFlow(obs_dim=3, act_dim=act_dim, hidden=[16, 16], steps=5, mixing=0.9).double()
    s = torch.randn(1, 3, dtype=torch.float64)
    h = 1e-5
    for _ in range(3):
        x0 = torch.randn(2 * act_dim, dtype=torch.float64)
        columns = []
        for i in range(2 * act_dim):
            e = torch.zeros_like(x0)
            e[i] = h
            columns.append((flow.forward_chain((x0 + e).unsqueeze(0), s) - flow.forward_chain((x0 - e).unsqueeze(0), s))
                           .squeeze(0) / (2 * h))
        jac = torch.stack(columns, dim=1)
        brute = torch.distributions.Normal(0.0, 1.0).log_prob(x0).sum() - torch.log(torch.det(jac).abs())
        ours = flow.log_prob(flow.forward_chain(x0.unsqueeze(0), s), s).squeeze(0)
        assert torch.allclose(ours, brute, atol=1e-6)


def test_mixing_coefficient_range_and_the_step_embedding_size():
    """p in (0, 1]: p = 1 (no mixing) is valid, 0 (not invertible) and above 1 are refused; the
    step-embedding MLP gets the configured hidden size."""
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=f"mixing coefficient must be in \\(0, 1\\], got {bad}"):
            CoupledFlow(obs_dim=3, act_dim=2, hidden=[8], steps=2, mixing=bad)
    assert CoupledFlow(obs_dim=3, act_dim=2, hidden=[8], steps=2, mixing=1.0).log_det() == 0.0
    flow = CoupledFlow(obs_dim=3, act_dim=2, hidden=[8], steps=2, mixing=0.9, t_dim=6, time_hidden=24)
    assert [m.out_features for m in flow.velocity.time_mlp if isinstance(m, torch.nn.Linear)] == [24, 6]
