"""Running a batch on a hand-written tape, and reading back what it recorded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.order_events import OrderEvent
from execledger.domain.requests import OrderRequest
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.engine.session import SessionResult
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.use_cases import work_batch
from execledger.infrastructure.venue import load_tape

TAPES = Path(__file__).parent.parent / "fixtures" / "tapes"


def request(symbol: str, side: str, quantity: str, **fields: Any) -> OrderRequest:
    """An order request with a fixed correlation id."""
    return OrderRequest(
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        correlation_id=fields.pop("correlation_id", "scenario"),
        **fields,
    )


def run_batch(
    ledger: Ledger,
    tape: str,
    requests: Sequence[OrderRequest],
    *,
    config: ExecutionConfig | None = None,
    not_fractionable: Iterable[str] = (),
    not_tradable: Iterable[str] = (),
) -> SessionResult:
    """Work ``requests`` on the named tape until every order is terminal."""
    batch = Batch(
        tuple(requests),
        config or ExecutionConfig(),
        seed=0,
        tape=tuple(load_tape(TAPES / tape)),
        not_tradable=frozenset(not_tradable),
        not_fractionable=frozenset(not_fractionable),
    )
    return work_batch(ledger, batch)


@dataclass(frozen=True)
class Step:
    """One recorded event, reduced to what a scenario asserts on."""

    type: str
    fields: dict[str, str]


def steps(ledger: Ledger, order: SmartOrder, *names: str) -> list[Step]:
    """The order's events with the named fields as strings (enum values, not reprs)."""
    return [_step(event, names) for event in ledger.events_of(order.id)]


def _step(event: OrderEvent, names: tuple[str, ...]) -> Step:
    values = vars(event)
    shown = {n: str(getattr(values[n], "value", values[n])) for n in names if n in values}
    return Step(type(event).__name__, shown)


def types(ledger: Ledger, order: SmartOrder) -> list[str]:
    """The order's event type names, in order."""
    return [type(event).__name__ for event in ledger.events_of(order.id)]
