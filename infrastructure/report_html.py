"""The best-execution report as one self-contained HTML file: tables, and charts drawn by
plotly (its JavaScript embedded inline, so the file opens without a network)."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
.ok { color: #176317; } .broken { color: #a00; font-weight: bold; }
"""

_GROUPS = (
    ("by_symbol", "symbol", "By symbol"),
    ("by_day", "day", "By day"),
    ("by_order_type", "order_type", "By order type"),
    ("by_size", "size_bucket", "By order size (notional at arrival)"),
)
_AGGREGATE_COLUMNS = (
    "orders",
    "orders_without_quote",
    "shares",
    "filled_shares",
    "cancelled_shares",
    "fill_rate",
    "average_slippage_bps",
    "average_effective_spread",
    "average_quoted_spread",
    "effective_to_quoted_spread",
    "average_price_improvement",
    "average_time_to_execution_seconds",
    "opportunity_cost",
)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if r.get(c) is None else str(r[c]))}</td>" for c in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def _numbers(rows: list[dict[str, Any]], key: str) -> list[float]:
    """Chart values (floats only for drawing; the tables show the exact figures)."""
    return [float(r[key]) for r in rows if r.get(key) is not None]


def _charts(report: dict[str, Any]) -> str:
    orders = report["orders"]
    figures = [
        go.Figure(go.Histogram(x=_numbers(orders, "slippage_bps"), nbinsx=30)).update_layout(
            title="Slippage distribution (bps, positive = cost)", xaxis_title="bps", yaxis_title="orders"
        ),
        go.Figure(go.Histogram(x=_numbers(orders, "time_to_first_fill_seconds"), nbinsx=30)).update_layout(
            title="Time to first fill (seconds)", xaxis_title="seconds", yaxis_title="orders"
        ),
    ]
    symbols = report["by_symbol"]
    names = [r["symbol"] for r in symbols]
    comparison = go.Figure()
    for key, label in (
        ("average_slippage_bps", "slippage (bps)"),
        ("effective_to_quoted_spread", "effective / quoted spread"),
        ("fill_rate", "fill rate"),
    ):
        comparison.add_trace(
            go.Bar(name=label, x=names, y=[None if r[key] is None else float(r[key]) for r in symbols])
        )
    figures.append(comparison.update_layout(title="By symbol", barmode="group"))
    parts = [
        figure.to_html(full_html=False, include_plotlyjs=(index == 0), config={"displaylogo": False})
        for index, figure in enumerate(figures)
    ]
    return "\n".join(parts)


def render_html(report: dict[str, Any]) -> str:
    """The whole page; ``report`` is best_execution.as_json's output plus ``chains`` and ``window``."""
    chains = report["chains"]
    headline = (
        "Hash chains verified"
        if chains["verified"]
        else "Hash chains did NOT verify"
        if chains["verified"] is False
        else "Hash chains not checked"
    )
    style = "ok" if chains["verified"] else "broken" if chains["verified"] is False else "unchecked"
    verdict = (
        f'<p class="{style}"><strong>{headline}</strong> when this report was produced '
        f"({html.escape(str(chains['method']))}). {html.escape(str(chains['statement']))}</p>"
    )
    window = report["window"]
    sections = [
        f"<h2>{title}</h2>" + _table(report[key], (name, *_AGGREGATE_COLUMNS)) for key, name, title in _GROUPS
    ]
    order_columns = tuple(k for k in report["orders"][0]) if report["orders"] else ("order_id",)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Best execution</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Best-execution report</h1>"
        f"<p>Orders requested from {html.escape(str(window['from'] or 'the start'))} "
        f"to {html.escape(str(window['to'] or 'now'))}; ledger position {report['ledger_position']}.</p>"
        f"{verdict}"
        f"<h2>Overall</h2>{_table([report['overall']], _AGGREGATE_COLUMNS)}"
        f"{''.join(sections)}"
        f"<h2>Charts</h2>{_charts(report)}"
        f"<h2>Orders</h2>{_table(report['orders'], order_columns)}"
        "</body></html>"
    )
