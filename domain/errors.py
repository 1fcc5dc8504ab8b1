"""The domain's exceptions: one root, narrow kinds."""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error the domain raises."""


class IllegalTransition(DomainError):
    """A command does not apply in the order's current state; nothing was recorded."""

    def __init__(self, command: str, status: str, detail: str = "") -> None:
        self.command = command
        self.status = status
        message = f"cannot {command} an order that is {status}"
        super().__init__(f"{message}: {detail}" if detail else message)


class Overfill(DomainError):
    """A fill would take the filled quantity past the requested quantity."""


class BrokerOrderOverfill(Overfill):
    """A fill would take one broker order past the quantity that broker order asked for."""


class UnknownPlacement(DomainError):
    """An update names a client order id this order never sent."""


class IdempotencyConflict(DomainError):
    """An idempotency key already names an order that asks for something else."""


class InvalidConfig(DomainError):
    """An execution config failed validation; the message names the field."""


class InvalidQuote(DomainError):
    """A quote cannot be priced; the reasons say why."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))
