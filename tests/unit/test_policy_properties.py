"""Properties of the policy over generated quotes (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidQuote
from execledger.domain.pricing import price_order
from execledger.domain.quotes import assess_quote, choose_quote
from execledger.domain.repeg import decide_repeg
from execledger.domain.ticks import round_to_tick, tick_for
from execledger.domain.types import Quote, QuoteSource, Side
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
SIDES = st.sampled_from([Side.BUY, Side.SELL])
SOURCES = st.sampled_from(list(QuoteSource))
CONFIGS = st.builds(
    ExecutionConfig,
    allow_cross_spread_on_repeg=st.booleans(),
    repeg_min_improvement=st.sampled_from([Decimal("0.01"), Decimal("0.02"), Decimal("0.05")]),
    max_repegs=st.just(50),
)
ON_TICK_PRICES = st.one_of(
    st.integers(1, 9_999).map(lambda n: Decimal(n) * Decimal("0.0001")),
    st.integers(100, 200_000).map(lambda n: Decimal(n) * Decimal("0.01")),
)
ANY_PRICES = st.decimals(Decimal("0.0001"), Decimal("5000"), places=6)
SIZES = st.integers(0, 50_000).map(Decimal)
QUANTITIES = st.decimals(Decimal("0.001"), Decimal("100000"), places=3)


def on_its_tick(price: Decimal) -> bool:
    """True when the price is a multiple of the tick that applies to it."""
    return price % tick_for(price) == 0


@st.composite
def quotes(draw: st.DrawFn, prices: st.SearchStrategy[Decimal] = ON_TICK_PRICES) -> Quote:
    """A valid quote: positive prices, bid <= ask, any sizes and source."""
    first, second = draw(prices), draw(prices)
    return Quote(
        symbol="ABC",
        bid=min(first, second),
        ask=max(first, second),
        bid_size=draw(SIZES),
        ask_size=draw(SIZES),
        quoted_at=NOW,
        source=draw(SOURCES),
    )


@st.composite
def bad_quotes(draw: st.DrawFn) -> Quote:
    """A crossed quote or one with both sides <= 0."""
    low = draw(st.decimals(Decimal("-100"), Decimal("0"), places=2))
    high = draw(ANY_PRICES)
    bid, ask = draw(st.sampled_from([(high, high - Decimal("0.0001")), (low, min(low, 0))]))
    return Quote(
        symbol="ABC",
        bid=bid,
        ask=ask,
        bid_size=Decimal(1),
        ask_size=Decimal(1),
        quoted_at=NOW,
        source=QuoteSource.STREAM,
    )


@settings(deadline=None)
@given(quotes(), SIDES, QUANTITIES)
def test_passive_prices_lie_within_bid_and_ask(quote: Quote, side: Side, qty: Decimal) -> None:
    """Both pricing methods keep an on-tick quote's price within [bid, ask]."""
    decision = price_order(side, qty, quote, ExecutionConfig())
    assert quote.bid <= decision.limit_price <= quote.ask


@settings(deadline=None)
@given(quotes(ANY_PRICES), SIDES, QUANTITIES)
def test_every_limit_price_is_on_its_tick(quote: Quote, side: Side, qty: Decimal) -> None:
    """Even from an off-tick quote, the limit price is on its tick and equals its tick."""
    decision = price_order(side, qty, quote, ExecutionConfig())
    assert on_its_tick(decision.limit_price)
    assert decision.tick == tick_for(decision.limit_price)


@settings(deadline=None)
@given(st.decimals(Decimal("-10"), Decimal("100000"), places=8))
def test_rounding_lands_on_the_tick_and_never_below_one_tick(price: Decimal) -> None:
    """round_to_tick(p, tick_for(p)) is a multiple of its tick and at least one tick."""
    tick = tick_for(price)
    rounded = round_to_tick(price, tick)
    assert rounded % tick == 0 and rounded >= tick


@settings(deadline=None)
@given(quotes(), SIDES, ON_TICK_PRICES, CONFIGS)
def test_a_repeg_never_moves_away_from_the_far_side(
    quote: Quote, side: Side, last: Decimal, config: ExecutionConfig
) -> None:
    """A re-peg is on its tick and never less aggressive than the last price or the far side."""
    decision = decide_repeg(
        side=side, quote=quote, last_price=last, price_history=[last], repegs_done=0, config=config
    )
    if decision.new_price is None:
        return
    new = decision.new_price
    assert on_its_tick(new)
    if side is Side.BUY:
        assert new >= min(last, quote.ask)
        assert last >= quote.ask or new > last
    else:
        assert new <= max(last, quote.bid)
        assert last <= quote.bid or new < last


@settings(deadline=None)
@given(st.lists(quotes(), min_size=1, max_size=8), SIDES, ON_TICK_PRICES, CONFIGS)
def test_no_repeg_price_repeats_within_an_order(
    tape: list[Quote], side: Side, first: Decimal, config: ExecutionConfig
) -> None:
    """Re-pegging through a run of quotes never reuses a price the order already used."""
    history = [first]
    for done, quote in enumerate(tape):
        decision = decide_repeg(
            side=side,
            quote=quote,
            last_price=history[-1],
            price_history=history,
            repegs_done=done,
            config=config,
        )
        if decision.new_price is None:
            break
        assert decision.new_price not in history
        history.append(decision.new_price)


@settings(deadline=None)
@given(quotes(), quotes(), SIDES, QUANTITIES, ON_TICK_PRICES)
def test_every_function_is_total_on_valid_quotes(
    streamed: Quote, rest: Quote, side: Side, qty: Decimal, last: Decimal
) -> None:
    """Valid quotes never raise: assessment, choice, pricing and re-peg all decide."""
    config = ExecutionConfig()
    assert assess_quote(streamed, config, NOW).is_valid
    assert choose_quote(streamed, rest, config, NOW) is not None
    price_order(side, qty, streamed, config)
    decide_repeg(side=side, quote=rest, last_price=last, price_history=[], repegs_done=0, config=config)


@settings(deadline=None)
@given(bad_quotes(), SIDES, QUANTITIES)
def test_invalid_quotes_are_rejected_with_a_reason(quote: Quote, side: Side, qty: Decimal) -> None:
    """Crossed or non-positive quotes are invalid, unchosen, and unpriceable, with reasons."""
    config = ExecutionConfig()
    assert assess_quote(quote, config, NOW).invalid_reasons
    assert choose_quote(quote, None, config, NOW) is None
    for attempt in (
        lambda: price_order(side, qty, quote, config),
        lambda: decide_repeg(
            side=side,
            quote=quote,
            last_price=Decimal(1),
            price_history=[],
            repegs_done=0,
            config=config,
        ),
    ):
        try:
            attempt()
        except InvalidQuote as error:
            assert error.reasons
        else:
            raise AssertionError("an invalid quote was accepted")
