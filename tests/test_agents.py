"""The classic agents are skrl's, configured from the resolved config; each learns finite losses
from a few synthetic transitions (glue only: real learning is tested on Isaac Lab)."""

import gymnasium
import numpy as np
import pytest
import torch

from agents.interface import evaluation_action, init_for_loop, load_module_states, module_states
from agents import catalogue
from agents.catalogue import build_agent, names, resolve_config
from tasks.registry import get_task

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (4,))
ACT = gymnasium.spaces.Box(-np.inf, np.inf, (1,))


def _build(algo, overrides=None, num_envs=8):
    cfg = resolve_config(algo, get_task("cartpole"), overrides)
    agent = build_agent(algo, cfg, observation_space=OBS, action_space=ACT, num_envs=num_envs, device="cpu")
    init_for_loop(agent)
    return cfg, agent


def _linear_sizes(model) -> list[int]:
    return [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]


def test_ppo_is_configured_from_the_tables():
    cfg, agent = _build("ppo")
    assert (agent.cfg.rollouts, agent.cfg.learning_epochs, agent.cfg.mini_batches) == (16, 8, 8)
    assert agent.cfg.learning_rate[0] == cfg["actor_lr"] == 3e-4
    assert agent.cfg.learning_rate_scheduler_kwargs[0] == {"kl_threshold": 0.008}
    assert (agent.cfg.value_loss_scale, agent.cfg.entropy_loss_scale, agent.cfg.grad_norm_clip) == (2.0, 0.0, 1.0)
    assert agent.cfg.time_limit_bootstrap is True
    assert _linear_sizes(agent.policy) == [32, 32, 1] and _linear_sizes(agent.value) == [32, 32, 1]
    assert agent.memory.memory_size == 16


@pytest.mark.parametrize("algo", ["ddpg", "td3", "sac"])
def test_off_policy_agents_use_table_12(algo):
    _, agent = _build(algo, num_envs=8)
    assert (agent.cfg.batch_size, agent.cfg.polyak, agent.cfg.random_timesteps) == (4096, 0.005, 4)
    assert agent.memory.memory_size == 4096 and agent.memory.num_envs == 8
    assert float(agent.action_space.low[0]) == -1.0 and float(agent.action_space.high[0]) == 1.0
    q = agent.critic if algo == "ddpg" else agent.critic_1
    assert _linear_sizes(q) == [32, 32, 1]


def _drive(agent, steps: int, num_envs: int = 8) -> None:
    """Act, record and learn for ``steps`` vectorized steps on random observations and rewards (no
    episode ends), checking every action is finite and of the action's shape."""
    agent.enable_training_mode(True)
    obs = torch.randn(num_envs, 4)
    for t in range(steps):
        with torch.no_grad():
            actions, _ = agent.act(obs, None, timestep=t, timesteps=steps)
            assert actions.shape == (num_envs, 1) and torch.isfinite(actions).all()
            next_obs = torch.randn(num_envs, 4)
            agent.record_transition(observations=obs, states=None, actions=actions, rewards=torch.randn(num_envs, 1),
                                    next_observations=next_obs, next_states=None,
                                    terminated=torch.zeros(num_envs, 1, dtype=torch.bool),
                                    truncated=torch.zeros(num_envs, 1, dtype=torch.bool), infos={}, timestep=t,
                                    timesteps=steps)
        agent.post_interaction(timestep=t, timesteps=steps)
        obs = next_obs


@pytest.mark.parametrize("algo", names())
def test_each_agent_updates_with_finite_losses(algo):
    torch.manual_seed(0)
    overrides = ({"rollouts": 4, "mini_batches": 2} if catalogue.get(algo).on_policy
                 else {"batch_size": 32, "random_timesteps": 1})
    if algo in ("dipo", "qvpo", "dacer"):
        overrides["diffusion_steps"] = 5
    if algo == "qvpo":
        overrides["sampling_number"] = 8
    if algo == "dacer":
        overrides.update(entropy_samples=50, entropy_states=4)
    _, agent = _build(algo, overrides)
    _drive(agent, 12)
    assert set(agent.tracking_data) >= LOGGED[algo]
    assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in agent.tracking_data.values())


