"""Transcodings the default JSON transcoder lacks: our enums, so they round-trip exactly."""

from __future__ import annotations

from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding
from execledger.domain.types import OrderType, QuoteSource, Side, TimeInForce, Urgency

LEDGER_ENUMS: tuple[type[Enum], ...] = (Side, Urgency, OrderType, TimeInForce, QuoteSource)


class EnumAsValue(Transcoding):
    """Encodes one enum class as its member's value.

    The stored name is part of the wire format, so it must not follow the module path:
    ``enum_Side`` today, and ``enum_domain.types.Side`` (the module path of version 0.1,
    read but no longer written) through :func:`legacy_name`.
    """

    def __init__(self, enum_class: type[Enum], name: str | None = None) -> None:
        self.type = enum_class
        self.name = name or f"enum_{enum_class.__qualname__}"

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        return self.type(data)


def legacy_name(enum_class: type[Enum]) -> str:
    """The name version 0.1 stored: the enum's module path before the move under ``execledger``."""
    module = enum_class.__module__.removeprefix("execledger.")
    return f"enum_{module}.{enum_class.__qualname__}"


def register_ledger_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every ledger enum on the application's transcoder (the legacy names first,
    so that encoding uses today's name)."""
    for enum_class in LEDGER_ENUMS:
        transcoder.register(EnumAsValue(enum_class, legacy_name(enum_class)))
        transcoder.register(EnumAsValue(enum_class))
