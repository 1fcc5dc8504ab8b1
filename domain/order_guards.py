"""The checks a SmartOrder's commands make before they record anything.

A command that does not apply raises ``IllegalTransition`` (or ``UnknownPlacement`` for
a client order id the order never sent) and records nothing.
"""

from __future__ import annotations

from datetime import datetime

from execledger.domain.errors import DomainError, IllegalTransition, UnknownPlacement
from execledger.domain.order_state import OrderState
from execledger.domain.placement import AcceptedPlacement, Placement
from execledger.domain.status import OrderStatus


class OrderGuards(OrderState):
    """The guards shared by the aggregate's commands (domain.order, domain.order_fills)."""

    def _require(self, command: str, condition: bool, detail: str = "") -> None:
        if not condition:
            raise IllegalTransition(command, self.status.value, detail)

    def _require_active(self, command: str) -> None:
        self._require(command, not self.status.is_terminal, "the order is closed")

    def _require_sent(self, client_order_id: str) -> None:
        if client_order_id not in self.placements:
            raise UnknownPlacement(f"order {self.id} never sent {client_order_id}")

    def _require_pending(self, client_order_id: str, command: str) -> None:
        self._require_sent(client_order_id)
        pending = self.status is OrderStatus.PENDING_NEW
        self._require(command, pending and self.live_client_order_id == client_order_id)

    def _working_placement(self, command: str, allowed: bool) -> AcceptedPlacement:
        """The live placement, which the broker has accepted; IllegalTransition otherwise."""
        live = self.live_placement
        self._require(command, allowed and live is not None, "not working")
        assert live is not None
        broker_order_id = live.broker_order_id
        self._require(command, broker_order_id is not None, "the broker has not accepted it yet")
        assert broker_order_id is not None
        return AcceptedPlacement(live, broker_order_id)

    def _cancel_target(self) -> Placement:
        if self.cancel_pending_for is None:
            raise IllegalTransition("reject a cancel of", self.status.value, "no cancel pending")
        return self.placements[self.cancel_pending_for]


def aware(moment: datetime) -> datetime:
    """``moment``, which must be timezone-aware (DomainError otherwise)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError("occurred_at must be timezone-aware")
    return moment
