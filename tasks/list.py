"""List the benchmark's tasks and zero-shot scenarios, and whether each can run on this machine.

    python -m tasks.list [--assets auto|local|cloud]

"Can run here" means every USD asset the task's (or scenario's) Isaac Lab config names is under the
asset root this machine would use (the cloud root is assumed complete when it is reachable).
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


def _can_run(cfg, source, config_root: str) -> str:
    from tasks.isaaclab_env import required_usd_paths  # noqa: PLC0415

    missing = missing_assets(required_usd_paths(cfg), source, config_root)
    first = missing[0].removeprefix(source.root).lstrip("/") if missing else ""
    return "yes" if not missing else f"no: {len(missing)} asset(s) missing, e.g. {first}"


def scenario_availability(asset_mode: str = "auto") -> dict[str, str]:
    """{scenario: "yes" or "no: ..."} (builds each scenario's config; no simulation)."""
    from tasks.isaaclab_env import config_asset_root  # noqa: PLC0415
    from tasks.scenarios import SCENARIOS, build_env_cfg  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    out = {}
    for name in SCENARIOS:
        with contextlib.redirect_stdout(io.StringIO()):
            cfg, _ = build_env_cfg(name, num_envs=1, device="cpu", seed=0)
        out[name] = _can_run(cfg, source, config_asset_root())
    return out


def availability(asset_mode: str = "auto") -> tuple[str, dict[str, str]]:
    """(asset source description, {task: "yes" or "no: <n> missing assets, e.g. ..."})."""
    from tasks.isaaclab_env import config_asset_root, load_env_cfg  # noqa: PLC0415

    source = select_asset_root(asset_mode)
    out = {}
    for task in all_tasks().values():
        with contextlib.redirect_stdout(io.StringIO()):
            cfg = load_env_cfg(task, num_envs=1, device="cpu", seed=0)
        out[task.name] = _can_run(cfg, source, config_asset_root())
    return f"{source.kind} ({source.root})", out


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.list", description=__doc__.split("\n")[0])
    parser.add_argument("--assets", default="auto", choices=MODES)
    args = parser.parse_args(argv)
    source, can_run = availability(args.assets)
    print(f"asset root: {source}\n")
    header = f"{'task':14} {'group':13} {'role':16} {'Isaac Lab 3.0 id':40} {'Isaac Lab 2.x id':40} {'s':>4} {'a':>3}  can run here"
    print(header)
    print("-" * len(header))
    for t in all_tasks().values():
        print(f"{t.name:14} {t.group:13} {t.role:16} {t.isaaclab_id:40} {t.isaaclab2_id:40} {t.obs_dim:>4} "
              f"{t.act_dim:>3}  {can_run[t.name]}")
    print_scenarios(scenario_availability(args.assets))
    return 0


def print_scenarios(can_run: dict[str, str]) -> None:
    from tasks.scenarios import SCENARIOS  # noqa: PLC0415

    print("\nzero-shot scenarios (python -m benchmark.evaluate --run-dir RUN --scenario NAME)\n")
    header = f"{'scenario':28} {'source':10} {'kind':10} {'in-dist':7} {'review':14} {'target':82} can run here"
    print(header)
    print("-" * len(header))
    for s in SCENARIOS.values():
        print(f"{s.name:28} {s.source_task:10} {s.kind:10} {'yes' if s.in_distribution else 'no':7} "
              f"{s.paper_name or '-':14} {s.target[:82]:82} {can_run[s.name]}")


if __name__ == "__main__":
    sys.exit(main())
