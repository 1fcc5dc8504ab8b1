"""Read models rebuilt from the ledger's events, and the queries on them."""

from projections.errors import ProjectionError, ProjectionStoreUnavailable, UnknownProjection
from projections.opening import open_projections
from projections.registry import ALL_PROJECTIONS, NAMES, select_projections
from projections.runner import ProjectionRunner
from projections.store import ProjectionStore

__all__ = [
    "ALL_PROJECTIONS",
    "NAMES",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionStore",
    "ProjectionStoreUnavailable",
    "UnknownProjection",
    "open_projections",
    "select_projections",
]
