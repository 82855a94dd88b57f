"""The online-adaptation table and curves, from a pipeline's ``pipeline.json`` (:mod:`benchmark.adaptation`).

The table is the DiffRL proposal's: one row per method, the columns success rate and return on the
clean task, on the shifted task before RL, and on the shifted task after RL, mean +- std over seeds
(final evaluations of the harness: the evaluation policy over whole episodes). "Before RL" is the
run's own evaluation before training (the policy it starts from, on the shifted task); for the
frozen prior "after RL" is its shifted evaluation again (it does not learn).

Adaptation is followed on the guardrails' validations (the same fixed start states each time, the
evaluation policy, one episode per environment; the first before any training): the curves show
validation return against environment steps on the shifted task (mean +- std over seeds), rollbacks
marked, and the episodes that ended in a violation per log interval. Training episodes are no
measure here: validation resets every environment, and a good policy's episodes outlast the
interval between two validations. The last columns say at how many environment steps a method's
validation return (mean over seeds) first reached the reference method's final evaluation return
(the manifest's ``reference``, RL from scratch), and what fraction of the reference's budget that is.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.tables import markdown_table
from benchmark.store import write_text


def _fmt(values: list[float], digits: int = 2) -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "n/a"
    return f"{np.mean(values):.{digits}f} +- {np.std(values):.{digits}f}"


def load(home: Path) -> dict[str, Any]:
    """Per method and seed: the run's record, metrics and guardrails' record; the prior's evaluations."""
    from benchmark.store import RunDir  # noqa: PLC0415

    pipe = json.loads((home / "pipeline.json").read_text())
    out: dict[str, Any] = {"pipeline": pipe, "prior": {}, "runs": {}}
    for seed, files in pipe["seeds"].items():
        out["prior"][seed] = {where: json.loads(Path(p).read_text()) for where, p in files["prior_eval"].items()}
        for method, run_dir in files["runs"].items():
            run = RunDir(run_dir)
            out["runs"].setdefault(method, {})[seed] = {
                "run_dir": run_dir, "record": run.read_record(), "metrics": pd.read_csv(run.metrics_path),
                "guard": run.read_guard()}
    return out


def _validations(runs: dict[str, Any]) -> pd.DataFrame:
    """Validation return, env_steps x seeds (the validations of guard.json, the first at 0)."""
    frames = [pd.Series({v["timestep"] * r["record"].num_envs: v["return"] for v in r["guard"]["validations"]},
                        name=seed) for seed, r in runs.items()]
    return pd.concat(frames, axis=1).sort_index()


def steps_to_reach(curve: pd.Series, level: float) -> float | None:
    """The first env_steps at which ``curve`` reaches ``level`` (None: never)."""
    hit = curve[curve >= level]
    return float(hit.index[0]) if len(hit) else None


def table(data: dict[str, Any]) -> pd.DataFrame:
    methods = data["pipeline"]["methods"]
    runs = data["runs"]
    level = budget = None
    reference = data["pipeline"].get("reference")
    level = budget = None
    if reference in runs:
        level = float(np.mean([r["record"].final_eval.return_mean for r in runs[reference].values()]))
        budget = float(max(r["record"].total_env_steps for r in runs[reference].values()))
    rows = []
    priors = data["prior"].values()
    rows.append({"method": "Diffusion prior only",
                 **{f"{where} success": _fmt([p[key]["success_rate"] for p in priors])
                    for where, key in (("clean", "clean"), ("shifted, no RL", "shifted"), ("shifted, RL", "shifted"))},
                 **{f"{where} return": _fmt([p[key]["return_mean"] for p in priors])
                    for where, key in (("clean", "clean"), ("shifted, no RL", "shifted"), ("shifted, RL", "shifted"))},
                 "steps to scratch level": "n/a", "fraction of scratch budget": "n/a", "rollbacks": "n/a"})
    for method, spec in methods.items():
        seeds = runs[method]
        start = [r["record"].start_eval for r in seeds.values()]
        final = [r["record"].final_eval for r in seeds.values()]
        clean = [p["clean"] for p in priors] if spec.get("from_prior") else []
        validated = all(r["guard"].get("validations") for r in seeds.values())
        steps = steps_to_reach(_validations(seeds).mean(axis=1), level) if level is not None and validated else None
        rows.append({
            "method": spec.get("label", method),
            "clean success": _fmt([c["success_rate"] for c in clean]),
            "shifted, no RL success": _fmt([s.success_rate for s in start]),
            "shifted, RL success": _fmt([f.success_rate for f in final]),
            "clean return": _fmt([c["return_mean"] for c in clean]),
            "shifted, no RL return": _fmt([s.return_mean for s in start]),
            "shifted, RL return": _fmt([f.return_mean for f in final]),
            "steps to scratch level": "never" if steps is None else f"{steps:.0f}",
            "fraction of scratch budget": "n/a" if steps is None or not budget else f"{steps / budget:.2f}",
            "rollbacks": str(sum(len(r["guard"].get("rollbacks", [])) for r in seeds.values())),
        })
    return pd.DataFrame(rows)


def curves(data: dict[str, Any], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, height_ratios=(2, 1))
    for i, (method, seeds) in enumerate(data["runs"].items()):
        color = f"C{i}"
        label = data["pipeline"]["methods"][method].get("label", method)
        if all(r["guard"].get("validations") for r in seeds.values()):
            ret = _validations(seeds)
            mean, std = ret.mean(axis=1), ret.std(axis=1, ddof=0)
            top.plot(mean.index, mean, color=color, marker="o", label=label)
            top.fill_between(mean.index, mean - std, mean + std, color=color, alpha=0.2)
        if all("violations" in r["metrics"] for r in seeds.values()):
            violations = pd.concat([r["metrics"].set_index("env_steps")["violations"].rename(seed)
                                    for seed, r in seeds.items()], axis=1)
            bottom.plot(violations.index, violations.mean(axis=1), color=color, label=label)
        for r in seeds.values():
            for rb in r["guard"].get("rollbacks", []):
                top.axvline(rb["timestep"] * r["record"].num_envs, color=color, linestyle=":", linewidth=1)
    top.set_ylabel("validation return")
    top.set_title("after the shift (dotted: rollbacks)")
    top.legend(fontsize=8)
    bottom.set_ylabel("violations / interval")
    bottom.set_xlabel("environment steps on the shifted task")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(home: Path) -> list[Path]:
    """Write ``table.csv``, ``table.md`` and ``curves.png`` into ``home``; returns their paths."""
    data = load(home)
    frame = table(data)
    paths = [home / "table.csv", home / "table.md", home / "curves.png"]
    frame.to_csv(paths[0], index=False)
    pipe = data["pipeline"]
    header = (f"Online adaptation on {pipe['task']}, shifted by {', '.join(pipe['shifts'])}; "
              f"{len(pipe['seeds'])} seed{'s' if len(pipe['seeds']) != 1 else ''} (mean +- std); runs: "
              f"{home / 'pipeline.json'}\n\n")
    body = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    write_text(paths[1], header + markdown_table(list(frame.columns), body, [], numeric_from=1))
    curves(data, paths[2])
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m analysis.adaptation", description=__doc__.split("\n")[0])
    parser.add_argument("home", type=Path, help="results/adaptation/<experiment name>")
    args = parser.parse_args(argv)
    if not (args.home / "pipeline.json").is_file():
        print(f"error: no pipeline.json in {args.home}; valid: a folder benchmark.adaptation wrote", file=sys.stderr)
        return 2
    for path in report(args.home):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
