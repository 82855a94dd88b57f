"""Each diffusion agent's formulas against hand-computed or closed-form references (DIPO's action
gradient and write-back, QVPO's weights, loss rows and entropy decay, DACER's distributional loss,
entropy estimate and alpha schedule, GenPO's losses and learning-rate rule)."""

import math

import gymnasium
import numpy as np
import pytest
import torch

from agents.algorithms.qvpo import best_of, qvpo_weights
from agents.catalogue import build_agent, resolve_config
from agents.diffusion.sampler import reverse_chain
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


def test_dipo_first_action_step_is_the_action_learning_rate():
    """A fresh Adam's first step moves each coordinate by lr x g / (|g| + eps): with the batch's
    gradient clipped to norm 0.2 over 512 coordinates, |g| is at least ~3e-3 against eps 1e-5, so
    each action moves by action_lr (0.03, Table 9) toward the quadratic critic's optimum, to 1 %."""
    agent = _agent("dipo", {"action_gradient_steps": 1})
    agent.critic = QuadraticCritic()
    start = QuadraticCritic.target + torch.where(torch.rand(256, 2) < 0.5, -1.0, 1.0) * (0.1 + 0.3 * torch.rand(256, 2))
    moved = agent.improve_actions(torch.zeros(256, 3), start) - start
    toward = torch.sign(QuadraticCritic.target - start)
    assert torch.allclose(moved, 0.03 * toward, rtol=1e-2, atol=0)


def _gmm_entropy_by_loops(x, components, iterations, ridge, first):
    """gmm_entropy's fit and both estimators written plainly, one state and one component at a time."""
    out = {"bound": [], "monte_carlo": []}
    n, d = x.shape[1:]
    for xs, f in zip(x.double(), first):
        centers = [xs[f]]
        for _ in range(components - 1):
            dist = torch.stack([((xs - c) ** 2).sum(-1) for c in centers]).min(0).values
            centers.append(xs[dist.argmax()])
        spread = xs.var(0, unbiased=False).mean() / components
        means = centers
        covs = [(spread + ridge) * torch.eye(d, dtype=xs.dtype) for _ in range(components)]
        weights = [1.0 / components] * components

        def densities():
            return torch.stack([math.log(w) + torch.distributions.MultivariateNormal(m, c).log_prob(xs)
                                for w, m, c in zip(weights, means, covs)], dim=1)  # [n, c]

        for _ in range(iterations):
            resp = torch.softmax(densities(), dim=1)
            nk = resp.sum(0) + 1e-10
            weights = (nk / n).tolist()
            means = [(resp[:, k:k + 1] * xs).sum(0) / nk[k] for k in range(components)]
            covs = [((resp[:, k:k + 1] * (xs - means[k])).T @ (xs - means[k])) / nk[k] + ridge * torch.eye(d)
                    for k in range(components)]
        out["bound"].append(sum(-w * math.log(w) + w * (0.5 * d * (1 + math.log(2 * math.pi))
                                                          + 0.5 * torch.logdet(c).item())
                                for w, c in zip(weights, covs)))
        out["monte_carlo"].append(-torch.logsumexp(densities(), dim=1).mean().item())
    return out


@pytest.mark.parametrize("components,iterations", [(1, 3), (2, 1), (3, 6)])
def test_gmm_entropy_against_a_loop_by_loop_fit(components, iterations):
    """The batched EM fit (initialisation, E and M steps, weights) and both estimators equal a plain
    per-state, per-component implementation on overlapping, unequal clusters."""
    from agents.diffusion.gmm_entropy import gmm_entropy

    gen = torch.Generator().manual_seed(3)
    x = torch.cat([torch.randn(3, 70, 2, generator=gen) * torch.tensor([0.3, 0.1]) + 0.4,
                   torch.randn(3, 30, 2, generator=gen) * 0.5 - 0.3], dim=1).double()
    first = torch.randint(0, 100, (3,), generator=torch.Generator().manual_seed(9))
    expected = _gmm_entropy_by_loops(x, components, iterations, 1e-4, first)
    for estimator in ("bound", "monte_carlo"):
        got = gmm_entropy(x, components=components, iterations=iterations, ridge=1e-4,
                          generator=torch.Generator().manual_seed(9), estimator=estimator)
        assert got.shape == (3,)
        assert torch.allclose(got, torch.tensor(expected[estimator], dtype=got.dtype), atol=1e-8), estimator
    with pytest.raises(ValueError, match="unknown entropy estimator 'kde'; valid: bound, monte_carlo"):
        gmm_entropy(x, estimator="kde")


