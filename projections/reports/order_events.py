"""The order-events report: one record per lifecycle event, in the shape of the
consolidated audit trail (CAT) industry-member events. docs/compliance.md maps each.

The smart order is the customer order (its id is the order key); each broker order is a
route (its client order id is the routed order id, and the order key of route-level
records). A re-peg is reported as a modification whose prior order key is the route it
replaces, so the chain of routes can be followed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev

FIELDS = (
    "eventType",
    "eventTimestamp",
    "orderKeyDate",
    "orderKey",
    "priorOrderKey",
    "orderID",
    "routedOrderID",
    "brokerOrderID",
    "symbol",
    "side",
    "quantity",
    "price",
    "orderType",
    "timeInForce",
    "tradeID",
    "fulfillmentID",
    "leavesQty",
    "cancelQty",
    "routeRejectedFlag",
    "reason",
    "version",
)


def timestamp(moment: datetime) -> str:
    """UTC, to the microsecond (CAT asks for milliseconds or finer)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class OrderEventRecords:
    """Turns one order's events, fed in version order, into CAT-shaped records."""

    def __init__(self) -> None:
        self._order: ev.Requested | None = None
        self._quantity = Decimal(0)
        self._filled = Decimal(0)
        self._route: str | None = None
        self._previous_route: str | None = None
        self._repeg_prior: str | None = None

    def records(self, event: ev.OrderEvent) -> Iterator[dict[str, Any]]:
        """The records ``event`` gives (none for events CAT does not ask for)."""
        if isinstance(event, ev.Requested):
            self._order, self._quantity, self._filled = event, event.quantity, Decimal(0)
            yield self._record(event, "MENO", quantity=event.quantity, orderType="SMART_LIMIT")
            return
        if self._order is None:
            return
        yield from self._after(event)

    def _after(self, event: ev.OrderEvent) -> Iterator[dict[str, Any]]:
        order_id = str(event.originator_id)
        if isinstance(event, ev.QuantityAdjusted):
            self._quantity = event.new_quantity
            yield self._record(event, "MEOJ", quantity=event.new_quantity, reason=event.reason)
        elif isinstance(event, ev.PlacementRequested):
            prior, self._repeg_prior = self._repeg_prior or self._route, None
            self._route = event.client_order_id
            yield self._record(
                event,
                "MEOR",
                orderKey=event.client_order_id,
                priorOrderKey=prior,
                routedOrderID=event.client_order_id,
                quantity=event.quantity,
                price=event.limit_price,
                orderType=event.order_type.value,
                timeInForce=event.time_in_force.value,
            )
        elif isinstance(event, ev.PlacementRejected):
            yield self._record(
                event,
                "MEOR",
                orderKey=event.client_order_id,
                routedOrderID=event.client_order_id,
                routeRejectedFlag=True,
                reason=event.reason,
            )
        elif isinstance(event, ev.Placed):
            pass  # the broker's acknowledgement: no CAT event of ours
        elif isinstance(event, ev.Repegged):
            self._repeg_prior = event.old_client_order_id
            yield self._record(
                event,
                "MEOM",
                orderKey=event.new_client_order_id,
                priorOrderKey=event.old_client_order_id,
                brokerOrderID=event.old_broker_order_id,
                price=event.new_price,
                reason="; ".join(event.reasons),
            )
        elif isinstance(event, ev.Escalated):
            yield self._record(
                event,
                "MEOM",
                quantity=event.quantity,
                orderType="MARKET",
                priorOrderKey=self._route,
                reason=event.reason,
            )
        elif isinstance(event, ev.Canceled):
            yield self._record(
                event,
                "MEOC",
                orderKey=event.client_order_id,
                routedOrderID=event.client_order_id,
                brokerOrderID=event.broker_order_id,
                reason=event.reason,
            )
        elif isinstance(event, (ev.PartiallyFilled, ev.Filled)):
            yield self._record(
                event,
                "MEOT",
                orderKey=event.client_order_id,
                routedOrderID=event.client_order_id,
                brokerOrderID=event.broker_order_id,
                tradeID=event.execution_id,
                quantity=event.quantity,
                price=event.price,
                leavesQty=event.remaining_quantity,
            )
            self._filled = event.filled_quantity
        elif isinstance(event, ev.Completed):
            yield self._record(
                event, "MEOF", fulfillmentID=order_id, quantity=event.filled_quantity, reason=event.reason
            )
        elif isinstance(event, (ev.Expired, ev.Failed, ev.Denied)):
            yield self._record(event, "MEOC", cancelQty=self._quantity - self._filled, reason=event.reason)

    def _record(self, event: ev.OrderEvent, event_type: str, **fields: Any) -> dict[str, Any]:
        assert self._order is not None
        record: dict[str, Any] = dict.fromkeys(FIELDS)
        record.update(
            eventType=event_type,
            eventTimestamp=timestamp(event.occurred_at),
            orderKeyDate=timestamp(self._order.occurred_at),
            orderKey=str(event.originator_id),
            orderID=str(event.originator_id),
            symbol=self._order.symbol,
            side=self._order.side.value,
            version=event.originator_version,
        )
        record.update(fields)
        return record
