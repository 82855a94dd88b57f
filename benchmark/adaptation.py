"""Adapting on the fly, end to end: expert -> demonstrations -> diffusion prior -> shifted task ->
guarded online fine-tuning -> table and curves, from one manifest.

    python -m benchmark.adaptation --exp online_adaptation              # the CPU budget
    python -m benchmark.adaptation --exp online_adaptation --size gpu   # the manifest's GPU budget

Per seed, each stage a process of its own (one simulation per process), each skipped when its
result is already there (runs: finished in the store; files: written whole or not at all), so an
interrupted pipeline resumes where it stopped:

1. the expert: a run of ``expert.algo`` on the clean task (:mod:`benchmark.train`, in the run store);
2. its demonstrations (:mod:`benchmark.demos`), ``demos.hdf5``;
3. the prior fitted to them (:mod:`benchmark.prior` fit), ``prior.pt``;
4. the frozen prior evaluated on the clean and on the shifted task (``prior_clean.json``,
   ``prior_shifted.json``);
5. one run per method on the shifted task (``shifts``), each evaluated before training (the policy
   it starts from, shifted, without RL) and after: RL from scratch, the prior fine-tuned with its
   KL, the prior fine-tuned without it (``methods``), all with the manifest's ``guard``.

Then :mod:`analysis.adaptation` writes the table and the curves. ``results/adaptation/<name>/``
holds the per-seed files and ``pipeline.json``, which names every run directory and file the table
was made from (rewritten after each seed: ``python -m analysis.adaptation <that folder>`` reports the
seeds done so far).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from benchmark.spec import RunSpec, check_device_name
from benchmark.store import DEFAULT_ROOT, DONE_STATUSES, Store, atomic_write_json
from tasks.errors import UserError, cli_main

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
KEYS = {"name": str, "description": str, "task": str, "shifts": list, "seeds": list, "device": str,
        "eval_episodes": int, "expert": dict, "demos": dict, "prior": dict, "fine_tune": dict, "guard": dict,
        "methods": dict, "sizes": dict, "reference": str}
STAGE_KEYS = {"expert": {"algo", "num_envs", "timesteps", "set"}, "demos": {"episodes", "num_envs"},
              "prior": {"iterations", "batch_size", "lr"}, "fine_tune": {"algo", "num_envs", "timesteps", "set"}}
METHOD_KEYS = {"from_prior", "set", "label", "algo"}


def _check_keys(where: str, given: dict, valid) -> None:
    for key in given:
        if key not in valid:
            raise UserError(f"{where}: invalid key {key!r}; valid: {', '.join(sorted(valid))}")


def load(name_or_path: str, size: str = "cpu") -> dict[str, Any]:
    """The manifest, its ``sizes[size]`` merged over its stages, checked; every run it implies is
    planned here once (so a bad setting stops it before any stage runs)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        found = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))
        raise UserError(f"invalid experiment {name_or_path!r}: no file {path}; valid: {', '.join(found)}")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not a YAML mapping ({err})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a YAML mapping")
    _check_keys(str(path), data, KEYS)
    for key, kind in KEYS.items():
        if key in data and not isinstance(data[key], kind):
            raise UserError(f"{path}: {key} must be a {kind.__name__}, got {data[key]!r}")
    missing = [k for k in ("name", "task", "shifts", "seeds", "expert", "demos", "prior", "fine_tune", "methods")
               if k not in data]
    if missing:
        raise UserError(f"{path}: missing {', '.join(missing)}")
    sizes = data.pop("sizes", {})
    if size != "cpu":
        if size not in sizes:
            raise UserError(f"{path}: invalid size {size!r}; valid: cpu, {', '.join(sizes)}")
        _check_keys(f"{path}: sizes.{size}", sizes[size], STAGE_KEYS.keys() | {"seeds", "device", "eval_episodes"})
        for key, value in sizes[size].items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
    for stage, valid in STAGE_KEYS.items():
        _check_keys(f"{path}: {stage}", data[stage], valid)
    for method, spec in data["methods"].items():
        _check_keys(f"{path}: methods.{method}", spec, METHOD_KEYS)
    data.setdefault("device", "cpu")
    data.setdefault("eval_episodes", 256)
    data.setdefault("guard", {})
    data.setdefault("reference", "scratch")
    if data["reference"] not in data["methods"]:
        raise UserError(f"{path}: invalid reference {data['reference']!r}; valid: {', '.join(data['methods'])}")
    for method, spec in data["methods"].items():
        if spec.get("from_prior") and spec.get("algo", data["fine_tune"]["algo"]) != data["fine_tune"]["algo"]:
            raise UserError(f"{path}: methods.{method}: from_prior needs the fine-tuning algorithm "
                            f"{data['fine_tune']['algo']!r} (the prior is fitted for it)")
    check_device_name(data["device"])
    data["path"] = str(path)
    for seed in data["seeds"]:  # plan (validate) every run once, before any stage starts
        expert_spec(data, seed)
        for method in data["methods"]:
            method_spec(data, seed, method, Path("prior.pt"))
    return data


