"""``execledger audit ID [--as-of T | --version N] [--json]``: one order as it stood, and why."""

from __future__ import annotations

from typing import Any

import typer
from execledger.domain.audit_trail import DecisionEntry
from execledger.domain.order import SmartOrder
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import console, print_json, state_of
from execledger.infrastructure.time_window import parse_instant


def audit(
    ctx: typer.Context,
    identifier: str = typer.Argument(..., metavar="ID", help="Order id, client order id or broker order id."),
    as_of: str | None = typer.Option(None, "--as-of", help="The order as it stood then (ISO 8601)."),
    version: int | None = typer.Option(None, "--version", help="The order as of this event version."),
    as_json: bool = typer.Option(False, "--json", help="Print the state and one entry per decision."),
) -> None:
    """The order rebuilt from its events up to a point, and each decision with its inputs."""
    instant = None if as_of is None else parse_instant(as_of, "--as-of")
    found = use_cases.audit_order(state_of(ctx).settings, identifier, as_of=instant, version=version)
    if as_json:
        print_json(
            {
                "as_of": None if instant is None else instant.isoformat(),
                "version": found.order.version,
                "order": found.state,
                "decisions": [e.as_json() for e in found.decisions],
            }
        )
        return
    _narrate(found.state, found.decisions, found.order)


def _narrate(state: dict[str, Any], entries: list[DecisionEntry], order: SmartOrder) -> None:
    console.print(
        f"[bold]Order {state['order_id']}[/]: {state['side']} {state['quantity']} {state['symbol']} "
        f"(urgency {state['urgency']}), as of version {state['version']} ({state['last_event_at']})"
    )
    average = state["average_fill_price"] or "-"
    console.print(
        f"  status {state['status']}; filled {state['filled_quantity']} at {average}, "
        f"{state['remaining_quantity']} remaining; limit {state['limit_price'] or '-'}; "
        f"re-pegs {state['repegs']}; escalated {'yes' if state['escalated'] else 'no'}"
    )
    config = order.config
    console.print(
        f"  policy: fill wait {config.fill_wait_seconds}s, max re-pegs {config.max_repegs}, "
        f"quote freshness {config.quote_freshness_seconds}s"
    )
    for entry in entries:
        mark = "" if all(c["agrees"] for c in entry.checks) else " [bold red](replay disagrees)[/]"
        console.print(f"{entry.occurred_at.isoformat()} v{entry.version} {entry.summary}{mark}")
        quote = entry.inputs.get("quote")
        if quote is not None:
            console.print(
                f"    on the quote {quote['bid']} / {quote['ask']} ({quote['source']}, "
                f"{quote['age_seconds']}s old), {entry.inputs['remaining_quantity']} open"
            )
        for reason in entry.reasons:
            console.print(f"    because: {reason}")
        for check in entry.checks:
            if not check["agrees"]:
                console.print(
                    f"    replay: {check['decision']} recorded {check['recorded']!r}, "
                    f"today's policy gives {check['recomputed']!r}"
                )
