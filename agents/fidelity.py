"""The fidelity ledger's data: each diffusion agent set beside the review and its official implementation.

Every algorithm module keeps its ledger as data beside its config: the config's fields (each with
its source, and the ``original`` profile's value with where in the official code it comes from,
``ORIGINAL``) and a :class:`Fidelity` with the procedure choices that are not numbers, the tests
that pin them and the repository it was read from. :mod:`agents.fidelity_page` turns them into
``docs/fidelity.md``; this module imports nothing of the agents (the algorithms import it).
"""

from __future__ import annotations

import dataclasses
# the tests that pin the ledger's rows (file prefixes and the one that pins every profile value)
MATH, PROFILES, CHAIN = "tests/test_dprl_math.py::", "tests/test_profiles.py::", "tests/test_chain_mdp.py::"
ON_POLICY = "tests/test_on_policy_diffusion_math.py::"  # DPPO and FPO++
ADAPT = "tests/test_adaptation.py::"  # fine-tuning from a prior
DIFFUSION = "tests/test_diffusion_math.py::"
PROFILE_TEST = PROFILES + "test_both_profiles_resolve_to_the_documented_values"
# pins every setting without a test of its own: changed alone, the setting changes what the agent does
EFFECT_TEST = "tests/test_setting_effects.py::test_each_setting_acts"


def acts(algo: str, *keys: str) -> str:
    """The cases of :data:`EFFECT_TEST` that pin ``algo``'s settings ``keys``."""
    return EFFECT_TEST + ", ".join(f"[{algo}-{key}]" for key in keys)


@dataclasses.dataclass(frozen=True)
class Procedure:
    """A choice that is not one number: what the review says, what the original does, what we do."""

    name: str
    review: str  # the review's statement and where (table, section, equation), or "not stated"
    original: str  # what the official code does, in our words
    where: str  # where in the official repository
    harness: str  # what the harness does, in both profiles unless it names the setting that chooses
    test: str  # the test that pins it


@dataclasses.dataclass(frozen=True)
class Fidelity:
    repository: str  # the official repository and the commit read
    procedures: tuple[Procedure, ...]
    tests: dict[str, str] = dataclasses.field(default_factory=dict)  # setting -> the test that pins it
    # setting or procedure -> why nothing observable pins it (a row citing PROFILE_TEST says this)
    resolve_only: dict[str, str] = dataclasses.field(default_factory=dict)


def noise_schedule(original: str, where: str) -> Procedure:
    """The row every agent on the shared DDPM chain (DIPO, QVPO, DACER) has for its noise schedule."""
    return Procedure("noise schedule", "Table 9: the steps K only", original, where,
                     "the same (agents/diffusion/schedules.py)",
                     DIFFUSION + "test_each_diffusion_agent_runs_its_originals_schedule")


def x0_clamp(where: str) -> Procedure:
    """The row every agent on the shared DDPM chain has for the clamp of its predicted x0."""
    return Procedure("x0 clamp", "not stated", "the predicted x0 clamped to [-1, 1] at every step, and the output",
                     where, "the same (agents/diffusion/sampler.py)",
                     DIFFUSION + "test_each_step_clamps_the_predicted_x0")
