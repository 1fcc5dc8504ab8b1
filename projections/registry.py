"""The projections execledger maintains, by name."""

from __future__ import annotations

from collections.abc import Sequence

from execledger.projections.errors import UnknownProjection
from execledger.projections.execution_quality import ExecutionQualityProjection
from execledger.projections.order_status import OrderStatusProjection
from execledger.projections.projection import Projection
from execledger.projections.timeline import TimelineProjection

ALL_PROJECTIONS: tuple[Projection, ...] = (
    OrderStatusProjection(),
    TimelineProjection(),
    ExecutionQualityProjection(),
)
NAMES: tuple[str, ...] = tuple(p.name for p in ALL_PROJECTIONS)


def select_projections(names: Sequence[str] | None = None) -> tuple[Projection, ...]:
    """The named projections (all of them for None or empty); an unknown name raises."""
    if not names:
        return ALL_PROJECTIONS
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise UnknownProjection(f"no projection {unknown[0]!r}; known: {', '.join(NAMES)}")
    return tuple(p for p in ALL_PROJECTIONS if p.name in names)