# what each agent logs (TensorBoard tags, metrics.csv columns; analysis/curves.py reads the exploration ones)
LOSSES = {"Loss / Policy loss"}
ON_POLICY_LOGS = LOSSES | {"Loss / Value loss", "Learning / Learning rate"}
OFF_POLICY_LOGS = LOSSES | {"Loss / Critic loss", "Q-network / Q1 (mean)"}
LOGGED = {
    "ppo": ON_POLICY_LOGS | {"Policy / Standard deviation"},
    "genpo": ON_POLICY_LOGS | {"Loss / Compression loss", "Policy / Entropy estimate"},
    "dppo": ON_POLICY_LOGS | {"Policy / Entropy estimate"},
    "fpopp": ON_POLICY_LOGS | {"Policy / Flow-matching loss"},
    "ddpg": OFF_POLICY_LOGS | {"Exploration / Exploration noise (mean)"},
    "td3": OFF_POLICY_LOGS | {"Exploration / Exploration noise (mean)", "Q-network / Q2 (mean)"},
    "sac": OFF_POLICY_LOGS | {"Coefficient / Entropy coefficient", "Loss / Entropy loss"},
    "dipo": OFF_POLICY_LOGS,
    "qvpo": OFF_POLICY_LOGS | {"Policy / Q weight (mean)"},
    "dacer": OFF_POLICY_LOGS | {"Policy / alpha", "Policy / Entropy estimate"},
}


def test_the_report_reads_what_the_agents_log():
    from analysis.curves import EXPLORATION
    from benchmark.loop import column_name

    assert set(LOGGED) == set(names())
    assert set(EXPLORATION) <= {column_name(key) for keys in LOGGED.values() for key in keys}


def test_fpo_logs_its_flow_matching_loss_as_a_positive_number():
    torch.manual_seed(0)
    _, agent = _build("fpopp", {"rollouts": 2, "mini_batches": 1})
    _drive(agent, 2)
    assert min(float(v) for v in agent.tracking_data["Policy / Flow-matching loss"]) > 0


@pytest.mark.parametrize("algo", names())
def test_checkpoint_state_round_trips(algo):
    _, a = _build(algo)
    _, b = _build(algo)
    obs = torch.randn(5, 4)
    evaluation_action(a, obs)  # skrl's instantiated models are lazy: materialize a's weights first
    load_module_states(b, module_states(a))  # b is still lazy, as a freshly built agent on resume is
    actions = []
    for agent in (a, b):
        torch.manual_seed(1)  # diffusion agents evaluate with sampled chains
        actions.append(evaluation_action(agent, obs))
    assert torch.equal(*actions)
    if algo == "sac":
        assert "log_entropy_coefficient" in module_states(a)
    if algo == "dacer":
        assert {"log_alpha", "alpha_optimizer"} <= set(module_states(a))


def test_sac_squashes_its_mean_and_learns_its_temperature_toward_minus_the_action_dim():
    _, agent = _build("sac")
    assert agent.cfg.learn_entropy is True and agent.cfg.target_entropy == -1.0  # -dim(action)
    obs = torch.randn(3, 4)
    evaluation_action(agent, obs)  # materialize skrl's lazy weights
    with torch.no_grad():
        for layer in [m for m in agent.policy.modules() if isinstance(m, torch.nn.Linear)]:
            layer.weight.zero_()
            layer.bias.fill_(3.0)
    assert torch.allclose(evaluation_action(agent, obs), torch.full((3, 1), np.tanh(3.0)))  # tanh, not a clip at 1


def test_ppo_adapts_its_rate_and_normalizes_values():
    _, agent = _build("ppo")
    from skrl.resources.schedulers.torch import KLAdaptiveLR

    assert agent.cfg.learning_rate_scheduler[0] is KLAdaptiveLR and agent.cfg.value_preprocessor is not None
    _, plain = _build("ppo", {"value_normalization": False})
    assert plain.cfg.value_preprocessor is None


@pytest.mark.parametrize("algo", ["ddpg", "td3"])
def test_ddpg_and_td3_explore_with_zero_mean_gaussian_noise(algo):
    from skrl.resources.noises.torch import GaussianNoise

    cfg, agent = _build(algo)
    noises = [("exploration_noise", "exploration_noise_std")]
    if algo == "td3":
        noises.append(("smooth_regularization_noise", "smooth_noise_std"))
    for noise, std in noises:
        assert getattr(agent.cfg, noise) is GaussianNoise
        kwargs = getattr(agent.cfg, noise + "_kwargs")
        assert kwargs["mean"] == 0.0 and kwargs["std"] == cfg[std]