def test_gmm_entropy_defaults_are_three_components_thirty_iterations_and_the_bound():
    """The defaults DACER relies on (its original's three components and bound; our 30 EM
    iterations, module docstring), against the loop-by-loop fit, which moves between 29 and 31."""
    from agents.diffusion.gmm_entropy import gmm_entropy

    gen = torch.Generator().manual_seed(4)
    x = torch.cat([torch.randn(2, 60, 2, generator=gen) * 0.3 + 0.2,
                   torch.randn(2, 40, 2, generator=gen) * 0.4 - 0.2], dim=1).double()
    first = torch.randint(0, 100, (2,), generator=torch.Generator().manual_seed(1))
    got = gmm_entropy(x, generator=torch.Generator().manual_seed(1))
    expected = torch.tensor(_gmm_entropy_by_loops(x, 3, 30, 1e-4, first)["bound"], dtype=got.dtype)
    assert torch.allclose(got, expected, atol=1e-9)
    for iterations in (29, 31):
        other = torch.tensor(_gmm_entropy_by_loops(x, 3, iterations, 1e-4, first)["bound"], dtype=got.dtype)
        assert (other - expected).abs().max() > 1e-7


@pytest.mark.parametrize("ratio", [1.0, 1e-6])
def test_dipo_action_steps_by_hand(ratio):
    """DIPO's action improvement: Adam (eps 1e-5) on -min Q with the gradient's norm clipped at
    dim(a) x action_grad_norm_ratio, actions clamped to [-1, 1] after each step (a target outside the
    box drives them onto it at ratio 1; at ratio 1e-6 the clip shrinks Adam's steps)."""

    class FarCritic(QuadraticCritic):
        target = torch.tensor([2.0, -2.0])

    agent = _agent("dipo", {"action_gradient_steps": 3, "action_lr": 0.4, "action_grad_norm_ratio": ratio})
    agent.critic = FarCritic()
    start = torch.tensor([[0.9, -0.9], [0.0, 0.2]])
    got = agent.improve_actions(torch.zeros(2, 3), start)
    a = start.clone().requires_grad_(True)
    adam = torch.optim.Adam([a], lr=0.4, eps=1e-5)
    for _ in range(3):
        (grad,) = torch.autograd.grad(-FarCritic().min_q(None, a).sum(), a)
        a.grad = grad * min(1.0, 2 * ratio / (grad.norm().item() + 1e-6))
        adam.step()
        with torch.no_grad():
            a.clamp_(-1.0, 1.0)
    assert torch.allclose(got, a.detach(), atol=1e-6)
    assert (got.abs() == 1.0).any() == (ratio == 1.0)


def test_gmm_entropy_defaults_are_the_documented_fit():
    import inspect

    from agents.diffusion.gmm_entropy import gmm_entropy

    defaults = {k: v.default for k, v in inspect.signature(gmm_entropy).parameters.items()}
    assert (defaults["iterations"], defaults["ridge"]) == (30, 1e-4)  # the module docstring's fit


def test_gmm_entropy_bound_and_monte_carlo():
    """Monte Carlo -mean log p matches the exact entropy; the original's bound (label entropy plus
    the components' entropies) is exact for one component and for far-apart modes, and above the
    Monte-Carlo estimate otherwise (it is an upper bound)."""
    from agents.diffusion.gmm_entropy import gmm_entropy

    torch.manual_seed(0)
    d, n = 2, 4000
    cov = torch.tensor([[0.04, 0.01], [0.01, 0.09]])
    x = torch.randn(3, n, d) @ torch.linalg.cholesky(cov).T
    exact = 0.5 * torch.logdet(2 * torch.pi * torch.e * cov)
    monte_carlo = gmm_entropy(x, estimator="monte_carlo")
    assert torch.allclose(monte_carlo, exact.expand(3), atol=0.05)
    assert torch.allclose(gmm_entropy(x, components=1, estimator="bound"), exact.expand(3), atol=0.05)
    assert torch.all(gmm_entropy(x, estimator="bound") > monte_carlo + 0.05)  # 3 components on one bump
    # two far, equal, narrow modes: entropy of one mode + log 2, by either estimate
    narrow = torch.randn(2, n, d) * 0.05
    modes = torch.where(torch.rand(2, n, 1) < 0.5, torch.tensor([0.7, 0.7]), torch.tensor([-0.7, -0.7]))
    one = 0.5 * math.log((2 * math.pi * math.e * 0.0025) ** 2)
    expected = torch.tensor(one + math.log(2)).expand(2).float()
    assert torch.allclose(gmm_entropy(narrow + modes, estimator="monte_carlo"), expected, atol=0.08)
    assert torch.allclose(gmm_entropy(narrow + modes, components=2, estimator="bound"), expected, atol=0.08)


