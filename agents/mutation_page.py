"""``docs/mutation.md``: how much of the agents' math the fast tests pin, measured by mutation testing.

    make mutation            # mutmut run over agents/algorithms and agents/diffusion, then this page
    python -m agents.mutation_page --seconds N   # the page again from the results in mutants/

mutmut (configured in ``pyproject.toml``) changes one operator, constant, argument or condition at a
time in a function of ``agents/algorithms`` or ``agents/diffusion`` and runs the fast tests that
reach that function; a mutant is *killed* when one of them fails (or times out). A survivor is
either a gap in the tests or a change that cannot be observed; every survivor is listed with its
diff and, where one of :data:`EXPLAINED`'s rules matches it, why it cannot be observed. The kill rate
counts survivors and mutants no fast test reaches against the tests.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "mutation.md"
MUTANTS = ROOT / "mutants"
KILLED = {1, 3, 24, -24, 36, 152, 255}  # a test failed, pytest errored, or the mutant timed out
SURVIVED, NO_TESTS = 0, {5, 33}


@dataclasses.dataclass(frozen=True)
class Rule:
    """Survivors this explains: the mutated function matches ``function`` and a changed line ``change``."""

    function: str  # regex over "<module>.<function>" (methods as Class.method)
    change: str  # regex over the changed lines ("- old" / "+ new")
    reason: str


# Why a survivor cannot be observed by any test of the agents' math (each rule checked by hand).
EXPLAINED: tuple[Rule, ...] = (
    Rule(r".*", r"^[-+].*\bdevice\b", "equivalent on the CPU the tests run on: a device of None (or none given) "
         "means the default device, the CPU; the GPU route runs this code on CUDA"),
    Rule(r"agents\.(algorithms\.dacer\.DistributionalQ\.forward|algorithms\.fpopp\.FPOPlusPlus\.policy_loss"
         r"|diffusion\.flow_matching\.fourier_time|diffusion\.flow_matching\.VelocityField\.forward"
         r"|diffusion\.denoising_mdp\.DenoisingMDP\._step_log_prob|diffusion\.sampler\.denoising_loss"
         r"|diffusion\.coupled_flow\.CoupledFlow\.(env_action|forward_chain|inverse_chain|base_log_prob)"
         r"|diffusion\.gmm_entropy\.gmm_entropy|algorithms\.genpo\.GenPO\.extra_losses"
         r"|diffusion\.denoiser\.sinusoidal_embedding|diffusion\.denoiser\.Denoiser\.forward)",
         r"^\+.*(dim=\+1|\(\+1\)|\[\+1\])",
         "equivalent: dimension +1 and -1 are the same dimension of the 2-D tensors it takes there (and "
         "unsqueeze(1) of its 1-D step indices is unsqueeze(-1))"),
    Rule(r"agents\.diffusion\.denoising_mdp\.DenoisingMDP\.mean_std", r"^\+.*unsqueeze\(\+1\)",
         "equivalent: unsqueeze(1) and unsqueeze(-1) are the same on the 1-D step tables"),
    Rule(r"agents\.diffusion\.(denoising_mdp\.DenoisingMDP|schedules\.NoiseSchedule)\.__init__", r"^\+.*persistent=None",
         "equivalent: register_buffer reads persistent=None as False"),
    Rule(r"agents\.diffusion\.denoising_mdp\.DenoisingMDP\.__init__", r"^\+.*if \(ddim_steps\) or True",
         "equivalent: without DDIM the chain has the schedule's K steps, so the DDIM stride K // steps is 1"),
    Rule(r"agents\.algorithms\.dacer\.dsac_t_loss", r"^\+.*\(mean - torch\.clamp",
         "equivalent: y_hat enters only as (mean - y_hat)^2, the same for mean + c and mean - c"),
    Rule(r"agents\.algorithms\.fpopp\.FPOPlusPlus\.policy_loss", r"^\+.*adv >= 0",
         "equivalent: at A = 0 both branches (PPO's clip and SPO) are 0 with a zero gradient"),
    Rule(r".*", r"^\+.*zero_grad\(set_to_none=(False|None)\)",
         "equivalent: the gradients are cleared right before the backward pass, to zeros or to None alike"),
    Rule(r"agents\.algorithms\.dacer\.DACER\.update", r"^\+.*self\.critic\.requires_grad_\(True\)",
         "equivalent: gradients the policy loss would leave in the critic are cleared by the critic's own "
         "step (zero_grad before its backward pass); freezing it only saves work"),
    Rule(r".*\.(resume_state|load_resume_state|enable_compile|networks)", r"",
         "not the agent's math, and outside the fast math tests: resuming is pinned by tests/test_resume.py "
         "(interrupted and resumed runs equal straight ones), compiling by tests/test_compiled.py, the "
         "networks the speed report times by tests/test_perf_tools.py"),
    Rule(r"agents\.algorithms\.dppo\.clip_schedule", r"^\+.*torch\.arange\(steps, (dtype=None)?\)",
         "equivalent to float32 precision: the schedule is computed in float64 and returned as float32; "
         "computed in float32 it differs by rounding only"),
    Rule(r"agents\.diffusion\.denoising_mdp\.DenoisingMDP\.sample", r"^\+.*else std\)?$",
         "equivalent on DPPO's cosine chain: the 1e-3 floor of evaluation acts only on a posterior std "
         "below it, which the chain has only at its last step (1e-10), where evaluation draws no noise; "
         "the next smallest is 0.020 at K = 100"),
    Rule(r"agents\.algorithms\.sac\.build", r"^-\s*learn_entropy=True,",
         "equivalent: learn_entropy=True is skrl's own default (SAC_CFG); written out to be read"),
    Rule(r"agents\.diffusion\.gmm_entropy\._log_gauss", r"^\+.*dim1=\+2",
         "equivalent: dim 2 and dim -2 are the same dimension of the 4-D [S, c, d, d] factors"),
    Rule(r"agents\.diffusion\.gmm_entropy\.gmm_entropy", r"^\+.*einsum\(\"[A-Z,>-]+\"",
         "equivalent: einsum reads upper-case subscripts as it reads lower-case ones"),
    Rule(r"agents\.algorithms\.dacer\.DACER\.__init__", r"^\+.*self\.last_alpha_step = (None|-2)$",
         "equivalent: any first value that is not a timestep (>= 0) lets the first due step through"),
    Rule(r"agents\.algorithms\.dipo\.DIPO\.init", r"^\+.*create_tensor\(.*size=self\.action_space, (dtype=None)?\)",
         "equivalent: skrl's memory creates float32 tensors by default"),
    Rule(r"agents\.diffusion\.sampler\.reverse_chain", r"^\+\s*return x\.clamp\(",
         "equivalent: at k = 0 the posterior mean is the clamped x0 itself (c0 = 1, ck = 0, checked by "
         "test_sample_replayed_by_hand), so the chain's output is in the box before its last clamp, which "
         "the originals keep and which guards float rounding only"),
    Rule(r"agents\.diffusion\.sampler\.sample", r"^\+.*if \(?num >(= 1| 1\) or True)",
         "equivalent: repeating each state once (num = 1) returns the states unchanged"),
    Rule(r"agents\.diffusion\.schedules\.NoiseSchedule\.__init__", r"^\+.*torch\.ones\(1, (dtype=None)?\)",
         "equivalent: the float32 one is exact, and torch.cat promotes it to the float64 of abar"),
    Rule(r"agents\.diffusion\.denoiser\.sinusoidal_embedding", r"^\+\s*half = dim / 2$",
         "equivalent: the size is even (checked above), so dim / 2 gives the same arange and divisor"),
    Rule(r"agents\.diffusion\.gmm_entropy\.gmm_entropy", r"^\+.*eye\.expand\(components, d, d\)",
         "equivalent: the [S, 1, 1, 1] spread broadcasts the [c, d, d] identity over states"),
    Rule(r"agents\.diffusion\.gmm_entropy\.gmm_entropy", r"^\+.*nk = resp\.sum\(dim=1\) - 1e-10",
         "equivalent unless a component's responsibilities sum to exactly 0 in float64 (every weight "
         "underflowing), which farthest-point initialisation on samples does not produce: the 1e-10 is a "
         "guard, 13 orders below the counts it is added to"),
    Rule(r"agents\.diffusion\.denoiser\.Mish\.forward", r"^\+.*mish\(None\)",
         "not reached by the tests: the CUDA branch (torch's own kernel); the CPU composition the tests run "
         "is checked against torch.nn.Mish, and tests/test_compiled.py runs the agents on CUDA where a GPU is"),
    Rule(r"agents\.algorithms\.\w+\.\w+\.init", r"^\+.*trainer_cfg=None",
         "equivalent in the harness: the loop calls init() without a trainer config (agents/interface.py)"),
)


# Survivors of the measured run that a test added after it kills: each change applied by hand to the
# code of that time fails the named test (the page lists them apart; the next run counts them killed).
CLOSED_SINCE: dict[str, str] = {
    "agents.diffusion.denoising_mdp.xǁDenoisingMDPǁlog_prob__mutmut_25":
        "tests/test_on_policy_diffusion_math.py::test_dppo_chain_log_prob_is_the_sum_of_its_steps (a DDIM chain)",
    "agents.diffusion.denoising_mdp.xǁDenoisingMDPǁlog_prob__mutmut_35":
        "tests/test_on_policy_diffusion_math.py::test_dppo_chain_log_prob_is_the_sum_of_its_steps (a DDIM chain)",
    "agents.diffusion.denoiser.xǁDenoiserǁ__init____mutmut_9":
        "tests/test_diffusion_math.py::test_sinusoidal_embedding_and_loss_shapes (the default step-MLP size)",
    "agents.diffusion.denoiser.xǁDenoiserǁforward__mutmut_6":
        "tests/test_diffusion_math.py::test_sinusoidal_embedding_and_loss_shapes (per-row steps in float64)",
}


@dataclasses.dataclass
class Mutant:
    name: str  # mutmut's name: <module>.<mangled function>__mutmut_<n>
    module: str
    code: int | None
    diff: list[str]

    @property
    def function(self) -> str:
        mangled = self.name.removeprefix(self.module + ".").rsplit("__mutmut_", 1)[0]
        return self.module + "." + mangled.removeprefix("x_").replace("xǁ", "").replace("ǁ", ".")

    def status(self) -> str:
        if self.code in KILLED:
            return "killed"
        if self.code == SURVIVED:
            return "closed since" if self.name in CLOSED_SINCE else "survived"
        if self.code in NO_TESTS:
            return "no test reaches it"
        return "not run" if self.code is None else f"other ({self.code})"

    def reason(self) -> str | None:
        if self.name in CLOSED_SINCE:
            return "closed after this run: " + CLOSED_SINCE[self.name]
        for rule in EXPLAINED:
            if re.fullmatch(rule.function, self.function) and any(re.match(rule.change, line) for line in self.diff):
                return rule.reason
        return None


def load(mutants: Path = MUTANTS) -> list[Mutant]:
    """Every mutant mutmut made, with its result and (for those not killed) its diff."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    out = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        source = meta.relative_to(mutants).with_suffix("")
        module = ".".join(source.with_suffix("").parts)
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            diff = []
            if code not in KILLED:
                text = get_diff_for_mutant(name, path=str(source))
                diff = [line for line in text.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            out.append(Mutant(name, module, code, diff))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def render(mutants: list[Mutant], seconds: float | None, commit: str, version: str,
           changed_since: list[str] = ()) -> str:
    per = collections.defaultdict(collections.Counter)
    for m in mutants:
        per[m.module][m.status()] += 1
        if m.status() in ("survived", "no test reaches it") and m.reason():
            per[m.module]["explained"] += 1
    total = sum(per.values(), collections.Counter())
    counted = ("killed", "survived", "no test reaches it", "closed since")
    ran = sum(total[k] for k in counted)

    def rate(c: collections.Counter) -> str:
        n = sum(c[k] for k in counted)
        return f"{100 * c['killed'] / n:.1f} %" if n else "-"

    def with_explained(c: collections.Counter) -> str:
        n = sum(c[k] for k in counted)
        return f"{100 * (c['killed'] + c['explained']) / n:.1f} %" if n else "-"

    took = f"{seconds / 60:.0f} min" if seconds else "not timed"
    lines = [
        "# Mutation testing of the agents' math", "",
        "Generated by `make mutation` (mutmut over `agents/algorithms` and `agents/diffusion`, each mutant run "
        "against the fast tests that reach its function; configuration in `pyproject.toml`, page by "
        "`agents/mutation_page.py`); do not edit by hand. Not part of CI: it is long.", "",
        f"Measured at commit `{commit}` with mutmut {version}; the run took {took} on this project's "
        "2-core CPU machine. Killed: a test failed or timed out. Explained: a survivor a rule below shows "
        "cannot be observed.", "",
        f"**Kill rate: {rate(total)}** ({total['killed']} of {ran}); killed or explained: {with_explained(total)}"
        + (f"; {total['closed since']} more survivors are killed by tests added after this run (listed below "
           "as closed since)." if total["closed since"] else "."),
        "", "| module | mutants | killed | survived | no test reaches it | explained | closed since | kill rate "
            "| killed or explained |",
        "|---|---|---|---|---|---|---|---|---|"]
    for module in sorted(per):
        c = per[module]
        lines.append(f"| `{module}` | {sum(v for k, v in c.items() if k != 'explained')} | {c['killed']} | "
                     f"{c['survived']} | {c['no test reaches it']} | {c['explained']} | {c['closed since']} | "
                     f"{rate(c)} | {with_explained(c)} |")
    if changed_since:
        lines += ["", f"**Changed since `{commit}`** (their new or changed functions are not measured here): "
                  + ", ".join(f"`{path}`" for path in changed_since) + "."]
    if total["not run"]:
        lines += ["", f"**Incomplete:** {total['not run']} mutants were not run (the run was stopped before "
                  "them, or their functions changed since); the rates above are over the mutants that ran."]
    lines += ["", "## Rules for survivors that cannot be observed", ""]
    lines += [f"- `{rule.function}` changing a line matching `{rule.change}`: {rule.reason}" for rule in EXPLAINED]
    lines += ["", "## Every mutant not killed", "",
              "| mutant | status | change | why it survives |", "|---|---|---|---|"]
    for m in mutants:
        if m.status() in ("killed", "not run"):
            continue
        change = " / ".join(line[0] + " " + line[1:].strip() for line in m.diff)
        lines.append(f"| `{m.name.removeprefix('agents.')}` | {m.status()} | `{_cell(change)[:300]}` | "
                     f"{_cell(m.reason() or 'not explained: a gap in the tests')} |")
    return "\n".join(lines) + "\n"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="how long the mutmut run took")
    parser.add_argument("--commit", default="HEAD", help="the commit mutmut's copy of the sources was made from "
                                                        "(make mutation passes the one it started at)")
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        print(f"error: no mutmut results in {MUTANTS}; run: make mutation", file=sys.stderr)
        return 2
    import mutmut

    commit = _git("rev-parse", "--short", args.commit).strip() or "unknown"
    changed = _git("diff", "--name-only", commit, "--", "agents/algorithms", "agents/diffusion").split()
    mutants = load()
    PAGE.write_text(render(mutants, args.seconds, commit, mutmut.__version__, changed))
    print(f"wrote {PAGE} ({len(mutants)} mutants)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
