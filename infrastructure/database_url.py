"""One URL selects the event store: ``sqlite:///path.db`` or ``postgresql://...``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from execledger.infrastructure.errors import DatabaseUrlError

DEFAULT_DATABASE_URL = "sqlite:///execledger.db"


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL and the eventsourcing environment it selects."""

    url: str
    env: dict[str, str]

    @property
    def is_sqlite(self) -> bool:
        return self.env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"

    @property
    def schema(self) -> str:
        """The PostgreSQL schema (``?schema=`` in the URL), or "" for the default."""
        return self.env.get("POSTGRES_SCHEMA", "")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, absolute (None for PostgreSQL or an in-memory database)."""
        name = self.env.get("SQLITE_DBNAME", ":memory:")
        return None if name == ":memory:" or "mode=memory" in name else Path(name).expanduser().resolve()

    @property
    def postgres_connection(self) -> dict[str, Any]:
        """psycopg.connect keyword arguments for this PostgreSQL database (host, port,
        dbname, user, password, connect_timeout): the one place they are spelled out."""
        env = self.env
        return {
            "host": env["POSTGRES_HOST"],
            "port": int(env["POSTGRES_PORT"]),
            "dbname": env["POSTGRES_DBNAME"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
            "connect_timeout": int(env["POSTGRES_CONNECT_TIMEOUT"]),
        }

    @property
    def redacted(self) -> str:
        """The URL without its password, safe for logs and messages."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()


def parse_database_url(url: str, *, connect_timeout_seconds: int = 5) -> DatabaseUrl:
    """Parse ``url``; a malformed or unsupported one raises DatabaseUrlError."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return DatabaseUrl(url, _sqlite_env(url, parts.path, parts.netloc))
    if parts.scheme in ("postgresql", "postgres"):
        return DatabaseUrl(url, _postgres_env(parts, connect_timeout_seconds))
    raise DatabaseUrlError(
        f"unsupported database URL {url!r}: use sqlite:///path.db or postgresql://user:pass@host/db"
    )


def _sqlite_env(url: str, path: str, netloc: str) -> dict[str, str]:
    if netloc or not path or path == "/":
        raise DatabaseUrlError(f"malformed SQLite URL {url!r}: use sqlite:///relative/path.db")
    name = unquote(path[1:])
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": name}


def _postgres_env(parts: object, connect_timeout_seconds: int) -> dict[str, str]:
    from urllib.parse import SplitResult

    assert isinstance(parts, SplitResult)
    dbname = parts.path.lstrip("/")
    try:
        port = parts.port or 5432
    except ValueError as error:
        raise DatabaseUrlError(f"malformed PostgreSQL URL: bad port ({error})") from None
    if not parts.hostname or not dbname or not parts.username:
        raise DatabaseUrlError("malformed PostgreSQL URL: it needs a user, a host and a database name")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout_seconds),
    }
    schema = parse_qs(parts.query).get("schema", [""])[0]
    if schema:
        if not schema.isidentifier():
            raise DatabaseUrlError(f"malformed PostgreSQL URL: bad schema {schema!r}")
        env["POSTGRES_SCHEMA"] = schema
    return env
