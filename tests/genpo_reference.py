"""A tiny GenPO run on the state bandit whose losses and parameters are kept as a reference
(``tests/data/genpo_reference.pt``), recorded with the implementation before it moved onto the
on-policy base (commit b9a85be): the rewrite must give the same numbers (tests/test_bases.py).

    python tests/genpo_reference.py   # re-records the file (only to re-base after a deliberate change)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from agents.catalogue import build_agent, resolve_config
from agents.interface import init_for_loop
from bandit import StateBanditEnv
from benchmark import loop
from benchmark.store import RunDir
from tasks.registry import get_task

FILE = Path(__file__).parent / "data" / "genpo_reference.pt"
TINY = {"actor_hidden": [16, 16], "critic_hidden": [16, 16], "time_hidden": [16], "time_embedding_dim": 8,
        "diffusion_steps": 3, "rollouts": 8, "learning_epochs": 2, "mini_batches": 2, "actor_lr": 1e-3,
        "entropy_coef": 0.01, "observation_normalization": True}
# the default path (the original's per-minibatch learning-rate rule, max-clipped value loss) and the
# other choices (skrl's per-epoch KLAdaptiveLR, the clipped value loss, value normalization)
CASES = {"default": {}, "skrl_choices": {"lr_schedule": "skrl", "value_loss": "clipped", "value_normalization": True}}
STEPS = 24  # three updates


def genpo_run(case: str = "default") -> dict:
    """Losses per log row and the final parameters of a 3-update GenPO run, one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        env = StateBanditEnv(16)
        cfg = resolve_config("genpo", get_task("cartpole"), {**TINY, **CASES[case]})
        agent = build_agent("genpo", cfg, observation_space=env.observation_space, action_space=env.action_space,
                            num_envs=env.num_envs, device="cpu")
        init_for_loop(agent)
        with tempfile.TemporaryDirectory() as tmp:
            settings = loop.LoopSettings(timesteps=STEPS, log_interval=8, checkpoint_interval=STEPS, progress=False)
            loop.train(agent, env, env.num_envs, settings, RunDir(Path(tmp)))
            rows = RunDir(Path(tmp)).read_metrics()
        losses = {k: [float(r[k]) for r in rows] for k in rows[0] if k.startswith(("loss_", "policy_", "learning_"))}
        params = {f"{name}.{k}": v.detach().clone() for name in ("policy", "value")
                  for k, v in agent.checkpoint_modules[name].state_dict().items()}
        return {"losses": losses, "params": params}
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    FILE.parent.mkdir(exist_ok=True)
    torch.save({case: genpo_run(case) for case in CASES}, FILE)
    print(f"wrote {FILE}")
