"""Loading CSV quote tapes: what is accepted, and how malformed tapes are named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from execledger.domain.types import QuoteSource
from execledger.infrastructure.errors import TapeError
from execledger.infrastructure.venue import load_tape, parse_tape

TAPES = Path(__file__).resolve().parents[1] / "fixtures" / "tapes"
HEADER = "timestamp,symbol,bid,ask,bid_size,ask_size"


def test_a_tape_loads_as_decimal_tape_quotes_in_utc() -> None:
    """Prices and sizes come from the string as Decimal; times are converted to UTC."""
    quotes = load_tape(TAPES / "two_symbols.csv")

    assert [q.symbol for q in quotes] == ["AAPL", "PENNY", "AAPL", "AAPL", "PENNY"]
    assert quotes[1].bid == Decimal("0.1000") and str(quotes[1].bid) == "0.1000"
    assert quotes[0].ask_size == Decimal("300")
    assert quotes[2].quoted_at == datetime(2024, 3, 1, 14, 30, 5, tzinfo=UTC)
    assert quotes[2].quoted_at.tzinfo is UTC
    assert all(q.source is QuoteSource.TAPE for q in quotes)


def test_a_crossed_quote_is_loaded_for_the_policy_to_judge() -> None:
    """Individually crossed quotes are not the loader's business."""
    quotes = load_tape(TAPES / "crossed.csv")

    assert quotes[1].bid > quotes[1].ask


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("non_numeric_price.csv", "line 3, field bid: not a number: 'abc'"),
        ("naive_timestamp.csv", "line 2, field timestamp: no UTC offset"),
        ("missing_column.csv", "line 2, field ask_size: missing column"),
        ("backwards.csv", "line 3, field timestamp"),
        ("wrong_header.csv", "line 1: the header must be exactly"),
    ],
)
def test_a_malformed_tape_names_the_line_and_the_field(fixture: str, expected: str) -> None:
    """Each malformed fixture raises TapeError with its line and field."""
    with pytest.raises(TapeError) as caught:
        load_tape(TAPES / fixture)

    assert expected in str(caught.value)
    assert fixture in str(caught.value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("2024-03-01T14:30:00Z,AAPL,100,NaN,1,1", "field ask: not a number"),
        ("2024-03-01T14:30:00Z,AAPL,100,101,-1,1", "field bid_size: .*greater than or equal to 0"),
        ("2024-03-01T14:30:00Z,,100,101,1,1", "field symbol: empty value"),
        ("yesterday,AAPL,100,101,1,1", "field timestamp: not ISO 8601"),
        ("2024-03-01T14:30:00Z,AAPL,100,101,1,1,9", "7 fields, expected 6"),
    ],
)
def test_bad_cells_are_rejected_by_field(row: str, expected: str) -> None:
    """Non-finite numbers, negative sizes, empty cells, bad times, extra cells."""
    with pytest.raises(TapeError, match=f"line 2.*{expected}"):
        parse_tape([HEADER, row])


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    """A blank line does not shift the line number in the next error."""
    lines = [HEADER, "", "2024-03-01T14:30:00Z,AAPL,x,101,1,1"]

    with pytest.raises(TapeError, match="line 3, field bid"):
        parse_tape(lines)


def test_a_tape_without_quotes_is_an_error() -> None:
    """A header alone is not a tape."""
    with pytest.raises(TapeError, match="no quotes"):
        parse_tape([HEADER])


def test_a_missing_file_is_a_tape_error(tmp_path: Path) -> None:
    """The OS error is caught at the boundary and named."""
    with pytest.raises(TapeError, match="cannot read"):
        load_tape(tmp_path / "absent.csv")


def test_equal_timestamps_keep_file_order() -> None:
    """Quotes stamped the same instant stay in file order (stable)."""
    lines = [
        HEADER,
        "2024-03-01T14:30:00Z,B,1.00,1.01,1,1",
        "2024-03-01T14:30:00Z,A,2.00,2.01,1,1",
    ]

    assert [q.symbol for q in parse_tape(lines)] == ["B", "A"]


def test_the_users_example_tape_loads_and_spans_thirty_minutes() -> None:
    """docs/examples/tape.csv is a valid tape of a few symbols over 30 minutes."""
    quotes = load_tape(TAPES.parents[2] / "docs" / "examples" / "tape.csv")

    assert {q.symbol for q in quotes} == {"AAPL", "MSFT", "F", "SNDL"}
    assert quotes[-1].quoted_at - quotes[0].quoted_at == timedelta(minutes=30)
    assert quotes[0].quoted_at == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
