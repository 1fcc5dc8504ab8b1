"""Placement: one broker order in an order's chain, as the ledger knows it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from domain.types import OrderType


@dataclass(frozen=True)
class Placement:
    """A broker order the smart order sent: what was asked and what has filled."""

    client_order_id: str
    placement_number: int
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    broker_order_id: str | None = None
    filled_quantity: Decimal = Decimal(0)

    @property
    def is_fully_filled(self) -> bool:
        """True once the broker order's whole quantity has filled."""
        return self.filled_quantity >= self.quantity

    def accepted(self, broker_order_id: str) -> Placement:
        """This placement, now known to the broker under ``broker_order_id``."""
        return replace(self, broker_order_id=broker_order_id)

    def with_fill(self, quantity: Decimal) -> Placement:
        """This placement with ``quantity`` more filled."""
        return replace(self, filled_quantity=self.filled_quantity + quantity)
