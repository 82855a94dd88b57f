"""Adapting a diffusion prior: shifts, demonstration files, behaviour cloning, DPPO from a prior and
its KL to it (no simulation here; tests/test_sim_adaptation.py builds the shifted task)."""

import json
import math
from pathlib import Path

import gymnasium
import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from agents.algorithms.dppo import AdaptiveKLCoefficient
from agents.catalogue import build_agent, resolve_config
from agents.diffusion.behaviour_cloning import Architecture, fit, observation_scaler, save_prior
from agents.diffusion.denoiser import Denoiser
from agents.diffusion.denoising_mdp import DenoisingMDP
from agents.diffusion.sampler import sample
from agents.diffusion.schedules import NoiseSchedule
from benchmark.guardrails import Guard, GuardConfig, Limit, filter_actions
from benchmark.demos import Episode, read_hdf5, record_episodes, success_rate, write_hdf5
from benchmark.spec import RunSpec
from benchmark.store import RunDir
from analysis_fakes import fake_run
from fake_env import FakeVecEnv
from tasks.errors import UserError
from tasks.registry import get_task
from tasks.shifts import SHIFTS, check_shifts

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (3,))
ACT = gymnasium.spaces.Box(-1.0, 1.0, (2,))


# --- shifts ----------------------------------------------------------------------------------------
def test_shifts_are_checked_and_enter_the_run_id_only_when_given():
    assert check_shifts("cartpole", ["motor_weak", "angle_bias", "motor_weak"]) == ("angle_bias", "motor_weak")
    with pytest.raises(UserError, match="invalid shift for task 'cartpole' 'gravity'; valid: pole_heavy, "
                                        "motor_weak, angle_bias, obs_noise, wide_start"):
        check_shifts("cartpole", ["gravity"])
    with pytest.raises(UserError, match="invalid shift for task 'ant' 'motor_weak'; valid: none"):
        check_shifts("ant", ["motor_weak"])
    with pytest.raises(UserError, match="'angle_bias' and 'obs_noise' together: both edit the observation_noise"):
        check_shifts("cartpole", ["obs_noise", "angle_bias"])
    clean = RunSpec.create(task="cartpole", algo="ppo", num_envs=8, timesteps=16)
    shifted = RunSpec.create(task="cartpole", algo="ppo", num_envs=8, timesteps=16, shifts=["motor_weak"])
    assert "shifts" not in clean.identity() and shifted.identity()["shifts"] == ["motor_weak"]
    assert shifted.run_id != clean.run_id
    assert RunSpec.from_record(shifted.initial_record()) == shifted


def test_each_shift_edits_the_config_it_names():
    class Cfg:  # the fields of Isaac Lab's CartpoleEnvCfg the shifts edit
        action_scale, initial_pole_angle_range = 100.0, (-0.25 * math.pi, 0.25 * math.pi)
        events = observation_noise_model = None

        class sim:
            device = "cpu"

    cfg = Cfg()
    assert SHIFTS["motor_weak"].edit(cfg) == ["action_scale: 100 -> 40 N (motor at 40%)"] and cfg.action_scale == 40
    SHIFTS["wide_start"].edit(cfg)
    assert cfg.initial_pole_angle_range == pytest.approx((-0.4 * math.pi, 0.4 * math.pi))
    SHIFTS["angle_bias"].edit(cfg)
    assert cfg.observation_noise_model.noise_cfg.bias.tolist() == pytest.approx([0.0, 0.15, 0.0, 0.0])
    SHIFTS["obs_noise"].edit(cfg)
    assert cfg.observation_noise_model.noise_cfg.std == 0.05
    SHIFTS["pole_heavy"].edit(cfg)
    term = cfg.events.pole_mass
    assert term.mode == "startup" and term.params["mass_distribution_params"] == (3.0, 3.0)
    assert term.params["operation"] == "scale" and term.params["asset_cfg"].body_names == "pole"


