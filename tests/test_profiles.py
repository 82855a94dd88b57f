"""The two profiles (review, original): what each resolves to, written out here by hand from the
review's tables and the originals (independently of the agents' own ORIGINAL data), and the
procedure settings they switch (initialisation, update ratio, optimizer eps)."""

import math

import gymnasium
import numpy as np
import pytest
import torch

from agents import catalogue, settings
from agents.diffusion.init import initialize
from benchmark.spec import RunSpec
from tasks.errors import UserError
from tasks.registry import get_task

ANT = get_task("ant")
# setting: (review profile, original profile) on Ant, every declared setting, checked by hand against
# the review's Tables 9-12 and the originals (see docs/fidelity.md for where each comes from)
EXPECTED = {
    "dipo": {"actor_lr": (3e-4, 3e-4), "critic_lr": (3e-4, 3e-4), "actor_hidden": ([256, 128, 64], [256] * 3),
             "critic_hidden": ([256, 128, 64], [256] * 3), "discount": (0.99, 0.99), "grad_norm_clip": (1.0, 2.0),
             "observation_normalization": (False, False), "batch_size": (4096, 256), "memory_size": (4096, 4096),
             "polyak": (0.005, 0.005), "random_timesteps": (4, 4), "gradient_steps": (1.0, 1.0),
             "gradient_steps_per": ("vector_step", "transition"), "diffusion_steps": (100, 100),
             "time_embedding_dim": (32, 32), "time_hidden": (256, 256), "init": ("normal", "normal"),
             "action_gradient_steps": (20, 20), "action_lr": (0.03, 0.03), "action_grad_norm_ratio": (0.1, 0.1),
             "action_write_back": (True, False)},
    "qvpo": {"actor_lr": (3e-4, 1e-4), "critic_lr": (3e-4, 3e-4), "actor_hidden": ([256, 128, 64], [256] * 3),
             "critic_hidden": ([256, 128, 64], [256] * 3), "discount": (0.99, 0.99), "grad_norm_clip": (1.0, 2.0),
             "observation_normalization": (False, False), "batch_size": (4096, 256), "memory_size": (4096, 4096),
             "polyak": (0.005, 0.005), "random_timesteps": (4, 4), "gradient_steps": (1.0, 1.0),
             "gradient_steps_per": ("vector_step", "transition"), "diffusion_steps": (20, 20),
             "time_embedding_dim": (32, 32), "time_hidden": (256, 256), "init": ("normal", "normal"),
             "sampling_number": (64, 64), "batch_sampling_number": (10, 10), "entropy_weight": (0.02, 0.02),
             "entropy_weight_final": (0.002, 0.002), "explore_candidates": (4, 4), "eval_candidates": (32, 32),
             "target_candidates": (4, 4)},
    "dacer": {"actor_lr": (3e-4, 1e-4), "critic_lr": (3e-4, 1e-4), "actor_hidden": ([256, 128, 64], [256] * 3),
              "critic_hidden": ([256, 128, 64], [256] * 3), "discount": (0.99, 0.99), "grad_norm_clip": (1.0, 0.0),
              "observation_normalization": (False, False), "batch_size": (4096, 256), "memory_size": (4096, 4096),
              "polyak": (0.005, 0.005), "random_timesteps": (4, 4), "gradient_steps": (1.0, 0.05),
              "gradient_steps_per": ("vector_step", "transition"), "diffusion_steps": (20, 20),
              "time_embedding_dim": (16, 16), "time_hidden": (32, 32), "init": ("truncated_normal",) * 2,
              "entropy_lr": (0.03, 0.03), "initial_alpha": (0.02, 3.0), "target_entropy_per_dim": (-1.0, -0.9),
              "alpha_update_every": (0.1, 10000.0), "alpha_update_unit": ("fraction_of_run", "updates"),
              "noise_scale": (0.15, 0.15), "reward_scale": (0.2, 0.2), "policy_delay": (2, 2),
              "entropy_of": ("noisy_action", "noisy_action"), "entropy_estimator": ("bound", "bound"),
              "entropy_samples": (200, 200), "entropy_states": (256, 256), "gmm_components": (3, 3)},
    "genpo": {"actor_lr": (3e-4, 5e-4), "actor_hidden": ([256, 128, 64], [400, 200, 100]),
              "critic_hidden": ([256, 128, 64], [400, 200, 100]), "discount": (0.99, 0.99),
              "grad_norm_clip": (1.0, 1.0), "observation_normalization": (False, False), "rollouts": (16, 32),
              "learning_epochs": (4, 5), "mini_batches": (2, 4), "gae_lambda": (0.95, 0.95),
              "desired_kl": (0.008, 0.01), "ratio_clip": (0.2, 0.2), "value_clip": (0.2, 0.2),
              "entropy_coef": (0.0, 0.0), "value_loss_coef": (1.0, 1.0), "value_normalization": (False, False),
              "time_limit_bootstrap": (True, True), "activation": ("mish", "mish"), "diffusion_steps": (5, 5),
              "time_embedding_dim": (32, 32), "time_hidden": ([256, 256], [256, 256]),
              "compress_coef": (0.01, 0.01), "mixing": (0.9, 0.95), "lr_schedule": ("genpo", "genpo"),
              "value_loss": ("max_clipped", "max_clipped")},
    "dppo": {"actor_lr": (3e-4, 1e-4), "actor_hidden": ([256, 128, 64], [512] * 3),
             "critic_hidden": ([256, 128, 64], [256] * 3), "discount": (0.99, 0.99), "grad_norm_clip": (1.0, 0.0),
             "observation_normalization": (True, True), "rollouts": (16, 16), "learning_epochs": (4, 5),
             "mini_batches": (2, 4), "gae_lambda": (0.95, 0.95), "desired_kl": (0.008, 0.008),
             "ratio_clip": (0.2, 0.01), "value_clip": (0.2, 0.0), "entropy_coef": (0.0, 0.0),
             "value_loss_coef": (1.0, 0.5), "value_normalization": (True, True), "time_limit_bootstrap": (True, True),
             "activation": ("mish", "mish"), "lr_schedule": ("skrl", "fixed"),
             "value_loss": ("max_clipped", "max_clipped"), "ratio_clip_base": (0.2, 0.01),
             "ratio_clip_rate": (3.0, 3.0), "diffusion_steps": (20, 20), "fine_tuned_steps": (0, 10),
             "ddim_steps": (0, 0), "denoising_discount": (0.99, 0.99), "min_sampling_std": (0.1, 0.1),
             "min_logprob_std": (0.1, 0.1), "denoised_clip": (1.0, 1.0), "randn_clip": (3.0, 3.0),
             "kl_of": ("chain", "chain"), "time_embedding_dim": (16, 16), "time_hidden": (32, 32),
             "prior": ("", ""), "prior_kl_coef": (0.0, 0.0), "prior_kl_schedule": ("fixed", "fixed")},
    "fpopp": {"actor_lr": (3e-4, 1e-4), "actor_hidden": ([256, 128, 64], [256] * 3),
              "critic_hidden": ([256, 128, 64], [768] * 3), "discount": (0.99, 0.99), "grad_norm_clip": (1.0, 1.0),
              "observation_normalization": (True, True), "rollouts": (16, 24), "learning_epochs": (4, 16),
              "mini_batches": (2, 4), "gae_lambda": (0.95, 0.95), "desired_kl": (0.008, 0.008),
              "ratio_clip": (0.2, 0.05), "value_clip": (0.2, 0.0), "entropy_coef": (0.0, 0.0),
              "value_loss_coef": (1.0, 1.0), "value_normalization": (True, False),
              "time_limit_bootstrap": (True, True), "activation": ("elu", "elu"), "lr_schedule": ("skrl", "fixed"),
              "value_loss": ("max_clipped", "max_clipped"), "diffusion_steps": (64, 64), "mc_samples": (16, 16),
              "trust_region": ("aspo", "aspo"), "ratio_per": ("pair", "pair"), "cfm_reduction": ("sqrt", "sqrt"),
              "action_perturb_std": (0.02, 0.02), "eval_mode": ("zero", "zero"), "time_embedding_dim": (8, 8)},
}


