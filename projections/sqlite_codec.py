"""Read-model rows to and from SQLite values: Decimals as exact TEXT, times as ISO 8601 in
UTC, JSON as text, UUIDs as text, booleans as integers."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

from execledger.projections.schema import Kind, Row, Table


def _time_out(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _json_out(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_OUT: dict[Kind, Callable[[Any], Any]] = {
    Kind.DECIMAL: str,
    Kind.BOOL: int,
    Kind.TIME: _time_out,
    Kind.JSON: _json_out,
    Kind.UUID: str,
}
_IN: dict[Kind, Callable[[Any], Any]] = {
    Kind.DECIMAL: Decimal,
    Kind.BOOL: bool,
    Kind.TIME: datetime.fromisoformat,
    Kind.JSON: json.loads,
    Kind.UUID: UUID,
}


class SQLiteCodec:
    """Row <-> SQLite values for one table; only columns that need it are converted.

    Plain loops over the converting columns: an A/B against code generated per table
    with ``exec`` (docs/performance.md) measured no gain worth generating code for.
    """

    def __init__(self, table: Table) -> None:
        self.names = table.column_names
        self.kinds = {column.name: column.kind for column in table.columns}
        self._values_of = itemgetter(*self.names) if len(self.names) > 1 else _single(self.names[0])
        self._out = [(i, _OUT[c.kind]) for i, c in enumerate(table.columns) if c.kind in _OUT]
        self._in = [(c.name, _IN[c.kind]) for c in table.columns if c.kind in _IN]
        self.key_of = itemgetter(*(self.names.index(name) for name in table.key))

    def encode_rows(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        """Parameter tuples, in the table's column order."""
        encoded = []
        values_of, out = self._values_of, self._out
        for row in rows:
            values = list(values_of(row))
            for i, convert in out:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            encoded.append(tuple(values))
        return encoded

    def decode_rows(self, results: Sequence[Sequence[Any]]) -> list[Row]:
        """Row dicts of result rows selected in the table's column order."""
        decoded = []
        names, into = self.names, self._in
        for values in results:
            row = dict(zip(names, values, strict=True))
            for name, convert in into:
                value = row[name]
                if value is not None:
                    row[name] = convert(value)
            decoded.append(row)
        return decoded

    def value(self, name: str, value: Any) -> Any:
        convert = _OUT.get(self.kinds[name])
        return value if value is None or convert is None else convert(value)


def _single(name: str) -> Callable[[Row], tuple[Any, ...]]:
    """``itemgetter`` of one name, returning a 1-tuple as the several-name one does."""
    return lambda row: (row[name],)
