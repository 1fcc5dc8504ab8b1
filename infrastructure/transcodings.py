"""Transcodings the default JSON transcoder lacks: our enums, so they round-trip exactly."""

from __future__ import annotations

from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.types import OrderType, QuoteSource, Side, TimeInForce, Urgency

LEDGER_ENUMS: tuple[type[Enum], ...] = (Side, Urgency, OrderType, TimeInForce, QuoteSource)


class EnumAsValue(Transcoding):
    """Encodes one enum class as its member's value."""

    def __init__(self, enum_class: type[Enum]) -> None:
        self.type = enum_class
        self.name = f"enum_{enum_class.__module__}.{enum_class.__qualname__}"

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        return self.type(data)


def register_ledger_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every ledger enum on the application's transcoder."""
    for enum_class in LEDGER_ENUMS:
        transcoder.register(EnumAsValue(enum_class))