def expert_spec(m: dict, seed: int) -> RunSpec:
    e = m["expert"]
    return RunSpec.create(task=m["task"], algo=e["algo"], num_envs=e["num_envs"], seed=seed, timesteps=e["timesteps"],
                          overrides=e.get("set", {}), eval_episodes=m["eval_episodes"])


def method_spec(m: dict, seed: int, method: str, prior: Path) -> RunSpec:
    """A method's run on the shifted task: the fine-tuning stage's algorithm and settings unless the
    method names another algorithm (then only its own settings)."""
    f, spec = m["fine_tune"], m["methods"][method]
    algo = spec.get("algo", f["algo"])
    overrides = {**(f.get("set", {}) if algo == f["algo"] else {}), **spec.get("set", {})}
    if spec.get("from_prior"):
        overrides["prior"] = str(prior)
    return RunSpec.create(task=m["task"], algo=algo, num_envs=f["num_envs"], seed=seed, timesteps=f["timesteps"],
                          overrides=overrides, eval_episodes=m["eval_episodes"],
                          start_eval_episodes=m["eval_episodes"], shifts=m["shifts"], guard=m["guard"])


def _run(args: list[str]) -> None:
    print("  $ python -m " + " ".join(args), flush=True)
    done = subprocess.run([sys.executable, "-m", *args])
    if done.returncode:
        raise UserError(f"stage failed (exit {done.returncode}): python -m {' '.join(args)}")


def _train(store: Store, spec: RunSpec, device: str, assets: str) -> Path:
    from benchmark.train import plan_run  # noqa: PLC0415

    run = store.run(spec.run_id)
    plan_run(run, spec)
    if run.status() not in DONE_STATUSES:
        _run(["benchmark.train", "--run-dir", str(run.path), "--device", device, "--no-progress",
              "--assets", assets])
    return run.path


def run_pipeline(m: dict, out: Path, assets: str) -> dict[str, Any]:
    store, device = Store(out), m["device"]
    home = out / "adaptation" / m["name"]
    record: dict[str, Any] = {"manifest": m["path"], "task": m["task"], "shifts": m["shifts"], "seeds": {}}
    home.mkdir(parents=True, exist_ok=True)
    for seed in m["seeds"]:
        print(f"seed {seed}", flush=True)
        folder = home / f"seed{seed}"
        expert = _train(store, expert_spec(m, seed), device, assets)
        demos, prior = folder / "demos.hdf5", folder / "prior.pt"
        if not demos.exists():
            _run(["benchmark.demos", "--run-dir", str(expert), "--out", str(demos), "--episodes",
                  str(m["demos"]["episodes"]), "--num-envs", str(m["demos"]["num_envs"]), "--device", device,
                  "--assets", assets])
        if not prior.exists():
            fit_sets = [f"--set={k}={json.dumps(v)}" for k, v in m["fine_tune"].get("set", {}).items()]
            _run(["benchmark.prior", "fit", "--demos", str(demos), "--out", str(prior), "--algo",
                  m["fine_tune"]["algo"], "--iterations", str(m["prior"]["iterations"]), "--batch-size",
                  str(m["prior"]["batch_size"]), "--lr", str(m["prior"]["lr"]), "--seed", str(seed), *fit_sets])
        evals = {}
        for where, shifts in (("clean", []), ("shifted", m["shifts"])):
            target = folder / f"prior_{where}.json"
            if not target.exists():
                _run(["benchmark.prior", "evaluate", "--prior", str(prior), "--out", str(target), "--episodes",
                      str(m["eval_episodes"]), "--num-envs", str(m["fine_tune"]["num_envs"]), "--seed", str(seed),
                      "--device", device, "--assets", assets, *[f"--shift={s}" for s in shifts]])
            evals[where] = str(target)
        runs = {method: str(_train(store, method_spec(m, seed, method, prior), device, assets))
                for method in m["methods"]}
        record["seeds"][str(seed)] = {"expert": str(expert), "demos": str(demos), "prior": str(prior),
                                      "prior_eval": evals, "runs": runs}
        # after each seed: a report of the seeds done so far
        atomic_write_json(home / "pipeline.json", {**record, "methods": m["methods"], "reference": m["reference"]})
    return record


def build_parser() -> argparse.ArgumentParser:
    from tasks.assets import MODES  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m benchmark.adaptation", description=__doc__.split("\n")[0])
    p.add_argument("--exp", default="online_adaptation", help="a manifest name in experiments/ or a path")
    p.add_argument("--size", default="cpu", help="cpu (the manifest's stages) or a key of its sizes (e.g. gpu)")
    p.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    p.add_argument("--assets", default="auto", choices=MODES)
    return p


@cli_main
def main(argv: list[str] | None = None) -> int:
    from analysis.adaptation import report  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    manifest = load(args.exp, args.size)
    run_pipeline(manifest, args.out, args.assets)
    for path in report(args.out / "adaptation" / manifest["name"]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
