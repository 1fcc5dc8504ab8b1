"""Placement steps: decide what to place next (the decided price, a fresh price from a
quote, or market after an escalation), record the intent, send it, record the answer.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from execledger.domain.errors import InvalidQuote
from execledger.domain.preflight import no_quote_action, remaining_too_small
from execledger.domain.pricing import price_order
from execledger.domain.quotes import QuoteChoice
from execledger.domain.refused_quotes import PRICING, refused_entry
from execledger.domain.types import OrderType, TimeInForce
from execledger.infrastructure.engine.broker_calls import BrokerUnavailable
from execledger.infrastructure.engine.lookups import LookupSteps
from execledger.infrastructure.engine.quoting import reference_price
from execledger.infrastructure.errors import OrderRejected

log = structlog.get_logger(__name__)


class PlacementSteps(LookupSteps):
    """The worker's placement steps."""

    async def _place_next(self) -> None:
        order = self.order
        if order.escalated:
            await self._place(OrderType.MARKET, None)
            return
        if order.filled_quantity > 0 and self._too_small():
            self._finish_complete("remaining quantity too small to trade")
            return
        if order.decided_price is not None:
            await self._place(OrderType.LIMIT, order.decided_price)
            return
        choice = await self._quote()
        if choice is None:
            await self._no_quote()
            return
        try:
            decision = price_order(order.side, order.remaining_quantity, choice.quote, order.config)
        except InvalidQuote as error:
            log.warning("quote_unpriceable", reasons=error.reasons)
            quote = choice.quote
            self._refused_quotes = [
                refused_entry(1, quote.source, self._now(), quote, error.reasons, PRICING)
            ]
            await self._no_quote()
            return
        order.price(
            decision.limit_price,
            method=decision.method,
            tick=decision.tick,
            metadata=decision.metadata,
            occurred_at=self._now(),
        )
        await self._place(OrderType.LIMIT, decision.limit_price)

    async def _no_quote(self) -> None:
        """No usable quote: HIGH goes to market, else the order fails; either way the
        quotes refused on the way are recorded (``_quote`` gathered them)."""
        order, now, refused = self.order, self._now(), self._refused_quotes
        attempts = order.config.quote_retry_attempts
        if no_quote_action(order.urgency) == "market":
            order.escalate(
                f"no valid quote after {attempts} attempts; urgency HIGH goes to market",
                occurred_at=now,
                refused_quotes=refused,
            )
            self._save()
            await self._place(OrderType.MARKET, None)
        else:
            order.fail(
                f"no valid quote after {attempts} attempts (urgency {order.urgency.value})",
                occurred_at=now,
                refused_quotes=refused,
            )
            self._save()

    async def _place(self, order_type: OrderType, limit_price: Decimal | None) -> None:
        """Record the intent, send it, record the answer. No answer: look it up later."""
        order = self.order
        client_order_id = order.request_placement(
            order_type=order_type,
            quantity=order.remaining_quantity,
            limit_price=limit_price,
            time_in_force=TimeInForce.DAY,
            occurred_at=self._now(),
        )
        self._save()
        placement = order.placements[client_order_id]
        log.info(
            "placement_requested",
            client_order_id=client_order_id,
            order_type=order_type.value,
            quantity=str(placement.quantity),
            limit_price=str(limit_price) if limit_price is not None else None,
        )
        try:
            answer = await self._ctx.calls.place(order, placement)
        except OrderRejected as rejection:
            now = self._now()
            order.record_placement_rejected(
                client_order_id, error_code=rejection.code, reason=str(rejection), occurred_at=now
            )
            order.fail(f"placement rejected: {rejection}", occurred_at=now)
            self._save()
            log.warning("placement_rejected", client_order_id=client_order_id, code=rejection.code)
            return
        except BrokerUnavailable as error:
            log.warning("placement_unanswered", client_order_id=client_order_id, error=str(error))
            self.needs_lookup = True  # it may be at the broker: never send it twice
            return
        await self._hear_the_stream()
        self._apply_broker_view(client_order_id, answer)
        self._save()

    async def _quote(self) -> QuoteChoice | None:
        """A usable quote, recorded; None when there is none (the quotes refused on the
        way are kept in ``_refused_quotes`` for the no-quote decision)."""
        order = self.order
        self._refused_quotes = []
        choice = await self._ctx.quotes.choose(order.symbol, order.config, self._refused_quotes)
        if choice is not None:
            order.record_quote(
                choice.quote,
                suspicion_reasons=list(choice.suspicion_reasons),
                fallback_used=choice.fallback_used,
                occurred_at=self._now(),
            )
        return choice

    def _too_small(self) -> bool:
        """Whether the remainder is below the tradable minimum, judged at the last mid."""
        order = self.order
        quote = order.last_quote
        mid = (quote["bid"] + quote["ask"]) / 2 if quote is not None else None
        price = reference_price(mid, order.limit_price)
        if price is None or order.fractionable is None:
            return False
        return remaining_too_small(
            order.remaining_quantity, price, fractionable=order.fractionable, config=order.config
        )

    def _finish_complete(self, reason: str) -> None:
        self.order.complete(reason, occurred_at=self._now())
        self._save()
