"""Fill arithmetic: the part of a reported fill that is new, the overfill a fill would
be, and the price and execution id of a fill inferred from a broker's cumulative view.

Pure functions of what the order has recorded; the aggregate's fill commands
(domain.order_fills) delegate to them.
"""

from __future__ import annotations

from decimal import Decimal

from execledger.domain.errors import BrokerOrderOverfill, Overfill
from execledger.domain.lifecycle import BrokerOrderFill


def unheld_quantity(
    quantity: Decimal, *, held: Decimal, broker_filled_quantity: Decimal | None
) -> Decimal | None:
    """The part of a reported fill of ``quantity`` the ledger does not hold yet (None: it
    holds all of it). ``held``: what the ledger holds of the broker order;
    ``broker_filled_quantity``: the broker order's cumulative filled quantity after this
    execution, when the report carries it (a fill held as inferred is not counted twice).
    """
    if broker_filled_quantity is None:
        return quantity
    uncovered = broker_filled_quantity - held
    if uncovered <= 0:
        return None
    return min(quantity, uncovered)


def overfill(
    quantity: Decimal,
    *,
    client_order_id: str,
    broker_order: BrokerOrderFill,
    order_filled: Decimal,
    order_quantity: Decimal,
) -> Overfill | None:
    """The overfill a fill of ``quantity`` on ``client_order_id`` would be, if any: past
    the broker order's quantity first, else past the order's."""
    if broker_order.filled + quantity > broker_order.quantity:
        return BrokerOrderOverfill(
            f"a fill of {quantity} would take broker order {client_order_id} "
            f"from {broker_order.filled} past its quantity {broker_order.quantity}"
        )
    if order_filled + quantity > order_quantity:
        return Overfill(
            f"a fill of {quantity} would take the order from {order_filled} "
            f"past its quantity {order_quantity}"
        )
    return None


def inferred_fill_price(
    *, average_price: Decimal, filled_quantity: Decimal, held_notional: Decimal, missing: Decimal
) -> Decimal:
    """The price of the ``missing`` quantity that makes the broker order's average
    ``average_price`` over ``filled_quantity``, given the notional the ledger holds.
    The broker's average is rounded, so a non-positive result falls back to it."""
    price = (average_price * filled_quantity - held_notional) / missing
    return price if price > 0 else average_price


def inferred_execution_id(broker_order_id: str, cumulative: Decimal) -> str:
    """The execution id of a fill inferred from a broker order's cumulative quantity."""
    return f"inferred:{broker_order_id}:{cumulative.normalize():f}"
