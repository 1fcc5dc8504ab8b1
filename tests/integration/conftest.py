"""Fixtures the integration tests share: a ledger and its read models, per backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.projections import ProjectionStore


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """An empty ledger on the backend under test."""
    with open_ledger(database_url) as app:
        yield app


@pytest.fixture
def store(database_url: str, ledger: Ledger) -> Iterator[ProjectionStore]:
    """The read models in the same database as ``ledger``."""
    opened = open_projections(database_url)
    yield opened
    opened.close()
