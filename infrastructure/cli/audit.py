"""``execledger audit ID [--as-of T | --version N] [--json]``: one order as it stood, and why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import typer
from execledger.domain import order_events as ev
from execledger.domain.audit_trail import DecisionEntry, audit_trail, order_state
from execledger.domain.order import SmartOrder
from execledger.domain.topics import topics_of
from execledger.infrastructure.cli.context import console, print_json, state_of
from execledger.infrastructure.ledger import Ledger, OrderNotFound, as_order_id
from execledger.infrastructure.time_window import BadArgument, parse_instant


def audit(
    ctx: typer.Context,
    identifier: str = typer.Argument(..., metavar="ID", help="Order id, client order id or broker order id."),
    as_of: str | None = typer.Option(None, "--as-of", help="The order as it stood then (ISO 8601)."),
    version: int | None = typer.Option(None, "--version", help="The order as of this event version."),
    as_json: bool = typer.Option(False, "--json", help="Print the state and one entry per decision."),
) -> None:
    """The order rebuilt from its events up to a point, and each decision with its inputs."""
    if as_of is not None and version is not None:
        raise BadArgument("--as-of and --version: give one, not both")
    instant = None if as_of is None else parse_instant(as_of, "--as-of")
    with state_of(ctx).open_ledger() as ledger:
        order_id = resolve_order_id(ledger, identifier)
        events = ledger.events_of(order_id)
        if instant is not None:
            events = [e for e in events if e.occurred_at <= instant]
            if not events:
                raise BadArgument(f"--as-of: order {order_id} was not yet requested at {instant.isoformat()}")
        elif version is not None:
            if not 1 <= version <= len(events):
                raise BadArgument(f"--version: order {order_id} has versions 1 to {len(events)}")
            events = events[:version]
        order: object = ledger.repository.get(order_id, version=events[-1].originator_version)
    assert isinstance(order, SmartOrder)
    entries = audit_trail(events)
    state = order_state(order)
    if as_json:
        print_json(
            {
                "as_of": None if instant is None else instant.isoformat(),
                "version": order.version,
                "order": state,
                "decisions": [e.as_json() for e in entries],
            }
        )
        return
    _narrate(state, entries, order)


def resolve_order_id(ledger: Ledger, identifier: str) -> UUID:
    """The order an id names: its own id, a client order id (``<order id>-<n>``) or a
    broker order id (looked up in the recorded acceptances and fills)."""
    text = identifier.strip()
    for candidate in (text, text.rpartition("-")[0]):
        try:
            order_id = UUID(candidate)
        except ValueError:
            continue
        try:
            return ledger.order(order_id).id
        except OrderNotFound:
            continue
    topics = tuple(t for cls in (ev.Placed, ev.PartiallyFilled, ev.Filled) for t in topics_of(cls))
    for notification in ledger.notifications(topics=topics):
        if ledger.decode_state(notification.state).get("broker_order_id") == text:
            return as_order_id(notification.originator_id)
    raise BadArgument(f"ID: no order, client order or broker order {text!r}")


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
