"""Order leases: one process works an order at a time, on one ledger.

A lease is a row ``(order_id, owner, expires_at)`` in the ledger's database (table
``execledger_order_leases``). A process claims the orders it is about to work in one
transaction: a row that is free, expired or already its own becomes its own; a row
another owner holds unexpired is left alone, and the order is skipped. A heartbeat
thread pushes the expiry of every lease the process holds forward every third of
the time to live; a process that exits deletes its rows, one that crashes stops
renewing, and its orders can be claimed once their leases expire (at most
``ttl_seconds`` after the last renewal). A process whose own renewals stopped for
``ttl_seconds`` no longer holds anything: ``check`` then refuses further broker
commands (``LeaseLost``).

SQLite serialises the claims under its single-writer lock and keeps time as the
host's UNIX time (every process shares the host); PostgreSQL claims with
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` and keeps time as the server's
``now()``, so hosts' clocks do not matter.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import psycopg
import structlog
from execledger.infrastructure.database_url import DatabaseUrl
from execledger.infrastructure.errors import DatabaseUnavailable, LeaseLost
from psycopg import sql

log = structlog.get_logger(__name__)
TABLE = "execledger_order_leases"


#: Serialises the lease table's creation between processes (a PostgreSQL advisory lock).
TABLE_LOCK_KEY = 0x65786C6C  # "exll"


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a batch: which orders are ours, and who holds the rest."""

    owned: frozenset[UUID]
    held_by_others: dict[UUID, str]


class LeaseTable(Protocol):
    """The SQL behind the leases, one implementation per backend."""

    def claim(self, owner: str, order_ids: Sequence[UUID], ttl_seconds: float) -> dict[UUID, str]: ...

    def renew(self, owner: str, ttl_seconds: float) -> None: ...

    def release(self, owner: str, order_ids: Sequence[UUID] | None) -> None: ...

    def holders(self) -> list[tuple[UUID, str, float]]: ...

    def close(self) -> None: ...


def new_owner() -> str:
    """This process's owner name: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OrderLeases:
    """The leases one process holds, renewed on a background thread while it works."""

    def __init__(self, table: LeaseTable, *, ttl_seconds: float, owner: str | None = None) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.owner = owner or new_owner()
        self.ttl_seconds = ttl_seconds
        self._table = table
        self._lock = threading.Lock()  # one connection, two threads
        self._renewed_at = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> OrderLeases:
        self._thread = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            with self._lock:
                self._table.release(self.owner, None)
        except (sqlite3.Error, psycopg.Error) as error:  # they expire on their own
            log.warning("lease_release_failed", owner=self.owner, error=str(error).splitlines()[0])
        finally:
            self._table.close()

    def claim(self, order_ids: Sequence[UUID]) -> Claim:
        """Take every order of ``order_ids`` that is free, expired or ours already."""
        with self._lock:
            others = self._table.claim(self.owner, order_ids, self.ttl_seconds)
            self._renewed_at = time.monotonic()
        owned = frozenset(order_id for order_id in order_ids if order_id not in others)
        return Claim(owned=owned, held_by_others=others)

    def release(self, order_ids: Iterable[UUID]) -> None:
        """Give up the leases of orders this process is done with."""
        ids = list(order_ids)
        if ids:
            with self._lock:
                self._table.release(self.owner, ids)

    def check(self) -> None:
        """Raise ``LeaseLost`` when the leases may have expired (renewals failed for a TTL)."""
        if time.monotonic() - self._renewed_at >= self.ttl_seconds:
            raise LeaseLost(f"leases of {self.owner} not renewed for {self.ttl_seconds}s")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl_seconds / 3):
            started = time.monotonic()
            try:
                with self._lock:
                    self._table.renew(self.owner, self.ttl_seconds)
            except (sqlite3.Error, psycopg.Error) as error:
                log.warning("lease_renewal_failed", owner=self.owner, error=str(error).splitlines()[0])
                continue
            self._renewed_at = started


def open_lease_table(database: DatabaseUrl) -> LeaseTable:
    """The lease table in the ledger's database (created if missing)."""
    try:
        if database.is_sqlite:
            return SqliteLeaseTable(database.env["SQLITE_DBNAME"])
        return PostgresLeaseTable(database)
    except (sqlite3.Error, psycopg.Error) as error:
        raise DatabaseUnavailable(
            f"cannot open the order leases at {database.redacted}: {str(error).splitlines()[0]}"
        ) from error