@pytest.mark.parametrize("algo", EXPECTED)
def test_both_profiles_resolve_to_the_documented_values(algo):
    review = catalogue.resolve_config(algo, ANT).values
    original = catalogue.resolve_config(algo, ANT, {"profile": "original"}).values
    assert set(EXPECTED[algo]) == set(review) - {"profile"}  # every setting is pinned here
    for key, (want_review, want_original) in EXPECTED[algo].items():
        assert review[key] == want_review, (key, review[key])
        assert original[key] == want_original, (key, original[key])
    assert (review["profile"], original["profile"]) == ("review", "original")


def test_a_profile_is_a_grid_key_and_is_recorded(tmp_path):
    from benchmark.manifest import load

    path = tmp_path / "p.yaml"
    path.write_text("name: p\ntasks: [ant]\nalgorithms: [dacer, genpo]\nseeds: [0]\n"
                    "grid: {profile: [review, original]}\n")
    runs = load(str(path)).runs
    assert len({r.run_id for r in runs}) == 4
    meta = [r.initial_record().to_json() for r in runs]
    assert [m["profile"] for m in meta] == ["review", "original", "review", "original"]  # the grid's order
    assert meta[1]["agent_config"]["sources"]["initial_alpha"].startswith("original: relax/network/dacer.py")
    # an override equal to the chosen profile's value changes nothing: the same run
    same = RunSpec.create(task="ant", algo="dacer", overrides={"profile": "original", "initial_alpha": 3.0})
    assert same.run_id == RunSpec.create(task="ant", algo="dacer", overrides={"profile": "original"}).run_id
    assert same.run_id != RunSpec.create(task="ant", algo="dacer").run_id
    with pytest.raises(UserError, match="invalid agent setting 'profile'"):  # the classic agents have none
        RunSpec.create(task="ant", algo="sac", overrides={"profile": "original"})
    with pytest.raises(UserError, match="valid: one of review, original"):
        RunSpec.create(task="ant", algo="dipo", overrides={"profile": "paper"})


