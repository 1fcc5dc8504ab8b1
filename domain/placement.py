"""Placement: one broker order in an order's chain, as the ledger knows it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from execledger.domain.types import OrderType


@dataclass(frozen=True)
class Placement:
    """A broker order the smart order sent: what was asked, and the broker's id for it."""

    client_order_id: str
    placement_number: int
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    broker_order_id: str | None = None

    def accepted(self, broker_order_id: str) -> Placement:
        """This placement, now known to the broker under ``broker_order_id``."""
        return replace(self, broker_order_id=broker_order_id)


@dataclass(frozen=True)
class AcceptedPlacement:
    """A placement the broker has accepted: its broker order id is known."""

    placement: Placement
    broker_order_id: str

    @property
    def client_order_id(self) -> str:
        return self.placement.client_order_id

    @property
    def limit_price(self) -> Decimal | None:
        return self.placement.limit_price
