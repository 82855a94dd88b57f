"""List the benchmark's tasks and zero-shot scenarios, and whether each can run on this machine.

    python -m tasks.list [--assets auto|local|cloud]

Per task: the physics preset every run selects (``physics=<preset>``), the asset class (cloud,
same-model, equivalent, stand-in, missing; :func:`tasks.assets.classify`) and whether it can run here:
every file the task's Isaac Lab config loads (USD files, actuator networks) is under the asset root
this machine would use (the cloud root is assumed complete when it is reachable).
Scenarios (:mod:`tasks.scenarios`) are listed with their source task and their target.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys

from tasks.errors import cli_main
from tasks.assets import MODES, missing_assets, select_asset_root
from tasks.registry import all_tasks


def status(cfg, source, config_root: str) -> tuple[str, str]:
    """(asset source class, "yes" or "no: <n> asset(s) missing, e.g. ...") of a config (no simulation)."""
    from tasks.assets import classify  # noqa: PLC0415
    from tasks.isaaclab_env import required_asset_paths  # noqa: PLC0415

    paths = required_asset_paths(cfg)
    missing = missing_assets(paths, source, config_root)
    first = missing[0].removeprefix(source.root).lstrip("/") if missing else ""
    can_run = "yes" if not missing else f"no: {len(missing)} asset(s) missing, e.g. {first}"
    return classify(paths, source, config_root), can_run


def scenario_availability(asset_mode: str = "auto") -> dict[str, tuple[str, str]]:
    """{scenario: (asset source class, can run here)} (builds each scenario's config; no simulation)."""
    from tasks.isaaclab_env import config_asset_root  # noqa: PLC0415
    from tasks.scenarios import SCENARIOS, build_env_cfg  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    out = {}
    for name in SCENARIOS:
        with contextlib.redirect_stdout(io.StringIO()):
            cfg, _ = build_env_cfg(name, num_envs=1, device="cpu", seed=0)
        out[name] = status(cfg, source, config_asset_root())
    return out


def availability(asset_mode: str = "auto") -> tuple[str, dict[str, tuple[str, str]]]:
    """(asset root description, {task: (asset source class, can run here)})."""
    from tasks.isaaclab_env import apply_offline_edits, config_asset_root, load_env_cfg  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    out = {}
    for task in all_tasks().values():
        with contextlib.redirect_stdout(io.StringIO()):
            cfg = load_env_cfg(task, num_envs=1, device="cpu", seed=0)
            apply_offline_edits(task, cfg, source)
        out[task.name] = status(cfg, source, config_asset_root())
    return f"{source.kind} ({source.root})", out


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.list", description=__doc__.split("\n")[0])
    parser.add_argument("--assets", default="auto", choices=MODES)
    args = parser.parse_args(argv)
    source, avail = availability(args.assets)
    print(f"asset root: {source}\n")
    header = (f"{'task':14} {'group':13} {'role':16} {'Isaac Lab 3.0 id':38} {'s':>4} {'a':>3} {'physics':14} "
              f"{'assets':16} can run here")
    print(header)
    print("-" * len(header))
    for t in all_tasks().values():
        kind, can_run = avail[t.name]
        print(f"{t.name:14} {t.group:13} {t.role:16} {t.isaaclab_id:38} {t.obs_dim:>4} {t.act_dim:>3} "
              f"{t.physics:14} {kind:16} {can_run}")
    print("\nassets: cloud = NVIDIA's asset root; same-model = the robot Isaac Lab uses, from another publisher "
          "(converted here, tasks/robots/) or NVIDIA's own as an installed package holds it; equivalent = another "
          "version or actuator model; stand-in = generated or substituted; "
          "missing = not under this root. Each file's provenance: <root>/MANIFEST.json")
    print_scenarios(scenario_availability(args.assets))
    return 0


def print_scenarios(avail: dict[str, tuple[str, str]]) -> None:
    from tasks.scenarios import SCENARIOS  # noqa: PLC0415

    print("\nzero-shot scenarios (python -m benchmark.evaluate --run-dir RUN --scenario NAME)\n")
    header = (f"{'scenario':28} {'source':10} {'kind':10} {'in-dist':7} {'review':14} {'target':70} "
              f"{'assets':16} can run here")
    print(header)
    print("-" * len(header))
    for s in SCENARIOS.values():
        kind, can_run = avail[s.name]
        print(f"{s.name:28} {s.source_task:10} {s.kind:10} {'yes' if s.in_distribution else 'no':7} "
              f"{s.paper_name or '-':14} {s.target[:70]:70} {kind:16} {can_run}")


if __name__ == "__main__":
    sys.exit(main())