def test_update_ratio_per_transition():
    """gradient_steps counted per transition (the originals' one or twenty environments) turn into
    gradient steps per vectorized step, fractions carried over; run.json says what that means."""
    obs, act = gymnasium.spaces.Box(-np.inf, np.inf, (3,)), gymnasium.spaces.Box(-np.inf, np.inf, (2,))
    cases = {(1.0, "vector_step"): [1, 1, 1, 1, 1], (1.0, "transition"): [8, 8, 8, 8, 8],
             (0.05, "transition"): [0, 0, 1, 0, 1]}  # 0.4 a step: credit 0.4, 0.8, 1.2 -> 1, 0.6, 1.0 -> 1
    for (steps, per), expected in cases.items():
        cfg = catalogue.resolve_config("dipo", get_task("cartpole"), {
            "gradient_steps": steps, "gradient_steps_per": per, "batch_size": 4, "random_timesteps": 0,
            "diffusion_steps": 2, "action_gradient_steps": 1})
        agent = catalogue.build_agent("dipo", cfg, observation_space=obs, action_space=act, num_envs=8, device="cpu")
        agent.init()
        agent.enable_training_mode(True)
        agent.memory.add_samples(observations=torch.zeros(8, 3), next_observations=torch.zeros(8, 3),
                                 actions=torch.zeros(8, 2), rewards=torch.zeros(8, 1),
                                 terminated=torch.zeros(8, 1, dtype=torch.bool),
                                 truncated=torch.zeros(8, 1, dtype=torch.bool), diffusion_actions=torch.zeros(8, 2))
        counts = []
        for t in range(5):
            before = agent.updates
            agent.post_interaction(timestep=t, timesteps=5)
            counts.append(agent.updates - before)
        assert counts == expected, (steps, per, counts)
    review = settings.update_ratio(catalogue.resolve_config("dipo", ANT).config, 1024)
    original = settings.update_ratio(catalogue.resolve_config("dipo", ANT, {"profile": "original"}).config, 1024)
    assert review == {"gradient_steps_per_vector_step": 1.0, "batch_size": 4096, "gradient_samples_per_transition": 4.0}
    assert original["gradient_samples_per_transition"] == 256.0  # DIPO: batch 256, one update per transition
    dacer = settings.update_ratio(catalogue.resolve_config("dacer", ANT, {"profile": "original"}).config, 20)
    assert dacer["gradient_steps_per_vector_step"] == pytest.approx(1.0)  # one per 20 transitions
    assert dacer["gradient_samples_per_transition"] == pytest.approx(12.8)
    genpo = settings.update_ratio(catalogue.resolve_config("genpo", ANT).config, 1024)
    assert genpo["gradient_samples_per_transition"] == 4.0  # each transition once per epoch, 4 epochs


