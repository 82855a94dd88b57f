"""The multimodal 2-D bandits: the diffusion core represents two modes (per state) where a Gaussian
cannot, and every diffusion agent learns the state-conditioned bandit through the real training loop.

GenPO's coupled flow (5 steps, mixing 0.9) is not in the capacity test: fitted by maximum likelihood
for 2000 steps it put 11-16 % of its samples near each mode (the denoiser: over 30 %), so this
suite does not show that the flow keeps two modes."""

import pytest
import torch

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.sampler import denoising_loss, sample
from agents.diffusion.schedules import NoiseSchedule
from agents.interface import evaluation_action, init_for_loop
from agents.catalogue import build_agent, resolve_config
from bandit import MODES, SCALE, STATE_MODES, StateBanditEnv, near_mode, reward, state_mode_coverage, state_reward
from benchmark import loop
from benchmark.store import RunDir
from tasks.registry import get_task


def test_diffusion_actor_fits_both_modes_where_a_gaussian_cannot():
    torch.manual_seed(0)
    data = MODES[torch.randint(0, 2, (4096,))] + 0.05 * torch.randn(4096, 2)
    net, sched = Denoiser(1, 2, [64, 64]), NoiseSchedule("cosine", 20)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(1500):
        idx = torch.randint(0, 4096, (512,))
        loss = denoising_loss(net, sched, data[idx], torch.zeros(512, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    actions = sample(net, sched, torch.zeros(1, 1), num=2000)[0]
    modes = near_mode(actions)
    assert (modes == 0).float().mean() > 0.3 and (modes == 1).float().mean() > 0.3
    # the best Gaussian for the same data (maximum likelihood) is one bump between the modes
    gauss = torch.distributions.MultivariateNormal(data.mean(0), torch.cov(data.T))
    g = gauss.sample((2000,)).clamp(-1, 1)
    assert reward(actions).mean() > reward(g).mean() + 0.3 * SCALE
    assert (near_mode(g) >= 0).float().mean() < 0.5 * (modes >= 0).float().mean()


SMALL = {"diffusion_steps": 10, "batch_size": 256, "memory_size": 64, "actor_lr": 1e-3, "critic_lr": 1e-3,
         "gradient_steps": 2}
# (vectorized steps of 256 environments, settings, the evaluation reward to pass). The budgets are
# where every seed tried was clearly past the bar (see the test's docstring for the margins).
CASES = {
    "dipo": (600, SMALL, 5.0),
    "qvpo": (600, {**SMALL, "sampling_number": 16}, 5.0),
    # the original's initial alpha (3): at the review's 0.02 the exploration noise is ~0.003 and
    # whether DACER finds the bumps on this toy is down to the seed (docs/fidelity.md)
    "dacer": (400, {**SMALL, "entropy_samples": 64, "entropy_states": 16, "initial_alpha": 3.0}, 5.0),
    # a sample of the flow, spread around the mode it found: its reward levels off near 4.3-4.5
    "genpo": (400, {"actor_lr": 1e-3}, 3.0),
    "dppo": (400, {"actor_lr": 1e-3, "diffusion_steps": 5}, 5.0),
    "fpopp": (400, {"actor_lr": 1e-3, "diffusion_steps": 8}, 5.0),
}


EVAL_STATES = 4096


def evaluation_reward(agent, seed: int = 0) -> float:
    """Mean reward of the agent's evaluation action (what its original evaluates with) over
    ``EVAL_STATES`` fixed states, half of each kind, its sampling noise drawn from ``seed``: the
    standard error of this mean is under 0.07 here, where the training curve's points (256
    exploring episodes each) moved by more than 1.0 between neighbours."""
    states = torch.arange(EVAL_STATES) % 2
    obs = torch.nn.functional.one_hot(states, 2).float()
    torch.manual_seed(seed)
    actions = evaluation_action(agent, obs)
    return float(state_reward(states, actions.clamp(-1, 1)).mean())


def _train(tmp_path, algo, env, steps, overrides, seed: int = 0):
    """Train ``algo`` on ``env`` through the real loop; returns the agent, the training curve and
    the evaluation reward before and after."""
    torch.manual_seed(seed)
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=env.observation_space, action_space=env.action_space,
                        num_envs=env.num_envs, device="cpu")
    init_for_loop(agent)
    before = evaluation_reward(agent, seed)
    torch.manual_seed(seed)
    settings = loop.LoopSettings(timesteps=steps, log_interval=20, checkpoint_interval=steps, progress=False)
    loop.train(agent, env, env.num_envs, settings, RunDir(tmp_path))
    after = evaluation_reward(agent, seed)
    return agent, [float(r["return_mean"]) for r in RunDir(tmp_path).read_metrics()], before, after


@pytest.mark.parametrize("algo", CASES)
def test_each_diffusion_agent_learns_the_state_conditioned_bandit(tmp_path, algo):
    """Through the real training loop, judged on the evaluation action over 4096 states before and
    after training (not on the exploring training curve, whose points moved by more than 1.0
    between neighbours): the reward passes the bar, well above uniform random actions (1.26) and the
    untrained agent. Measured with the seed this test uses (0) and seeds 1 and 2, at 1 and at 2
    torch threads (the same numbers at both), before -> after, against the bar:
    DIPO 0.14 -> 7.07 / 9.99 / 7.73 (bar 5.0; seeds 3 and 4 at 2 threads: 7.15, 8.77);
    QVPO 2.69 / 1.29 / 0.03 -> 9.76 / 9.98 / 8.59 (bar 5.0); DACER 0.62 / 0.69 / 0.64 -> 9.58 / 9.84 /
    9.38 (bar 5.0); GenPO 0.83 / 0.82 / 0.85 -> 4.06 / 4.29 / 3.72 (bar 3.0: a flow sample spreads
    around the mode it found); at 1 thread, DPPO 0.63 / 0.65 / 0.66 -> 9.93 / 9.88 / 9.72 and FPO++
    (evaluated from zero initial noise) 0.01 / 0.01 / 0.01 -> 8.61 / 9.17 / 9.86 (bar 5.0). The smallest
    margin over the bar: 24 % (GenPO, seed 2)."""
    steps, overrides, bar = CASES[algo]
    _, returns, before, after = _train(tmp_path, algo, StateBanditEnv(256), steps, overrides)
    assert after > bar and after > before + 2.0, f"{algo}: {before:.3f} -> {after:.3f}; curve {returns}"


def _per_state_data(n: int = 4096):
    states = torch.randint(0, 2, (n,))
    modes = STATE_MODES[states, torch.randint(0, 2, (n,))]
    return states, torch.nn.functional.one_hot(states, 2).float(), modes + 0.05 * torch.randn(n, 2)


def test_state_conditioned_denoiser_keeps_both_modes_of_each_state():
    """The shared denoiser (DIPO, QVPO, DACER), fitted to each state's two modes, keeps both (mode
    coverage per state measured), where the best Gaussian per state puts its mass between them."""
    torch.manual_seed(0)
    states, obs, data = _per_state_data()
    net, sched = Denoiser(2, 2, [64, 64]), NoiseSchedule("cosine", 20)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(1500):
        idx = torch.randint(0, len(data), (512,))
        loss = denoising_loss(net, sched, data[idx], obs[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    for state in (0, 1):
        s = torch.nn.functional.one_hot(torch.full((2000,), state), 2).float()
        with torch.no_grad():
            actions = sample(net, sched, s[:1], num=2000)[0]
        mask = states == state
        gauss = torch.distributions.MultivariateNormal(data[mask].mean(0), torch.cov(data[mask].T))
        g = gauss.sample((2000,)).clamp(-1, 1)
        coverage = state_mode_coverage(state, actions)
        assert coverage.min() > 0.3, f"state {state}: {coverage.tolist()}"
        assert state_mode_coverage(state, g).max() < 0.5 * coverage.min()
        assert state_reward(torch.full((2000,), state), actions).mean() > \
            state_reward(torch.full((2000,), state), g).mean() + 0.2 * SCALE
