"""Write-ahead broker calls: the intent is saved before the call, the answer after it."""

from __future__ import annotations

from decimal import Decimal

import structlog
from execledger.domain.order import SmartOrder
from execledger.domain.types import OrderType, TimeInForce
from execledger.infrastructure.engine.commit_group import OrderWriter
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.errors import (
    BrokerOrderNotFound,
    BrokerUnavailable,
    CancelRejected,
    OrderRejected,
)
from execledger.infrastructure.ports import Broker, BrokerOrder, BrokerOrderStatus, Clock

log = structlog.get_logger(__name__)
CANCELED_STATES = frozenset(
    {BrokerOrderStatus.CANCELED, BrokerOrderStatus.EXPIRED, BrokerOrderStatus.REPLACED}
)


class BrokerCalls:
    """Places and cancels one order's broker orders, recording intent and answer."""

    def __init__(self, ledger: OrderWriter, broker: Broker, clock: Clock, retrier: Retrier) -> None:
        self._ledger = ledger
        self._broker = broker
        self._clock = clock
        self._retrier = retrier

    async def place(self, order: SmartOrder, order_type: OrderType, limit_price: Decimal | None) -> bool:
        """Place the remaining quantity; False (order failed) when the broker refuses it."""
        quantity = order.remaining_quantity
        client_order_id = order.request_placement(
            order_type=order_type,
            quantity=quantity,
            limit_price=limit_price,
            time_in_force=TimeInForce.DAY,
            occurred_at=self._clock.now(),
        )
        self._ledger.save_order(order)
        log.info(
            "placement_requested",
            client_order_id=client_order_id,
            order_type=order_type.value,
            quantity=str(quantity),
            limit_price=str(limit_price) if limit_price is not None else None,
        )
        try:
            answer = await self._send(order, client_order_id, order_type, quantity, limit_price)
        except OrderRejected as rejection:
            self._reject(order, client_order_id, rejection.code, str(rejection))
            return False
        except BrokerUnavailable as error:
            found = await self.find(client_order_id)
            if found is None:
                self._reject(order, client_order_id, "broker_unavailable", str(error))
                return False
            answer = found
        self.record_placed(order, client_order_id, answer)
        return True

    async def _send(
        self,
        order: SmartOrder,
        client_order_id: str,
        order_type: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
    ) -> BrokerOrder:
        broker = self._broker
        if order_type is OrderType.MARKET:
            return await self._retrier.call(
                "place_market",
                lambda: broker.place_market(
                    client_order_id=client_order_id,
                    symbol=order.symbol,
                    side=order.side,
                    quantity=quantity,
                    time_in_force=TimeInForce.DAY,
                ),
            )
        assert limit_price is not None
        return await self._retrier.call(
            "place_limit",
            lambda: broker.place_limit(
                client_order_id=client_order_id,
                symbol=order.symbol,
                side=order.side,
                quantity=quantity,
                limit_price=limit_price,
                time_in_force=TimeInForce.DAY,
            ),
        )

    def record_placed(self, order: SmartOrder, client_order_id: str, answer: BrokerOrder) -> None:
        """Record the broker's acceptance of a placement."""
        order.record_placed(
            client_order_id,
            broker_order_id=answer.broker_order_id,
            broker_status=answer.status.value,
            occurred_at=self._clock.now(),
        )
        self._ledger.save_order(order)

    def _reject(self, order: SmartOrder, client_order_id: str, code: str, reason: str) -> None:
        now = self._clock.now()
        order.record_placement_rejected(client_order_id, error_code=code, reason=reason, occurred_at=now)
        order.fail(f"placement rejected: {reason}", occurred_at=now)
        self._ledger.save_order(order)
        log.warning("placement_rejected", client_order_id=client_order_id, code=code)

    async def cancel(self, order: SmartOrder, reason: str) -> BrokerOrder | None:
        """Cancel the working broker order; returns the broker's view, None if refused."""
        order.request_cancel(reason, occurred_at=self._clock.now())
        self._ledger.save_order(order)
        return await self.send_cancel(order)

    async def send_cancel(self, order: SmartOrder) -> BrokerOrder | None:
        """Send the cancel already recorded as requested (again, after a restart)."""
        assert order.cancel_pending_for is not None
        broker_order_id = order.placements[order.cancel_pending_for].broker_order_id
        assert broker_order_id is not None
        try:
            return await self._retrier.call("cancel", lambda: self._broker.cancel(broker_order_id))
        except (CancelRejected, BrokerOrderNotFound) as refusal:
            log.info("cancel_refused", broker_order_id=broker_order_id, reason=str(refusal))
            return None

    async def find(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's view of a client order id, or None if it never arrived."""
        try:
            return await self._retrier.call(
                "get_by_client_order_id",
                lambda: self._broker.get_by_client_order_id(client_order_id),
            )
        except BrokerUnavailable as error:
            log.warning("broker_lookup_failed", client_order_id=client_order_id, error=str(error))
            return None
