"""Log lines: JSON on stderr, each order's lines carry its correlation id, secrets never appear."""

from __future__ import annotations

import json

import pytest
import structlog
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.logging import configure_logging

from tests.e2e.scenario import request, run_batch


def test_every_engine_line_carries_the_correlation_id(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Working an order at INFO: every line about the order is JSON with its correlation id and order id."""
    configure_logging(log_format="json", level="INFO")
    try:
        with open_ledger(sqlite_url) as ledger:
            order = run_batch(
                ledger, "escalation.csv", [request("XYZ", "BUY", "50", correlation_id="rebal-42")]
            ).orders[0]
    finally:
        configure_logging(level="WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    order_lines = [line for line in lines if line.get("order_id") == str(order.id)]
    assert {line["event"] for line in order_lines} >= {"placement_requested", "order_finished"}
    assert all(line["correlation_id"] == "rebal-42" for line in order_lines)


def test_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """A secret-looking key never reaches the log line."""
    configure_logging(log_format="json", level="INFO")
    try:
        structlog.get_logger("t").info("connecting", api_key="AKXXXX", secret_key="s3cr3t", password="pw")
    finally:
        configure_logging(level="WARNING")
    err = capsys.readouterr().err
    assert "s3cr3t" not in err and "AKXXXX" not in err and 'pw"' not in err
    assert json.loads(err.strip().splitlines()[-1])["secret_key"] == "***"