# --- QVPO ------------------------------------------------------------------------------------------
def _agent(algo, overrides=None, obs=OBS, act=ACT, num_envs=2):
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=obs, action_space=act, num_envs=num_envs, device="cpu")
    agent.init()
    agent.enable_training_mode(True)
    return agent


def test_qvpo_entropy_coefficient_decays_linearly_to_its_floor():
    agent = _agent("qvpo")
    values = [agent.entropy_coefficient(t, 1000) for t in (0, 250, 500, 900, 950, 1000)]
    assert values == pytest.approx([0.02, 0.015, 0.01, 0.002, 0.002, 0.002])
    assert agent.entropy_coefficient(1, 1) == pytest.approx(0.002)  # a one-step run ends at the floor


def test_qvpo_actor_loss_on_a_fixed_batch():
    """Rows and weights of the weighted loss by hand: best actions weight w, uniform ones coef x w,
    and the loss a plain weighted mean over all rows (the original's WeightedL2)."""
    from agents.algorithms.qvpo import weighted_batch
    from agents.diffusion.sampler import denoising_loss

    s = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    best = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    w = torch.tensor([2.0, 0.5])
    uniform = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [0.5, 0.5], [-0.5, -0.5]])  # m = 2 per state
    actions, states, weights = weighted_batch(s, best, w, uniform, coef=0.1)
    assert torch.equal(actions, torch.cat([best, uniform]))
    assert torch.equal(states, torch.stack([s[0], s[1], s[0], s[0], s[1], s[1]]))
    assert torch.allclose(weights, torch.tensor([2.0, 0.5, 0.2, 0.2, 0.05, 0.05]))
    agent = _agent("qvpo", {"diffusion_steps": 3})
    torch.manual_seed(3)
    loss = denoising_loss(agent.actor, agent.schedule, actions, states, weights=weights)
    torch.manual_seed(3)
    k = torch.randint(0, 3, (6,))
    eps = torch.randn(6, 2)
    noisy = agent.schedule.q_sample(actions, k, eps)
    per_row = (agent.actor(noisy, states, k) - eps).square().mean(dim=-1)
    assert torch.allclose(loss, (weights * per_row).sum() / 6)


# --- DIPO ------------------------------------------------------------------------------------------

