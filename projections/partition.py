"""Partitions of the orders, for a rebuild spread over processes.

A partitioned rebuild gives each worker process the orders of one partition: every
worker reads the log for the stored events of its orders only (a cheap, stable test on
the stored originator id, made by the database when the store reads the log itself:
``ProjectionStore.read_events``; else here, before any decoding), and folds and writes
those. All
of an order's events fall in one partition, so each order is still folded in log order.
Each partition tracks its position in its own row (``generation.partition_name``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from execledger.projections.decoding import RawEvent

#: ``order_status@1/0of2``: the generation's tracking name, the index, the count.
_NAME = re.compile(r"^(?P<generation>.+)/(?P<index>\d+)of(?P<count>\d+)$")
#: The low 32 bits of an id: its last 8 hex digits (ids are random: uniform).
_LOW = 0xFFFFFFFF


def bucket(originator_id: Any) -> int:
    """A stable number for an order id, the same for the UUID and its stored text."""
    if isinstance(originator_id, UUID):
        return originator_id.int & _LOW
    text = str(originator_id)
    try:
        return int(text[-8:], 16)
    except ValueError:  # not an id we wrote; a poison event still lands in one partition
        return zlib.crc32(text.encode("utf-8", "backslashreplace"))


class Partition(NamedTuple):
    """Partition ``number`` of ``of``: the orders whose id's bucket is ``number`` modulo ``of``."""

    number: int
    of: int

    def owns(self, originator_id: Any) -> bool:
        """Whether the order is in this partition."""
        return bucket(originator_id) % self.of == self.number

    def select(self, rows: Sequence[RawEvent]) -> list[RawEvent]:
        """The stored events of this partition's orders, in their order."""
        count, index = self.of, self.number
        return [row for row in rows if bucket(row[1]) % count == index]


def partition_count(generation_name: str, positions: Mapping[str, int]) -> int | None:
    """The partition count of the tracking rows of ``generation_name``'s partitions (None:
    no partitioned rebuild of it is under way)."""
    counts = {int(m["count"]) for m in _matches(generation_name, positions)}
    return max(counts) if counts else None


def partition_positions(generation_name: str, positions: Mapping[str, int]) -> dict[str, int]:
    """The tracking rows of ``generation_name``'s partitions: name to position."""
    return {m.string: positions[m.string] for m in _matches(generation_name, positions)}


def _matches(generation_name: str, names: Iterable[str]) -> list[re.Match[str]]:
    found = (_NAME.match(name) for name in names)
    return [m for m in found if m is not None and m["generation"] == generation_name]
