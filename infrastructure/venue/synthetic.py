"""A seeded synthetic quote tape: a random walk of the mid, with a spread and displayed sizes.

Everything is Decimal and every random draw is an integer, so a seed gives the same tape
on every machine. Each symbol walks on its own ``random.Random`` seeded from the seed and
the symbol, so adding a symbol does not change the others' paths.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from execledger.domain.ticks import tick_for
from execledger.domain.types import Quote, QuoteSource

SUB_PENNY = Decimal("0.0001")
#: The walk never takes the mid below this price.
MIN_MID = Decimal("0.0100")
_MID_PLACES = Decimal("0.00000001")
_BPS = Decimal("10000")
_DRAW_STEPS = 1000


def default_start_price(symbol: str, seed: int) -> Decimal:
    """A start price between $10.00 and $500.00 derived from the symbol and the seed."""
    rng = random.Random(f"start/{seed}/{symbol}")
    return Decimal(rng.randint(1_000, 50_000)) / 100


def synthetic_tape(
    symbols: Sequence[str],
    *,
    seed: int,
    start: datetime,
    duration_seconds: int = 1800,
    interval_seconds: Decimal = Decimal("1"),
    spread_bps: Decimal = Decimal("5"),
    volatility_bps: Decimal = Decimal("2"),
    start_prices: Mapping[str, Decimal] | None = None,
    min_size: int = 100,
    max_size: int = 2000,
    size_lot: int = 100,
) -> list[Quote]:
    """A tape of one quote per symbol every ``interval_seconds`` from ``start`` to
    ``start + duration_seconds`` inclusive, deterministic for ``seed``.

    Per step the mid moves by a uniform draw in ``[-volatility_bps, +volatility_bps]``
    basis points; bid and ask sit ``spread_bps / 2`` either side of the mid, rounded
    outwards to the tick (at least one tick apart); sizes are whole lots of
    ``size_lot`` between ``min_size`` and ``max_size``.
    """
    _check(symbols, start, duration_seconds, interval_seconds, spread_bps, volatility_bps)
    if not 0 < size_lot <= min_size <= max_size:
        raise ValueError("sizes need 0 < size_lot <= min_size <= max_size")
    start_utc = start.astimezone(UTC)
    steps = int((Decimal(duration_seconds) / interval_seconds).to_integral_value(ROUND_FLOOR))
    step = timedelta(microseconds=int(interval_seconds * 1_000_000))
    prices = dict(start_prices or {})
    walks = {
        symbol: _walk(
            random.Random(f"walk/{seed}/{symbol}"),
            prices.get(symbol) or default_start_price(symbol, seed),
            steps=steps,
            volatility_bps=volatility_bps,
        )
        for symbol in symbols
    }
    lots = (min_size // size_lot, max_size // size_lot)
    size_rngs = {symbol: random.Random(f"size/{seed}/{symbol}") for symbol in symbols}
    tape: list[Quote] = []
    for index in range(steps + 1):
        at = start_utc + step * index
        for symbol in symbols:
            rng = size_rngs[symbol]
            bid, ask = _touch(walks[symbol][index], spread_bps)
            tape.append(
                Quote(
                    symbol=symbol,
                    bid=bid,
                    ask=ask,
                    bid_size=Decimal(rng.randint(*lots) * size_lot),
                    ask_size=Decimal(rng.randint(*lots) * size_lot),
                    quoted_at=at,
                    source=QuoteSource.TAPE,
                )
            )
    return tape


def _check(
    symbols: Sequence[str],
    start: datetime,
    duration_seconds: int,
    interval_seconds: Decimal,
    spread_bps: Decimal,
    volatility_bps: Decimal,
) -> None:
    if not symbols or len(set(symbols)) != len(symbols):
        raise ValueError("symbols must be a non-empty list without duplicates")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if duration_seconds < 0 or interval_seconds <= 0:
        raise ValueError("duration_seconds must be >= 0 and interval_seconds > 0")
    if spread_bps < 0 or volatility_bps < 0:
        raise ValueError("spread_bps and volatility_bps must not be negative")


def _walk(rng: random.Random, start_price: Decimal, *, steps: int, volatility_bps: Decimal) -> list[Decimal]:
    mids = [max(start_price, MIN_MID)]
    for _ in range(steps):
        draw = Decimal(rng.randint(-_DRAW_STEPS, _DRAW_STEPS)) / _DRAW_STEPS
        move = mids[-1] * volatility_bps * draw / _BPS
        mids.append(max((mids[-1] + move).quantize(_MID_PLACES, ROUND_HALF_EVEN), MIN_MID))
    return mids


def _touch(mid: Decimal, spread_bps: Decimal) -> tuple[Decimal, Decimal]:
    half = mid * spread_bps / _BPS / 2
    bid_raw = mid - half
    bid = bid_raw.quantize(tick_for(bid_raw), ROUND_FLOOR)
    ask_raw = mid + half
    ask = ask_raw.quantize(tick_for(ask_raw), ROUND_CEILING)
    ask = ask.quantize(tick_for(ask), ROUND_CEILING)
    if ask - bid < tick_for(bid):
        ask = bid + tick_for(bid)
    if bid <= 0:
        bid = SUB_PENNY
        ask = max(ask, bid + SUB_PENNY)
    return bid, ask
