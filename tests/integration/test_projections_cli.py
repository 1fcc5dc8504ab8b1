"""``execledger orders``, ``timeline``, ``quality`` and ``projections`` read the read models."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer
from execledger.infrastructure.cli.app import main_options
from execledger.infrastructure.cli.orders import orders, quality, timeline
from execledger.infrastructure.cli.projections import projections_app
from execledger.infrastructure.ledger import Ledger, open_ledger
from typer.testing import CliRunner

from tests.projection_scenarios import worked_order

ORDER_KEYS = {
    "order_id",
    "symbol",
    "side",
    "quantity",
    "filled_quantity",
    "average_fill_price",
    "status",
    "limit_price",
    "repegs",
    "escalated",
    "correlation_id",
    "client_order_ids",
    "created_at",
    "updated_at",
}
QUALITY_KEYS = [
    "order_id",
    "symbol",
    "side",
    "quantity",
    "filled_quantity",
    "arrival_bid",
    "arrival_ask",
    "arrival_mid",
    "average_fill_price",
    "slippage_bps",
    "effective_spread",
    "price_improvement",
    "time_to_first_fill_seconds",
    "time_to_complete_seconds",
    "repegs",
    "escalated",
    "fill_rate",
]


def cli_app() -> typer.Typer:
    """The commands registered as infrastructure/cli/app.py registers them."""
    app = typer.Typer()
    app.callback()(main_options)
    app.command("orders")(orders)
    app.command("timeline")(timeline)
    app.command("quality")(quality)
    app.add_typer(projections_app, name="projections")
    return app


@pytest.fixture
def filled_ledger(database_url: str) -> Iterator[tuple[str, Ledger]]:
    with open_ledger(database_url) as ledger:
        ledger.save(*[worked_order(i, symbol="AAPL" if i % 2 else "MSFT") for i in range(8)])
        yield database_url, ledger


def invoke(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app(), ["--db", url, *args])
    return result.exit_code, result.stdout


def test_orders_json_has_the_issue_keys_with_decimals_as_strings(
    filled_ledger: tuple[str, Ledger],
) -> None:
    """``orders --symbol AAPL --json``: AAPL orders only, every key, Decimals as strings."""
    url, _ = filled_ledger
    code, out = invoke(url, "orders", "--symbol", "aapl", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4 and {row["symbol"] for row in rows} == {"AAPL"}
    assert set(rows[0]) >= ORDER_KEYS
    assert rows[0]["quantity"] == "100" and isinstance(rows[0]["client_order_ids"], list)
    code, out = invoke(url, "orders", "--status", "denied", "--json")
    assert [row["status"] for row in json.loads(out)] == ["denied"]


def test_timeline_finds_an_order_by_any_of_its_ids(filled_ledger: tuple[str, Ledger]) -> None:
    """Order id, client order id and broker order id give one order; a correlation id all."""
    url, ledger = filled_ledger
    order = ledger.order(next(iter(ledger.order_ids())))
    expected = [e.originator_version for e in ledger.events_of(order.id)]
    for identifier in (str(order.id), f"{order.id}-1", "B-0-1"):
        code, out = invoke(url, "timeline", identifier, "--json")
        entries = json.loads(out)
        assert code == 0 and [e["version"] for e in entries] == expected
        assert {"order_id", "version", "type", "occurred_at", "since_previous_seconds"} <= set(entries[0])
    assert entries[0]["type"] == "Requested" and entries[0]["symbol"] == "MSFT"
    code, out = invoke(url, "timeline", "batch-1", "--json")
    assert len({e["order_id"] for e in json.loads(out)}) == 8
    code, _ = invoke(url, "timeline", "no-such-order")
    assert code == 2


def test_quality_json_keys_are_exactly_the_issue_list(filled_ledger: tuple[str, Ledger]) -> None:
    """``quality --json`` prints the issue's keys, in its order."""
    url, _ = filled_ledger
    code, out = invoke(url, "quality", "--json", "--symbol", "MSFT")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 and list(rows[0]) == QUALITY_KEYS


def test_human_tables_and_projection_commands(filled_ledger: tuple[str, Ledger]) -> None:
    """Tables print; ``projections status`` shows no lag after a read; rebuild reports events."""
    url, ledger = filled_ledger
    for args in (("orders",), ("quality",), ("timeline", "batch-1")):
        code, out = invoke(url, *args)
        assert code == 0 and out
    code, out = invoke(url, "projections", "status", "--json")
    total = ledger.recorder.max_notification_id()
    assert code == 0 and {(r["position"], r["lag"]) for r in json.loads(out)} == {(total, 0)}
    code, out = invoke(url, "projections", "rebuild", "order_timeline")
    assert code == 0 and f"{total} events" in out
    code, out = invoke(url, "projections", "rebuild", "--processes", "2")  # small: one process
    assert code == 0 and f"{total} events" in out
    code, _ = invoke(url, "projections", "rebuild", "--processes", "0")
    assert code == 2
    code, _ = invoke(url, "projections", "rebuild", "nonsense")
    assert code != 0
