"""A batch's idempotency keys, checked before anything is written.

A key (explicit, or derived from the request: ``OrderRequest.effective_idempotency_key``)
names one order for good. A row whose key names an order asking for something else is
a conflict, never a silent "already done": the batch is refused, naming the row and the
order, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from execledger.domain import order_events as ev
from execledger.domain.errors import IdempotencyConflict
from execledger.domain.ids import order_id_for
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest, differences, request_terms

if TYPE_CHECKING:
    from execledger.infrastructure.ledger import Ledger


def recorded_terms(order: SmartOrder | ev.Requested) -> dict[str, str]:
    """What the recorded order (or its Requested event) asked for, before preflight."""
    quantity = order.quantity if isinstance(order, ev.Requested) else order.requested_quantity
    return request_terms(
        order.account, order.symbol, order.side, quantity, order.urgency, order.complete_exit
    )


def conflict(request: OrderRequest, order: SmartOrder | ev.Requested) -> str | None:
    """Why ``request`` is not the request ``order`` recorded under its key, or None."""
    changed = differences(request.terms(), recorded_terms(order))
    if not changed:
        return None
    key = request.effective_idempotency_key()
    terms = "; ".join(changed)
    order_id = order.originator_id if isinstance(order, ev.Requested) else order.id
    return f"idempotency key {key!r} already names order {order_id}, which asked for other terms ({terms})"


def check_batch(ledger: Ledger, requests: Sequence[OrderRequest], source: str) -> None:
    """Refuse the batch if a row's key names a different request, in the batch or in the
    ledger; raises IdempotencyConflict naming the row (``source: row N``)."""
    first_row: dict[UUID, tuple[int, OrderRequest]] = {}
    for number, request in enumerate(requests, start=1):
        field = "idempotency_key" if request.idempotency_key is not None else "idempotency_key (derived)"
        where = f"{source}: row {number}: field '{field}'"
        order_id = order_id_for(request.account, request.effective_idempotency_key())
        if order_id in first_row:
            earlier, other = first_row[order_id]
            changed = differences(request.terms(), other.terms())
            if changed:
                raise IdempotencyConflict(
                    f"{where}: {request.effective_idempotency_key()!r} is also the key of row "
                    f"{earlier}, which asks for other terms ({'; '.join(changed)})"
                )
            continue
        first_row[order_id] = (number, request)
        requested = _requested(ledger, order_id)
        if requested is not None:
            reason = conflict(request, requested)
            if reason:
                raise IdempotencyConflict(f"{where}: {reason}")


def _requested(ledger: Ledger, order_id: UUID) -> ev.Requested | None:
    """The order's first event (what it asked for), without rebuilding the order."""
    first = next(iter(ledger.events.get(order_id, lte=1)), None)
    return first if isinstance(first, ev.Requested) else None
