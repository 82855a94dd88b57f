"""The architecture's two promises: one algorithm catalogue that everything reads, and layers that
point one way (tasks <- agents <- benchmark <- analysis)."""

import ast
import textwrap
from pathlib import Path

import pytest

import agents.algorithms
from agents import catalogue

ROOT = Path(__file__).resolve().parent.parent

THROWAWAY = textwrap.dedent('''
    """A throwaway algorithm for the catalogue test: PPO's agent under another name."""
    import dataclasses

    from agents.algorithms.ppo import PPOConfig, build
    from agents.catalogue import Algorithm
    from agents.settings import POSITIVE, setting


    @dataclasses.dataclass(frozen=True)
    class ThrowawayConfig(PPOConfig):
        novelty: float = setting(1.0, "harness default (test)", POSITIVE, "a setting of its own")


    ALGORITHM = Algorithm(ThrowawayConfig, build, label="Throwaway", color="#123456",
                          family="diffusion: test", order=50)
''')


@pytest.fixture
def throwaway(tmp_path):
    """A new module in the algorithms package (an extra package path), nothing else touched."""
    (tmp_path / "throwaway.py").write_text(THROWAWAY)
    agents.algorithms.__path__.append(str(tmp_path))
    catalogue.refresh()
    yield "throwaway"
    agents.algorithms.__path__.remove(str(tmp_path))
    catalogue.refresh()


def test_a_new_algorithm_module_is_seen_everywhere(throwaway, tmp_path):
    from analysis.tables import results_table
    from analysis_fakes import runs_frame
    from benchmark import perf_agents
    from benchmark.manifest import load
    from benchmark.spec import RunSpec
    from benchmark.train import build_parser

    assert throwaway in catalogue.names() and catalogue.names().index(throwaway) == 8  # order 50: last
    assert "throwaway (diffusion: test)" in build_parser().format_help()  # the CLI's help
    spec = RunSpec.create(task="cartpole", algo=throwaway, overrides={"novelty": 2.0})  # its own setting
    assert spec.config["novelty"] == 2.0 and spec.config.sources["novelty"] == "override"
    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: m\ntasks: [cartpole]\nalgorithms: [ppo, throwaway]\nseeds: [0]\n"
                        "grid: {novelty: [3.0]}\n")
    with pytest.raises(Exception, match="invalid agent setting 'novelty'"):  # PPO does not have it
        load(str(manifest))
    manifest.write_text("name: m\ntasks: [cartpole]\nalgorithms: [ppo, throwaway]\nseeds: [0]\n")
    assert [s.algo for s in load(str(manifest)).runs] == ["ppo", throwaway]  # manifest validation
    assert catalogue.label(throwaway) == "Throwaway" and catalogue.colors()["Throwaway"] == "#123456"
    table = results_table(runs_frame({("cartpole", "ppo"): [1.0], ("cartpole", throwaway): [2.0]}))
    assert list(table.cells["algorithm"].unique()) == ["PPO", "Throwaway"]  # legends and column order
    assert throwaway in perf_agents.timed_algorithms()  # the perf tools


def test_without_the_module_the_algorithm_is_unknown():
    from tasks.errors import UserError

    with pytest.raises(UserError, match="invalid algorithm 'throwaway'; valid: ppo, ddpg"):
        catalogue.get("throwaway")


LAYERS = ("tasks", "agents", "benchmark", "analysis")  # each may import only those before it
# the one exception: a sweep ends by building its experiment's report (a call, not a dependency of
# anything below the runner)
ALLOWED = {"benchmark/run.py imports analysis"}


def imports_of(path: Path) -> set[str]:
    """Top-level package names a module imports, anywhere in it (lazy imports in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def upward_imports(root: Path = ROOT) -> list[str]:
    out = []
    for rank, layer in enumerate(LAYERS):
        above = set(LAYERS[rank + 1:])
        for path in sorted((root / layer).rglob("*.py")):
            for name in sorted(imports_of(path) & above):
                out.append(f"{path.relative_to(root)} imports {name}")
    return out


def test_lower_layers_never_import_higher_ones():
    bad = [line for line in upward_imports() if line not in ALLOWED]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_layer_check_sees_a_lazy_upward_import(tmp_path):
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
    (tmp_path / "agents" / "x.py").write_text("def f():\n    from benchmark.store import Store\n    return Store\n")
    assert upward_imports(tmp_path) == ["agents/x.py imports benchmark"]
