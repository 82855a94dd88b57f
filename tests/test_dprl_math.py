"""DIPO's action gradient and QVPO's weights against hand-built references."""

import math

import gymnasium
import numpy as np
import torch

from agents.algorithms.qvpo import best_of, qvpo_weights
from agents.catalogue import build_agent, resolve_config
from tasks.registry import get_task

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (3,))
ACT = gymnasium.spaces.Box(-np.inf, np.inf, (2,))


class QuadraticCritic(torch.nn.Module):
    """Q(s, a) = -||a - a*||^2 with a* = (0.5, -0.25); both heads equal."""

    target = torch.tensor([0.5, -0.25])

    def forward(self, s, a):
        q = -(a - self.target).square().sum(-1, keepdim=True)
        return q, q + 1.0

    def min_q(self, s, a):
        return torch.min(*self(s, a))


def test_qvpo_weights_on_a_hand_built_batch():
    q = torch.tensor([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [0.0, -1.0, -2.0], [4.0, 0.0, 2.0]])
    assert torch.allclose(qvpo_weights(q), torch.tensor([1.0, 0.0, 1.0, 2.0]))


def test_best_of_picks_the_highest_q_candidate():
    cands = torch.tensor([[[0.0, 0.0], [0.5, -0.2], [1.0, 1.0]], [[0.4, -0.3], [-1.0, 0.0], [0.6, -0.25]]])
    best, q = best_of(QuadraticCritic(), torch.zeros(2, 3), cands)
    assert torch.allclose(best, torch.tensor([[0.5, -0.2], [0.6, -0.25]]))
    assert q.shape == (2, 3) and torch.allclose(q[0, 0], torch.tensor(-(0.25 + 0.0625)))


def test_dipo_action_gradient_raises_q_on_a_quadratic_critic():
    torch.manual_seed(0)
    cfg = resolve_config("dipo", get_task("cartpole"))
    agent = build_agent("dipo", cfg, observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
    agent.critic = QuadraticCritic()
    s = torch.zeros(256, 3)
    start = torch.rand(256, 2) * 2 - 1
    improved = agent.improve_actions(s, start)
    q0, q1 = agent.critic.min_q(s, start), agent.critic.min_q(s, improved)
    assert torch.all(q1 >= q0 - 1e-6) and q1.mean() > q0.mean() + 0.1
    assert improved.abs().max() <= 1.0
    # 20 Adam steps of lr 0.03 move a coordinate by about lr each at most (Adam's step is ~lr-bounded)
    assert torch.all((improved - start).abs() <= 20 * 0.03 * 1.1)
    assert (improved - QuadraticCritic.target).norm(dim=-1).mean() < (start - QuadraticCritic.target).norm(dim=-1).mean()


def test_gmm_entropy_of_a_gaussian_and_of_a_two_mode_mixture():
    from agents.diffusion.gmm_entropy import gmm_entropy

    torch.manual_seed(0)
    d, n = 2, 4000
    cov = torch.tensor([[0.04, 0.01], [0.01, 0.09]])
    x = torch.randn(3, n, d) @ torch.linalg.cholesky(cov).T
    exact = 0.5 * torch.logdet(2 * torch.pi * torch.e * cov)
    assert torch.allclose(gmm_entropy(x), exact.expand(3), atol=0.05)
    # two far, equal, narrow modes: entropy of one mode + log 2
    narrow = torch.randn(2, n, d) * 0.05
    modes = torch.where(torch.rand(2, n, 1) < 0.5, torch.tensor([0.7, 0.7]), torch.tensor([-0.7, -0.7]))
    one = 0.5 * math.log((2 * math.pi * math.e * 0.0025) ** 2)
    assert torch.allclose(gmm_entropy(narrow + modes), torch.tensor(one + math.log(2)).expand(2).float(), atol=0.08)
