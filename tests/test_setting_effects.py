"""Every setting of every agent acts: changed alone, it changes what the agent does.

The fidelity ledger's "pinned by" column names, for every setting, a test that fails when the
setting's effect is removed. The formula-level settings have closed-form tests (each diffusion
agent's ``FIDELITY.tests``); every other setting, and every setting of the classic (skrl) agents, is
pinned here. The probe builds the agent twice from the same seed and feeds both the same
observations, rewards, terminations and time-outs: one with the setting as the probe sets it, one
with only that setting changed. The traces (actions while training, the losses, the weights after
the updates, an evaluation action) must differ; an agent that ignored the setting would give
identical traces. A setting a row says has no observable effect (``FIDELITY.resolve_only``, with its
reason) must give identical traces.
"""

from __future__ import annotations

import functools

import gymnasium
import numpy as np
import pytest
import torch

from agents import catalogue, settings
from agents.catalogue import build_agent, resolve_config
from agents.fidelity import EFFECT_TEST
from agents.interface import evaluation_action, init_for_loop
from tasks.registry import get_task

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (4,))
ACT = gymnasium.spaces.Box(-1.0, 1.0, (2,))
ENVS, STEPS = 6, 14
TASK = "cartpole"
# small and fast, and every setting exercised within STEPS: updates from the first steps, the memory
# wrapping, several epochs and minibatches, more than one on-policy update
OFF_POLICY = {"batch_size": 16, "memory_size": 2, "random_timesteps": 1, "diffusion_steps": 4,
              "actor_hidden": [8, 8], "critic_hidden": [8, 8]}
ON_POLICY = {"rollouts": 4, "mini_batches": 2, "learning_epochs": 2, "actor_hidden": [8, 8],
             "critic_hidden": [8, 8]}
PER_AGENT = {"qvpo": {"sampling_number": 4, "batch_sampling_number": 4, "explore_candidates": 4,
                      "eval_candidates": 4, "target_candidates": 4},
             "dacer": {"entropy_samples": 16, "entropy_states": 4, "alpha_update_every": 1,
                       "alpha_update_unit": "updates"},
             "genpo": {"diffusion_steps": 2}, "dppo": {"diffusion_steps": 3}, "fpopp": {"diffusion_steps": 3}}

# the KL rule moves the rate only when the KL leaves [desired / 2, 2 desired]: the probe's KL is far
# below 0.008 and 0.004 alike (the rate rises in both), and far above this
ALTERNATIVE = {"desired_kl": 1e-7}


def _agents() -> list[catalogue.Algorithm]:
    return list(catalogue.algorithms().values())


def _pinned_elsewhere(algo: catalogue.Algorithm) -> dict[str, str]:
    return algo.fidelity.tests if algo.fidelity else {}


def _resolve_only(algo: catalogue.Algorithm) -> dict[str, str]:
    return algo.fidelity.resolve_only if algo.fidelity else {}


def probe_overrides(algo: catalogue.Algorithm) -> dict:
    base = dict(ON_POLICY if algo.on_policy else OFF_POLICY)
    keys = settings.declared(algo.config)
    base.update({k: v for k, v in PER_AGENT.get(algo.name, {}).items() if k in keys})
    return {k: v for k, v in base.items() if k in keys}


def probed(algo: catalogue.Algorithm) -> list[str]:
    """The settings this file pins: every declared one the ledger does not pin with its own test."""
    return [k for k in settings.declared(algo.config) if k != "profile" and k not in _pinned_elsewhere(algo)]


def other_value(spec: settings.Setting, value):
    """A valid value other than ``value`` for a setting (None: it has only one)."""
    valid = spec.valid
    if isinstance(value, bool):
        return not value
    if valid.choices is not None:
        return next((c for c in valid.choices if c != value), None)
    if isinstance(value, list):
        return value + [value[-1]]
    if isinstance(value, int):
        candidates = [value * 2 if value else 1, value + 2, value + 1]
    else:
        candidates = [value * 0.5, value * 2, 0.3, 1.0] if value else [0.1, 1.0]
    return next(c for c in candidates if c != value and valid.contains(c))


def trace(algo_name: str, overrides: dict) -> torch.Tensor:
    """Everything the agent does over a fixed stream of data, as one vector."""
    torch.manual_seed(0)
    cfg = resolve_config(algo_name, get_task(TASK), overrides)
    agent = build_agent(algo_name, cfg, observation_space=OBS, action_space=ACT, num_envs=ENVS, device="cpu")
    init_for_loop(agent)
    agent.enable_training_mode(True)
    data = torch.Generator().manual_seed(1)
    obs = torch.randn(ENVS, 4, generator=data) * 3 + 1  # off-centre: the normaliser has something to do
    out = []
    for t in range(STEPS):
        with torch.no_grad():
            actions, _ = agent.act(obs, None, timestep=t, timesteps=STEPS)
            next_obs = torch.randn(ENVS, 4, generator=data) * 3 + 1
            terminated = torch.zeros(ENVS, 1, dtype=torch.bool)
            truncated = torch.zeros(ENVS, 1, dtype=torch.bool)
            terminated[t % ENVS] = t % 3 == 0
            truncated[(t + 1) % ENVS] = t % 4 == 1
            agent.record_transition(observations=obs, states=None, actions=actions,
                                    rewards=obs[:, :1] - actions[:, :1] ** 2, next_observations=next_obs,
                                    next_states=None, terminated=terminated, truncated=truncated, infos={},
                                    timestep=t, timesteps=STEPS)
        agent.post_interaction(timestep=t, timesteps=STEPS)
        out.append(actions.flatten())
        obs = next_obs
    out += [torch.as_tensor(np.asarray(v, dtype=np.float64)).flatten().float()
            for k, v in sorted(agent.tracking_data.items()) if "time" not in k]  # wall-clock stats vary
    out += [p.detach().flatten() for m in agent.checkpoint_modules.values() if isinstance(m, torch.nn.Module)
            for p in m.parameters()]
    torch.manual_seed(2)
    out.append(evaluation_action(agent, obs).flatten())
    return torch.cat([o.float() for o in out])


@functools.cache
def _baseline(algo_name: str) -> torch.Tensor:
    return trace(algo_name, probe_overrides(catalogue.get(algo_name)))


CASES = [(a.name, key) for a in _agents() for key in probed(a)]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a, b)


@pytest.mark.parametrize("algo_name,key", CASES, ids=[f"{a}-{k}" for a, k in CASES])
def test_each_setting_acts(algo_name, key):
    algo = catalogue.get(algo_name)
    overrides = probe_overrides(algo)
    resolved = resolve_config(algo_name, get_task(TASK), overrides)
    _, spec = settings.declared(algo.config)[key]
    other = ALTERNATIVE.get(key, other_value(spec, resolved[key]))
    if other is None:  # one valid value: nothing to change, and the ledger must say why
        assert _resolve_only(algo).get(key), f"{algo_name}.{key} has one valid value and no reason"
        return
    changed = dict(overrides, **{key: other})
    differs = not _same(_baseline(algo_name), trace(algo_name, changed))
    if key in _resolve_only(algo):
        assert not differs, f"{algo_name}.{key} is said to change nothing, but it changed the trace"
    else:
        assert differs, f"{algo_name}.{key} = {changed[key]} (probe: {resolved[key]}) changed nothing the agent did"


def test_the_probe_is_deterministic_and_names_its_cases():
    for algo in _agents():
        assert _same(_baseline(algo.name), trace(algo.name, probe_overrides(algo)))
    assert EFFECT_TEST.endswith("::" + test_each_setting_acts.__name__)
    assert len(CASES) > 150
