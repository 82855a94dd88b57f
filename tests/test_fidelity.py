"""The fidelity ledger (docs/fidelity.md) is generated from the agents' own data, is up to date, and
every test it names as pinning a row exists."""

import re
from pathlib import Path

from agents import catalogue, fidelity, fidelity_page, settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_page_is_what_the_code_gives():
    assert fidelity_page.PAGE.read_text() == fidelity_page.render(), "run: python -m agents.fidelity_page"


def test_every_diffusion_agent_has_a_ledger_with_both_profiles():
    for algo in catalogue.algorithms().values():
        if not algo.diffusion:
            continue
        assert isinstance(algo.fidelity, fidelity.Fidelity), algo.name
        assert "profile" in settings.declared(algo.config)
        assert set(settings.original_values(algo.config)) <= set(settings.declared(algo.config))


def test_every_pinning_test_exists():
    names = set(re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", fidelity_page.render()))
    assert len(names) > 10
    for path, function in names:
        text = (ROOT / path).read_text()
        assert not function or re.search(rf"^def {function}\(", text, re.M), f"{path}::{function}"


def test_only_rows_without_an_observable_effect_cite_the_resolve_only_test():
    """Every setting and procedure row names a test that fails when its effect is removed: its own
    test, or the probe that changes the setting alone. A row cites the resolve-only test (its value
    resolves) only where nothing else is observable, and then says why."""
    from test_setting_effects import CASES

    cited = 0
    for algo in catalogue.algorithms().values():
        fid = algo.fidelity
        if fid is None:
            continue
        keys = set(settings.declared(algo.config)) - {"profile"}
        assert fidelity.PROFILE_TEST not in fid.tests.values(), algo.name
        assert set(fid.resolve_only) <= keys | {p.name for p in fid.procedures}, algo.name
        for key in keys:
            cell = fidelity_page.pinned_by(algo.name, fid, key)
            if cell.startswith(fidelity.PROFILE_TEST):
                cited += 1
                assert fid.resolve_only.get(key) and fid.resolve_only[key] in cell, f"{algo.name}.{key}"
            else:
                assert key not in fid.resolve_only and (cell == fid.tests.get(key) or (algo.name, key) in CASES)
        for p in fid.procedures:
            assert p.test != fidelity.PROFILE_TEST, f"{algo.name}: {p.name}"
            assert bool(p.test) != bool(fid.resolve_only.get(p.name)), f"{algo.name}: {p.name} needs a test or a reason"
    assert cited < 5
