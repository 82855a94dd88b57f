"""``docs/tasks.md``: every task as this machine builds, checks and trains it, from the runs' own files.

    python -m analysis.tasks_page [--exp tasks_cpu] [--out results] [--page docs/tasks.md]

Per task of the experiment (one PPO run each, :mod:`experiments` ``tasks_cpu.yaml``): the asset
class and where each file came from (the run's ``run.json: asset_source``, which holds the offline
root's manifest entries, and the config edits the offline assets needed), the observation and
action dimensions as built beside the review's (Table 3), the training speed on this machine
(environment steps per second of wall time, simulator start excluded), the evaluation return of the
untrained policy (``eval_start.json``) and of the trained one (``eval.json``), and Isaac Lab's own
rsl-rl PPO at the same budget (:mod:`benchmark.rsl_rl_reference`) where it runs. A return *rises*
when the end's mean exceeds the start's by more than twice their combined standard error
(population std over the evaluation episodes, divided by the square root of their number), and is
marked when its episodes became under half as long (a robot that falls sooner sums fewer per-step
penalties); a task whose return does not rise says so, with what was found (:data:`FINDINGS`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from benchmark.manifest import load
from benchmark.record import Evaluation
from benchmark.store import DEFAULT_ROOT, Store, write_text
from tasks.errors import cli_main
from tasks.registry import get_task

PAGE = Path(__file__).resolve().parent.parent / "docs" / "tasks.md"
REVIEW_ENVS = 1024  # the review's environments per run (Table 4), task_diversity.yaml's num_envs

# What the runs and the checks showed, per task, in words (kept beside the numbers they explain).
FINDINGS: dict[str, str] = {
    "cartpole": "Solved at half the review-scale budget; the review reports 4.72 ± 0.06 (Table 4). Isaac Lab's "
                "rsl-rl PPO at the same budget: training return 4.94 (ours 2.61 under the exploring policy).",
    "ant": "Learns: the trained Ant runs the whole episode and its return rose from 3.3 to 19.4 (Newton's ant, "
           "a stand-in of 0.18 kg: returns are not the review's). Isaac Lab's rsl-rl PPO at the same budget "
           "still fell half-way (episodes of 487 steps, training return -3.27).",
    "humanoid": "Learns a little at 0.75 % of the budget: episodes 40 -> 59 steps, return 0.40 -> 1.64.",
    "franka_lift": "At 0.08 % of the budget the lift reward (reach, then lift, then track the goal) is not reached: "
                   "0.72 -> 1.85 is inside the noise of 64 episodes (std 1.9-4.3). The asset check shows the arm "
                   "holding its pose and the gripper closing and opening, so the task runs; learning needs a longer run. "
                   "Isaac Lab's rsl-rl PPO at the same budget does not learn either (training return -0.38).",
    "franka_drawer": "The budget (480 steps) is half of one episode (960 steps), so no training episode ended (no "
                     "training return) and PPO updated on the opening half of the first episodes only; the returns "
                     "are negative and vary widely (std 65-84) on the generated cabinet stand-in.",
    "shadow_cube": "At 0.01 % of the budget (12,288 steps) the return varies too much between episodes (std 116-142: "
                   "the task's success bonus and drop penalty) for 64 episodes to separate -13.9 from 28.8.",
    "allegro_cube": "The trained policy drops the cube sooner (episodes 100 -> 28 steps); at 12,288 steps PPO has "
                    "only begun to explore.",
    "anymal_d_flat": "The untrained policy stands the whole episode (1,000 steps) on ANYmal-C with the DC-motor "
                     "model; after 30,720 steps of exploration the trained one falls after 512 steps on average "
                     "and scores lower (0.63 -> -2.99), a usual dip at the start of legged training.",
    "spot_flat": "Spot falls at once before and after training (episodes of 10-13 steps), as the asset check found "
                 "under zero action (the spot_ros2 masses under the task's PD gains do not hold it up); 40,960 steps "
                 "do not get PPO past that; nor Isaac Lab's rsl-rl PPO (training return 0.76, episodes of 12 "
                 "steps).",
    "go2_rough": "Not learning: the return \"rises\" only because the trained Go2 falls after 17 steps where the "
                 "untrained one stood 993; a fall ends the sum of per-step penalties (tracking errors, torques) early.",
    "g1_rough": "No rise: G1 falls after about 1.2 s before and after training (61-65 steps), as the asset check "
                "found under zero action (the default pose puts the centre of mass ahead of the ankles, whose "
                "drives are too soft to balance it).",
    "h1_rough": "No rise: H1 falls after about 1.6 s before and after training (78-83 steps), for the same reason "
                "as G1; Isaac Lab's rsl-rl PPO at the same budget alike (training return -5.39, episodes of 62 steps).",
    "cassie_rough": "Not learning: the trained policy ends every episode after 2 steps with -4.07, about the "
                    "task's termination penalty alone (-200 x 0.02 s), which scores above falling after 54 steps "
                    "with the penalties summed on the way (-5.20): at this budget PPO found that ending the "
                    "episode at once pays.",
}


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


def _mean_std(evaluation: Evaluation | None) -> str:
    """``mean ± std (length)``: the mean episode length beside the return, since a shorter episode
    also sums fewer per-step penalties (a robot that falls sooner can score higher)."""
    if not evaluation:
        return "-"
    length = f" ({evaluation.length_mean:,.0f} steps)" if evaluation.length_mean is not None else ""
    return f"{evaluation.return_mean:.2f} ± {evaluation.return_std:.2f}{length}"


def rises(start: Evaluation | None, end: Evaluation | None) -> bool | None:
    """Whether the end's mean return exceeds the start's by more than twice their combined standard
    error (None when either is missing)."""
    if not start or not end:
        return None
    error = math.sqrt(start.return_std ** 2 / start.episodes + end.return_std ** 2 / end.episodes)
    return end.return_mean - start.return_mean > 2 * error


def verdict(start: Evaluation | None, end: Evaluation | None) -> str:
    """The page's "rises" cell: yes, **no** or -; a rise whose episodes became less than half as long
    says so, since falling sooner also sums fewer per-step penalties."""
    rose = rises(start, end)
    if rose and start.length_mean and end.length_mean is not None and end.length_mean < start.length_mean / 2:
        return "yes, but episodes under half as long"
    return {True: "yes", False: "**no**", None: "-"}[rose]


def speed(rows: list[dict]) -> float | None:
    """Environment steps per second of training wall time after the first log row (which holds the
    simulator's and the compiler's warm-up); ``rows``: the run's ``metrics.csv``."""
    if len(rows) < 2:
        return None
    steps = float(rows[-1]["env_steps"]) - float(rows[0]["env_steps"])
    wall = float(rows[-1]["wall_time_s"]) - float(rows[0]["wall_time_s"])
    return steps / wall if wall > 0 else None


