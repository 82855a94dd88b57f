"""The compiled path (agents.execution) computes what the eager one does, and neither reads a value
back to the host while acting or updating (a host sync on a GPU)."""

import contextlib
import copy
import os
import sys

import gymnasium
import numpy as np
import pytest
import torch

from agents import catalogue, execution
from agents.diffusion.sampler import reverse_chain
from tasks.registry import get_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBS = gymnasium.spaces.Box(-np.inf, np.inf, (3,))
ACT = gymnasium.spaces.Box(-np.inf, np.inf, (2,))
SMALL = {
    "dipo": {"diffusion_steps": 3, "action_gradient_steps": 2, "batch_size": 16, "random_timesteps": 0},
    "qvpo": {"diffusion_steps": 3, "sampling_number": 4, "batch_size": 16, "random_timesteps": 0},
    "dacer": {"diffusion_steps": 3, "entropy_samples": 8, "entropy_states": 4, "batch_size": 16,
              "random_timesteps": 0, "alpha_update_every": 1.0, "alpha_update_unit": "updates"},
    "genpo": {"rollouts": 4, "mini_batches": 2, "learning_epochs": 2},
    # skrl's KL rule (their review profile's) reads the KL once per epoch, as skrl's PPO does; the
    # agents' own paths are checked under the rule that runs on the device
    "dppo": {"rollouts": 4, "mini_batches": 2, "learning_epochs": 2, "diffusion_steps": 4, "fine_tuned_steps": 2,
             "lr_schedule": "genpo"},
    "fpopp": {"rollouts": 4, "mini_batches": 2, "learning_epochs": 2, "diffusion_steps": 3, "mc_samples": 4,
              "lr_schedule": "genpo"},
    "ppo": {"rollouts": 4, "mini_batches": 2, "learning_epochs": 2},
}
SMALL_NETS = {"actor_hidden": [16, 16], "critic_hidden": [16, 16]}


def _agent(algo, seed=0):
    torch.manual_seed(seed)
    cfg = catalogue.resolve_config(algo, get_task("cartpole"), {**SMALL_NETS, **SMALL[algo]})
    agent = catalogue.build_agent(algo, cfg, observation_space=OBS, action_space=ACT, num_envs=4, device="cpu")
    agent.init()
    agent.enable_training_mode(True)
    return agent


def _step(agent, t: int, steps: int) -> torch.Tensor:
    obs = torch.randn(4, 3)
    with torch.no_grad():
        actions, _ = agent.act(obs, None, timestep=t, timesteps=steps)
        agent.record_transition(observations=obs, states=None, actions=actions, rewards=torch.randn(4, 1),
                                next_observations=torch.randn(4, 3), next_states=None,
                                terminated=torch.zeros(4, 1, dtype=torch.bool),
                                truncated=torch.zeros(4, 1, dtype=torch.bool), infos={}, timestep=t, timesteps=steps)
    agent.post_interaction(timestep=t, timesteps=steps)
    return actions


READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


@contextlib.contextmanager
def host_reads():
    """Counts every Python-level read of a tensor's value (what forces a device sync on a GPU), but
    those of torch's optimizers: their step counters are host tensors unless fused or capturable
    (and fused, as on CUDA, reads none)."""
    calls: list[str] = []
    saved = {name: getattr(torch.Tensor, name) for name in READS}

    def counting(name):
        def read(self, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if f"torch{os.sep}optim{os.sep}" not in caller:
                calls.append(f"{name} in {os.path.relpath(caller, ROOT)}")
            return saved[name](self, *args, **kwargs)
        return read

    for name in READS:
        setattr(torch.Tensor, name, counting(name))
    try:
        yield calls
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)


@pytest.mark.parametrize("algo", ["dipo", "qvpo", "dacer", "genpo", "dppo", "fpopp"])
def test_acting_and_updating_read_nothing_back(algo):
    agent = _agent(algo)
    steps = 8
    for t in range(2):  # memory to sample from
        _step(agent, t, steps)
    with host_reads() as calls:
        for t in range(2, steps):  # acting, recording and updating (GenPO: at t = 3 and 7)
            _step(agent, t, steps)
    assert calls == [], f"{algo} read tensor values on the host: {sorted(set(calls))}"


