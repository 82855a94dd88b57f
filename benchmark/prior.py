"""Fit a diffusion prior to a demonstration file (behaviour cloning), for DPPO to fine-tune from;
evaluate a prior as it is (frozen) on the task, clean or shifted.

    python -m benchmark.prior fit --demos results/demos/cartpole.hdf5 --out results/priors/cartpole.pt
    python -m benchmark.prior evaluate --prior results/priors/cartpole.pt --shift motor_weak --out eval.json

The denoiser is built as the fine-tuning agent (``--algo``, default DPPO, with its ``--set``
overrides) would build it for the dataset's task, so the run that sets ``prior=<file>`` loads it
as is (:mod:`agents.diffusion.behaviour_cloning` for the fit and the file). Next to the file: its loss
curve as CSV (``<out>.loss.csv``). Both are written whole or not at all.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from benchmark.store import atomic_write_json, atomic_write_with, write_text
from tasks.errors import UserError, cli_main
from tasks.robots.sources import sha256


def architecture_for(algo: str, task: str, obs_dim: int, act_dim: int, overrides: dict):
    """The denoiser ``algo`` builds for ``task`` under ``overrides`` (its resolved config)."""
    from agents import catalogue, settings  # noqa: PLC0415
    from agents.diffusion.behaviour_cloning import Architecture  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415

    if algo not in ("dppo",):
        raise UserError(f"invalid algorithm {algo!r} to fit a prior for; valid: dppo")
    cfg = settings.resolve(catalogue.get(algo).config, get_task(task), overrides).config
    return Architecture(obs_dim, act_dim, list(cfg.actor_hidden), cfg.time_embedding_dim, cfg.time_hidden,
                        "cosine", cfg.diffusion_steps)


def fit_file(demos: Path, out: Path, *, algo: str, overrides: dict, iterations: int, batch_size: int, lr: float,
             seed: int) -> dict:
    """Fit and save the prior; returns what it printed about it."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415

    from agents.diffusion.behaviour_cloning import fit, observation_scaler, save_prior  # noqa: PLC0415
    from benchmark.demos import read_hdf5  # noqa: PLC0415

    episodes, env_args, provenance = read_hdf5(demos)
    obs = torch.from_numpy(np.concatenate([e.obs for e in episodes]))
    raw = torch.from_numpy(np.concatenate([e.actions for e in episodes]))
    actions = raw.clamp(-1.0, 1.0)
    arch = architecture_for(algo, env_args["env_kwargs"]["task"], obs.shape[1], actions.shape[1], overrides)
    torch.manual_seed(seed)
    denoiser, schedule = arch.build()
    scaler = observation_scaler(obs)
    with torch.no_grad():
        normalised = scaler(obs)
    curve = fit(denoiser, schedule, normalised, actions, iterations=iterations, batch_size=batch_size, lr=lr,
                generator=torch.Generator().manual_seed(seed))
    dataset = {"file": str(demos), "sha256": sha256(demos), "transitions": int(obs.shape[0]),
               "episodes": len(episodes), "actions_clipped": float((raw.abs() > 1).float().mean()),
               "provenance": provenance, "fit": {"algo": algo, "overrides": overrides, "iterations": iterations,
                                                 "batch_size": batch_size, "lr": lr, "seed": seed}}
    curve_csv = io.StringIO()
    csv.writer(curve_csv).writerows([("step", "loss"), *curve])
    write_text(out.with_name(out.name + ".loss.csv"), curve_csv.getvalue())  # makes the folder, too
    atomic_write_with(out, lambda f: save_prior(f, denoiser, arch, scaler=scaler, curve=curve, dataset=dataset))
    return {"transitions": int(obs.shape[0]), "first_loss": curve[0][1], "final_loss": curve[-1][1]}