class SqliteLeaseTable:
    """Leases in the ledger's SQLite file, written under SQLite's single-writer lock."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(order_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)"
        )

    def claim(self, owner: str, order_ids: Sequence[UUID], ttl_seconds: float) -> dict[UUID, str]:
        now = time.time()
        rows = [(str(order_id), owner, now + ttl_seconds, now) for order_id in order_ids]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                f"INSERT INTO {TABLE} (order_id, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (order_id) DO UPDATE SET owner = excluded.owner, "
                f"expires_at = excluded.expires_at WHERE {TABLE}.owner = excluded.owner "
                f"OR {TABLE}.expires_at < ?",
                rows,
            )
            held = self._db.execute(
                f"SELECT order_id, owner FROM {TABLE} WHERE owner <> ? AND order_id IN "
                f"(SELECT value FROM json_each(?))",
                (owner, _json_ids(order_ids)),
            ).fetchall()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return {UUID(order_id): holder for order_id, holder in held}

    def renew(self, owner: str, ttl_seconds: float) -> None:
        self._db.execute(
            f"UPDATE {TABLE} SET expires_at = ? WHERE owner = ?", (time.time() + ttl_seconds, owner)
        )

    def release(self, owner: str, order_ids: Sequence[UUID] | None) -> None:
        if order_ids is None:
            self._db.execute(f"DELETE FROM {TABLE} WHERE owner = ?", (owner,))
            return
        self._db.execute(
            f"DELETE FROM {TABLE} WHERE owner = ? AND order_id IN (SELECT value FROM json_each(?))",
            (owner, _json_ids(order_ids)),
        )

    def holders(self) -> list[tuple[UUID, str, float]]:
        rows = self._db.execute(f"SELECT order_id, owner, expires_at - ? FROM {TABLE}", (time.time(),))
        return [(UUID(order_id), owner, left) for order_id, owner, left in rows.fetchall()]

    def close(self) -> None:
        self._db.close()


class PostgresLeaseTable:
    """Leases in the ledger's PostgreSQL schema; time is the server's."""

    def __init__(self, database: DatabaseUrl) -> None:
        self._db = psycopg.connect(**database.postgres_connection, autocommit=True)
        schema = database.schema
        self._table = sql.Identifier(schema, TABLE) if schema else sql.Identifier(TABLE)
        # Two processes opening a fresh schema at once race in CREATE TABLE IF NOT EXISTS
        # ('type "execledger_order_leases" already exists'): create it under an advisory lock.
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (TABLE_LOCK_KEY,))
            self._db.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (order_id uuid PRIMARY KEY, owner text NOT NULL, "
                    "expires_at timestamptz NOT NULL)"
                ).format(self._table)
            )

    def claim(self, owner: str, order_ids: Sequence[UUID], ttl_seconds: float) -> dict[UUID, str]:
        ids = list(order_ids)
        with self._db.transaction():
            self._db.execute(
                sql.SQL(
                    "INSERT INTO {0} AS lease (order_id, owner, expires_at) "
                    "SELECT unnest(%(ids)s::uuid[]), %(owner)s, now() + make_interval(secs => %(ttl)s) "
                    "ON CONFLICT (order_id) DO UPDATE SET owner = excluded.owner, "
                    "expires_at = excluded.expires_at "
                    "WHERE lease.owner = excluded.owner OR lease.expires_at < now()"
                ).format(self._table),
                {"ids": ids, "owner": owner, "ttl": ttl_seconds},
            )
            held = self._db.execute(
                sql.SQL("SELECT order_id, owner FROM {} WHERE owner <> %s AND order_id = ANY(%s)").format(
                    self._table
                ),
                (owner, ids),
            ).fetchall()
        return {_uuid(order_id): holder for order_id, holder in held}

    def renew(self, owner: str, ttl_seconds: float) -> None:
        self._db.execute(
            sql.SQL("UPDATE {} SET expires_at = now() + make_interval(secs => %s) WHERE owner = %s").format(
                self._table
            ),
            (ttl_seconds, owner),
        )

    def release(self, owner: str, order_ids: Sequence[UUID] | None) -> None:
        if order_ids is None:
            self._db.execute(sql.SQL("DELETE FROM {} WHERE owner = %s").format(self._table), (owner,))
            return
        self._db.execute(
            sql.SQL("DELETE FROM {} WHERE owner = %s AND order_id = ANY(%s)").format(self._table),
            (owner, list(order_ids)),
        )

    def holders(self) -> list[tuple[UUID, str, float]]:
        rows = self._db.execute(
            sql.SQL("SELECT order_id, owner, extract(epoch FROM expires_at - now()) FROM {}").format(
                self._table
            )
        ).fetchall()
        return [(_uuid(order_id), owner, float(left)) for order_id, owner, left in rows]

    def close(self) -> None:
        self._db.close()


def _json_ids(order_ids: Sequence[UUID]) -> str:
    return "[" + ",".join(f'"{order_id}"' for order_id in order_ids) + "]"


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