def test_the_counter_sees_a_read():
    with host_reads() as calls:
        float(torch.ones(()).sum())
        torch.zeros(2).any().item()
    assert calls == ["__float__ in tests/test_compiled.py", "item in tests/test_compiled.py"]


@pytest.mark.parametrize("algo", ["dipo", "qvpo", "dacer", "genpo", "dppo", "fpopp", "ppo"])
def test_compiled_and_eager_act_and_update_alike(algo):
    """Same weights, same random numbers: the same actions, the same losses and parameters after
    updates, within float32 tolerance (1e-4: fused kernels sum in another order)."""
    eager = _agent(algo)
    compiled = _agent(algo)
    assert execution.accelerate(compiled, True)
    steps = 8
    for t in range(steps):
        torch.manual_seed(100 + t)
        a = _step(eager, t, steps)
        torch.manual_seed(100 + t)
        b = _step(compiled, t, steps)
        assert torch.allclose(a, b, atol=1e-4), (t, (a - b).abs().max())
    for (name, x), (_, y) in zip(_parameters(eager), _parameters(compiled)):
        assert torch.allclose(x, y, atol=1e-4, rtol=1e-3), (name, (x - y).abs().max())
    losses = [k for k in eager.tracking_data if k.startswith("Loss")]
    assert losses
    for key in losses:
        x = torch.tensor([float(v) for v in eager.tracking_data[key]])
        y = torch.tensor([float(v) for v in compiled.tracking_data[key]])
        assert torch.allclose(x, y, atol=1e-4, rtol=1e-3), key


def _parameters(agent):
    modules = {name: m for name, m in agent.checkpoint_modules.items() if isinstance(m, torch.nn.Module)}
    return [(f"{name}.{p}", t.detach()) for name, m in sorted(modules.items())
            for p, t in m.state_dict().items() if torch.is_tensor(t) and t.is_floating_point()]


def test_the_compiled_chain_gives_the_same_actions_for_the_same_noise():
    agent = _agent("dipo")
    compiled = execution.compile_fn(reverse_chain)
    state, x, noise = torch.randn(32, 3), torch.randn(32, 2), torch.randn(3, 32, 2)
    with torch.no_grad():
        for ratio in (1.0, 0.0):
            ours = compiled(agent.actor, agent.schedule, state, x, noise, 1.0, ratio)
            assert torch.allclose(ours, reverse_chain(agent.actor, agent.schedule, state, x, noise, 1.0, ratio),
                                  atol=1e-5)
    assert not torch.equal(reverse_chain(agent.actor, agent.schedule, state, x, noise, 1.0, 1.0),
                           reverse_chain(agent.actor, agent.schedule, state, x, copy.deepcopy(noise) * 0, 1.0, 1.0))


def test_auto_compiles_where_it_was_measured_to_pay():
    # eager wherever compiling has not been measured to pay: the CPU (measured slower), CUDA (not measured)
    assert execution.use_compile("auto", "cuda") is False and execution.use_compile("auto", "cpu") is False
    assert execution.use_compile("on", "cpu") and not execution.use_compile("off", "cuda")
    with pytest.raises(ValueError, match="valid: auto, on, off"):
        execution.use_compile("maybe", "cpu")


@pytest.mark.parametrize("algo", ["dacer", "genpo"])
def test_the_training_loop_reads_nothing_back_between_log_rows(tmp_path, algo):
    """The loop around the agent (episode statistics, the non-finite action check, recording) reads
    values only when it writes a log row: a run twice as long with one log row reads as often."""
    import sys as _sys

    from benchmark import loop
    from benchmark.store import RunDir

    _sys.path.insert(0, os.path.dirname(__file__))
    from fake_env import FakeVecEnv

    counts = []
    project = ("agents", "benchmark", "tasks")  # the stand-in env's own bookkeeping is not the loop's
    for steps in (8, 16):
        agent = _agent(algo)
        env = FakeVecEnv(num_envs=4, obs_dim=3, act_dim=2, episode_length=3)
        settings = loop.LoopSettings(timesteps=steps, log_interval=steps, checkpoint_interval=steps,
                                     progress=False)
        with host_reads() as calls:
            loop.train(agent, env, env.num_envs, settings, RunDir(tmp_path / f"{algo}{steps}"))
        counts.append([c for c in calls if c.split(" in ")[1].startswith(project)])
    assert len(counts[0]) == len(counts[1]), counts
