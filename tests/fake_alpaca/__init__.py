"""A fake Alpaca (REST + trade-updates and market-data WebSockets) on 127.0.0.1 for tests.

The real alpaca-py clients talk to it over loopback sockets; it matches orders with the
simulated venue's rules (``execledger.infrastructure.venue.matching``) and injects faults
on demand (``Fault``).
"""

from tests.fake_alpaca.book import FakeBook
from tests.fake_alpaca.faults import Fault, Faults
from tests.fake_alpaca.server import FakeAlpaca

__all__ = ["FakeAlpaca", "FakeBook", "Fault", "Faults"]
