"""The seeded synthetic tape: deterministic, on the tick, and shaped by its parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from execledger.domain.ticks import tick_for
from execledger.domain.types import QuoteSource
from execledger.infrastructure.venue import default_start_price, synthetic_tape

START = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def test_the_same_seed_gives_the_same_tape() -> None:
    """Determinism: equal seeds, equal tapes; another seed, another tape."""
    first = synthetic_tape(["AAPL", "MSFT"], seed=7, start=START, duration_seconds=300)
    again = synthetic_tape(["AAPL", "MSFT"], seed=7, start=START, duration_seconds=300)
    other = synthetic_tape(["AAPL", "MSFT"], seed=8, start=START, duration_seconds=300)

    assert first == again
    assert first != other


def test_a_symbol_walks_the_same_whatever_else_is_on_the_tape() -> None:
    """Each symbol has its own generator, so adding a symbol changes nothing else."""
    alone = synthetic_tape(["AAPL"], seed=3, start=START, duration_seconds=60)
    together = synthetic_tape(["MSFT", "AAPL"], seed=3, start=START, duration_seconds=60)

    assert alone == [q for q in together if q.symbol == "AAPL"]


def test_the_tape_covers_the_duration_at_the_interval() -> None:
    """One quote per symbol per interval, from start to start + duration inclusive."""
    tape = synthetic_tape(
        ["A", "B"], seed=1, start=START, duration_seconds=1800, interval_seconds=Decimal("0.5")
    )

    assert len(tape) == 2 * 3601
    assert tape[0].quoted_at == START
    assert tape[-1].quoted_at == START + timedelta(minutes=30)
    assert all(q.source is QuoteSource.TAPE for q in tape)
    assert [q.quoted_at for q in tape] == sorted(q.quoted_at for q in tape)


def test_prices_sit_on_the_tick_and_are_never_crossed() -> None:
    """0.01 at or above $1, 0.0001 below; ask above bid by at least a tick."""
    tape = synthetic_tape(
        ["BIG", "SUB"],
        seed=11,
        start=START,
        duration_seconds=600,
        start_prices={"BIG": Decimal("250.00"), "SUB": Decimal("0.4321")},
        volatility_bps=Decimal("20"),
    )

    assert len(tape) > 100, "the tape has quotes to check"
    for quote in tape:
        for price in (quote.bid, quote.ask):
            assert isinstance(price, Decimal)
            assert price % tick_for(price) == 0
        assert quote.ask - quote.bid >= tick_for(quote.bid)
    assert any(q.bid < 1 and q.bid.as_tuple().exponent == -4 for q in tape)


def test_spread_and_sizes_follow_the_parameters() -> None:
    """A 100 bp spread is about 1 % of the mid (plus tick rounding); sizes are whole lots."""
    tape = synthetic_tape(
        ["X"],
        seed=5,
        start=START,
        duration_seconds=120,
        spread_bps=Decimal("100"),
        start_prices={"X": Decimal("50.00")},
        min_size=200,
        max_size=1000,
        size_lot=100,
    )

    assert len(tape) > 100, "the tape has quotes to check"
    for quote in tape:
        spread_bps = (quote.ask - quote.bid) / quote.mid * 10000
        assert Decimal("99") <= spread_bps <= Decimal("105")  # rounded outward to the tick
        for size in (quote.bid_size, quote.ask_size):
            assert 200 <= size <= 1000 and size % 100 == 0


def test_the_default_start_price_comes_from_symbol_and_seed() -> None:
    """Derived, not random: the same pair gives the same price, within $10-$500."""
    price = default_start_price("AAPL", 42)

    assert price == default_start_price("AAPL", 42)
    assert Decimal("10") <= price <= Decimal("500")
    tape = synthetic_tape(["AAPL"], seed=42, start=START, duration_seconds=0)
    assert tape[0].bid <= price <= tape[0].ask


@pytest.mark.parametrize(
    "bad",
    [
        {"symbols": []},
        {"symbols": ["A", "A"]},
        {"start": datetime(2024, 3, 1, 14, 30)},
        {"interval_seconds": Decimal("0")},
        {"spread_bps": Decimal("-1")},
        {"min_size": 0},
    ],
)
def test_nonsense_parameters_are_refused(bad: dict[str, object]) -> None:
    """Empty or duplicate symbols, naive start, zero interval, negative spread, zero size."""
    arguments: dict[str, object] = {"symbols": ["A"], "seed": 1, "start": START, **bad}

    with pytest.raises(ValueError):
        synthetic_tape(**arguments)  # type: ignore[arg-type]