def test_dipo_evaluates_the_chain_without_per_step_noise():
    """DIPO's evaluation action is the reverse chain from a random x_K with the per-step noise
    switched off (noise_ratio 0, the original's evaluation): equal to that chain computed here from
    the same x_K, whatever the per-step draws, and unlike the exploring sample from the same draws."""
    agent = build_agent("dipo", resolve_config("dipo", get_task("cartpole"), {"diffusion_steps": 5}),
                        observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
    obs = torch.randn(64, 3)
    torch.manual_seed(7)
    evaluated = agent.evaluate_action(obs)
    torch.manual_seed(7)
    x_k = torch.randn(64, 2)
    with torch.no_grad():
        quiet = reverse_chain(agent.actor, agent.schedule, obs, x_k, 5.0 * torch.randn(5, 64, 2), 1.0, 0.0)
    assert torch.allclose(evaluated, quiet, atol=1e-6)
    torch.manual_seed(7)
    assert (agent.explore(obs) - evaluated).abs().max() > 1e-2

@pytest.mark.parametrize("write_back", [True, False])
def test_dipo_writes_improved_actions_back_only_when_set(write_back):
    torch.manual_seed(0)
    agent = _agent("dipo", {"action_write_back": write_back, "batch_size": 16, "diffusion_steps": 2,
                            "random_timesteps": 0, "memory_size": 4})
    agent.critic = QuadraticCritic()
    agent.step_actor = lambda loss: None
    for _ in range(4):
        a = torch.rand(2, 2) * 2 - 1
        agent.record_transition(observations=torch.zeros(2, 3), states=None, actions=a, rewards=torch.zeros(2, 1),
                                next_observations=torch.zeros(2, 3), next_states=None,
                                terminated=torch.zeros(2, 1, dtype=torch.bool),
                                truncated=torch.zeros(2, 1, dtype=torch.bool), infos={}, timestep=0, timesteps=1)
    stored = agent.memory.tensors_view["diffusion_actions"].clone()
    executed = agent.memory.tensors_view["actions"].clone()
    agent.update_actor(0, 1)
    after = agent.memory.tensors_view["diffusion_actions"]
    assert len(agent.memory) == len(stored) == 8  # 4 steps x 2 envs, all filled
    assert torch.equal(agent.memory.tensors_view["actions"], executed)  # the executed actions stay
    q = lambda a: agent.critic.min_q(torch.zeros(len(a), 3), a)  # noqa: E731
    if write_back:
        changed = (after != stored).any(dim=1)
        assert changed.any() and torch.all(q(after[changed]) > q(stored[changed]))  # improved, kept
    else:
        assert torch.equal(after, stored)


# --- DACER -----------------------------------------------------------------------------------------
def test_dsac_t_loss_on_a_tiny_batch():
    """DSAC-T's loss for one net by hand, and the gradients it sends to the mean and the std."""
    from agents.algorithms.dacer import dsac_t_loss

    mean = torch.tensor([[1.0], [2.0]], requires_grad=True)
    std = torch.tensor([[0.5], [1.0]], requires_grad=True)
    target = torch.tensor([[1.5], [1.0]])
    sample = torch.tensor([[3.0], [1.8]])
    b = 0.4
    loss = dsac_t_loss(mean, std, target, sample, b)
    # y_hat = mean + clip(sample - mean, -3b, 3b) = [1 + 1.2, 2 - 0.2] = [2.2, 1.8]
    mean_term = torch.tensor([1 * 0.5 / (0.25 + 0.1), 2 * -1.0 / (1 + 0.1)])
    std_term = torch.tensor([0.5 * ((1 - 2.2) ** 2 - 0.25) / (0.125 + 0.1), 1.0 * ((2 - 1.8) ** 2 - 1) / (1 + 0.1)])
    expected = -(b * b + 0.1) * (mean_term + std_term).mean()
    assert torch.allclose(loss, expected)
    loss.backward()
    # the mean moves toward the target (d loss / d mean = -(b^2 + 0.1)/n (y - mu)/(sigma^2 + 0.1))
    assert torch.allclose(mean.grad, -(b * b + 0.1) / 2 * torch.tensor([[0.5 / 0.35], [-1.0 / 1.1]]))
    assert torch.allclose(std.grad, -(b * b + 0.1) / 2 * torch.tensor([[(1.44 - 0.25) / 0.225], [(0.04 - 1) / 1.1]]))


def test_dsac_t_target_sample_is_clipped_both_ways():
    """y_hat = mean + clip(y_s - mean, -3b, 3b): samples 10 above and 10 below the mean both land 3b away."""
    from agents.algorithms.dacer import dsac_t_loss

    mean, std, b = torch.zeros(2, 1), torch.ones(2, 1), 0.5
    loss = dsac_t_loss(mean, std, torch.zeros(2, 1), torch.tensor([[10.0], [-10.0]]), b)
    std_term = ((3 * b) ** 2 - 1) / (1 + 0.1)  # the same for both rows
    assert torch.allclose(loss, torch.tensor(-(b * b + 0.1) * std_term))


CLOUD_STD = 0.05  # the chain of a trained, nearly deterministic policy: a narrow cloud per state


def _dacer_entropy_estimates(seed: int) -> dict[str, list[float]]:
    """DACER's entropy estimate at alpha 0.01 and 4 (noise std 0.0015 and 0.6), on the acted (noisy)
    actions and on the chain alone, every draw seeded from ``seed``. The chain's samples are a cloud
    of std ``CLOUD_STD`` around a state-dependent centre: an untrained chain already fills [-1, 1]^2
    (half its samples on the clamp), where no added noise can raise the entropy much."""
    torch.manual_seed(seed)
    out = {}
    for entropy_of in ("noisy_action", "chain"):
        agent = _agent("dacer", {"entropy_of": entropy_of, "entropy_samples": 100, "entropy_states": 4,
                                 "diffusion_steps": 3})
        generator = torch.Generator().manual_seed(seed)
        centres = torch.rand(4, 1, 2, generator=generator) - 0.5
        cloud = centres + CLOUD_STD * torch.randn(4, 100, 2, generator=generator)
        agent.sample_actions = lambda actor, states, num: cloud[: len(states), :num]
        states = torch.randn(4, 3, generator=generator)
        estimates = []
        for alpha in (0.01, 4.0):
            with torch.no_grad():
                agent.log_alpha.fill_(math.log(alpha))
            torch.manual_seed(seed)
            estimates.append(float(agent.entropy(states)))
        out[entropy_of] = estimates
    return out


def test_dacer_entropy_sees_the_noise_alpha_sets():
    """On the acted (noisy) actions the estimate rises with alpha: the alpha loop is closed. On the
    chain alone it does not move with alpha. At alpha 0.01 the estimate is the cloud's own entropy
    (closed form 1 + log 2 pi + 2 log 0.05 = -3.15 nats) up to the mixture bound's slack (at most
    log 3 above). Its own seeds, so no other test's draws change the verdict; over seeds 0..99 the
    rise was 3.8 to 4.6 nats (asserted: > 3) and the low-alpha estimate -2.94 to -2.43."""
    gauss = 1 + math.log(2 * math.pi) + 2 * math.log(CLOUD_STD)
    for seed in range(3):
        estimates = _dacer_entropy_estimates(seed)
        noisy, chain = estimates["noisy_action"], estimates["chain"]
        assert noisy[1] > noisy[0] + 3.0, (seed, noisy)
        assert gauss - 0.1 < noisy[0] < gauss + math.log(3), (seed, noisy, gauss)
        assert chain[1] == chain[0], (seed, chain)


class _Captured(Exception):
    pass


def test_dacer_policy_step_climbs_the_critic():
    """Eq. 22's policy loss is -Q(s, a_theta): a small gradient step on the loss the update hands to
    the actor's optimizer raises the critic's value of the same chain samples (same noise), on a
    quadratic critic Q = -||a - a*||^2; a flipped sign lowers it."""
    agent = _agent("dacer", {"batch_size": 256, "diffusion_steps": 2, "random_timesteps": 0, "memory_size": 128})
    for _ in range(128):
        agent.record_transition(observations=torch.randn(2, 3), states=None, actions=torch.rand(2, 2) * 2 - 1,
                                rewards=torch.zeros(2, 1), next_observations=torch.randn(2, 3), next_states=None,
                                terminated=torch.zeros(2, 1, dtype=torch.bool),
                                truncated=torch.zeros(2, 1, dtype=torch.bool), infos={}, timestep=0, timesteps=1)
    agent.critic = QuadraticCritic()
    captured = {}

    def capture(loss):
        captured["loss"] = loss
        raise _Captured

    agent.step_actor = capture
    with pytest.raises(_Captured):
        agent.update(timestep=0, timesteps=10)  # update 0: a policy update
    params = list(agent.actor.parameters())
    grads = torch.autograd.grad(captured["loss"], params)
    states = agent.memory.tensors_view["observations"][:256]

    def value() -> float:
        torch.manual_seed(7)
        return agent.critic.min_q(states, agent.noisy(agent.sample_actions(agent.actor, states)[:, 0])).mean().item()

    before = value()
    with torch.no_grad():
        for p, g in zip(params, grads):
            p -= 1e-2 * g
    assert value() > before


def test_dacer_alpha_schedules():
    every_run_tenth = _agent("dacer")
    due = [t for t in range(100) if every_run_tenth.alpha_due(t, 100)]
    assert due == list(range(0, 100, 10))
    assert every_run_tenth.alpha_due(100, 1000) and not every_run_tenth.alpha_due(100, 1000)  # once per step
    every_n = _agent("dacer", {"alpha_update_every": 3.0, "alpha_update_unit": "updates"})
    due = []
    for update in range(10):
        every_n.updates = update
        due.append(every_n.alpha_due(0, 100))
    assert [u for u, d in enumerate(due) if d] == [0, 3, 6, 9]  # counted in updates, the first at 0
    every_update = _agent("dacer", {"alpha_update_every": 1.0, "alpha_update_unit": "updates"})
    for update in range(3):
        every_update.updates = update
        assert every_update.alpha_due(0, 100)
    fresh = _agent("dacer")
    assert fresh.alpha_due(1, 10)  # a tenth of 10 steps is every step; the first call is due at any step
    short_run = _agent("dacer")  # a tenth of a 5-step run rounds to every step
    assert [t for t in range(5) if short_run.alpha_due(t, 5)] == [0, 1, 2, 3, 4]
    agent = _agent("dacer", {"initial_alpha": 1.0, "target_entropy_per_dim": -1.0})
    agent.entropy = lambda states: torch.tensor(5.0)  # far above the target (-2): alpha must fall
    grads, step = [], agent.alpha_optimizer.step
    agent.alpha_optimizer.step = lambda: (grads.append(agent.log_alpha.grad.clone()), step())[1]
    agent.update_alpha(torch.zeros(2, 3))
    assert agent.log_alpha.item() < 0
    assert grads[0].item() == pytest.approx(7.0)  # d/d log alpha of -log alpha (target - entropy) = 5 - (-2)


def test_dacer_noisy_action_by_hand():
    """DACER acts with chain + noise_scale * alpha * N(0, I), clipped to the action box [-1, 1]."""
    agent = _agent("dacer", {"initial_alpha": 2.0, "noise_scale": 0.15})
    chain = torch.tensor([[0.9, -0.9], [0.0, 0.5], [-0.2, 0.95]]).repeat(50, 1)
    torch.manual_seed(1)
    with torch.no_grad():
        got = agent.noisy(chain)
    torch.manual_seed(1)
    expected = (chain + 0.3 * torch.randn_like(chain)).clamp(-1.0, 1.0)
    assert torch.allclose(got, expected) and (got.abs() == 1.0).any()


def test_dacer_critic_heads_and_the_smaller_mean():
    """Each net maps (s, a) to a mean (first output) and a std (softplus of the second); min_q is the
    elementwise smaller of the two nets' means."""
    from agents.algorithms.dacer import TwinDistributionalQ

    torch.manual_seed(0)
    critic, s, a = TwinDistributionalQ(3, 2, [8]), torch.randn(6, 3), torch.rand(6, 2)
    raw = [net.net(torch.cat([s, a], dim=-1)) for net in (critic.q1, critic.q2)]
    (m1, s1), (m2, s2) = critic(s, a)
    assert torch.equal(m1, raw[0][:, :1]) and torch.equal(m2, raw[1][:, :1])
    assert torch.allclose(s1, torch.nn.functional.softplus(raw[0][:, 1:]))
    assert torch.equal(critic.min_q(s, a), torch.minimum(m1, m2)) and not torch.equal(m1, m2)
    assert m1.shape == s1.shape == (6, 1) and raw[0].shape == (6, 2)


def test_dacer_critic_step_by_hand():
    """A critic update on a fixed batch and fixed targets: each net's b (DSAC-T) is the Polyak average
    of its std's batch mean, and the critic loss the sum of the two nets' DSAC-T losses, each with its b."""
    from agents.algorithms.dacer import dsac_t_loss

    torch.manual_seed(0)
    agent = _agent("dacer", {"batch_size": 4, "diffusion_steps": 2, "random_timesteps": 0, "polyak": 0.25})
    s, a = torch.randn(4, 3), torch.rand(4, 2) * 2 - 1
    agent.sample_batch = lambda: (None, {"observations": s, "actions": a})
    target, sample = torch.randn(4, 1), torch.randn(4, 1)
    agent.critic_targets = lambda batch: (target, sample)
    before = torch.tensor([0.3, 0.7])
    agent.sigma_ema, agent.updates = before.clone(), 1  # update 1: no policy step (policy_delay 2)
    with torch.no_grad():
        (mu1, sd1), (mu2, sd2) = agent.critic(s, a)
        b = before + 0.25 * (torch.stack([sd1.mean(), sd2.mean()]) - before)
        expected = dsac_t_loss(mu1, sd1, target, sample, b[0]) + dsac_t_loss(mu2, sd2, target, sample, b[1])
    agent.update(timestep=1, timesteps=10)
    assert torch.allclose(agent.sigma_ema, b)
    assert torch.allclose(agent.tracking_data["Loss / Critic loss"][-1], expected)
    assert agent.updates == 2


def test_qvpo_entropy_rows_are_uniform_on_the_action_box(monkeypatch):
    import agents.algorithms.qvpo as qvpo

    agent = _agent("qvpo", {"batch_size": 64, "diffusion_steps": 2, "sampling_number": 4,
                            "batch_sampling_number": 10})
    _record_random_transitions(agent)
    seen, weighted_batch = {}, qvpo.weighted_batch
    monkeypatch.setattr(qvpo, "weighted_batch", lambda *args: (seen.update(uniform=args[3]), weighted_batch(*args))[1])
    agent.update_actor(0, 10)
    uniform = seen["uniform"]
    assert uniform.shape == (640, 2) and uniform.min() >= -1 and uniform.max() <= 1
    assert uniform.min() < -0.95 and uniform.max() > 0.95 and abs(uniform.mean()) < 0.1


def test_dacer_td_target_uses_the_policy_before_its_step():
    agent = _agent("dacer", {"batch_size": 8, "diffusion_steps": 2, "random_timesteps": 0})
    for _ in range(4):
        agent.record_transition(observations=torch.randn(2, 3), states=None, actions=torch.rand(2, 2),
                                rewards=torch.ones(2, 1), next_observations=torch.randn(2, 3), next_states=None,
                                terminated=torch.zeros(2, 1, dtype=torch.bool),
                                truncated=torch.zeros(2, 1, dtype=torch.bool), infos={}, timestep=0, timesteps=1)
    calls = []
    targets, actor_step = agent.critic_targets, agent.step_actor
    agent.critic_targets = lambda batch: (calls.append("target"), targets(batch))[1]
    agent.step_actor = lambda loss: (calls.append("actor step"), actor_step(loss))[1]
    agent.update(timestep=0, timesteps=10)  # update 0: a policy update (policy_delay 2)
    assert calls == ["target", "actor step"]


# --- GenPO -----------------------------------------------------------------------------------------
def test_genpo_learning_rate_rule():
    agent = build_agent("genpo", resolve_config("genpo", get_task("cartpole")), observation_space=OBS,
                        action_space=ACT, num_envs=2, device="cpu")
    agent.init()
    desired = agent.config.desired_kl  # 0.008 on Cartpole

    def after(lr, kl):
        agent.optimizer.param_groups[0]["lr"].fill_(lr)
        agent.adapt_learning_rate(torch.tensor(kl))
        return agent.optimizer.param_groups[0]["lr"].item()

    assert after(3e-4, 2.5 * desired) == pytest.approx(2e-4)  # above 2 KL*: / 1.5
    assert after(1.2e-5, 1.0) == pytest.approx(1e-5)  # floor
    assert after(3e-4, 0.3 * desired) == pytest.approx(4.5e-4)  # below KL*/2: x 1.5
    assert after(9e-3, 0.0) == pytest.approx(1e-2)  # ceiling
    assert after(3e-4, -2e-4) == pytest.approx(3e-4)  # a negative k1 estimate below -1e-4 does not raise it
    assert after(3e-4, desired) == pytest.approx(3e-4)  # in the band: unchanged
    assert agent.scheduler is None  # no skrl scheduler beside the rule


def test_genpo_minibatch_losses_on_a_fixed_batch():
    """The clipped surrogate, both value losses, the compression and entropy terms and the KL
    estimates against their formulas on a fixed batch, and the total's gradient against theirs (a
    detached compression loss, whose coefficient then changes nothing, fails here)."""
    torch.manual_seed(0)
    for value_loss in ("max_clipped", "clipped"):
        agent = build_agent("genpo", resolve_config("genpo", get_task("cartpole"), {"value_loss": value_loss,
                                                                                    "entropy_coef": 0.1}),
                            observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
        agent.init()
        torch.manual_seed(1)
        obs = torch.randn(6, 3)
        doubled, _ = agent.flow.sample(obs)
        doubled = doubled + 0.1 * torch.randn_like(doubled)  # the policy has moved since the rollout
        old_logp = agent.flow.log_prob(doubled, obs).detach().unsqueeze(-1) + torch.linspace(-0.5, 0.5, 6).view(-1, 1)
        old_values = torch.zeros(6, 1)
        returns = torch.tensor([[1.0], [-1.0], [0.5], [0.1], [-0.3], [2.0]])
        adv = torch.tensor([[1.0], [-1.0], [2.0], [-0.5], [0.3], [1.0]])
        torch.manual_seed(2)
        got = agent.minibatch_losses(obs, doubled, old_logp, old_values, returns, adv)
        new_logp = agent.flow.log_prob(doubled, obs).unsqueeze(-1)
        ratio = (new_logp - old_logp).exp()
        surrogate = torch.where(adv >= 0, torch.minimum(ratio, torch.tensor(1.2)),
                                torch.maximum(ratio, torch.tensor(0.8)))
        assert torch.allclose(got["Loss / Policy loss"], -(adv * surrogate).mean(), atol=1e-6)
        v = agent.value.net(obs)
        clipped = old_values + (v - old_values).clamp(-0.2, 0.2)
        err = (returns - v).square() if value_loss == "max_clipped" else (returns - clipped).square()
        err = torch.max(err, (returns - clipped).square())
        assert torch.allclose(got["Loss / Value loss"], agent.config.value_loss_coef * err.mean(), atol=1e-6)
        assert torch.allclose(got["Policy / Entropy estimate"], -new_logp.mean())
        assert torch.allclose(got["kl_k1"], (old_logp - new_logp).mean())
        log_r = new_logp - old_logp
        assert torch.allclose(got["kl_k3"], ((log_r.exp() - 1) - log_r).mean())
        torch.manual_seed(2)
        fresh, _ = agent.flow.sample(obs)
        assert torch.allclose(got["Loss / Compression loss"], (fresh[:, :2] - fresh[:, 2:]).norm(dim=-1).mean())
        total = got["Loss / Policy loss"] + 0.1 * new_logp.mean() + got["Loss / Value loss"] + 0.01 * got["Loss / Compression loss"]
        assert torch.allclose(got["total"], total, atol=1e-6)
        # and every term reaches the parameters: the total's gradient is that of the formulas built here
        by_hand = (-(adv * surrogate).mean() + 0.1 * new_logp.mean() + agent.config.value_loss_coef * err.mean()
                   + 0.01 * (fresh[:, :2] - fresh[:, 2:]).norm(dim=-1).mean())
        params = [*agent.flow.velocity.parameters(), *agent.value.net.parameters()]
        for theirs, ours in zip(torch.autograd.grad(got["total"], params, retain_graph=True),
                                torch.autograd.grad(by_hand, params)):
            assert torch.allclose(theirs, ours, atol=1e-6)


# --- target networks -------------------------------------------------------------------------------
def _record_random_transitions(agent, steps: int = 4) -> None:
    """Random transitions of 2 environments (actions in the box, no episode ends) into the replay memory."""
    for _ in range(steps):
        agent.record_transition(observations=torch.randn(2, 3), states=None, actions=torch.rand(2, 2) * 2 - 1,
                                rewards=torch.randn(2, 1), next_observations=torch.randn(2, 3), next_states=None,
                                terminated=torch.zeros(2, 1, dtype=torch.bool),
                                truncated=torch.zeros(2, 1, dtype=torch.bool), infos={}, timestep=0, timesteps=1)


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("algo", ["dipo", "qvpo", "dacer"])
def test_target_critic_moves_by_the_polyak_rate_and_only_on_its_updates(algo):
    """target <- target + tau (critic - target) after each update, with the configured tau (0.1 here,
    so tau = 1 or a skipped update fails); DACER moves it only on the updates its policy_delay (2)
    selects, as the original's delay_update does: updates 0 and 2 move it, 1 and 3 leave it."""
    tau = 0.1
    agent = _agent(algo, {"batch_size": 8, "diffusion_steps": 2, "random_timesteps": 0, "polyak": tau})
    _record_random_transitions(agent)
    for update in range(4 if algo == "dacer" else 1):
        before = _params(agent.target_critic)
        agent.update(timestep=0, timesteps=10)
        critic, after = _params(agent.critic), _params(agent.target_critic)
        moves = algo != "dacer" or update % 2 == 0
        for old, new, source in zip(before, after, critic):
            expected = old + tau * (source - old) if moves else old
            assert torch.allclose(new, expected, atol=1e-7), (algo, update)
        assert any(not torch.equal(o, n) for o, n in zip(before, after)) == moves
    assert agent.updates == (4 if algo == "dacer" else 1)
