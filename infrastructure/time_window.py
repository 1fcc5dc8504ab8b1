"""``--from`` / ``--to`` options: ISO 8601 instants (UTC when no offset is given)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from execledger.infrastructure.errors import BadArgument


@dataclass(frozen=True)
class TimeWindow:
    """[start, end): either side open when not given."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)

    def as_json(self) -> dict[str, str | None]:
        return {
            "from": None if self.start is None else self.start.isoformat(),
            "to": None if self.end is None else self.end.isoformat(),
        }


def parse_instant(text: str, option: str) -> datetime:
    """``text`` as an aware datetime; a bad value raises BadArgument naming ``option``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(f"{option}: not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def time_window(start: str | None, end: str | None) -> TimeWindow:
    """The window ``--from start --to end``; an inverted one is refused."""
    window = TimeWindow(
        None if start is None else parse_instant(start, "--from"),
        None if end is None else parse_instant(end, "--to"),
    )
    if window.start is not None and window.end is not None and window.end <= window.start:
        raise BadArgument(f"--to: {end} is not after --from {start}")
    return window
