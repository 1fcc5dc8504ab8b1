"""The Alpaca venues (``alpaca-paper``, ``alpaca-live``) for ``register_venue``: settings
checked when the batch is prepared (before anything is written or sent), ports on the
wall clock, and a reconciliation with Alpaca before every session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog
from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.alpaca.connection import AlpacaAdapters, connect
from execledger.infrastructure.alpaca.quote_cache import StreamedQuotes
from execledger.infrastructure.alpaca.settings import AlpacaEnvironment, AlpacaSettings
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.engine.reconciliation import reconcile
from execledger.infrastructure.leases import OrderLeases
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import Venue
from execledger.infrastructure.venue import WallClock

log = structlog.get_logger(__name__)

__all__ = ["AlpacaEnvironment", "PreparedAlpaca", "alpaca_adapters", "prepare_alpaca"]


def alpaca_adapters(environment: AlpacaEnvironment, config: ExecutionConfig) -> AlpacaAdapters:
    """The Alpaca adapters from the environment's settings, with the config's timeouts;
    AlpacaSettingsError (naming the variable) when a key is missing, live is not allowed
    or Alpaca refuses the keys."""
    adapters = connect(
        AlpacaSettings(),
        environment,
        timeout_seconds=config.broker_timeout_seconds,
        cancel_confirm_seconds=config.cancel_confirm_timeout_seconds,
    )
    adapters.confirm_keys()
    return adapters


@dataclass(frozen=True)
class PreparedAlpaca:
    """A batch's Alpaca venue: adapters built (no connection yet) for its symbols."""

    adapters: AlpacaAdapters
    symbols: tuple[str, ...]

    @contextmanager
    def open(self, resume_at: datetime | None) -> Iterator[Venue]:
        """Streamed quotes of the batch's symbols first, REST as the fallback; wall clock."""
        yield Venue(
            broker=self.adapters.broker,
            market_data=StreamedQuotes(self.adapters.market_data, self.symbols),
            assets=self.adapters.assets,
            clock=WallClock(),
            rest_market_data=self.adapters.market_data,
        )

    async def reconcile(self, ledger: Ledger, venue: Venue, leases: OrderLeases | None) -> None:
        """Ask Alpaca about every client order id the ledger sent for its open orders
        (those another process holds the lease of are left to it)."""
        report = await reconcile(ledger, self.adapters.broker, venue.clock, leases)
        if report.appended or report.unresolved or report.unknown_at_broker or report.held:
            log.warning(
                "reconciled_before_execute",
                appended=report.appended,
                unresolved=report.unresolved,
                unknown_at_broker=report.unknown_at_broker,
                held=report.held,
            )


def prepare_alpaca(environment: AlpacaEnvironment, batch: Batch) -> PreparedAlpaca:
    """The batch's venue at Alpaca ``environment`` (``alpaca-paper``/``alpaca-live``)."""
    return PreparedAlpaca(alpaca_adapters(environment, batch.config), tuple(batch.symbols))
