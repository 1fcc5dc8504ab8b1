"""Read commands people use: id prefixes, one exit code for an unknown id, full cells, plain numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from execledger.infrastructure.ledger import open_ledger
from execledger.projections.values import price_text, shown

from tests.projection_scenarios import worked_order


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, stdout a pipe (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd(), "COLUMNS": "60"},
        check=False,
    )


@pytest.fixture
def url(database_url: str) -> str:
    """A ledger of 20 worked orders (more than 16: two ids share a first character)."""
    with open_ledger(database_url) as ledger:
        ledger.save(*[worked_order(i) for i in range(20)])
    return database_url


def _order_ids(url: str) -> list[str]:
    done = _cli(url, "orders", "--json")
    assert done.returncode == 0, done.stderr
    return [row["order_id"] for row in json.loads(done.stdout)]


def test_timeline_takes_a_unique_prefix_and_lists_the_candidates_of_an_ambiguous_one(url: str) -> None:
    """The 8 characters the tables print find the order; a shared prefix exits 2 naming each."""
    ids = _order_ids(url)
    done = _cli(url, "timeline", ids[3][:8], "--json")
    assert done.returncode == 0, done.stderr
    assert {entry["order_id"] for entry in json.loads(done.stdout)} == {ids[3]}
    first = ids[0][0]
    sharing = [order_id for order_id in ids if order_id[0] == first]
    if len(sharing) < 2:
        first = next(c for c in "0123456789abcdef" if sum(i[0] == c for i in ids) >= 2)
        sharing = [order_id for order_id in ids if order_id[0] == first]
    done = _cli(url, "timeline", first)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert all(order_id in done.stderr for order_id in sharing)


def test_audit_takes_a_unique_prefix_and_lists_the_candidates_of_an_ambiguous_one(url: str) -> None:
    """The audit (and replay) read the ledger itself, and take the same prefixes as the timeline."""
    ids = _order_ids(url)
    done = _cli(url, "audit", ids[5][:8], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["order"]["order_id"] == ids[5]
    first = next(c for c in "0123456789abcdef" if sum(i[0] == c for i in ids) >= 2)
    done = _cli(url, "replay", ids[5][:8], "--json")
    assert done.returncode in (0, 1), done.stderr  # these worked lives are not all the policy's
    assert json.loads(done.stdout)["orders_checked"] == 1
    done = _cli(url, "audit", first)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert all(order_id in done.stderr for order_id in ids if order_id[0] == first)


def test_an_unknown_id_exits_2_in_every_command(url: str) -> None:
    """The same unknown order id gives the same exit code in timeline, replay and audit."""
    unknown = str(uuid.uuid4())
    for command in ("timeline", "replay", "audit"):
        done = _cli(url, command, unknown)
        assert done.returncode == 2, (command, done.stdout, done.stderr)


def test_tables_to_a_pipe_are_not_cut(url: str) -> None:
    """Piped (and narrow), every cell is printed in full on one line: no '…'."""
    for args in (("orders",), ("quality",), ("timeline", "batch-1"), ("projections", "status")):
        done = _cli(url, *args)
        assert done.returncode == 0, done.stderr
        assert "…" not in done.stdout
    done = _cli(url, "orders")
    assert "completed" in done.stdout and "expired" in done.stdout


def test_the_readmes_example_batch_prints_its_summary_uncut(database_url: str) -> None:
    """``execute docs/examples/orders.csv --tape docs/examples/tape.csv``, piped and narrow."""
    done = _cli(database_url, "execute", "docs/examples/orders.csv", "--tape", "docs/examples/tape.csv")
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert done.stdout.count("completed") == 4


def test_numbers_print_plain_and_prices_with_their_ticks_decimals(url: str) -> None:
    """JSON and tables: no exponent form; a price has at least its tick's decimals."""
    done = _cli(url, "orders", "--json")
    for row in json.loads(done.stdout):
        assert "E" not in row["quantity"]
        for key in ("average_fill_price", "limit_price"):
            if row[key] is not None:
                assert len(row[key].split(".")[1]) >= 2, row[key]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("100.1", "100.10"),
        ("1E+2", "100.00"),
        ("100.035000", "100.035"),
        ("0.5", "0.5000"),
        ("0.12345", "0.12345"),
        ("-0.01", "-0.0100"),
    ],
)
def test_price_text(value: str, text: str) -> None:
    """Every significant decimal, at least the tick's, never rounded, never an exponent."""
    assert price_text(Decimal(value)) == text


def test_quantities_are_shown_plain() -> None:
    """A quantity recorded as 1E+2 shows as 100; other fields pass through."""
    assert shown("quantity", "1E+2") == "100"
    assert shown("filled_quantity", Decimal("2.5E+1")) == "25"
    assert shown("symbol", "1E+2") == "1E+2"
