"""Orders files for ``execute``: CSV with a header, or a JSON array of objects.

Each row becomes an ``OrderRequest`` (pydantic, constrained types); the file's layout is
checked first: a CSV header names each column once, every row has exactly the header's
number of values, blank lines are skipped; JSON is parsed strictly (``input_files``).
Any bad row rejects the whole file with one line naming the row and the field.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from execledger.domain.ids import request_digest
from execledger.domain.requests import OrderRequest, numbered
from execledger.infrastructure.errors import InputFileError, OrdersFileError
from execledger.infrastructure.input_files import parse_json, read_text, repeated_keys
from pydantic import ValidationError

REQUIRED_FIELDS = ("symbol", "side", "quantity")
OPTIONAL_FIELDS = ("urgency", "complete_exit", "idempotency_key", "correlation_id", "account")


def load_orders(path: Path) -> list[OrderRequest]:
    """Every request of the file, validated; any bad row rejects the whole file.

    Without a ``correlation_id`` a row gets ``batch-<digest of the parsed rows>``, and
    without an ``idempotency_key`` one derived from the request and the session's
    business date (``OrderRequest.effective_idempotency_key``): running the same file
    twice, however re-saved, submits the same orders, never new ones.
    """
    try:
        text = read_text(path, "the orders file")
        rows = _json_rows(path, text) if path.suffix.lower() == ".json" else _csv_rows(path, text)
    except InputFileError as error:
        raise OrdersFileError(str(error)) from None
    if not rows:
        raise OrdersFileError(f"{path}: no orders in the file")
    fields = [_fields(row, number, path) for number, row in enumerate(rows, start=1)]
    batch = f"batch-{request_digest({str(n): repr(sorted(f.items())) for n, f in enumerate(fields)})}"
    requests = [_request(row, number, batch, path) for number, row in enumerate(fields, start=1)]
    return numbered(requests)


def _csv_rows(path: Path, text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise OrdersFileError(f"{path}: line {reader.line_num}: not valid CSV: {error}") from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise OrdersFileError(f"{path}: column(s) named twice in the header: {', '.join(repeated)}")
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise OrdersFileError(f"{path}: missing column(s): {', '.join(missing)}")
    unknown = set(header) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise OrdersFileError(f"{path}: unknown column(s): {', '.join(sorted(unknown))}")
    rows: list[dict[str, Any]] = []
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise OrdersFileError(
                f"{path}: row {len(rows) + 1} (line {line}): {len(record)} values, "
                f"the header has {len(header)}"
            )
        rows.append(dict(zip(header, record, strict=True)))
    return rows


def _json_rows(path: Path, text: str) -> list[dict[str, Any]]:
    data = parse_json(text, path)
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise OrdersFileError(f"{path}: a JSON orders file is an array of objects")
    return data


def _fields(row: dict[str, Any], number: int, path: Path) -> dict[str, Any]:
    where = f"{path}: row {number}"
    for name in repeated_keys(row):
        raise OrdersFileError(f"{where}: field '{name}': given more than once")
    for name in REQUIRED_FIELDS:
        if row.get(name) in (None, ""):
            raise OrdersFileError(f"{where}: field '{name}' is missing")
    unknown = set(row) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise OrdersFileError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    return {name: value for name, value in row.items() if value not in (None, "")}


def _request(fields: dict[str, Any], number: int, batch: str, path: Path) -> OrderRequest:
    try:
        return OrderRequest.model_validate({"correlation_id": batch, **fields})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise OrdersFileError(f"{path}: row {number}: field '{field}': {first['msg']}") from None
