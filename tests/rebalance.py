"""A rebalance-sized batch for the scale tests and the benchmark: many symbols, mixed sizes."""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path

from execledger.domain.requests import OrderRequest
from execledger.domain.types import Side, Urgency

SIZES = (5, 10, 25, 50, 100, 250, 800, 2500)
URGENCIES = ("NORMAL", "NORMAL", "LOW", "HIGH")


def rebalance_rows(count: int, *, symbols: int = 50, seed: int = 11) -> list[dict[str, str]]:
    """``count`` order rows over ``symbols`` synthetic symbols (S000, S001, ...), from ``seed``."""
    rng = random.Random(seed)
    names = [f"S{number:03d}" for number in range(symbols)]
    return [
        {
            "symbol": rng.choice(names),
            "side": rng.choice(("BUY", "SELL")),
            "quantity": str(rng.choice(SIZES)),
            "urgency": rng.choice(URGENCIES),
            "idempotency_key": f"rebalance-{seed}-{number}",
        }
        for number in range(count)
    ]


def rebalance_requests(count: int, *, symbols: int = 50, seed: int = 11) -> list[OrderRequest]:
    """The rows as requests (what ``execute`` would submit for the file)."""
    return [
        OrderRequest(
            symbol=row["symbol"],
            side=Side(row["side"]),
            quantity=Decimal(row["quantity"]),
            urgency=Urgency(row["urgency"]),
            correlation_id=f"rebalance-{seed}",
            idempotency_key=row["idempotency_key"],
        )
        for row in rebalance_rows(count, symbols=symbols, seed=seed)
    ]


def write_rebalance_file(path: Path, count: int, *, symbols: int = 50, seed: int = 11) -> Path:
    """The rows as an orders CSV for ``execute``."""
    rows = rebalance_rows(count, symbols=symbols, seed=seed)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
