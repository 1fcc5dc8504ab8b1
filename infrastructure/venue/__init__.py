"""The simulated venue: quote tapes, virtual time, and a Broker + MarketData on them."""

from execledger.infrastructure.errors import ClockStalledError, QueueClosedError
from execledger.infrastructure.venue.clock import VirtualClock, WallClock, seconds_to_timedelta
from execledger.infrastructure.venue.clock_queue import ClockQueue
from execledger.infrastructure.venue.simulated import SimulatedVenue, broker_order_id_for
from execledger.infrastructure.venue.synthetic import default_start_price, synthetic_tape
from execledger.infrastructure.venue.tape import TAPE_HEADER, load_tape, parse_tape

__all__ = [
    "TAPE_HEADER",
    "ClockQueue",
    "ClockStalledError",
    "QueueClosedError",
    "SimulatedVenue",
    "VirtualClock",
    "WallClock",
    "broker_order_id_for",
    "default_start_price",
    "load_tape",
    "parse_tape",
    "seconds_to_timedelta",
    "synthetic_tape",
]
