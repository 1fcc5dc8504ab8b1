"""Identifiers, each its own type, and the deterministic rules that derive them."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import NewType
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

OrderId = NewType("OrderId", UUID)
ClientOrderId = NewType("ClientOrderId", str)
BrokerOrderId = NewType("BrokerOrderId", str)
ExecutionId = NewType("ExecutionId", str)
CorrelationId = NewType("CorrelationId", str)
IdempotencyKey = NewType("IdempotencyKey", str)

#: Namespace of every smart order id; fixed forever, since ids derive from it.
ORDER_NAMESPACE = UUID("7d1f3c52-5b0e-4f0a-9a57-0c3c1e8f6b21")

#: The exchange's time zone: a session's business date is its trading day there.
EXCHANGE_TIME_ZONE = ZoneInfo("America/New_York")

#: Brokers (Alpaca included) accept client order ids of at most this many characters.
MAX_CLIENT_ORDER_ID_LENGTH = 128


def order_id_for(account: str, idempotency_key: str) -> OrderId:
    """The smart order id: a uuid5 of the account and the idempotency key."""
    return OrderId(uuid5(ORDER_NAMESPACE, f"{account}\x1f{idempotency_key}"))


def client_order_id_for(order_id: UUID, placement_number: int) -> ClientOrderId:
    """The client order id of the n-th placement of an order (n from 1)."""
    if placement_number < 1:
        raise ValueError("placement_number must be at least 1")
    value = f"{order_id}-{placement_number}"
    assert len(value) <= MAX_CLIENT_ORDER_ID_LENGTH
    return ClientOrderId(value)


def request_digest(fields: dict[str, str]) -> str:
    """A short, stable digest of a request's fields (all given as strings)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def business_date(moment: datetime) -> date:
    """The trading day ``moment`` (aware) falls on, in the exchange's time zone."""
    if moment.tzinfo is None:
        raise ValueError("business_date needs an aware datetime")
    return moment.astimezone(EXCHANGE_TIME_ZONE).date()
