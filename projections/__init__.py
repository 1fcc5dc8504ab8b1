"""Read models rebuilt from the ledger's events, and the queries on them."""

from execledger.projections.errors import ProjectionError, ProjectionStoreUnavailable, UnknownProjection
from execledger.projections.projection import Projection
from execledger.projections.registry import ALL_PROJECTIONS, NAMES, select_projections
from execledger.projections.runner import ProjectionRunner
from execledger.projections.store import ProjectionStore

__all__ = [
    "ALL_PROJECTIONS",
    "NAMES",
    "Projection",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionStore",
    "ProjectionStoreUnavailable",
    "UnknownProjection",
    "select_projections",
]
