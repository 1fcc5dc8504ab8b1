"""Quote tapes from CSV: ``timestamp,symbol,bid,ask,bid_size,ask_size``, one quote a line.

Each line goes through ``TapeRow`` (pydantic, the constrained types of
``domain.inputs``): timestamps are ISO 8601 with an offset (converted to UTC); prices
and sizes are plain decimal numbers within the ledger's bounds, parsed from the text as
Decimal; the symbol is printable. A malformed tape raises ``TapeError`` naming the line
and the field. A crossed or otherwise odd quote is *not* rejected here: it is loaded as
is and left to the policy's quote validation.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from execledger.domain.inputs import MAX_DECIMALS, MAX_INTEGER_DIGITS, Amount, decimal_literal
from execledger.domain.requests import Symbol
from execledger.domain.types import Quote, QuoteSource
from execledger.infrastructure.errors import InputFileError, TapeError
from execledger.infrastructure.input_files import read_text
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

TAPE_HEADER: tuple[str, ...] = ("timestamp", "symbol", "bid", "ask", "bid_size", "ask_size")


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not ISO 8601")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not ISO 8601: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"no UTC offset in {value!r}")
    return moment.astimezone(UTC)


#: A price as written on a tape: any sign (the policy judges it), the ledger's bounds.
Price = Annotated[
    Decimal,
    BeforeValidator(decimal_literal),
    Field(max_digits=MAX_INTEGER_DIGITS + MAX_DECIMALS, decimal_places=MAX_DECIMALS, allow_inf_nan=False),
]


class TapeRow(BaseModel):
    """One line of a tape, as written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: Annotated[datetime, BeforeValidator(_timestamp)]
    symbol: Symbol
    bid: Price
    ask: Price
    bid_size: Amount
    ask_size: Amount

    def quote(self) -> Quote:
        return Quote(
            symbol=self.symbol,
            bid=self.bid,
            ask=self.ask,
            bid_size=self.bid_size,
            ask_size=self.ask_size,
            quoted_at=self.timestamp,
            source=QuoteSource.TAPE,
        )


def load_tape(path: str | Path) -> list[Quote]:
    """Every quote of the CSV tape at ``path``, in time order, with source ``TAPE``."""
    try:
        text = read_text(Path(path), "the tape")
    except InputFileError as error:
        raise TapeError(str(error)) from None
    return parse_tape(text, name=str(path))


def parse_tape(text: str | list[str], *, name: str = "<tape>") -> list[Quote]:
    """Parse a CSV tape (header first; the text or its lines); see ``load_tape``."""
    source = "\n".join(text) if isinstance(text, list) else text
    reader = csv.reader(io.StringIO(source, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or tuple(field.strip() for field in header) != TAPE_HEADER:
            raise TapeError(f"{name}: line 1: the header must be exactly {','.join(TAPE_HEADER)}")
        quotes: list[Quote] = []
        previous: datetime | None = None
        line = reader.line_num + 1
        for row in reader:
            if row and any(cell.strip() for cell in row):
                quote = _quote(row, where=f"{name}: line {line}")
                if previous is not None and quote.quoted_at < previous:
                    raise TapeError(
                        f"{name}: line {line}, field timestamp: {quote.quoted_at.isoformat()} "
                        f"goes backwards (previous {previous.isoformat()})"
                    )
                previous = quote.quoted_at
                quotes.append(quote)
            line = reader.line_num + 1
    except csv.Error as error:
        raise TapeError(f"{name}: line {reader.line_num}: not valid CSV: {error}") from None
    if not quotes:
        raise TapeError(f"{name}: the tape has no quotes")
    return quotes


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
    try:
        return TapeRow.model_validate(cells).quote()
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise TapeError(f"{where}, field {field}: {message}") from None
