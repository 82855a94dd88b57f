"""Config resolution: the review's tables, harness defaults, algorithm defaults, overrides."""

import pytest

from agents.settings import parse_override
from agents.catalogue import resolve_config
from tasks.errors import UserError
from tasks.registry import get_task


def test_cartpole_ppo_comes_from_tables_10_and_11():
    cfg = resolve_config("ppo", get_task("cartpole"))
    expected = {"actor_hidden": [32, 32], "critic_hidden": [32, 32], "actor_lr": 3e-4, "discount": 0.99,
                "grad_norm_clip": 1.0, "rollouts": 16, "learning_epochs": 8, "mini_batches": 8,
                "gae_lambda": 0.95, "desired_kl": 0.008, "ratio_clip": 0.2, "value_clip": 0.2,
                "entropy_coef": 0.0, "value_loss_coef": 2.0}
    assert {k: cfg[k] for k in expected} == expected
    assert cfg.sources["rollouts"] == "review Table 11 (Cartpole)"
    assert cfg.sources["actor_lr"] == "review Table 10 (Cartpole)"
    assert cfg["time_limit_bootstrap"] is True and cfg.sources["time_limit_bootstrap"].startswith("harness default")
    assert "batch_size" not in cfg.values  # off-policy settings do not leak into PPO


def test_off_policy_settings_come_from_table_12():
    cfg = resolve_config("sac", get_task("go2_rough"))
    assert (cfg["batch_size"], cfg["memory_size"], cfg["polyak"], cfg["random_timesteps"]) == (4096, 4096, 0.005, 4)
    assert cfg["actor_hidden"] == [512, 256, 128] and cfg["critic_lr"] == 1e-3
    assert cfg.sources["memory_size"] == "review Table 12 (Unitree Go2)"
    assert "rollouts" not in cfg.values


def test_algorithm_defaults_and_task_specific_values():
    td3 = resolve_config("td3", get_task("h1_rough"))
    assert td3["policy_delay"] == 2 and td3["discount"] == 0.995
    assert resolve_config("ppo", get_task("shadow_cube"))["entropy_coef"] == 0.002


def test_override_wins_and_is_recorded():
    cfg = resolve_config("ppo", get_task("ant"), {"actor_lr": 1e-3, "actor_hidden": [64, 64], "rollouts": 32.0})
    assert cfg["actor_lr"] == 1e-3 and cfg["actor_hidden"] == [64, 64] and cfg["rollouts"] == 32
    assert cfg.sources["actor_lr"] == "override"


def test_unknown_override_lists_valid_keys():
    with pytest.raises(UserError, match=r"invalid agent setting 'lr'; valid: .*actor_lr"):
        resolve_config("ppo", get_task("cartpole"), {"lr": 1e-3})


def test_override_of_wrong_type_is_rejected():
    with pytest.raises(UserError, match="invalid value 'many' for setting 'rollouts'; valid: a int"):
        resolve_config("ppo", get_task("cartpole"), {"rollouts": "many"})
    with pytest.raises(UserError, match="true or false"):
        resolve_config("ppo", get_task("cartpole"), {"time_limit_bootstrap": 1})
    with pytest.raises(UserError, match="list of positive integers"):
        resolve_config("ppo", get_task("cartpole"), {"actor_hidden": 64})


def test_parse_override():
    assert parse_override("actor_lr=1e-3") == ("actor_lr", 1e-3)
    assert parse_override("actor_hidden=[64, 64]") == ("actor_hidden", [64, 64])
    assert parse_override("time_limit_bootstrap=false") == ("time_limit_bootstrap", False)
    with pytest.raises(UserError, match="key=value"):
        parse_override("actor_lr")
