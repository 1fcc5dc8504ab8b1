"""Shared fixtures: a fresh ledger database on SQLite and on PostgreSQL.

PostgreSQL tests read their DSN from ``EXECLEDGER_TEST_POSTGRES_DSN``
(e.g. ``postgresql://postgres:postgres@127.0.0.1:5432/execledger_test``).
Without it they are skipped on a laptop; with ``CI=true`` a missing or
unreachable PostgreSQL fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_DSN_VARIABLE = "EXECLEDGER_TEST_POSTGRES_DSN"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_dsn() -> str:
    """The test PostgreSQL DSN; skip without one, or fail in CI."""
    dsn = os.environ.get(POSTGRES_DSN_VARIABLE, "")
    if not dsn:
        if _in_ci():
            pytest.fail(f"CI=true but {POSTGRES_DSN_VARIABLE} is not set")
        pytest.skip(f"set {POSTGRES_DSN_VARIABLE} to run the PostgreSQL tests")
    return dsn


def _fresh_schema(dsn: str) -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as error:
        if _in_ci():
            pytest.fail(f"PostgreSQL at {POSTGRES_DSN_VARIABLE} is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    separator = "&" if "?" in dsn else "?"
    yield f"{dsn}{separator}schema={schema}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty ledger database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        yield from _fresh_schema(postgres_dsn())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of an empty SQLite ledger file."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"
