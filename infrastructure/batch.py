"""A batch to work: the orders, the policy's config, and the venue (by name) to work them at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from execledger.domain.config import ExecutionConfig
from execledger.domain.requests import OrderRequest
from execledger.domain.types import Quote
from execledger.infrastructure.config_file import load_execution_config
from execledger.infrastructure.orders_file import load_orders
from execledger.infrastructure.venue import load_tape

#: The venue a batch goes to unless it names another.
DEFAULT_VENUE = "sim"


@dataclass(frozen=True)
class Batch:
    """The input of ``execute_batch``.

    ``venue`` names a registered venue (``bootstrap.venue_names()``). The simulated venue
    replays ``tape`` (by default a synthetic tape drawn from ``seed`` for the batch's
    symbols) and treats the listed symbols as not tradable / not fractionable; other
    venues ignore those. ``source`` names the batch in input errors (the orders file).
    """

    requests: tuple[OrderRequest, ...]
    config: ExecutionConfig = field(default_factory=ExecutionConfig)
    venue: str = DEFAULT_VENUE
    seed: int = 1
    tape: tuple[Quote, ...] | None = None
    not_tradable: frozenset[str] = frozenset()
    not_fractionable: frozenset[str] = frozenset()
    source: str = "batch"

    @property
    def symbols(self) -> list[str]:
        """The batch's symbols, sorted."""
        return sorted({request.symbol for request in self.requests})


def load_batch(
    orders_file: Path,
    *,
    venue: str = DEFAULT_VENUE,
    tape_file: Path | None = None,
    config_file: Path | None = None,
    seed: int = 1,
) -> Batch:
    """A batch read from files, every one validated before anything is written."""
    config = load_execution_config(config_file) if config_file else ExecutionConfig()
    requests = load_orders(orders_file)
    tape = tuple(load_tape(tape_file)) if tape_file else None
    return Batch(tuple(requests), config, venue, seed, tape, source=str(orders_file))
