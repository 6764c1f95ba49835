import pytest

from wattwise.report import build_card

from .ledger_fixture import GENERATOR, make_ledger

INFERENCE = {"params": 1.0e8, "tokens_per_day": 1.0e9, "days": 365.0}


@pytest.fixture(scope="session")
def ledger_path(tmp_path_factory):
    return make_ledger(tmp_path_factory.mktemp("ledger") / "ledger.db")


@pytest.fixture(scope="session")
def demo_card(ledger_path):
    """The card the golden files show: project 'demo', with an inference projection and a Pareto table."""
    return build_card(project="demo", ledger=ledger_path, inference=INFERENCE, generator=GENERATOR)
