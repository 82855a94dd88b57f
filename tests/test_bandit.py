"""The multimodal 2-D bandits: the diffusion core represents two modes where a Gaussian cannot, and
every diffusion agent learns the state-conditioned one through the real training loop, keeping
both modes of each state, where SAC's Gaussian keeps at most one."""

import pytest
import torch

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.sampler import denoising_loss, sample
from agents.diffusion.schedules import NoiseSchedule
from agents.interface import evaluation_action, init_for_loop
from agents.catalogue import build_agent, resolve_config
from bandit import MODES, SCALE, StateBanditEnv, near_mode, reward, state_mode_coverage
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
CASES = {
    "dipo": (300, SMALL),
    "qvpo": (300, {**SMALL, "sampling_number": 16}),
    # the original's initial alpha (3): at the review's 0.02 the exploration noise is ~0.003 and
    # whether DACER finds the bumps on this toy is down to the seed (docs/fidelity.md)
    "dacer": (400, {**SMALL, "entropy_samples": 64, "entropy_states": 16, "initial_alpha": 3.0}),
    "genpo": (640, {"actor_lr": 1e-3}),
}


def _train(tmp_path, algo, env, steps, overrides):
    torch.manual_seed(0)
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=env.observation_space, action_space=env.action_space,
                        num_envs=env.num_envs, device="cpu")
    init_for_loop(agent)
    settings = loop.LoopSettings(timesteps=steps, log_interval=20, checkpoint_interval=steps, progress=False)
    loop.train(agent, env, env.num_envs, settings, RunDir(tmp_path))
    return agent, [float(r["return_mean"]) for r in RunDir(tmp_path).read_metrics()]


def _coverage(agent, state: int, n: int = 2000, acting: bool = False) -> torch.Tensor:
    """Share of the policy's actions near each mode of ``state``: as evaluated, or as it acts."""
    obs = torch.nn.functional.one_hot(torch.full((n,), state), 2).float()
    agent.enable_training_mode(acting)
    with torch.no_grad():
        actions = agent.act(obs, None, timestep=10**6, timesteps=10**6)[0] if acting else evaluation_action(agent, obs)
    return state_mode_coverage(state, actions.clamp(-1, 1))


@pytest.mark.parametrize("algo", CASES)
def test_each_diffusion_agent_learns_both_modes_of_each_state(tmp_path, algo):
    """Through the real training loop on the state-conditioned two-mode bandit: the reward more than
    doubles, and in each state the policy (as it is evaluated) keeps mass on both of that state's
    modes (mode coverage per state measured)."""
    steps, overrides = CASES[algo]
    agent, returns = _train(tmp_path, algo, StateBanditEnv(256), steps, overrides)
    uniform = 0.126 * SCALE  # expected reward of uniform random actions on [-1, 1]^2
    final = sum(returns[-3:]) / 3
    assert final > 2 * returns[0] and final > uniform, f"{algo}: {returns}"
    for state in (0, 1):
        coverage = _coverage(agent, state)
        assert coverage.min() > 0.1, f"{algo}, state {state}: share near each mode {coverage.tolist()}"


def test_a_gaussian_policy_keeps_at_most_one_mode_per_state(tmp_path):
    """SAC's Gaussian policy, trained the same way, samples near one mode of each state (or between)."""
    agent, returns = _train(tmp_path, "sac", StateBanditEnv(256), 300,
                            {"batch_size": 256, "memory_size": 64, "actor_lr": 1e-3, "critic_lr": 1e-3,
                             "gradient_steps": 2})
    assert sum(returns[-3:]) / 3 > returns[0]  # it learns too
    for state in (0, 1):
        assert _coverage(agent, state, acting=True).min() < 0.1
