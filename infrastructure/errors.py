"""Infrastructure exceptions: one root, caught at the CLI edge."""

from __future__ import annotations


class InfrastructureError(Exception):
    """Root of every infrastructure error."""


class DatabaseUrlError(InfrastructureError):
    """The database URL is malformed or names an unsupported scheme."""


class DatabaseUnavailable(InfrastructureError):
    """The database cannot be reached or opened."""


class BrokerError(InfrastructureError):
    """A broker call failed."""


class TransientBrokerError(BrokerError):
    """A broker call failed in a way worth retrying (timeout, 429, 5xx, connection)."""


class OrderRejected(BrokerError):
    """The broker refused a placement; ``code`` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


class CancelRejected(BrokerError):
    """The broker refused a cancel (typically: the order already filled)."""


class BrokerOrderNotFound(BrokerError):
    """The broker does not know the order."""


class MarketDataError(InfrastructureError):
    """A market-data call failed."""


class TapeError(InfrastructureError):
    """A quote tape is malformed; the message names the line and the field."""


class OrdersFileError(InfrastructureError):
    """An orders file is malformed; the message names the row and the field."""


def is_missing_table(error: BaseException) -> bool:
    """Whether a database error says a table does not exist (SQLite or PostgreSQL):
    a ledger or a seal table that was never created, not a database that failed."""
    text = str(error)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class UnknownVenue(InfrastructureError):
    """No venue is registered under the name asked for."""


class ClockStalledError(InfrastructureError):
    """Time cannot move on: a deadlock, a participant busy on real time, or tasks still
    running at the deadline they were given."""


class OrderNotFound(InfrastructureError):
    """No order has the given id."""


class ConcurrentUpdate(InfrastructureError):
    """Another writer appended to the order first; reload it and decide again."""


class BadArgument(InfrastructureError):
    """A command-line value that cannot be used (one line, exit 2)."""


class BrokerUnavailable(BrokerError):
    """A call still failed transiently after every retry; its outcome is unknown."""


class QueueClosedError(InfrastructureError):
    """A ``ClockQueue`` was closed and is empty."""


class LeaseLost(InfrastructureError):
    """This process could not renew its leases in time: another may work its orders now."""


class AuditKeyError(InfrastructureError):
    """The audit key is missing where required, unreadable or too short."""


class CheckpointFileError(InfrastructureError):
    """A checkpoint file cannot be read or written."""


class LedgerNotFound(InfrastructureError):
    """A read-only command named a ledger that does not exist (no file, no tables)."""


class InputFileError(InfrastructureError):
    """A file from outside cannot be read or parsed; the message names the file."""


class SettingsError(InfrastructureError):
    """A setting from the environment or a global option is invalid; names which."""
