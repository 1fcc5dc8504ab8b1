"""Alpaca's wire shapes: orders, assets, positions and errors as Alpaca sends them
(numbers as strings, lower-case enums, ISO-8601 UTC timestamps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from execledger.infrastructure.venue.matching import WorkingOrder

ASSET_NAMESPACE = uuid5(NAMESPACE_URL, "execledger:fake-alpaca-asset")


def iso(moment: datetime) -> str:
    """Alpaca's timestamp form: UTC with a trailing Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(number: Decimal) -> str:
    """A number as Alpaca writes it: no trailing zeros, no exponent ("10", "100.1")."""
    return format(number.normalize(), "f")


def asset_id(symbol: str) -> str:
    return str(uuid5(ASSET_NAMESPACE, symbol))


def error(code: int, message: str) -> dict[str, Any]:
    """Alpaca's error body."""
    return {"code": code, "message": message}


@dataclass(eq=False)
class AlpacaOrder:
    """A fake broker order: the venue's working order plus Alpaca's bookkeeping."""

    working: WorkingOrder
    created_at: datetime
    updated_at: datetime
    replaces: str | None = None
    replaced_by: str | None = None
    status: str | None = None  # overrides working.status for pending_* and replaced states
    canceled_at: datetime | None = None
    filled_at: datetime | None = None
    executions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        return self.status or self.working.status.value

    def to_json(self) -> dict[str, Any]:
        order = self.working
        kind = order.order_type.value.lower()
        average = order.notional / order.filled if order.filled else None
        return {
            "id": order.broker_order_id,
            "client_order_id": order.client_order_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "submitted_at": iso(self.created_at),
            "filled_at": iso(self.filled_at) if self.filled_at else None,
            "expired_at": None,
            "canceled_at": iso(self.canceled_at) if self.canceled_at else None,
            "failed_at": None,
            "replaced_at": iso(self.updated_at) if self.replaced_by else None,
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": asset_id(order.symbol),
            "symbol": order.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": plain(order.quantity),
            "filled_qty": plain(order.filled),
            "filled_avg_price": None if average is None else plain(average),
            "order_class": "",
            "order_type": kind,
            "type": kind,
            "side": order.side.value.lower(),
            "time_in_force": order.time_in_force.value.lower(),
            "limit_price": None if order.limit_price is None else plain(order.limit_price),
            "stop_price": None,
            "status": self.status_text,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }


def asset(symbol: str, *, tradable: bool, fractionable: bool) -> dict[str, Any]:
    return {
        "id": asset_id(symbol),
        "class": "us_equity",
        "exchange": "NASDAQ",
        "symbol": symbol,
        "name": f"{symbol} Inc.",
        "status": "active",
        "tradable": tradable,
        "marginable": True,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": fractionable,
    }


def position(symbol: str, quantity: Decimal, average_price: Decimal) -> dict[str, Any]:
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "avg_entry_price": plain(average_price),
        "qty": plain(abs(quantity)),
        "qty_available": plain(abs(quantity)),
        "side": "long" if quantity >= 0 else "short",
        "cost_basis": plain(abs(quantity) * average_price),
    }


def account() -> dict[str, Any]:
    return {
        "id": "00000000-0000-4000-8000-000000000001",
        "account_number": "PA0FAKE",
        "status": "ACTIVE",
        "currency": "USD",
        "cash": "100000",
        "buying_power": "400000",
        "portfolio_value": "100000",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
    }
