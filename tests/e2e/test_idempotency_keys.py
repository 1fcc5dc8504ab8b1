"""Idempotency keys that mean the request (issue 12, defect 9).

Without an ``idempotency_key`` column a row's key derives from what it asks for (account,
symbol, side, quantity, urgency), the session's business date and the occurrence of
identical rows, never from the file's bytes: re-saving or extending a file executes only
the rows not executed yet. A different request under an existing key is a conflict:
exit 2 naming the row and the existing order, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

from execledger.domain.requests import OrderRequest

from tests.e2e.test_execute_cli import ESCALATION_TAPE, execledger, notifications

ROWS = "symbol,side,quantity\nXYZ,BUY,50\nXYZ,SELL,10\n"


def execute(path: Path, db: str) -> dict[str, object]:
    done = execledger("execute", str(path), "--tape", ESCALATION_TAPE, "--json", db=db)
    assert done.returncode == 0, done.stderr
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def test_the_same_rows_resaved_with_crlf_and_blank_lines_execute_nothing_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    """CRLF line endings, a blank line, a trailing blank: the same two orders, nothing new."""
    path = tmp_path / "orders.csv"
    path.write_text(ROWS)
    assert execute(path, sqlite_url)["created"] == 2
    before = notifications(sqlite_url)
    path.write_bytes(ROWS.replace("\n", "\r\n").replace("XYZ,SELL", "\r\nXYZ,SELL").encode() + b"\r\n")
    again = execute(path, sqlite_url)
    assert again["created"] == 0 and again["orders"] == 2
    assert notifications(sqlite_url) == before


def test_rows_added_to_a_file_execute_only_the_new_rows(tmp_path: Path, sqlite_url: str) -> None:
    """Two rows run, then a third added (and a JSON spelling of the same rows): one new order."""
    path = tmp_path / "orders.csv"
    path.write_text(ROWS)
    assert execute(path, sqlite_url)["created"] == 2
    path.write_text(ROWS + "XYZ,BUY,7\n")
    assert execute(path, sqlite_url)["created"] == 1
    as_json = tmp_path / "orders.json"
    rows = [
        {"symbol": "xyz", "side": "buy", "quantity": 50.0},
        {"symbol": "XYZ", "side": "SELL", "quantity": "10"},
        {"symbol": "XYZ", "side": "BUY", "quantity": 7},
    ]
    as_json.write_text(json.dumps(rows))
    assert execute(as_json, sqlite_url)["created"] == 0


def test_identical_rows_are_separate_orders(tmp_path: Path, sqlite_url: str) -> None:
    """Two identical rows are two orders (occurrences 1 and 2); a re-run adds none."""
    path = tmp_path / "orders.csv"
    path.write_text("symbol,side,quantity\nXYZ,BUY,5\nXYZ,BUY,5\n")
    first = execute(path, sqlite_url)
    assert first["created"] == 2 and first["orders"] == 2
    assert execute(path, sqlite_url)["created"] == 0


def test_an_explicit_key_reused_for_another_request_is_a_conflict(tmp_path: Path, sqlite_url: str) -> None:
    """The key names an order of another quantity: exit 2 naming the row and that order."""
    path = tmp_path / "orders.csv"
    path.write_text("symbol,side,quantity,idempotency_key\nXYZ,BUY,5,k1\n")
    summary = execute(path, sqlite_url)
    existing = summary["results"][0]["order_id"]  # type: ignore[index]
    before = notifications(sqlite_url)
    path.write_text("symbol,side,quantity,idempotency_key\nXYZ,SELL,1,k0\nXYZ,BUY,6,k1\n")
    done = execledger("execute", str(path), "--tape", ESCALATION_TAPE, db=sqlite_url)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "row 2" in lines[0] and "idempotency_key" in lines[0] and existing in lines[0]
    assert notifications(sqlite_url) == before


def test_two_rows_of_one_file_under_one_key_asking_different_things_conflict(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Same key, different requests in one file: exit 2 naming both rows, nothing written."""
    path = tmp_path / "orders.csv"
    path.write_text("symbol,side,quantity,idempotency_key\nXYZ,BUY,5,k1\nXYZ,BUY,6,k1\n")
    done = execledger("execute", str(path), "--tape", ESCALATION_TAPE, db=sqlite_url)
    assert done.returncode == 2, done.stderr
    assert "row 2" in done.stderr and "row 1" in done.stderr
    assert notifications(sqlite_url) == 0


def test_a_derived_key_of_a_changed_request_is_a_conflict(tmp_path: Path, sqlite_url: str) -> None:
    """The same row with complete_exit flipped keeps its derived key but asks otherwise."""
    path = tmp_path / "orders.csv"
    path.write_text("symbol,side,quantity,complete_exit\nXYZ,BUY,5,false\n")
    execute(path, sqlite_url)
    before = notifications(sqlite_url)
    path.write_text("symbol,side,quantity,complete_exit\nXYZ,BUY,5,true\n")
    done = execledger("execute", str(path), "--tape", ESCALATION_TAPE, db=sqlite_url)
    assert done.returncode == 2, done.stderr
    assert "row 1" in done.stderr and "complete_exit" in done.stderr
    assert notifications(sqlite_url) == before


def test_the_derived_key_ignores_spelling_and_counts_occurrences() -> None:
    """50, 50.0 and 5E+1 are one quantity; occurrence and business date change the key."""
    from datetime import date

    day = date(2026, 1, 5)
    base = {"symbol": "XYZ", "side": "BUY", "correlation_id": "c", "business_date": day}
    keys = {
        OrderRequest.model_validate({**base, "quantity": spelled}).effective_idempotency_key()
        for spelled in ("50", "50.0", "5E+1", "50.000000000")
    }
    assert len(keys) == 1
    one = OrderRequest.model_validate({**base, "quantity": "50"})
    assert one.model_copy(update={"occurrence": 2}).effective_idempotency_key() not in keys
    assert one.model_copy(update={"business_date": date(2026, 1, 6)}).effective_idempotency_key() not in keys
    assert one.model_copy(update={"correlation_id": "other"}).effective_idempotency_key() in keys
