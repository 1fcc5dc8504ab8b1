"""The application API: a batch worked through ``execute_batch`` reads back through the
read use cases, and a venue registered by name is the one a batch goes to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from execledger.infrastructure import use_cases
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.bootstrap import (
    _VENUES,
    prepare_simulation,
    register_venue,
    simulated_venue,
    venue_names,
)
from execledger.infrastructure.errors import OrdersFileError, UnknownVenue
from execledger.infrastructure.ports import Venue
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.venue import load_tape

from tests.e2e.scenario import TAPES, request

BATCH = (request("XYZ", "BUY", "50", idempotency_key="api-1"),)


def test_a_batch_reads_back_through_every_read_use_case(database_url: str) -> None:
    """execute_batch, then orders, timeline, quality, verify and replay all see the one order."""
    settings = Settings(database_url=database_url)
    batch = Batch(BATCH, tape=tuple(load_tape(TAPES / "escalation.csv")))
    result = use_cases.execute_batch(settings, batch)
    (order,) = result.orders
    assert result.all_terminal and result.created == 1
    assert [row["order_id"] for row in use_cases.orders(settings)] == [str(order.id)]
    assert len(use_cases.timeline(settings, str(order.id))) == order.version
    assert [row["order_id"] for row in use_cases.execution_quality(settings)] == [str(order.id)]
    assert use_cases.verify(settings).ok
    report = use_cases.replay(settings)
    assert report.decisions_checked > 0 and not report.mismatches()
    assert [row["lag"] for row in use_cases.projections_status(settings)] == [0, 0, 0]
    again = use_cases.execute_batch(settings, batch)
    assert again.created == 0 and again.already_finished == 1


class CountingSimulation:
    """A venue factory wrapping the simulated one, counting the venues it opened."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self, batch: Batch, settings: Settings) -> CountingSimulation:
        self._tape = prepare_simulation(batch, settings).tape
        return self

    @contextmanager
    def open(self, resume_at: datetime | None) -> Iterator[Venue]:
        self.opened += 1
        ports, _ = simulated_venue(self._tape, start=resume_at)
        yield ports


@pytest.fixture
def counting_venue() -> Iterator[CountingSimulation]:
    factory = CountingSimulation()
    register_venue("counting", factory)
    yield factory
    del _VENUES["counting"]


def test_a_registered_venue_is_chosen_by_name(tmp_path: Path, counting_venue: CountingSimulation) -> None:
    """A factory registered as 'counting' works the batch that names it; the engine is unchanged."""
    assert "counting" in venue_names()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}")
    batch = Batch(BATCH, venue="counting", tape=tuple(load_tape(TAPES / "escalation.csv")))
    result = use_cases.execute_batch(settings, batch)
    assert counting_venue.opened == 1
    assert result.orders[0].filled_quantity == Decimal(50)


def test_an_unknown_venue_or_unquoted_symbol_writes_nothing(tmp_path: Path) -> None:
    """Checked before the ledger opens: no database file is created."""
    path = tmp_path / "ledger.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    tape = tuple(load_tape(TAPES / "escalation.csv"))
    with pytest.raises(UnknownVenue, match="'nowhere'"):
        use_cases.execute_batch(settings, Batch(BATCH, venue="nowhere", tape=tape))
    with pytest.raises(OrdersFileError, match="row 1: field 'symbol': ABC is not on the tape"):
        use_cases.execute_batch(settings, Batch((request("ABC", "BUY", "1"),), tape=tape))
    assert not path.exists()
