"""The architecture's promises: one algorithm catalogue that everything reads, on-policy and
off-policy alike; one agent contract the harness calls without asking an agent what it has; and
layers that point one way (tasks <- agents <- benchmark <- analysis)."""

import ast
import textwrap
from pathlib import Path

import pytest

import gymnasium
import numpy as np

import agents.algorithms
from agents import catalogue
from agents.interface import HarnessAgent

OBS = gymnasium.spaces.Box(-np.inf, np.inf, (4,))
ACT = gymnasium.spaces.Box(-np.inf, np.inf, (1,))

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


# an on-policy algorithm of its own: a Gaussian policy on the on-policy base (tests/test_bases.py
# trains it on Cartpole)
THROWAWAY_ON_POLICY = textwrap.dedent('''
    """A throwaway on-policy algorithm: a diagonal Gaussian policy on agents.bases.on_policy."""
    import dataclasses

    import torch

    from agents.bases.on_policy import ACTIVATIONS, LR_SCHEDULES, VALUE_LOSSES, OnPolicyAgent, OnPolicyAgentConfig
    from agents.catalogue import Algorithm
    from agents.diffusion.denoiser import mlp
    from agents.settings import POSITIVE, choices, setting

    TEST = "harness default (test)"


    @dataclasses.dataclass(frozen=True)
    class GaussConfig(OnPolicyAgentConfig):
        activation: str = setting("elu", TEST, choices(*ACTIVATIONS))
        lr_schedule: str = setting("skrl", TEST, choices(*LR_SCHEDULES))
        value_loss: str = setting("clipped", TEST, choices(*VALUE_LOSSES))
        novelty: float = setting(1.0, TEST, POSITIVE, "the initial standard deviation")


    class Policy(torch.nn.Module):
        def __init__(self, obs_dim, act_dim, hidden, std):
            super().__init__()
            self.mean = mlp([obs_dim, *hidden, act_dim], activation=torch.nn.ELU)
            self.log_std = torch.nn.Parameter(torch.full((act_dim,), float(std)).log())

        def dist(self, obs):
            return torch.distributions.Normal(self.mean(obs), self.log_std.exp())


    class Gauss(OnPolicyAgent):
        evaluation_policy = "the Gaussian's mean"

        def make_policy(self, cfg):
            return Policy(self.obs_dim, self.act_dim, cfg.actor_hidden, cfg.novelty)

        def sample(self, obs):
            with torch.no_grad():
                dist = self.policy.dist(obs)
                action = dist.sample()
            return action, action, dist.log_prob(action).sum(-1)

        def log_prob(self, obs, stored):
            return self.policy.dist(obs).log_prob(stored).sum(-1)

        @torch.no_grad()
        def act_eval(self, observations):
            return self.policy.mean(self._observation_preprocessor(observations))


    ALGORITHM = Algorithm(GaussConfig, Gauss, label="Throwaway", color="#123456", family="diffusion: test",
                          order=50)
''')
MODULES = {"off-policy": THROWAWAY, "on-policy": THROWAWAY_ON_POLICY}


def register(folder: Path, source: str) -> None:
    """Put ``source`` into the algorithms package as ``throwaway`` (an extra package path)."""
    (folder / "throwaway.py").write_text(source)
    agents.algorithms.__path__.append(str(folder))
    catalogue.refresh()


@pytest.fixture(params=list(MODULES))
def throwaway(request, tmp_path):
    """A new module in the algorithms package, nothing else touched: PPO under another name, or a
    Gaussian on the on-policy base."""
    register(tmp_path, MODULES[request.param])
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

    assert throwaway in catalogue.names() and catalogue.names()[-1] == throwaway  # order 50: last
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
    agent = catalogue.build_agent(throwaway, spec.config, observation_space=OBS, action_space=ACT, num_envs=2,
                                  device="cpu")
    assert isinstance(agent, HarnessAgent) and agent.networks()  # the contract: what the perf tools time


def agent_probes(paths) -> list[str]:
    """``hasattr``/``getattr`` calls on an agent (a name or attribute called ``agent``) in ``paths``."""
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("hasattr", "getattr") and node.args):
                target = node.args[0]
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                if name == "agent":
                    out.append((str(path.relative_to(path.parents[1])), node.lineno, f"{node.func.id}({name}, ...)"))
    return [f"{file}:{line} {call}" for file, line, call in sorted(out)]


def test_the_harness_never_asks_an_agent_what_it_has():
    """Every hook is a method of agents.interface.HarnessAgent, with a default: no probing."""
    harness = [p for layer in ("agents", "benchmark", "analysis", "tasks") for p in sorted((ROOT / layer).rglob("*.py"))]
    assert not agent_probes(harness), agent_probes(harness)


def test_the_probe_check_sees_a_probe(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "x.py").write_text("def f(agent, run):\n    return hasattr(agent, 'flow'), run.agent\n"
                                           "def g(self):\n    return getattr(self.agent, 'actor', None)\n")
    assert agent_probes([tmp_path / "pkg" / "x.py"]) == ["pkg/x.py:2 hasattr(agent, ...)",
                                                        "pkg/x.py:4 getattr(agent, ...)"]


def test_without_the_module_the_algorithm_is_unknown():
    from tasks.errors import UserError

    with pytest.raises(UserError, match="invalid algorithm 'throwaway'; valid: ppo, ddpg"):
        catalogue.get("throwaway")


LAYERS = ("tasks", "agents", "benchmark", "analysis")  # each may import only those before it
# the exceptions: a sweep and the adaptation pipeline end by building their reports (a call, not a
# dependency of anything below the runners)
ALLOWED = {"benchmark/run.py imports analysis", "benchmark/adaptation.py imports analysis"}


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


def test_the_ledger_data_the_algorithms_import_imports_no_agent_module():
    """agents.catalogue discovers the algorithms, each imports agents.fidelity: it must not import the
    catalogue back (the page that walks the catalogue is agents.fidelity_page)."""
    assert not {name for name in module_imports(ROOT / "agents" / "fidelity.py") if name.startswith("agents")}


def module_imports(path: Path) -> set[str]:
    """Full dotted names a module imports (anywhere in it)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


READS = ("read_text", "read_bytes", "open", "read_json", "load", "loads", "glob")
RECORD_FILES = ("meta_path", "scenario_eval_path", "eval_path", "start_eval_path", "scenario_dir", "run.json",
                "eval/", "eval.json")


def record_reads(paths) -> list[str]:
    """Calls that read a run's or an evaluation's file past the store: a read (``read_text``,
    ``open``, ``json.load(s)``, ``read_json``, ``glob``) whose call names one of the record files or
    the store's path to it."""
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in READS and any(f in ast.unparse(node) for f in RECORD_FILES):
                out.append((str(path.relative_to(path.parents[1])), node.lineno))
    return [f"{file}:{line}" for file, line in sorted(set(out))]


OWNERS = ("benchmark/store.py", "benchmark/record.py")


def test_run_records_are_read_only_through_the_store():
    harness = [p for layer in ("agents", "benchmark", "analysis", "tasks") for p in sorted((ROOT / layer).rglob("*.py"))
               if str(p.relative_to(ROOT)) not in OWNERS]
    assert not record_reads(harness), "run records read past the store: " + ", ".join(record_reads(harness))


def test_the_record_check_sees_a_read_past_the_store(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "x.py").write_text("import json\ndef f(run):\n    return json.loads(run.meta_path.read_text())\n"
                                           "def g(d):\n    return (d / 'run.json').read_text()\n")
    assert record_reads([tmp_path / "pkg" / "x.py"]) == ["pkg/x.py:3", "pkg/x.py:5"]
