"""The read models for commands that only read, wherever the ledger can be read.

The read models live in the ledger's database and are caught up before a read. On a
database that refuses writes (a read-only file, mount or role) they cannot be; the
commands then rebuild them from the events in a temporary file, removed afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from execledger.infrastructure.database_url import DatabaseUrl
from execledger.infrastructure.read_models import open_projections
from execledger.projections import ProjectionStore
from execledger.projections.errors import ProjectionStoreUnavailable

#: What a database says when it refuses a write because it is read-only.
READ_ONLY_SIGNS = ("readonly", "read-only", "permission denied")


def refuses_writes(error: ProjectionStoreUnavailable) -> bool:
    """Whether the read-model database failed because it is read-only."""
    return any(sign in str(error).lower() for sign in READ_ONLY_SIGNS)


@contextmanager
def readable_projections(database: DatabaseUrl) -> Iterator[ProjectionStore]:
    """The read models beside the ledger, closed on exit; on a database that refuses
    writes, an empty store in a temporary file (the caller catches it up)."""
    try:
        store = open_projections(database)
    except ProjectionStoreUnavailable as error:
        if not refuses_writes(error):
            raise
    else:
        try:
            yield store
        finally:
            store.close()
        return
    with tempfile.TemporaryDirectory(prefix="execledger-read-models-") as folder:
        store = open_projections(f"sqlite:///{Path(folder) / 'read-models.db'}")
        try:
            yield store
        finally:
            store.close()