def evaluate_file(prior: Path, out: Path, *, shifts: tuple[str, ...], episodes: int, num_envs: int, seed: int,
                  device: str, asset_mode: str) -> dict:
    """The frozen prior's evaluation (DPPO's evaluation chain, started from the prior) on its task."""
    import torch  # noqa: PLC0415
    from skrl.utils import set_seed  # noqa: PLC0415

    from agents import catalogue, settings  # noqa: PLC0415
    from agents.diffusion.behaviour_cloning import load_prior  # noqa: PLC0415
    from agents.interface import init_for_loop  # noqa: PLC0415
    from benchmark.policy_eval import evaluate  # noqa: PLC0415
    from tasks.isaaclab_env import open_env  # noqa: PLC0415
    from tasks.registry import get_task  # noqa: PLC0415
    from tasks.shifts import check_shifts  # noqa: PLC0415

    if not prior.is_file():
        raise UserError(f"no prior file {str(prior)!r}; valid: a file benchmark.prior fit wrote")
    fitted = load_prior(prior)["dataset"]
    task = get_task(fitted["provenance"]["task"])
    shifts = check_shifts(task.name, shifts)
    config = settings.resolve(catalogue.get(fitted["fit"]["algo"]).config, task,
                              {**fitted["fit"]["overrides"], "prior": str(prior)})
    set_seed(seed)
    torch.backends.cudnn.benchmark = False
    with open_env(task, num_envs=num_envs, device=device, seed=seed, asset_mode=asset_mode, shifts=shifts) as handle:
        agent = catalogue.build_agent(fitted["fit"]["algo"], config, observation_space=handle.env.observation_space,
                                      action_space=handle.env.action_space, num_envs=handle.num_envs, device=device)
        init_for_loop(agent)
        handle.env.reset()  # the wrappers' first reset (evaluate resets the Isaac Lab env itself)
        result = evaluate(agent, handle.env, handle.unwrapped, episodes=episodes,
                          max_episode_length=handle.max_episode_length)
        shift_record = handle.record["shifts"]
    summary = {"prior": str(prior), "sha256": sha256(prior), "task": task.name, "shifts": shift_record,
               "seed": seed, "num_envs": num_envs, **result}
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, summary)
    return summary


def build_parser() -> argparse.ArgumentParser:
    from tasks.assets import MODES  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m benchmark.prior", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a prior to demonstrations")
    f.add_argument("--demos", type=Path, required=True, help="an HDF5 file benchmark.demos wrote")
    f.add_argument("--out", type=Path, required=True, help="the prior file to write")
    f.add_argument("--algo", default="dppo", help="the agent that will fine-tune it (valid: dppo)")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="the fine-tuning run's overrides that shape the denoiser (actor_hidden, diffusion_steps, ...)")
    f.add_argument("--iterations", type=int, default=4000)
    f.add_argument("--batch-size", type=int, default=256)
    f.add_argument("--lr", type=float, default=1e-3)
    f.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("evaluate", help="evaluate a prior as it is on its task, clean or shifted")
    e.add_argument("--prior", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    e.add_argument("--shift", action="append", default=[], metavar="NAME")
    e.add_argument("--episodes", type=int, default=256)
    e.add_argument("--num-envs", type=int, default=256)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="cpu")
    e.add_argument("--assets", default="auto", choices=MODES)
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    from agents.settings import parse_override  # noqa: PLC0415
    from benchmark.spec import positive, validate_device  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    if args.command == "evaluate":
        positive("number of episodes", args.episodes)
        positive("number of environments", args.num_envs)
        res = evaluate_file(args.prior, args.out, shifts=tuple(args.shift), episodes=args.episodes,
                            num_envs=args.num_envs, seed=args.seed, device=validate_device(args.device),
                            asset_mode=args.assets)
        print(f"{args.out}: return {res['return_mean']:.3f} +- {res['return_std']:.3f}, success "
              f"{res['success_rate']:.0%} over {res['episodes']} episodes")
        return 0
    positive("number of iterations", args.iterations)
    positive("batch size", args.batch_size)
    if not args.lr > 0:
        raise UserError(f"invalid learning rate {args.lr!r}; valid: a positive number")
    overrides = dict(parse_override(s) for s in args.set)
    out = fit_file(args.demos, args.out, algo=args.algo, overrides=overrides, iterations=args.iterations,
                   batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    print(f"{args.out}: fitted on {out['transitions']} transitions, denoising loss "
          f"{out['first_loss']:.4f} -> {out['final_loss']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
