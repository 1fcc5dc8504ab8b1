"""Best-execution aggregates against hand-worked numbers (docs/compliance.md): the BUY and
SELL of docs/metrics.md and the sub-dollar SELL left partly unfilled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execledger.projections.reports.best_execution import best_execution

from tests.unit.test_execution_quality import penny_sell, quality_row
from tests.unit.test_projection_folds import buy_scenario, sell_scenario


def _report() -> dict[str, Any]:
    rows = [quality_row(buy_scenario()), quality_row(sell_scenario())]
    statuses = {row["order_id"]: "completed" for row in rows}
    return best_execution(rows, statuses)


def test_share_weighted_aggregates_of_a_buy_and_a_sell() -> None:
    """BUY 100 (4.50 bps, ES 0.09, QS 0.11, PI 0.031, 3.5 s) and SELL 50 (4.00 bps, ES 0.04,
    QS 0.04, PI 0.006, 2 s), weighted by filled shares (100 and 50)."""
    overall = _report()["overall"]
    assert overall["average_slippage_bps"] == Decimal("4.33")  # (450 + 200) / 150
    assert overall["average_effective_spread"] == Decimal("0.0733")  # (9 + 2) / 150
    assert overall["average_quoted_spread"] == Decimal("0.0867")  # (11 + 2) / 150
    assert overall["effective_to_quoted_spread"] == Decimal("0.8462")  # 11 / 13
    assert overall["average_price_improvement"] == Decimal("0.0227")  # (3.1 + 0.3) / 150
    assert overall["average_time_to_execution_seconds"] == Decimal("3.000")  # (350 + 100) / 150
    assert (overall["orders"], overall["shares"], overall["fill_rate"]) == (
        2,
        Decimal(150),
        Decimal("1.0000"),
    )


def test_orders_fall_into_rule_605_size_and_type_categories() -> None:
    report = _report()
    sizes = {row["size_bucket"]: row["orders"] for row in report["by_size"]}
    assert sizes == {"$5,000 to < $20,000": 1, "$1,000 to < $5,000": 1}  # 10,005.50 and 2,501.00
    assert [row["order_type"] for row in report["by_order_type"]] == ["non-marketable limit"]
    assert [row["symbol"] for row in report["by_symbol"]] == ["ABC", "XYZ"]


def test_unfilled_shares_of_a_closed_order_are_cancelled_shares() -> None:
    row = quality_row(penny_sell())
    report = best_execution([row], {row["order_id"]: "expired"})
    overall = report["overall"]
    assert overall["cancelled_shares"] == Decimal(400) and overall["fill_rate"] == Decimal("0.6000")
    assert overall["opportunity_cost"] == Decimal("6.0000")
    assert report["orders"][0]["size_bucket"] == "$250 to < $1,000"  # 1,000 x 0.5000
