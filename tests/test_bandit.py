"""The multimodal 2-D bandit: the diffusion core represents two modes where a Gaussian cannot, and
every diffusion agent learns on it (through the real training loop)."""

import pytest
import torch

from agents.diffusion.denoiser import Denoiser
from agents.diffusion.sampler import denoising_loss, sample
from agents.diffusion.schedules import NoiseSchedule
from agents.interface import init_for_loop
from agents.catalogue import build_agent, resolve_config
from bandit import MODES, SCALE, BanditEnv, near_mode, reward
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
    "dacer": (400, {**SMALL, "entropy_samples": 64, "entropy_states": 16}),
    "genpo": (640, {"actor_lr": 1e-3}),
}


@pytest.mark.parametrize("algo", CASES)
def test_each_diffusion_agent_learns_the_bandit(tmp_path, algo):
    steps, overrides = CASES[algo]
    torch.manual_seed(0)
    env = BanditEnv(256)
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=env.observation_space, action_space=env.action_space,
                        num_envs=env.num_envs, device="cpu")
    init_for_loop(agent)
    settings = loop.LoopSettings(timesteps=steps, log_interval=20, checkpoint_interval=steps, progress=False)
    loop.train(agent, env, env.num_envs, settings, RunDir(tmp_path))
    returns = [float(r["return_mean"]) for r in RunDir(tmp_path).read_metrics()]
    uniform = 0.126 * SCALE  # expected reward of uniform random actions on [-1, 1]^2
    final = sum(returns[-3:]) / 3
    assert final > 2 * returns[0] and final > uniform, f"{algo}: {returns}"
