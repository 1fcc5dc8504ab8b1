"""Backend-neutral table specs: the stores turn these into SQLite or PostgreSQL DDL.

A row is a dict of Python values (Decimal, aware datetime, UUID, bool, int, str,
or JSON-ready lists and dicts); each store converts them to and from its columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

Row = dict[str, Any]


class Kind(Enum):
    """What a column holds; each store maps a kind to a column type."""

    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"  # TEXT in SQLite, NUMERIC in PostgreSQL: read back exactly
    BOOL = "bool"
    TIME = "time"  # aware UTC datetime
    JSON = "json"  # JSON-ready lists and dicts (Decimals already as strings)
    UUID = "uuid"


@dataclass(frozen=True)
class Column:
    """One column: its name, what it holds, and whether it may be NULL."""

    name: str
    kind: Kind
    nullable: bool = True


@dataclass(frozen=True)
class Index:
    """A secondary index; ``where`` makes it partial (same syntax on both backends)."""

    name: str
    columns: tuple[str, ...]
    where: str | None = None


@dataclass(frozen=True)
class Table:
    """A read-model table: columns, primary key and indexes.

    An ``append_only`` table (rows only ever inserted, never looked up by the runner)
    keeps its key as a unique index rather than a primary key: a rebuild then appends
    rows in log order and builds the index once at the end, instead of inserting each
    row at a random place in a key B-tree (the timeline's key starts with an order id).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()
    append_only: bool = False
    key_index: str = ""

    @property
    def key_index_name(self) -> str:
        """The unique index that holds an append-only table's key."""
        return self.key_index or f"{self.name}_key"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def col(name: str, kind: Kind, *, nullable: bool = True) -> Column:
    """A column (shorthand for the table definitions)."""
    return Column(name, kind, nullable)