def test_initialisation_schemes():
    torch.manual_seed(0)
    fan_in = 400
    normal = initialize(torch.nn.Sequential(torch.nn.Linear(fan_in, 2000)), "normal")[0]
    assert normal.weight.std().item() == pytest.approx(0.5 / math.sqrt(fan_in), rel=0.02)
    assert normal.bias.abs().max() == 0
    trunc = initialize(torch.nn.Sequential(torch.nn.Linear(fan_in, 2000)), "truncated_normal")[0]
    assert trunc.weight.abs().max() <= 2 / math.sqrt(fan_in)
    assert trunc.weight.std().item() == pytest.approx(0.88 / math.sqrt(fan_in), rel=0.02)
    assert trunc.bias.abs().max() == 0
    layer = torch.nn.Linear(fan_in, 10)
    before = layer.weight.clone()
    assert torch.equal(initialize(layer, "torch").weight, before)  # PyTorch's own init, left as built
    obs, act = gymnasium.spaces.Box(-np.inf, np.inf, (fan_in,)), gymnasium.spaces.Box(-np.inf, np.inf, (2,))
    agent = catalogue.build_agent("dipo", catalogue.resolve_config("dipo", ANT), observation_space=obs,
                                  action_space=act, num_envs=1, device="cpu")
    first = agent.actor.net[0]
    assert first.weight.std().item() == pytest.approx(0.5 / math.sqrt(first.in_features), rel=0.05)
    assert torch.equal(agent.target_critic.q1[0].weight, agent.critic.q1[0].weight)  # targets copy the init


def test_genpo_keeps_pytorchs_default_initialisation():
    """GenPO's original defines init_weights and never calls it: every Linear keeps PyTorch's
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (an orthogonal or Xavier scheme would leave that band or
    change its spread)."""
    torch.manual_seed(0)
    obs, act = gymnasium.spaces.Box(-np.inf, np.inf, (60,)), gymnasium.spaces.Box(-1.0, 1.0, (8,))
    agent = catalogue.build_agent("genpo", catalogue.resolve_config("genpo", ANT), observation_space=obs,
                                  action_space=act, num_envs=1, device="cpu")
    layers = [m for net in (agent.policy, agent.value) for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert len(layers) > 4
    for layer in layers:
        bound = 1 / math.sqrt(layer.in_features)
        assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
    big = max(layers, key=lambda m: m.weight.numel())
    assert big.weight.std().item() == pytest.approx(1 / math.sqrt(3 * big.in_features), rel=0.05)


def test_adam_eps_follows_the_original():
    obs, act = gymnasium.spaces.Box(-np.inf, np.inf, (3,)), gymnasium.spaces.Box(-np.inf, np.inf, (2,))
    for algo, eps in (("dipo", 1e-5), ("qvpo", 1e-5), ("dacer", 1e-8)):
        agent = catalogue.build_agent(algo, catalogue.resolve_config(algo, ANT), observation_space=obs,
                                      action_space=act, num_envs=1, device="cpu")
        assert agent.actor_optimizer.defaults["eps"] == eps and agent.critic_optimizer.defaults["eps"] == eps