# --- demonstration files -----------------------------------------------------------------------------
def test_record_episodes_keeps_each_envs_first_episodes_with_their_true_last_observation():
    """Env 0 terminates every episode at its second step, the others time out at their fourth;
    observation = (env, step in episode, 1)."""
    env = FakeVecEnv(num_envs=3, obs_dim=3, act_dim=1, episode_length=4, terminate_env=0)
    episodes = record_episodes(lambda o: o[:, :1] * 0.5, env, num_envs=3, episodes=5, max_episode_length=10)
    assert [len(e) for e in episodes] == [2, 2, 4, 4, 4, 4]  # ceil(5 / 3) = 2 per env
    first = episodes[2]  # env 1's first episode
    assert first.obs.tolist() == [[1, t, 1] for t in range(4)]
    assert first.next_obs.tolist() == [[1, t, 1] for t in range(1, 5)]  # the last: the final, not the reset
    assert first.actions.tolist() == [[0.5]] * 4 and first.rewards.tolist() == [1.0] * 4
    assert [e.terminated for e in episodes] == [True, True, False, False, False, False]
    assert success_rate(episodes) == pytest.approx(4 / 6)


def test_demonstration_file_round_trip_in_robomimics_layout(tmp_path):
    rng = np.random.default_rng(0)
    episodes = [Episode(rng.normal(size=(t, 4)).astype(np.float32), rng.normal(size=(t, 4)).astype(np.float32),
                        rng.normal(size=(t, 1)).astype(np.float32), rng.normal(size=t).astype(np.float32), t == 3)
                for t in (3, 5)]
    path = tmp_path / "demos.hdf5"
    write_hdf5(path, episodes, env_args={"env_name": "Isaac-Cartpole-Direct"}, provenance={"run_id": "r"})
    back, env_args, provenance = read_hdf5(path)
    assert env_args == {"env_name": "Isaac-Cartpole-Direct"} and provenance == {"run_id": "r"}
    for a, b in zip(episodes, back):
        for field in ("obs", "next_obs", "actions", "rewards"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
        assert a.terminated == b.terminated
    with h5py.File(path) as f:  # as robomimic reads it
        assert f["data"].attrs["total"] == 8 and f["data/demo_1"].attrs["num_samples"] == 5
        assert f["data/demo_1/dones"][()].tolist() == [0, 0, 0, 0, 1]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    with pytest.raises(UserError, match="no episodes to write"):
        write_hdf5(tmp_path / "empty.hdf5", [], env_args={}, provenance={})
    assert not (tmp_path / "empty.hdf5").exists()


# --- behaviour cloning -------------------------------------------------------------------------------
def test_behaviour_cloning_keeps_both_modes_of_a_two_solution_task():
    """Demonstrations that solve one state two ways (a = +0.6 or -0.6, half each): the fitted chain
    samples both, in about equal shares, and nothing between them (a Gaussian fit would put its mean
    at 0, where no demonstration is)."""
    torch.manual_seed(0)
    obs = torch.zeros(2000, 1)
    actions = torch.where(torch.rand(2000, 1) < 0.5, 0.6, -0.6) + 0.02 * torch.randn(2000, 1)
    denoiser, schedule = Denoiser(1, 1, [64, 64]), NoiseSchedule("cosine", 20)
    curve = fit(denoiser, schedule, obs, actions, iterations=1500, batch_size=256, lr=2e-3,
                generator=torch.Generator().manual_seed(0))
    assert curve[-1][1] < 0.5 * curve[0][1]
    with torch.no_grad():
        drawn = sample(denoiser, schedule, torch.zeros(1, 1), num=2000, clip=1.0, noise_ratio=1.0)[0, :, 0]
    assert 0.35 < (drawn > 0).float().mean() < 0.65
    assert (drawn.abs() - 0.6).abs().median() < 0.1 and (drawn.abs() < 0.3).float().mean() < 0.1


# --- DPPO from a prior -------------------------------------------------------------------------------
def _prior_file(tmp_path, hidden=(16, 16)):
    cfg = resolve_config("dppo", get_task("cartpole"), {"actor_hidden": list(hidden), "diffusion_steps": 4}).config
    arch = Architecture(3, 2, list(hidden), cfg.time_embedding_dim, cfg.time_hidden, "cosine", 4)
    torch.manual_seed(1)
    denoiser, _ = arch.build()
    scaler = observation_scaler(torch.randn(500, 3) * 2 + 1)
    path = tmp_path / "prior.pt"
    save_prior(path, denoiser, arch, scaler=scaler, curve=[(1, 1.0)],
               dataset={"provenance": {"return_mean": 4.0}})
    return path, denoiser, scaler


def _dppo(**overrides):
    cfg = resolve_config("dppo", get_task("cartpole"), {"actor_hidden": [16, 16], "diffusion_steps": 4, **overrides})
    agent = build_agent("dppo", cfg, observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
    agent.init()
    return agent


def test_dppo_starts_from_a_prior_and_refuses_one_of_another_shape(tmp_path):
    path, denoiser, scaler = _prior_file(tmp_path)
    agent = _dppo(prior=str(path))
    for key, value in denoiser.state_dict().items():
        assert torch.equal(agent.policy.denoiser.state_dict()[key], value), key
    assert torch.equal(agent._observation_preprocessor.running_mean, scaler.running_mean)
    assert torch.equal(agent._observation_preprocessor.running_variance, scaler.running_variance)
    assert agent.prior_net is None  # no KL asked for: no frozen copy
    with pytest.raises(UserError, match=r"its denoiser differs in hidden \[16, 16\] \(this run: \[8\]\)"):
        _dppo(prior=str(path), actor_hidden=[8])
    with pytest.raises(UserError, match="no such file"):
        _dppo(prior=str(tmp_path / "missing.pt"))
    with pytest.raises(UserError, match="'prior_kl_coef' without a prior"):
        _dppo(prior_kl_coef=0.1)


def test_dppo_adds_the_weighted_kl_to_its_prior(tmp_path):
    """The minibatch loss gains beta KL(chain || prior chain), 0 while the weights are the prior's
    and beta times kl_to once they moved; the prior gets no gradient."""
    path, _, _ = _prior_file(tmp_path)
    agent = _dppo(prior=str(path), prior_kl_coef=0.5)
    obs = torch.randn(6, 3)
    chain, _ = agent.policy.sample(obs)
    stored = chain.flatten(1)
    (_, kl), = agent.extra_losses(obs, stored).values()
    assert kl.item() == 0.0
    with torch.no_grad():
        agent.policy.denoiser.net[-1].bias.add_(0.3)
    (weight, kl), = agent.extra_losses(obs, stored).values()
    assert weight == 0.5 and kl.item() > 0
    assert torch.allclose(kl, agent.policy.kl_to(agent.prior_net, obs, chain).mean())
    kl.backward()
    assert agent.policy.denoiser.net[-1].bias.grad.abs().sum() > 0
    assert all(p.grad is None for p in agent.prior_net.parameters())
    assert _dppo().extra_losses(obs, stored) == {}


def test_chain_kl_to_a_shifted_denoiser_in_closed_form():
    """A prior whose noise prediction is the policy's + c: with no x0 clamp acting, step t's mean moves
    by -c0_t sqrt(1/abar_t - 1) c, so its KL is a c^2 (c0_t sqrt(1/abar_t - 1))^2 / (2 max(sigma_t,
    floor)^2) over a action dimensions, summed over the fine-tuned steps; 0 against itself."""
    torch.manual_seed(0)
    net, schedule = Denoiser(3, 2, [16]), NoiseSchedule("cosine", 6)
    mdp = DenoisingMDP(net, schedule, fine_tuned=4, ddim_steps=0, min_sampling_std=0.1, min_logprob_std=0.1,
                       denoised_clip=1e6, randn_clip=3.0)

    class Shifted(torch.nn.Module):
        def forward(self, x, s, k):
            return net(x, s, k) + 0.2

    state = torch.randn(5, 3)
    chain, _ = mdp.sample(state)
    expected = 0.0
    for t in range(4):  # the last four steps: schedule indices 3, 2, 1, 0
        shift = float(schedule.posterior_c0[t] * schedule.sqrt_recipm1_abar[t]) * 0.2
        sigma = max(float(schedule.posterior_var[t].clamp(min=1e-20).sqrt()), 0.1)
        expected += 2 * shift**2 / (2 * sigma**2)
    assert torch.allclose(mdp.kl_to(Shifted(), state, chain), torch.full((5,), expected), rtol=1e-4)
    assert torch.allclose(mdp.kl_to(net, state, chain), torch.zeros(5))


def test_adaptive_kl_coefficient_by_hand():
    """beta_t = beta_0 max(0.1, 1 - p), p = (R - R_0) / (R_ref - R_0) clipped to [0, 1], R the mean
    return of the episodes that ended in the rollout; fixed keeps beta_0."""
    coef = AdaptiveKLCoefficient(0.4, "adaptive", reference=5.0, num_envs=2, device="cpu")

    def rollout(rewards, dones):
        for r, d in zip(rewards, dones):
            coef.step(torch.tensor(r), torch.tensor(d))
        coef.adapt()

    rollout([[1.0, 1.0], [1.0, 0.0]], [[False, True], [True, False]])  # returns 2 and 1: R_0 = 1.5
    assert coef.start == 1.5 and coef.improvement == 0.0 and coef.value == pytest.approx(0.4)
    rollout([[0.5, 1.0], [0.0, 1.0]], [[False, False], [False, True]])  # env 1's next episode: R = 2
    assert coef.improvement == pytest.approx(0.5 / 3.5) and coef.value == pytest.approx(0.4 * (1 - 0.5 / 3.5))
    rollout([[9.0, 0.0]], [[True, False]])  # env 0: 0.5 + 0 + 9 > R_ref: p = 1, beta at its floor
    assert coef.improvement == 1.0 and coef.value == pytest.approx(0.04)
    rollout([[0.0, 0.0]], [[False, False]])  # no episode ended: p kept
    assert coef.improvement == 1.0
    fixed = AdaptiveKLCoefficient(0.4, "fixed", reference=5.0, num_envs=1, device="cpu")
    fixed.step(torch.tensor([3.0]), torch.tensor([True]))
    fixed.adapt()
    assert fixed.value == 0.4


# --- guardrails --------------------------------------------------------------------------------------
def test_filter_zeroes_only_pushes_past_a_limit():
    limits = (Limit(0, 2.0, 0, "position"), Limit(1, 3.0, 1, "speed"))
    obs = torch.tensor([[2.5, 0.0], [2.5, 0.0], [-2.5, 0.0], [1.0, 3.5], [1.0, -3.5], [1.0, 0.0]])
    actions = torch.tensor([[0.7, 0.2], [-0.7, 0.2], [-0.3, 0.2], [0.1, 0.4], [0.1, 0.4], [0.9, -0.9]])
    out, changed = filter_actions(limits, obs, actions)
    assert torch.equal(out, torch.tensor([[0.0, 0.2], [-0.7, 0.2], [0.0, 0.2], [0.1, 0.0], [0.1, 0.4],
                                          [0.9, -0.9]]))
    assert changed.tolist() == [True, False, True, True, False, False]
    assert torch.equal(actions[0], torch.tensor([0.7, 0.2]))  # the agent's own tensor is left alone


def test_guard_settings_are_checked():
    assert GuardConfig.parse("cartpole", {"filter": True, "validate_every": 4, "rollback_drop": 0.1}) == \
        GuardConfig(filter=True, validate_every=4, rollback_drop=0.1)
    for bad, message in (({"filter": "yes"}, "invalid value 'yes' for setting 'guard filter'"),
                         ({"rollback": 1}, "invalid guard setting 'rollback'; valid: filter, validate_every"),
                         ({"rollback_drop": 0.1}, "rollback_drop without validation"),
                         ({"rollback_metric": "reward"}, "rollback_metric='reward'; valid: success, return"),
                         ({"validate_every": -1}, "validate_every=-1; valid: 0 \\(none\\) or more")):
        with pytest.raises(UserError, match=message):
            GuardConfig.parse("cartpole", bad)
    with pytest.raises(UserError, match="filter=true for task 'ant': no limits for it; valid: tasks cartpole"):
        GuardConfig.parse("ant", {"filter": True})
    guarded = RunSpec.create(task="cartpole", algo="ppo", num_envs=8, timesteps=16, guard={"filter": True})
    assert guarded.identity()["guard"] == {"filter": True}
    assert "guard" not in RunSpec.create(task="cartpole", algo="ppo", num_envs=8, timesteps=16).identity()


@pytest.mark.parametrize("metric", ["success", "return"])
def test_rollback_restores_the_last_good_policy(tmp_path, monkeypatch, metric):
    """Validations score 0.8 (the baseline), 0.75 (good: within 0.1 of the best, 0.8), 0.66 (below
    0.8 - 0.1: back to the weights 0.75 saw), 0.9 (good, the new best), 0.7 (below 0.9 - 0.1: back to
    the weights 0.9 saw), in the metric rollback watches (the other stays constant)."""
    import benchmark.policy_eval

    agent = _dppo()
    scripted = iter([0.8, 0.75, 0.66, 0.9, 0.7])
    key, other = ("success_rate", "return_mean") if metric == "success" else ("return_mean", "success_rate")
    monkeypatch.setattr(benchmark.policy_eval, "evaluate", lambda *a, **k: {key: next(scripted), other: 0.5})

    class Unwrapped:
        num_envs = 4

        def reset(self):
            return {"policy": torch.zeros(4, 3)}, {}

    run = RunDir(tmp_path)
    guard = Guard(GuardConfig(validate_every=2, rollback_drop=0.1, rollback_metric=metric), "cartpole", run, agent,
                  None, Unwrapped(), 10)
    bias = agent.policy.denoiser.net[-1].bias
    assert guard.begin(torch.ones(4, 3), 0).abs().sum() == 0  # baseline validated, then a reset
    rows, seen = [], {}
    for step, log_index in ((32, 2), (48, 3), (64, 4), (96, 6), (128, 8)):
        with torch.no_grad():
            bias.add_(1.0)
        seen[step] = bias.detach().clone()
        rows.append(guard.at_log(step, log_index)[0])
        if step == 64:
            assert torch.equal(bias, seen[32])
    assert [r.get("rollback") for r in rows] == [0, None, 1, 0, 1]
    assert torch.equal(bias, seen[96])
    state = json.loads((tmp_path / "guard.json").read_text())
    assert state["rollbacks"] == [
        {"timestep": 64, metric: 0.66, "best": 0.8, "restored_from_timestep": 32},
        {"timestep": 128, metric: 0.7, "best": 0.9, "restored_from_timestep": 96}]
    assert [v[metric] for v in state["validations"]] == [0.8, 0.75, 0.66, 0.9, 0.7]


# --- the table and curves -----------------------------------------------------------------------------
def test_adaptation_table_from_hand_made_runs(tmp_path):
    """Two seeds: the prior's evaluations, DPPO from scratch (final returns 1 and 2: the reference
    level 1.5 over a budget of 320 env steps) and the prior fine-tuned (validation returns whose mean
    over seeds reaches 1.5 at 160 env steps; one rollback)."""
    from analysis.adaptation import report

    home = tmp_path / "adaptation" / "x"
    seeds = {}
    validations = {"scratch": [[(0, 0.0), (32, 1.0)], [(0, 0.0), (32, 2.0)]],
                   "prior_kl": [[(0, 1.0), (16, 1.4), (32, 2.0)], [(0, 1.2), (16, 1.8), (32, 2.2)]]}
    finals = {"scratch": [(1.0, 0.1), (2.0, 0.3)], "prior_kl": [(4.0, 0.8), (4.4, 0.9)]}
    for seed, (clean, shifted) in enumerate((((1.0, 4.9), (0.5, 3.0)), ((0.9, 4.7), (0.3, 2.0)))):
        folder = home / f"seed{seed}"
        folder.mkdir(parents=True)
        evals = {}
        for where, (success, ret) in (("clean", clean), ("shifted", shifted)):
            evals[where] = str(folder / f"prior_{where}.json")
            Path(evals[where]).write_text(json.dumps({"success_rate": success, "return_mean": ret}))
        runs = {}
        for method in ("scratch", "prior_kl"):
            run = fake_run(tmp_path, f"{method}-s{seed}", "dppo", seed, "finished", finals[method][seed][0],
                           num_envs=10)
            meta = json.loads((run / "run.json").read_text())
            meta["final_eval"]["success_rate"] = finals[method][seed][1]
            meta["start_eval"] = {"return_mean": -1.0 if method == "scratch" else shifted[1], "return_std": 0.0,
                                  "episodes": 8, "success_rate": 0.0 if method == "scratch" else shifted[0]}
            (run / "run.json").write_text(json.dumps(meta))
            metrics = pd.read_csv(run / "metrics.csv").assign(violations=[3.0, 1.0])
            metrics.to_csv(run / "metrics.csv", index=False)
            guard = {"validations": [{"timestep": t, "return": r, "success": 0.0} for t, r in validations[method][seed]],
                     "rollbacks": [{"timestep": 16, "return": 1.8, "best": 2.5, "restored_from_timestep": 0}]
                     if (method, seed) == ("prior_kl", 1) else []}
            (run / "guard.json").write_text(json.dumps(guard))
            runs[method] = str(run)
        seeds[str(seed)] = {"prior_eval": evals, "runs": runs}
    (home / "pipeline.json").write_text(json.dumps({
        "task": "cartpole", "shifts": ["angle_bias"], "seeds": seeds, "reference": "scratch",
        "methods": {"scratch": {"label": "DPPO from scratch"},
                    "prior_kl": {"label": "prior + KL", "from_prior": True}}}))
    report(home)
    table = pd.read_csv(home / "table.csv", dtype=str, keep_default_na=False).set_index("method")
    prior, tuned, scratch = table.loc["Diffusion prior only"], table.loc["prior + KL"], table.loc["DPPO from scratch"]
    assert prior["clean success"] == "0.95 +- 0.05" and prior["shifted, RL return"] == "2.50 +- 0.50"
    assert tuned["clean return"] == "4.80 +- 0.10" and tuned["shifted, no RL success"] == "0.40 +- 0.10"
    assert tuned["shifted, RL return"] == "4.20 +- 0.20" and tuned["shifted, RL success"] == "0.85 +- 0.05"
    assert tuned["steps to scratch level"] == "160" and tuned["fraction of scratch budget"] == "0.50"
    assert tuned["rollbacks"] == "1" and scratch["clean success"] == "n/a"
    assert scratch["steps to scratch level"] == "320"  # its own mean reaches its final level at the end
    assert "shifted by angle_bias; 2 seeds" in (home / "table.md").read_text()
    assert (home / "curves.png").stat().st_size > 0


def test_rollback_keeps_a_module_that_was_not_built_at_the_good_point(tmp_path, monkeypatch):
    """skrl's PPO builds its networks lazily: at the baseline validation (before training) only the
    policy has run, so the value network in the snapshot has no weights yet. A rollback restores the
    policy and keeps the value network's current weights, and says so."""
    import benchmark.policy_eval
    from agents.interface import evaluation_action

    cfg = resolve_config("ppo", get_task("cartpole"), {})
    agent = build_agent("ppo", cfg, observation_space=OBS, action_space=ACT, num_envs=2, device="cpu")
    agent.init()
    scores = iter([1.0, 0.0])

    def evaluate(agent, *args, **kwargs):
        evaluation_action(agent, torch.zeros(2, 3))  # validation runs the policy only
        return {"return_mean": next(scores), "success_rate": 0.0}

    monkeypatch.setattr(benchmark.policy_eval, "evaluate", evaluate)

    class Unwrapped:
        num_envs = 2

        def reset(self):
            return {"policy": torch.zeros(2, 3)}, {}

    guard = Guard(GuardConfig(validate_every=1, rollback_drop=0.5, rollback_metric="return"), "cartpole",
                  RunDir(tmp_path), agent, None, Unwrapped(), 10)
    guard.begin(torch.zeros(2, 3), 0)
    policy_before = {k: v.clone() for k, v in agent.models["policy"].state_dict().items()}
    agent.act(torch.randn(2, 3), None, timestep=0, timesteps=1)  # training builds the value network
    with torch.no_grad():
        for p in (*agent.models["policy"].parameters(), *agent.models["value"].parameters()):
            p.add_(1.0)
    value_now = {k: v.clone() for k, v in agent.models["value"].state_dict().items()}
    assert guard.at_log(16, 1)[0]["rollback"] == 1
    for key, value in agent.models["policy"].state_dict().items():
        assert torch.equal(value, policy_before[key]), key
    for key, value in agent.models["value"].state_dict().items():
        assert torch.equal(value, value_now[key]), key
    assert json.loads((tmp_path / "guard.json").read_text())["rollbacks"][0]["not_restored"] == ["value"]


def test_adaptation_manifest_is_checked_before_any_stage(tmp_path):
    from benchmark.adaptation import load

    manifest = load("online_adaptation")
    assert manifest["fine_tune"]["num_envs"] == 128 and manifest["reference"] in manifest["methods"]
    assert load("online_adaptation", "gpu")["fine_tune"]["num_envs"] == 1024
    good = (Path(__file__).parent / "data" / "adaptation_tiny.yaml").read_text()
    for edit, message in ((good + "extra: 1\n", "invalid key 'extra'; valid: demos, description"),
                          (good.replace("task: cartpole\n", ""), "missing task"),
                          (good + "reference: nobody\n", "invalid reference 'nobody'; valid: scratch, prior_kl"),
                          (good.replace("prior_kl_coef: 0.1", "prior_kl_coef: -1"), "prior_kl_coef"),
                          (good.replace("shifts: [motor_weak]", "shifts: [gravity]"), "invalid shift")):
        path = tmp_path / "bad.yaml"
        path.write_text(edit)
        with pytest.raises(UserError, match=message):
            load(str(path))
    with pytest.raises(UserError, match="invalid size 'tpu'; valid: cpu, gpu"):
        load("online_adaptation", "tpu")
