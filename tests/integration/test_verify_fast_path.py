"""verify reads stored states straight from their JSON (stored_canonical); for every event
type, and for the version-0.1 ledger, that gives exactly the library's decoding, made
canonical."""

from __future__ import annotations

import shutil
from pathlib import Path

from execledger.domain.chain import canonical
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.stored_canonical import stored_canonical

from tests.integration.test_ledger_roundtrip import _orders_with_every_event

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ledgers" / "v0_1_pre_package.db"


def _assert_same(ledger: Ledger) -> int:
    checked = 0
    for notification in ledger.notifications():
        fast = stored_canonical(notification.state)
        assert fast is not None, notification.topic
        assert fast == canonical(ledger.decode_state(notification.state)), notification.topic
        checked += 1
    return checked


def test_every_event_type_reads_the_same_fast(database_url: str) -> None:
    with open_ledger(database_url) as ledger:
        for order in _orders_with_every_event():
            ledger.save_order(order)
        assert _assert_same(ledger) > 20


def test_the_version_0_1_ledger_reads_the_same_fast(tmp_path: Path) -> None:
    database = tmp_path / "legacy.db"
    shutil.copyfile(FIXTURE, database)
    with open_ledger(f"sqlite:///{database}") as ledger:
        assert _assert_same(ledger) == 117


def test_what_only_the_library_can_read_falls_back() -> None:
    assert stored_canonical(b'{"a": 1.5}') is None  # a float
    assert stored_canonical(b'{"a": {"_type_": "mystery", "_data_": 1}}') is None
    assert stored_canonical(b"not json") is None
