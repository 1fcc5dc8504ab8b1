"""The keyed layer of tamper evidence: the audit key, each event's MAC, signed checkpoints.

The unkeyed hash chain (domain.chain) proves an order's events are consistent with one
another, but anyone with write access can rewrite a chain and recompute its hashes. Here:

- the **audit key** (``EXECLEDGER_AUDIT_KEY``, or a file named by
  ``EXECLEDGER_AUDIT_KEY_FILE``) is held outside the database and never stored or logged;
- every event a keyed writer stores carries ``event_mac``, an HMAC-SHA256 of its
  ``event_hash`` (which already covers every field, its order and position in the chain);
- a **checkpoint** names a position in the notification log, how many events lie up to it
  and the ledger root there (a SHA-256 chain over every stored record in notification
  order), signed with the key. Checkpoints are kept in the ledger's own seal table
  (``verify --seal``) and in files kept elsewhere (``verify --checkpoint FILE``).

docs/compliance.md says what each layer detects and what it cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, PersistenceError, StoredEvent
from eventsourcing.utils import get_topic
from execledger.domain.chain import CHAIN_VERSION, GENESIS_HASH
from execledger.infrastructure.errors import (
    AuditKeyError,
    CheckpointFileError,
    is_missing_table,
)

KEY_ENV = "EXECLEDGER_AUDIT_KEY"
KEY_FILE_ENV = "EXECLEDGER_AUDIT_KEY_FILE"
MIN_KEY_BYTES = 16
_EVENT_MAC_DOMAIN = b"execledger event v2\x00"
_CHECKPOINT_DOMAIN = "execledger checkpoint v1"
#: A checkpoint that records when it was made signs that time too.
_TIMED_CHECKPOINT_DOMAIN = "execledger checkpoint v2"


class AuditKey:
    """The secret the ledger is sealed with. Its repr and str never show it."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise AuditKeyError(f"{KEY_ENV}: the audit key must be at least {MIN_KEY_BYTES} bytes")
        self._secret = secret

    def mac(self, message: bytes) -> str:
        """HMAC-SHA256 (hex) of ``message``."""
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def event_mac(self, event_hash: str) -> str:
        """The seal of one event: a MAC of its hash, which covers everything it is."""
        return self.mac(_EVENT_MAC_DOMAIN + event_hash.encode("ascii"))

    def event_mac_matches(self, event_hash: str, mac: str) -> bool:
        """Whether ``mac`` seals ``event_hash`` (one-shot HMAC: verify calls it per event)."""
        try:
            message = _EVENT_MAC_DOMAIN + event_hash.encode("ascii")
        except UnicodeEncodeError:
            return False
        expected = hmac.digest(self._secret, message, "sha256").hex()
        return hmac.compare_digest(expected, mac)

    def __repr__(self) -> str:
        return "AuditKey(<redacted>)"

    __str__ = __repr__


def load_audit_key(env: Mapping[str, str] | None = None, key_file: Path | None = None) -> AuditKey | None:
    """The key from ``key_file``, else ``EXECLEDGER_AUDIT_KEY_FILE``, else ``EXECLEDGER_AUDIT_KEY``."""
    environ = os.environ if env is None else env
    path = key_file or (Path(environ[KEY_FILE_ENV]) if environ.get(KEY_FILE_ENV) else None)
    if path is not None:
        try:
            secret = path.read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise AuditKeyError(f"audit key file {path}: {error.strerror or error}") from None
        return AuditKey(secret)
    text = environ.get(KEY_ENV)
    return AuditKey(text.encode("utf-8")) if text else None