def task_row(store: Store, spec) -> dict:
    """Everything the page says about one task, from its run directory and its rsl-rl reference."""
    task = get_task(spec.task)
    run = store.run(spec.run_id)
    record = run.read_record()
    assets = (record.asset_source if record else None) or {}
    env = (record.env if record else None) or {}
    rows = run.read_metrics()
    reference = store.read_reference(store.rsl_rl_reference(spec.task, spec.num_envs, spec.timesteps, spec.seed))
    return {"task": task, "spec": spec, "status": run.status(), "class": assets.get("kind"),
            "files": [f for f in assets.get("files") or [] if f.get("source_kind") != "generated"],
            "edits": assets.get("config_edits") or [], "obs": env.get("obs_dim"), "act": env.get("act_dim"),
            "start": record.start_eval if record else None, "end": record.final_eval if record else None,
            "speed": speed(rows), "train_return": float(rows[-1]["return_mean"]) if rows else None,
            "threads": ((record.determinism or {}).get("torch_threads") if record else None),
            "reference": reference}


def _source(entry: dict) -> str:
    source = entry.get("source") or {}
    what = f"{source.get('package', '?')}=={source['version']}" if source.get("version") else source.get("package", "?")
    return f"`{entry.get('robot') or entry.get('asset')}` ({entry.get('source_kind')}): {what}, {source.get('file', '')}"


