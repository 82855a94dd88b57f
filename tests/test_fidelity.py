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
