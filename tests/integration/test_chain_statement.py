"""The best-execution report's check of the hash chains: on top of the latest signed seal by
default (events after it checked in full), everything when there is no seal or no key, and
always a statement of exactly what was checked."""

from __future__ import annotations

from datetime import UTC, datetime

from execledger.infrastructure.chain_statement import chain_statement
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.sealing import SealTable
from execledger.infrastructure.verification import verify_ledger

from tests.builders import fill, working_order
from tests.integration.test_keyed_verify import KEY, _rewrite, _two_orders


def _seal(database_url: str) -> str:
    sealed_at = datetime(2026, 11, 26, 1, 0, tzinfo=UTC).isoformat()
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger, key=KEY)
        SealTable(ledger.recorder.datastore).add(report.head.signed(KEY, sealed_at=sealed_at))  # type: ignore[attr-defined]
    return sealed_at


def _third_order(database_url: str) -> None:
    more = working_order(**{"correlation_id": "corr-3", "idempotency_key": "third"})
    fill(more, "1", execution_id="x-3")
    with open_ledger(database_url, audit_key=KEY) as ledger:
        ledger.save_order(more)


def test_on_top_of_a_seal_only_the_events_after_it_are_read_and_the_statement_says_so(
    database_url: str,
) -> None:
    _two_orders(database_url)
    sealed_at = _seal(database_url)
    _third_order(database_url)  # 7 events, positions 16 to 22
    with open_ledger(database_url) as ledger:
        stated = chain_statement(ledger, KEY, "since-seal")
    assert (stated["verified"], stated["method"], stated["events_checked"]) == (True, "since last seal", 7)
    assert stated["seal"]["position"] == 15 and stated["seal"]["sealed_at"] == sealed_at
    assert "Events 1 to 15" in stated["statement"] and sealed_at in stated["statement"]
    assert "not re-read" in stated["statement"] and "to position 22" in stated["statement"]


def test_an_edit_after_the_seal_is_caught_one_before_it_only_by_a_full_check(database_url: str) -> None:
    """Since-seal reads only what follows the seal: a rewrite behind it needs ``full`` (or
    ``verify``), which the statement tells the reader."""
    busy, _ = _two_orders(database_url)
    _seal(database_url)
    _third_order(database_url)
    _rewrite(database_url, busy, 7, {"correlation_id": "forged"})
    with open_ledger(database_url) as ledger:
        assert chain_statement(ledger, KEY, "since-seal")["verified"] is True
        full = chain_statement(ledger, KEY, "full")
    assert (full["verified"], full["method"], full["events_checked"]) == (False, "full", 22)


def test_an_edit_after_the_seal_breaks_the_report_verdict(database_url: str) -> None:
    _two_orders(database_url)
    _seal(database_url)
    _third_order(database_url)
    with open_ledger(database_url) as ledger:
        third = ledger.recorder.select_notifications(16, 1)[0].originator_id
    _rewrite(database_url, third, 2, {"correlation_id": "forged"})
    with open_ledger(database_url) as ledger:
        stated = chain_statement(ledger, KEY, "since-seal")
    assert stated["verified"] is False and stated["breaks"] == 1


def test_without_a_seal_or_without_the_key_everything_is_verified(database_url: str) -> None:
    _two_orders(database_url)
    with open_ledger(database_url) as ledger:
        unsealed = chain_statement(ledger, KEY, "since-seal")
        unkeyed = chain_statement(ledger, None, "since-seal")
        skipped = chain_statement(ledger, KEY, "none")
    assert (unsealed["method"], unsealed["events_checked"], unsealed["verified"]) == ("full", 15, True)
    assert "No seal in the ledger yet" in unsealed["statement"]
    assert unkeyed["method"] == "full" and unkeyed["keys_checked"] is False
    assert "no MAC (no audit key given)" in unkeyed["statement"]
    assert skipped["verified"] is None and "not checked" in skipped["statement"]


def test_a_seal_table_from_before_seals_were_timed_still_reads_and_verifies(sqlite_url: str) -> None:
    """Old seals (no time, signed without one) keep verifying; the table gains the column."""
    _two_orders(sqlite_url)
    with open_ledger(sqlite_url) as ledger:
        head = verify_ledger(ledger, key=KEY).head
        old = head.signed(KEY)
        with ledger.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                "CREATE TABLE execledger_seals (position BIGINT PRIMARY KEY, count BIGINT NOT NULL, "
                "root TEXT NOT NULL, mac TEXT NOT NULL)"
            )
            cursor.execute(
                "INSERT INTO execledger_seals VALUES (?, ?, ?, ?)",
                (old.position, old.count, old.root, old.mac),
            )
        assert SealTable(ledger.recorder.datastore, create=False).latest() == old  # type: ignore[attr-defined]
        seals = SealTable(ledger.recorder.datastore)  # type: ignore[attr-defined]
        assert seals.latest() == old and old.sealed_at is None and old.signature_holds(KEY)
        assert verify_ledger(ledger, key=KEY, seals=seals).ok


def test_the_report_reads_the_same_figures_on_both_backends(database_url: str) -> None:
    """The report reads decimals as stored (text in SQLite, NUMERIC in PostgreSQL): the
    entries are the same strings either way."""
    from execledger.infrastructure.read_models import open_projections
    from execledger.infrastructure.report_use_cases import best_execution_report
    from execledger.infrastructure.time_window import TimeWindow
    from execledger.projections import ProjectionRunner

    busy, quiet = _two_orders(database_url)
    with open_ledger(database_url) as ledger:
        store = open_projections(database_url)
        try:
            ProjectionRunner(ledger, store).catch_up()
            report = best_execution_report(ledger, store, TimeWindow(), chains="none")
        finally:
            store.close()
    entries = {entry["order_id"]: entry for entry in report["orders"]}
    assert set(entries) == {str(busy), str(quiet)}
    shown = {k: entries[str(busy)][k] for k in ("quantity", "filled_quantity", "arrival_mid", "fill_rate")}
    assert all(isinstance(v, str) for v in shown.values()), shown
    assert shown["filled_quantity"] == "4" and entries[str(busy)]["status"] == "canceled"
    assert report["overall"]["orders"] == 2 and report["overall"]["filled_shares"] == "4"