def render(rows: list[dict], experiment: str) -> str:
    out = [f"# Every task on this machine (`{experiment}`)", "",
           f"Generated by `python -m analysis.tasks_page --exp {experiment}` from the runs' own files; do not edit.",
           "One PPO run per task on the CPU (2 cores), offline assets (`make setup`); the budgets are a CPU's, far",
           "below the review's: these are checks that each task builds, runs and learns here, not results.", "",
           "## Assets and dimensions", "",
           "| task | Isaac Lab id | asset class | files (package, member) | config edits | obs built / review | "
           "act built / review |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["task"]
        files = "<br>".join(_source(f) for f in r["files"]) or "-"
        edits = "<br>".join(r["edits"]) or "-"
        out.append(f"| {t.paper_name} (`{t.name}`) | `{t.isaaclab_id}` | {r['class'] or '-'} | {files} | {edits} | "
                   f"{_fmt(r['obs'])} / {t.obs_dim} | {_fmt(r['act'])} / {t.act_dim} |")
    notes = [(r["task"], r["task"].table_note) for r in rows if r["task"].table_note]
    if notes:
        out += [""] + [f"- {t.paper_name}: {note}" for t, note in notes]
    out += ["", "## Learning at a CPU budget", "",
            "| task | envs | env steps | of the review-scale budget | env-steps/s | eval return, untrained | "
            "eval return, trained | rises | training return, last | rsl-rl: training return, last | "
            "rsl-rl env-steps/s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spec, start, end, ref = r["spec"], r["start"], r["end"], r["reference"] or {}
        if ref.get("status") == "finished":
            theirs, their_speed = _fmt(ref["final_mean_reward"]), _fmt(ref["env_steps_per_s"], 0)
        else:
            theirs, their_speed = ref.get("status", "not run"), "-"
        share = spec.num_envs * spec.timesteps / (REVIEW_ENVS * r["task"].default_timesteps)
        out.append(f"| {r['task'].paper_name} | {spec.num_envs} | {spec.num_envs * spec.timesteps:,} | {share:.2%} | "
                   f"{_fmt(r['speed'], 0)} | {_mean_std(start)} | {_mean_std(end)} | {verdict(start, end)} | {_fmt(r['train_return'])} | "
                   f"{theirs} | {their_speed} |")
    threads = sorted({r["threads"] for r in rows if r["threads"]})
    out += ["", f"- Torch threads per run (`run.json`): {', '.join(map(str, threads)) or '-'}. Env-steps/s: the training "
            "steps after the first log row over their wall time (the simulator's start excluded).",
            f"- Review-scale budget: {REVIEW_ENVS} environments x the task's default steps (`tasks/tasks.csv`: Isaac "
            "Lab's rsl-rl iterations for the task x the review's rollouts), as `experiments/task_diversity.yaml` runs it.",
            "- Eval returns: mean ± population std over the evaluation episodes of the evaluation policy (the Gaussian's "
            "mean action), the mean episode length in parentheses: where a fall ends an episode, a higher return can "
            "mean a shorter episode (fewer per-step penalties summed), not a better policy.",
            "- Training returns: the episodes that ended in the last log interval, under the exploring policy, as "
            "rsl-rl's \"Mean reward\" is; rsl-rl: the task's own rsl-rl configuration (its network and rollout "
            "settings), the same environments and environment steps; \"not run\" where no reference file exists.", ""]
    found = [(r["task"], FINDINGS.get(r["task"].name), (r["reference"] or {}).get("reason")) for r in rows]
    if any(text or reason for _, text, reason in found):
        out += ["## What was found", ""]
        for task, text, reason in found:
            if text or reason:
                parts = [text] if text else []
                parts += [f"rsl-rl not run: {reason}."] if reason else []
                out.append(f"- **{task.paper_name}**: " + " ".join(parts))
        out.append("")
    return "\n".join(out)


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.tasks_page", description=__doc__.split("\n")[0])
    parser.add_argument("--exp", default="tasks_cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT}/)")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    manifest = load(args.exp)
    store = Store(args.out)
    rows = [task_row(store, spec) for spec in manifest.runs]
    path = write_text(args.page, render(rows, manifest.name))
    print(f"wrote {path}: {len(rows)} tasks, {sum(r['status'] == 'finished' for r in rows)} finished runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
