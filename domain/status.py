"""OrderStatus: where a smart order stands."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """The smart order's status. The last four are terminal."""

    NEW = "new"  # requested, not yet through preflight
    ACCEPTED = "accepted"  # through preflight; no broker order working
    PENDING_NEW = "pending_new"  # placement requested, broker has not answered
    WORKING = "working"  # a broker order is working, nothing filled on it yet
    PARTIALLY_FILLED = "partially_filled"  # working, some quantity filled
    PENDING_CANCEL = "pending_cancel"  # cancel requested, broker has not answered
    CANCELED = "canceled"  # the broker order is canceled; the smart order is not done
    FILLED = "filled"  # the whole quantity is filled; completion follows
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"
    DENIED = "denied"

    @property
    def is_terminal(self) -> bool:
        """True for completed, expired, failed and denied."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.EXPIRED, OrderStatus.FAILED, OrderStatus.DENIED}
)
#: Statuses in which a broker order is working and can be canceled or re-pegged.
LIVE_STATUSES = frozenset({OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED})
#: Statuses in which no broker order is working and a new placement may go out.
IDLE_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELED})
