"""Orders files for ``execute``: CSV with a header, or a JSON array of objects."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from execledger.domain.requests import OrderRequest
from execledger.infrastructure.errors import OrdersFileError
from pydantic import ValidationError

REQUIRED_FIELDS = ("symbol", "side", "quantity")
OPTIONAL_FIELDS = ("urgency", "complete_exit", "idempotency_key", "correlation_id", "account")
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", ""})


def load_orders(path: Path) -> list[OrderRequest]:
    """Every request of the file, validated; any bad row rejects the whole file.

    Without a ``correlation_id`` a row gets ``batch-<digest of the file>``, and without
    an ``idempotency_key`` one derived from that, the row number and the request: so
    running the same file twice submits the same orders, never new ones.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise OrdersFileError(f"{path}: cannot read: {error.strerror}") from None
    rows = _rows(path, raw)
    if not rows:
        raise OrdersFileError(f"{path}: no orders in the file")
    batch = f"batch-{hashlib.sha256(raw).hexdigest()[:16]}"
    return [_request(row, number, batch, path) for number, row in enumerate(rows, start=1)]


def _rows(path: Path, raw: bytes) -> list[dict[str, Any]]:
    text = raw.decode("utf-8-sig", errors="replace")
    if path.suffix.lower() == ".json":
        return _json_rows(path, text)
    reader = csv.DictReader(text.splitlines())
    missing = [name for name in REQUIRED_FIELDS if name not in (reader.fieldnames or [])]
    if missing:
        raise OrdersFileError(f"{path}: missing column(s): {', '.join(missing)}")
    unknown = set(reader.fieldnames or []) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise OrdersFileError(f"{path}: unknown column(s): {', '.join(sorted(unknown))}")
    return [dict(row) for row in reader]


def _json_rows(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text, parse_float=str)
    except json.JSONDecodeError as error:
        raise OrdersFileError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise OrdersFileError(f"{path}: a JSON orders file is an array of objects")
    return data


def _request(row: dict[str, Any], number: int, batch: str, path: Path) -> OrderRequest:
    where = f"{path}: row {number}"
    for name in REQUIRED_FIELDS:
        if row.get(name) in (None, ""):
            raise OrdersFileError(f"{where}: field '{name}' is missing")
    unknown = set(row) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise OrdersFileError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    fields = {k: v for k, v in row.items() if v not in (None, "")}
    fields["complete_exit"] = _flag(fields.get("complete_exit", False), where)
    fields.setdefault("correlation_id", batch)
    if "idempotency_key" not in fields:
        fields["idempotency_key"] = f"{fields['correlation_id']}:row-{number}:" + _digest(fields)
    try:
        return OrderRequest.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise OrdersFileError(f"{where}: field '{field}': {first['msg']}") from None


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise OrdersFileError(f"{where}: field 'complete_exit': must be true or false")


def _digest(fields: dict[str, Any]) -> str:
    material = json.dumps({k: str(v) for k, v in sorted(fields.items())}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:12]
