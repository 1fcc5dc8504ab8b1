"""VenueFaults: the switches that make the simulated venue as unkind as a real broker.

Every switch defaults to the kind behaviour, so ``VenueFaults()`` is the old venue.
Counts are per broker order (or per client order id), so a schedule is deterministic
whatever order the engine's tasks run in. Times are seconds from the tape's start.
docs/venue.md describes each switch and the real-broker behaviour it stands for.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.infrastructure.errors import InfrastructureError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class VenueFaultsError(InfrastructureError):
    """A venue-faults file could not be read or failed validation; the message names the field."""


class QuietSpell(BaseModel):
    """A time the quote feed says nothing: from ``start`` for ``seconds`` (from tape start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Decimal = Field(ge=0)
    seconds: Decimal = Field(gt=0)


class VenueFaults(BaseModel):
    """How unkind the simulated venue is. The defaults are the kind venue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Cancels are answered ``pending_cancel`` and settle (canceled) this much later;
    #: meanwhile the order still matches, so fills race the cancel. 0: final at once.
    cancel_delay_seconds: Decimal = Field(Decimal(0), ge=0)
    #: The first N cancel requests of every broker order are refused although it is open.
    refused_cancels: int = Field(0, ge=0)
    #: The first N lookups of every client order id fail transiently (503).
    failed_lookups: int = Field(0, ge=0)
    #: The answers to the first N placement requests of the session are lost (the order
    #: is placed; the engine sees a connection reset).
    lost_placement_answers: int = Field(0, ge=0)
    #: False (as Alpaca): a new order-update subscription gets live updates only, not
    #: the backlog since the session began.
    replay_backlog: bool = True
    #: Times (seconds from tape start) at which the order-update stream drops: every
    #: subscription ends and updates until the next subscription are not delivered.
    stream_drops: tuple[Decimal, ...] = ()
    #: Spells in which the quote feed is quiet: the latest quote is the last one from before
    #: the spell, stamped no later than its start (so it goes stale).
    quiet_quotes: tuple[QuietSpell, ...] = ()

    @field_validator("cancel_delay_seconds", mode="before")
    @classmethod
    def _no_float_noise(cls, value: Any) -> Any:
        return Decimal(str(value)) if isinstance(value, float) else value

    @field_validator("stream_drops", mode="before")
    @classmethod
    def _drops_as_decimals(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(Decimal(str(item)) if isinstance(item, float) else item for item in value)
        return value

    @model_validator(mode="after")
    def _drops_not_negative(self) -> VenueFaults:
        if any(drop < 0 for drop in self.stream_drops):
            raise ValueError("stream_drops: times must not be negative")
        return self

    @property
    def is_kind(self) -> bool:
        """Whether every switch is at its kind default."""
        return self == VenueFaults()


def load_venue_faults(path: Path) -> VenueFaults:
    """Read a venue-faults file (JSON); VenueFaultsError names the field at fault."""
    try:
        return VenueFaults.model_validate_json(path.read_bytes())
    except OSError as error:
        raise VenueFaultsError(f"venue faults {path}: {error.strerror}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise VenueFaultsError(f"venue faults {path}: {where}: {first['msg']}") from error
