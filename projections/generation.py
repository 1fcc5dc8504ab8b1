"""Generations of a read model: how a rebuild builds beside the tables that serve reads.

The serving tables always have the projection's table names (``order_status``). A
rebuild builds generation n+1 in tables of their own (``order_status_g1``) with a
tracking row of its own (``order_status@1``), while reads and the follower keep using
generation n. Once the new generation has caught up, one transaction drops the serving
tables and renames the new ones into their place (blue/green). Index names carry the
generation (``order_status_symbol_g1``: SQLite cannot rename an index), generation 0's
none. ``projection_generations`` holds, per table, the generation that serves and the
one being built, if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple

from execledger.projections.projection import Projection
from execledger.projections.schema import Index, Kind, Table, col

TABLE = Table(
    name="projection_generations",
    columns=(
        col("table_name", Kind.TEXT, nullable=False),
        col("serving", Kind.INT, nullable=False),
        col("building", Kind.INT),
    ),
    key=("table_name",),
)


class Generations(NamedTuple):
    """A table's serving generation and the one a rebuild is building (None: no rebuild)."""

    serving: int = 0
    building: int | None = None


NONE = Generations()


def serving_generation(projection: Projection, generations: Mapping[str, Generations]) -> int:
    """The generation of the projection's tables that serves reads."""
    return generations.get(projection.state_table.name, NONE).serving


def building_generation(projection: Projection, generations: Mapping[str, Generations]) -> int | None:
    """The generation a rebuild is building for the projection, if any."""
    return generations.get(projection.state_table.name, NONE).building


def table_at(table: Table, generation: int, *, serving: bool) -> Table:
    """The table spec of ``generation``: serving under the table's own name, or being built."""
    if generation == 0:
        return table
    suffix = f"_g{generation}"
    return replace(
        table,
        name=table.name if serving else table.name + suffix,
        indexes=tuple(Index(i.name + suffix, i.columns, i.where) for i in table.indexes),
        key_index=table.key_index_name + suffix,
    )


def tracking_name(name: str, generation: int) -> str:
    """The tracking (and ``projection_errors``) name of a projection's generation."""
    return name if generation == 0 else f"{name}@{generation}"


def partition_name(name: str, index: int, count: int) -> str:
    """The tracking name of partition ``index`` of ``count`` of a generation being rebuilt
    (``order_status@1/0of2``): a partitioned rebuild tracks each worker's position apart."""
    return f"{name}/{index}of{count}"


class ProjectionAt:
    """A projection writing to the tables of one generation (or one partition of its orders,
    tracked apart); folds exactly as the projection. ``errors_name``: the name its poison
    events are recorded under, the generation's own, partitioned or not."""

    def __init__(
        self,
        projection: Projection,
        generation: int,
        *,
        serving: bool,
        partition: tuple[int, int] | None = None,
    ) -> None:
        self.projection = projection
        self.generation = generation
        self.errors_name = tracking_name(projection.name, generation)
        self.name = self.errors_name if partition is None else partition_name(self.errors_name, *partition)
        self.state_table = table_at(projection.state_table, generation, serving=serving)
        log = projection.log_table
        self.log_table = None if log is None else table_at(log, generation, serving=serving)
        self.fold = projection.fold


_PLACED: dict[tuple[str, int, bool, tuple[int, int] | None], ProjectionAt] = {}


def at(
    projection: Projection, generation: int, *, serving: bool, partition: tuple[int, int] | None = None
) -> ProjectionAt:
    """The projection at ``generation`` (``partition``: (index, count) of the orders, for a
    rebuild's worker), one object per combination (the stores cache codecs by spec)."""
    key = (projection.name, generation, serving, partition)
    placed = _PLACED.get(key)
    if placed is None or placed.projection is not projection:
        placed = _PLACED[key] = ProjectionAt(projection, generation, serving=serving, partition=partition)
    return placed
