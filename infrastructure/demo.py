"""The demo rebalance: reproducible orders over a few symbols, and their starting prices."""

from __future__ import annotations

import random
from decimal import Decimal

from execledger.domain.requests import OrderRequest

#: The demo's symbols and the prices their synthetic tapes start from.
DEMO_PRICES = {
    "AAPL": Decimal("190.00"),
    "MSFT": Decimal("410.00"),
    "NVDA": Decimal("120.00"),
    "AMZN": Decimal("180.00"),
    "SPY": Decimal("560.00"),
    "F": Decimal("11.50"),
    "SNDL": Decimal("0.8500"),
}


def demo_requests(count: int, seed: int) -> list[OrderRequest]:
    """A reproducible rebalance: symbols, sides and sizes drawn from ``seed``."""
    rng = random.Random(seed)
    symbols = sorted(DEMO_PRICES)
    requests = []
    for number in range(1, count + 1):
        symbol = rng.choice(symbols)
        quantity = Decimal(rng.choice([5, 10, 25, 50, 100, 250, 800, 2500, 6000]))
        if symbol == "SNDL":
            quantity *= 10
        requests.append(
            OrderRequest(
                symbol=symbol,
                side=rng.choice(["BUY", "SELL"]),
                quantity=quantity,
                urgency=rng.choice(["NORMAL", "NORMAL", "LOW", "HIGH"]),
                correlation_id=f"demo-{seed}",
                idempotency_key=f"demo-{seed}-{count}-{number}",
            )
        )
    return requests
