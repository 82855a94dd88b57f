"""The one list of algorithms the harness knows: every module in ``agents/algorithms/``.

Adding an algorithm means adding its module there. The module declares, in one statement,

    ALGORITHM = Algorithm(MyConfig, build, label="MyAlgo", color="#123456", family="...", order=9)

its settings dataclass (:mod:`agents.settings`), its ``build(config, observation_space=,
action_space=, num_envs=, device=)`` returning an agent of :mod:`agents.interface`, and, optionally,
its display metadata (label as the review spells it, colour, taxonomy family, column order). The
module's file name is the algorithm's name on the command line, in manifests and in run ids.
Everything that lists algorithms reads this catalogue: the CLI's choices and help, manifest
validation, the analysis legends and colours, and the perf tools.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from agents import settings
from tasks.errors import invalid
from tasks.registry import Task

# colours for algorithms that declare none (matplotlib's tab20, after the ten the eight use)
_SPARE_COLORS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
                 "#dbdb8d", "#9edae5")


@dataclasses.dataclass(frozen=True)
class Algorithm:
    config: type  # its settings dataclass (a subclass of agents.settings.CommonConfig)
    build: Callable[..., Any]
    label: str = ""  # display name, the review's spelling; default: the name in capitals
    color: str = ""  # one colour per algorithm in every figure; default: a spare colour
    family: str = "other"  # the review's taxonomy (Sec. 2), e.g. "diffusion: action gradient"
    order: int = 100  # column order in tables and legends (the review's Tables 4-7)
    # bumped when the defaults change what a run does: runs of another revision get other ids
    # (benchmark.spec), and the old run directories stay readable
    revision: int = 1
    fidelity: Any = None  # an agents.fidelity.Fidelity: the ledger beside the review and the original
    name: str = ""  # set by the catalogue: the module's name

    @property
    def on_policy(self) -> bool:
        return issubclass(self.config, settings.OnPolicyConfig)

    @property
    def diffusion(self) -> bool:
        return self.family.startswith("diffusion")


@functools.cache
def algorithms() -> dict[str, Algorithm]:
    """``{name: Algorithm}`` of every module in ``agents/algorithms/``, in column order."""
    import agents.algorithms as package  # noqa: PLC0415

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        algo = getattr(module, "ALGORITHM", None)
        if not isinstance(algo, Algorithm):
            raise TypeError(f"agents/algorithms/{info.name}.py declares no ALGORITHM = Algorithm(...)")
        found.append(dataclasses.replace(algo, name=info.name, label=algo.label or info.name.upper()))
    found.sort(key=lambda a: (a.order, a.name))
    spare = iter(_SPARE_COLORS * (1 + len(found) // len(_SPARE_COLORS)))
    return {a.name: a if a.color else dataclasses.replace(a, color=next(spare)) for a in found}


def refresh() -> None:
    """Forget the discovered modules (after a module was added at run time, e.g. in a test)."""
    algorithms.cache_clear()


def names() -> tuple[str, ...]:
    return tuple(algorithms())


def get(name: str) -> Algorithm:
    found = algorithms()
    if name not in found:
        raise invalid("algorithm", name, found)
    return found[name]


def label(name: str) -> str:
    """The display name of an algorithm (the review's spelling), or ``name`` if it is unknown."""
    found = algorithms()
    return found[name].label if name in found else name


def labels_in_order() -> list[str]:
    return [a.label for a in algorithms().values()]


def in_order(labels) -> list[str]:
    """``labels`` (display names) in column order; names the catalogue does not know go last, sorted."""
    known = labels_in_order()
    present = set(labels)
    return [a for a in known if a in present] + sorted(present - set(known))


def colors() -> dict[str, str]:
    """``{label: colour}``."""
    return {a.label: a.color for a in algorithms().values()}


def help_text() -> str:
    return ", ".join(f"{a.name} ({a.family})" for a in algorithms().values())


def resolve_config(name: str, task: Task, overrides: dict[str, Any] | None = None) -> settings.Resolved:
    return settings.resolve(get(name).config, task, overrides)


def build_agent(name: str, config: Any, *, observation_space, action_space, num_envs: int, device: str):
    """Build ``name``'s agent from its typed config (a :class:`settings.Resolved` or the config itself)."""
    if isinstance(config, settings.Resolved):
        config = config.config
    return get(name).build(config, observation_space=observation_space, action_space=action_space,
                           num_envs=num_envs, device=device)
