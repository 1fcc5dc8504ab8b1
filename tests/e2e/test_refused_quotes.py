"""A "no valid quote" decision records every quote it refused (source, bid, ask, sizes,
times and why), so that replay re-derives the refusal instead of taking it on trust."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.config import ExecutionConfig
from execledger.domain.refused_quotes import (
    PRICING,
    expected_attempts,
    recorded_verdict,
    rederive,
    refused_entry,
)
from execledger.domain.replay import replay_decisions
from execledger.domain.types import Quote, QuoteSource, Side
from execledger.infrastructure.ledger import open_ledger

from tests.e2e.scenario import request, run_batch

CROSSED_AT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _events(sqlite_url: str, urgency: str = "NORMAL") -> list[Any]:
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "crossed.csv", [request("QQQ", "BUY", "5", urgency=urgency)]).orders[0]
        return list(ledger.events_of(order.id))


def test_a_failed_order_records_each_quote_it_refused(sqlite_url: str) -> None:
    """Three attempts (quote_retry_attempts), each refusing the crossed streamed quote."""
    failed = _events(sqlite_url)[-1]
    assert isinstance(failed, ev.Failed)
    streamed = [q for q in failed.refused_quotes if q["source"] == "stream"]
    assert [q["attempt"] for q in streamed] == [1, 2, 3]
    first = streamed[0]
    assert (first["bid"], first["ask"], first["bid_size"], first["ask_size"]) == (
        Decimal("101.00"),
        Decimal("100.00"),
        Decimal(100),
        Decimal(100),
    )
    assert first["quoted_at"] == CROSSED_AT and first["checked_at"] >= CROSSED_AT
    assert first["reasons"] == ["crossed: bid 101.00 is above ask 100.00"]
    assert first["refused_by"] == "validation"


def test_an_escalation_for_want_of_a_quote_records_them_too(sqlite_url: str) -> None:
    escalated = next(e for e in _events(sqlite_url, "HIGH") if isinstance(e, ev.Escalated))
    assert len([q for q in escalated.refused_quotes if q["source"] == "stream"]) == 3


def test_the_refusals_re_derive(sqlite_url: str) -> None:
    """Every refused quote is refused again by today's quote checks, for NORMAL and HIGH."""
    for urgency in ("NORMAL", "HIGH"):
        checks = replay_decisions(_events(sqlite_url, urgency))
        refused = [c for c in checks if c.decision == "refused quote"]
        assert len(refused) >= 3 and all(c.agrees for c in checks), checks


def test_a_forged_refused_quote_is_caught(sqlite_url: str) -> None:
    """A refused quote that the checks would have used (bid below ask) is a mismatch."""
    events = _events(sqlite_url)
    failed = events[-1]
    quotes = [dict(q) for q in failed.refused_quotes]
    quotes[0]["bid"] = Decimal("99.90")
    forged = [*events[:-1], dataclasses.replace(failed, refused_quotes=quotes)]
    differing = [(c.decision, c.recorded, c.replayed) for c in replay_decisions(forged) if not c.agrees]
    assert differing == [("refused quote", "refused: crossed: bid 101.00 is above ask 100.00", "usable")]


def test_a_no_quote_decision_without_its_refused_quotes_is_caught(sqlite_url: str) -> None:
    """Today's policy records them: a no-quote decision that lists none cannot be re-derived."""
    events = _events(sqlite_url)
    forged = [*events[:-1], dataclasses.replace(events[-1], refused_quotes=[])]
    differing = [(c.decision, c.recorded, c.replayed) for c in replay_decisions(forged) if not c.agrees]
    assert [d[0] for d in differing] == ["refused quotes"]


def test_a_stored_version_1_failure_reads_with_no_refused_quotes() -> None:
    """Failed and Escalated are at class version 2; the upcast of a version-1 record adds []."""
    for event_class in (ev.Failed, ev.Escalated):
        assert event_class.class_version == 2
        state: dict[str, object] = {"reason": "no valid quote after 3 attempts (urgency NORMAL)"}
        event_class.upcast_v1_v2(state)
        assert state["refused_quotes"] == []


def test_a_quote_refused_by_pricing_re_derives_by_pricing() -> None:
    """A quote that passed the checks but has a side at zero is refused by price_order."""
    config = ExecutionConfig()
    quote = Quote(
        symbol="QQQ",
        bid=Decimal(0),
        ask=Decimal("1.00"),
        bid_size=Decimal(100),
        ask_size=Decimal(100),
        quoted_at=CROSSED_AT,
        source=QuoteSource.STREAM,
    )
    entry = refused_entry(1, QuoteSource.STREAM, CROSSED_AT, quote, ["bid 0 is not positive"], PRICING)
    assert rederive(entry, "QQQ", Side.BUY, Decimal(5), config) == recorded_verdict(entry)
    assert expected_attempts([entry], config) == 1
    usable = {**entry, "bid": Decimal("0.99")}
    assert rederive(usable, "QQQ", Side.BUY, Decimal(5), config) == "usable"