class SealingMapper(Mapper[UUID]):
    """The library's mapper, marking each stored event with its chain version and, given
    a key, its MAC. The marks live in the stored state only, beside the event's fields."""

    def __init__(self, base: Mapper[UUID], key: AuditKey | None) -> None:
        super().__init__(transcoder=base.transcoder, compressor=base.compressor, cipher=base.cipher)
        self._key = key

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The library's ``to_stored_event`` (persistence.py), with the marks added to the
        state before it is encoded; the library offers no hook between the two."""
        state = dict(vars(domain_event))
        if "event_hash" not in state:
            return super().to_stored_event(domain_event)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        state["chain_version"] = CHAIN_VERSION
        if self._key is not None:
            state["event_mac"] = self._key.event_mac(state["event_hash"])
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored,
        )


# ---- the ledger root and checkpoints ---------------------------------------------------


def extend_root(root: str, originator_id: Any, version: int, topic: str, state: bytes) -> str:
    """The ledger root after one more stored record (in notification order).

    It covers the record's bytes exactly as stored, so any edit, deletion, insertion or
    reordering up to a checkpoint changes the root there.
    """
    head = f"{root}|{originator_id}|{version}|{topic}|".encode()
    return hashlib.sha256(head + hashlib.sha256(state).digest()).hexdigest()


ROOT_GENESIS = GENESIS_HASH


@dataclass(frozen=True)
class Checkpoint:
    """The ledger at one position: how many events up to it and the root there, signed
    (with, when recorded, the wall-clock time it was made: version 1 checkpoints have none)."""

    position: int
    count: int
    root: str
    mac: str | None = None
    sealed_at: str | None = None

    def message(self) -> bytes:
        if self.sealed_at is None:
            return f"{_CHECKPOINT_DOMAIN}|{self.position}|{self.count}|{self.root}".encode()
        return (
            f"{_TIMED_CHECKPOINT_DOMAIN}|{self.position}|{self.count}|{self.root}|{self.sealed_at}"
        ).encode()

    def signed(self, key: AuditKey, sealed_at: str | None = None) -> Checkpoint:
        """This checkpoint signed with ``key``, stamped ``sealed_at`` when given."""
        stamped = replace(self, sealed_at=sealed_at or self.sealed_at)
        return replace(stamped, mac=key.mac(stamped.message()))

    def signature_holds(self, key: AuditKey) -> bool:
        return self.mac is not None and hmac.compare_digest(self.mac, key.mac(self.message()))

    def as_json(self) -> dict[str, Any]:
        out = {"position": self.position, "count": self.count, "root": self.root, "mac": self.mac}
        return out if self.sealed_at is None else {**out, "sealed_at": self.sealed_at}

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        try:
            sealed_at = data.get("sealed_at")
            return cls(
                int(data["position"]),
                int(data["count"]),
                str(data["root"]),
                data.get("mac"),
                None if sealed_at is None else str(sealed_at),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CheckpointFileError(f"not a checkpoint: {error}") from None


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` as JSON to ``path`` (a new file: an existing one is kept)."""
    try:
        with path.open("x", encoding="utf-8") as out:
            json.dump({"execledger_checkpoint": 1, **checkpoint.as_json()}, out, indent=2)
            out.write("\n")
    except OSError as error:
        raise CheckpointFileError(f"--checkpoint {path}: {error.strerror or error}") from None


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint stored in ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CheckpointFileError(f"--against {path}: {error.strerror or error}") from None
    except ValueError:
        raise CheckpointFileError(f"--against {path}: not JSON") from None
    return Checkpoint.from_json(data)


# ---- the seal table: checkpoints kept in the ledger itself ------------------------------


class SealTable:
    """Signed checkpoints stored beside the events (SQLite file or PostgreSQL schema)."""

    def __init__(self, datastore: Any, *, create: bool = True) -> None:
        """``create=False`` on a ledger opened read-only: a missing table is no seals."""
        self._datastore = datastore
        schema = getattr(datastore, "schema", None)
        self._postgres = schema is not None
        self._table = f"{schema}.execledger_seals" if schema else "execledger_seals"
        self._p = "%s" if self._postgres else "?"
        self._created = create
        if create:
            self._execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                "position BIGINT PRIMARY KEY, count BIGINT NOT NULL, root TEXT NOT NULL, mac TEXT NOT NULL, "
                "sealed_at TEXT)",
                (),
                commit=True,
            )
            self._add_sealed_at()

    def _add_sealed_at(self) -> None:
        """A seal table from before seals were timed gains the (nullable) column."""
        if self._postgres:
            alter = f"ALTER TABLE {self._table} ADD COLUMN IF NOT EXISTS sealed_at TEXT"
            self._execute(alter, (), commit=True)
            return
        columns = self._execute(f"PRAGMA table_info({self._table})", (), commit=False)
        if not any(_values(column)[1] == "sealed_at" for column in columns):
            self._execute(f"ALTER TABLE {self._table} ADD COLUMN sealed_at TEXT", (), commit=True)

    def _execute(self, sql: str, params: tuple[Any, ...], *, commit: bool) -> list[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            cursor.execute(sql, params)
            if commit:
                return []
            return list(cursor.fetchall())

    def add(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint (a second one at the same position is ignored)."""
        assert checkpoint.mac is not None
        p = self._p
        self._execute(
            f"INSERT INTO {self._table} (position, count, root, mac, sealed_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (position) DO NOTHING",
            (checkpoint.position, checkpoint.count, checkpoint.root, checkpoint.mac, checkpoint.sealed_at),
            commit=True,
        )

    def all(self) -> list[Checkpoint]:
        """Every stored checkpoint, by position."""
        try:
            rows = self._execute(f"SELECT * FROM {self._table} ORDER BY position", (), commit=False)
        except PersistenceError as error:
            if self._created or not is_missing_table(error):
                raise
            return []
        return [_checkpoint(_values(row)) for row in rows]

    def latest(self) -> Checkpoint | None:
        """The checkpoint at the highest position, if any."""
        stored = self.all()
        return stored[-1] if stored else None


def _values(row: Any) -> tuple[Any, ...]:
    return tuple(row.values()) if isinstance(row, Mapping) else tuple(row)


def _checkpoint(values: tuple[Any, ...]) -> Checkpoint:
    """A stored seal: (position, count, root, mac[, sealed_at]) (old tables lack the last)."""
    sealed_at = values[4] if len(values) > 4 and values[4] is not None else None
    return Checkpoint(int(values[0]), int(values[1]), str(values[2]), str(values[3]), sealed_at)
