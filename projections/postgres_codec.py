"""Read-model rows to and from psycopg parameters: psycopg adapts Decimals, UUIDs, booleans
and times itself; JSON is text, and times are read back in UTC."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from execledger.projections.schema import Kind, Row, Table


def _json_out(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _time_in(value: datetime) -> datetime:
    return value.astimezone(UTC)


class PostgresCodec:
    """Row <-> psycopg parameters for one table; only JSON and times need converting."""

    def __init__(self, table: Table) -> None:
        self.names = table.column_names
        self.kinds = {c.name: c.kind for c in table.columns}
        self.getter = itemgetter(*self.names)
        self.out = [i for i, c in enumerate(table.columns) if c.kind is Kind.JSON]
        into: dict[Kind, Callable[[Any], Any]] = {Kind.JSON: json.loads, Kind.TIME: _time_in}
        self.into = [(c.name, into[c.kind]) for c in table.columns if c.kind in into]

    def encode(self, row: Row) -> tuple[Any, ...] | list[Any]:
        values = self.getter(row)
        if not self.out:
            return values  # type: ignore[no-any-return]
        listed = list(values)
        for i in self.out:
            if listed[i] is not None:
                listed[i] = _json_out(listed[i])
        return listed

    def decode(self, values: Sequence[Any]) -> Row:
        row = dict(zip(self.names, values, strict=True))
        for name, convert in self.into:
            value = row[name]
            if value is not None:
                row[name] = convert(value)
        return row

    def value(self, name: str, value: Any) -> Any:
        return _json_out(value) if self.kinds[name] is Kind.JSON else value
