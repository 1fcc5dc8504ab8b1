"""Database URLs: one URL selects SQLite or PostgreSQL, and bad ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.errors import DatabaseUrlError


def test_a_sqlite_url_selects_the_sqlite_recorder(tmp_path: Path) -> None:
    """sqlite:///path gives eventsourcing.sqlite with that file."""
    database = parse_database_url(f"sqlite:///{tmp_path}/a/ledger.db")
    assert database.is_sqlite
    assert database.env == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": f"{tmp_path}/a/ledger.db",
    }


def test_a_postgresql_url_selects_the_postgres_recorder() -> None:
    """postgresql://user:pass@host:port/db?schema=s gives every POSTGRES_* setting."""
    database = parse_database_url(
        "postgresql://trader:p%40ss@db.local:6543/ledger?schema=desk_1", connect_timeout_seconds=3
    )
    assert not database.is_sqlite
    assert database.env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.local",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "trader",
        "POSTGRES_PASSWORD": "p@ss",
        "POSTGRES_CONNECT_TIMEOUT": "3",
        "POSTGRES_SCHEMA": "desk_1",
    }
    assert database.schema == "desk_1"
    assert "p%40ss" not in database.redacted and "***" in database.redacted


def test_the_default_port_is_5432() -> None:
    """Without a port, PostgreSQL's default is used."""
    assert parse_database_url("postgres://u@h/db").env["POSTGRES_PORT"] == "5432"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "foo://x",
        "mysql://u@h/db",
        "sqlite://host/x.db",
        "sqlite:///",
        "sqlite:",
        "postgresql://h/db",
        "postgresql://u@/db",
        "postgresql://u@h/",
        "postgresql://u@h:x/db",
        "postgresql://u@h:70000/db",
        "postgresql://u@h/db?schema=a;drop",
    ],
)
def test_a_malformed_url_raises_database_url_error(url: str) -> None:
    """Unsupported schemes and incomplete or malformed URLs raise DatabaseUrlError."""
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)
