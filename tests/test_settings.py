"""Typed settings: every algorithm's config is a dataclass whose fields carry a type, a range and a
source; overrides are checked against them; every declared setting is read by its algorithm; a
config recorded in a run directory reads back as the same typed config."""

import dataclasses
import json

import gymnasium
import numpy as np
import pytest
import torch

from agents import catalogue, settings
from agents.interface import evaluation_action, init_for_loop
from tasks.errors import UserError
from tasks.registry import get_task

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (4,))
ACT = gymnasium.spaces.Box(-np.inf, np.inf, (1,))


@pytest.mark.parametrize("algo", catalogue.names())
def test_every_field_is_declared_with_type_range_and_source(algo):
    fields = settings.declared(catalogue.get(algo).config)
    resolved = catalogue.resolve_config(algo, get_task("ant"))
    for key, (kind, spec) in fields.items():
        assert kind in (int, float, bool, str, list[int]), key
        assert resolved.sources[key], key
        assert spec.valid.contains(resolved.values[key]), (key, resolved.values[key])


@pytest.mark.parametrize("key,value,valid", [
    ("diffusion_steps", 0, ">= 1"), ("actor_lr", -0.001, "> 0"), ("discount", 1.5, "in (0, 1]"),
    ("discount", 0.0, "in (0, 1]"), ("batch_size", 0, ">= 1"), ("actor_hidden", [64, 0], ">= 1"),
    ("time_embedding_dim", 15, ">= 2, even"), ("polyak", float("nan"), "in (0, 1]"),
])
def test_out_of_range_overrides_name_the_setting_the_value_and_the_range(key, value, valid):
    with pytest.raises(UserError) as err:
        catalogue.resolve_config("dipo", get_task("ant"), {key: value})
    assert f"setting {key!r}" in str(err.value) and f"valid: {valid}" in str(err.value)
    assert repr(value) in str(err.value)


def test_choices_are_checked():
    with pytest.raises(UserError, match="valid: one of elu, relu"):
        catalogue.resolve_config("ppo", get_task("cartpole"), {"activation": "swish"})
    assert catalogue.resolve_config("ppo", get_task("cartpole"), {"activation": "relu"})["activation"] == "relu"


def test_a_setting_that_does_nothing_is_not_declared():
    """The diffusion networks use Mish: no activation setting there (it used to exist and did nothing)."""
    for algo in ("dipo", "qvpo", "dacer"):
        with pytest.raises(UserError, match="invalid agent setting 'activation'"):
            catalogue.resolve_config(algo, get_task("cartpole"), {"activation": "relu"})
    with pytest.raises(UserError, match="invalid agent setting 'initial_log_std'"):
        catalogue.resolve_config("genpo", get_task("cartpole"), {"initial_log_std": -1.0})


class ReadRecorder:
    """Stands in for a config object and records which of its fields were read."""

    def __init__(self, config):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name):
        self.read.add(name)
        return getattr(self._config, name)


SMALL = {"ppo": {"rollouts": 2, "mini_batches": 1, "learning_epochs": 1},
         "genpo": {"rollouts": 2, "mini_batches": 1, "learning_epochs": 1},
         "dppo": {"rollouts": 2, "mini_batches": 1, "learning_epochs": 1, "diffusion_steps": 4, "fine_tuned_steps": 2},
         "fpopp": {"rollouts": 2, "mini_batches": 1, "learning_epochs": 1, "diffusion_steps": 3, "mc_samples": 2},
         "dipo": {"batch_size": 8, "random_timesteps": 1, "diffusion_steps": 2, "action_gradient_steps": 1},
         "qvpo": {"batch_size": 8, "random_timesteps": 1, "diffusion_steps": 2, "sampling_number": 2},
         "dacer": {"batch_size": 8, "random_timesteps": 1, "diffusion_steps": 2, "entropy_samples": 8,
                   "entropy_states": 2, "alpha_update_every": 0.5}}


@pytest.mark.parametrize("algo", catalogue.names())
def test_every_declared_setting_is_read_by_its_algorithm(algo):
    """Build, act, learn and evaluate through a config that records reads: a declared field nobody
    reads would be a setting that changes nothing."""
    overrides = SMALL.get(algo, {"batch_size": 8, "random_timesteps": 1})
    resolved = catalogue.resolve_config(algo, get_task("cartpole"), overrides)
    recorder = ReadRecorder(resolved.config)
    torch.manual_seed(0)
    agent = catalogue.get(algo).build(recorder, observation_space=OBS, action_space=ACT, num_envs=4, device="cpu")
    init_for_loop(agent)
    agent.enable_training_mode(True)
    obs = torch.randn(4, 4)
    steps = 6
    for t in range(steps):
        with torch.no_grad():
            actions, _ = agent.act(obs, None, timestep=t, timesteps=steps)
            agent.record_transition(observations=obs, states=None, actions=actions, rewards=torch.randn(4, 1),
                                    next_observations=torch.randn(4, 4), next_states=None,
                                    terminated=torch.zeros(4, 1, dtype=torch.bool),
                                    truncated=torch.zeros(4, 1, dtype=torch.bool), infos={}, timestep=t,
                                    timesteps=steps)
        agent.post_interaction(timestep=t, timesteps=steps)
    evaluation_action(agent, obs)
    # profile is read where values are resolved: it chooses them (tests/test_profiles.py)
    unread = set(settings.declared(type(resolved.config))) - recorder.read - {"profile"}
    assert not unread, f"{algo} declares settings it never reads: {sorted(unread)}"


def test_recorded_config_reads_back_as_the_same_typed_config():
    task = get_task("ant")
    resolved = catalogue.resolve_config("dacer", task, {"diffusion_steps": 10, "actor_lr": 1e-3})
    record = json.loads(json.dumps(resolved.to_json()))  # as run.json stores it
    assert record["sources"]["diffusion_steps"] == "override"
    assert record["sources"]["actor_lr"] == "override" and record["sources"]["critic_lr"] == "review Table 10 (Ant)"
    back = settings.from_record(catalogue.get("dacer").config, task, record)
    assert back == resolved


def test_an_old_record_with_a_removed_setting_and_without_a_new_one_still_reads():
    task = get_task("ant")
    record = catalogue.resolve_config("dipo", task).to_json()
    record["values"]["activation"] = "elu"  # recorded before it was removed (it did nothing)
    del record["values"]["action_grad_norm_ratio"]  # as if the setting were declared after the run
    back = settings.from_record(catalogue.get("dipo").config, task, record)
    assert back.config == catalogue.resolve_config("dipo", task).config
    assert "not in the record" in back.sources["action_grad_norm_ratio"]


def test_configs_are_frozen():
    cfg = catalogue.resolve_config("sac", get_task("cartpole")).config
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.actor_lr = 1.0
