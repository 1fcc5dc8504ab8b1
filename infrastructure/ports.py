"""The ports the engine talks through: Broker, MarketData, Clock, AssetDirectory (typing.Protocol),
and Venue, the set of them one session works through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypedDict, TypeVar, Unpack

from execledger.domain.types import OrderType, Quote, Side, TimeInForce
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class BrokerOrderStatus(StrEnum):
    """A broker order's state as the venue reports it."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"  # cancel received, not final: the order can still fill
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"


class BrokerOrder(BaseModel):
    """A broker order as the venue knows it."""

    model_config = ConfigDict(frozen=True)

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    time_in_force: TimeInForce
    status: BrokerOrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None


class Execution(BaseModel):
    """One fill reported by the venue."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    client_order_id: str
    broker_order_id: str
    quantity: Decimal
    price: Decimal
    executed_at: datetime


class OrderUpdate(BaseModel):
    """A push from the venue: the order's new state, and the execution if it was a fill."""

    model_config = ConfigDict(frozen=True)

    order: BrokerOrder
    execution: Execution | None = None
    at: datetime


class PlacementFields(TypedDict):
    """What every placement sends, whatever its type. The Broker's ``place_limit`` and
    ``place_market`` take it as keywords (``**order``): declared once here, not in each
    implementation, while callers (and the fakes the tests wrap) keep keyword calls."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    time_in_force: TimeInForce


class Broker(Protocol):
    """Where broker orders go. Every method may raise BrokerError subclasses."""

    async def place_limit(self, *, limit_price: Decimal, **order: Unpack[PlacementFields]) -> BrokerOrder: ...

    async def place_market(self, **order: Unpack[PlacementFields]) -> BrokerOrder: ...

    async def cancel(self, broker_order_id: str) -> BrokerOrder: ...

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        """The broker order, or None only when the broker says definitely "not found";
        a lookup that failed raises (TransientBrokerError): unknown is not "not found"."""
        ...

    def order_updates(self) -> AsyncIterator[OrderUpdate]: ...


class MarketData(Protocol):
    """Where quotes come from."""

    async def latest_quote(self, symbol: str) -> Quote | None: ...


class Clock(Protocol):
    """Business time: wall-clock in production, virtual in simulation.

    The engine starts its tasks with ``spawn`` and waits for them with ``run``, so it runs
    unchanged on either: a virtual clock moves time when every task waits on it.
    """

    def now(self) -> datetime: ...

    async def sleep(self, seconds: Decimal) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Start ``coro`` as a task whose waits the clock knows of."""
        ...

    async def run(self, tasks: Iterable[asyncio.Task[Any]], *, until: datetime | None = None) -> None:
        """Wait until every task is done; ``ClockStalledError`` when they cannot finish
        (or are still running at ``until``). Results and exceptions stay with the tasks."""
        ...


class Asset(BaseModel):
    """What preflight needs to know about a symbol."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    tradable: bool
    fractionable: bool


class AssetDirectory(Protocol):
    """Where asset facts come from (the broker's asset list, or the simulated venue)."""

    async def asset(self, symbol: str) -> Asset: ...


@dataclass(frozen=True)
class Venue:
    """The ports one session works through.

    ``rest_market_data`` is the fallback asked when a streamed quote is missing, invalid
    or suspicious (docs/policy.md); ``session_end`` is when working orders are canceled.
    """

    broker: Broker
    market_data: MarketData
    assets: AssetDirectory
    clock: Clock
    rest_market_data: MarketData | None = None
    session_end: datetime | None = None
