"""Quote tapes from CSV: ``timestamp,symbol,bid,ask,bid_size,ask_size``, one quote a line.

Timestamps are ISO 8601 with an offset (converted to UTC); prices and sizes are parsed
from the string as Decimal. A malformed tape raises ``TapeError`` naming the line and the
field. A crossed or otherwise odd quote is *not* rejected here: it is loaded as is and
left to the policy's quote validation.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from execledger.domain.types import Quote, QuoteSource
from execledger.infrastructure.errors import TapeError
from pydantic import ValidationError

TAPE_HEADER: tuple[str, ...] = ("timestamp", "symbol", "bid", "ask", "bid_size", "ask_size")


def load_tape(path: str | Path) -> list[Quote]:
    """Every quote of the CSV tape at ``path``, in time order, with source ``TAPE``."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            return parse_tape(handle.read().splitlines(), name=str(path))
    except OSError as error:
        raise TapeError(f"{path}: cannot read the tape: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise TapeError(f"{path}: the tape is not UTF-8 text") from error


def parse_tape(lines: list[str], *, name: str = "<tape>") -> list[Quote]:
    """Parse the lines of a CSV tape (header first); see ``load_tape``."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(field.strip() for field in header) != TAPE_HEADER:
        raise TapeError(f"{name}: line 1: the header must be exactly {','.join(TAPE_HEADER)}")
    quotes: list[Quote] = []
    previous: datetime | None = None
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        quote = _quote(row, where=f"{name}: line {line}")
        if previous is not None and quote.quoted_at < previous:
            raise TapeError(
                f"{name}: line {line}, field timestamp: {quote.quoted_at.isoformat()} "
                f"goes backwards (previous {previous.isoformat()})"
            )
        previous = quote.quoted_at
        quotes.append(quote)
    if not quotes:
        raise TapeError(f"{name}: the tape has no quotes")
    return sorted(quotes, key=lambda quote: quote.quoted_at)


def _quote(row: list[str], *, where: str) -> Quote:
    if len(row) < len(TAPE_HEADER):
        missing = TAPE_HEADER[len(row)]
        raise TapeError(f"{where}, field {missing}: missing column")
    if len(row) > len(TAPE_HEADER):
        raise TapeError(f"{where}: {len(row)} fields, expected {len(TAPE_HEADER)}")
    cells = dict(zip(TAPE_HEADER, (cell.strip() for cell in row), strict=True))
    for field, value in cells.items():
        if not value:
            raise TapeError(f"{where}, field {field}: empty value")
    quoted_at = _timestamp(cells["timestamp"], where=where)
    bid, ask = (_decimal(cells[field], field=field, where=where) for field in ("bid", "ask"))
    sizes = [_decimal(cells[field], field=field, where=where) for field in ("bid_size", "ask_size")]
    for field, size in zip(("bid_size", "ask_size"), sizes, strict=True):
        if size < 0:
            raise TapeError(f"{where}, field {field}: must not be negative, got {size}")
    try:
        return Quote(
            symbol=cells["symbol"],
            bid=bid,
            ask=ask,
            bid_size=sizes[0],
            ask_size=sizes[1],
            quoted_at=quoted_at,
            source=QuoteSource.TAPE,
        )
    except ValidationError as error:
        raise TapeError(f"{where}: {error.errors()[0]['msg']}") from error


def _timestamp(text: str, *, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise TapeError(f"{where}, field timestamp: not ISO 8601: {text!r}") from error
    if value.tzinfo is None or value.utcoffset() is None:
        raise TapeError(f"{where}, field timestamp: no UTC offset in {text!r}")
    return value.astimezone(UTC)


def _decimal(text: str, *, field: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise TapeError(f"{where}, field {field}: not a number: {text!r}") from error
    if not value.is_finite():
        raise TapeError(f"{where}, field {field}: not a finite number: {text!r}")
    return value
