"""Limit pricing: the inside-spread fallback and the liquidity-aware method."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError, InvalidQuote
from execledger.domain.pricing import price_order
from execledger.domain.types import Quote, QuoteSource, Side

D = Decimal
CONFIG = ExecutionConfig()
BUY, SELL = Side.BUY, Side.SELL


def quote(
    bid: str,
    ask: str,
    bid_size: str = "1000",
    ask_size: str = "1000",
    source: QuoteSource = QuoteSource.STREAM,
) -> Quote:
    """A quote at a fixed time."""
    return Quote(
        symbol="ABC",
        bid=D(bid),
        ask=D(ask),
        bid_size=D(bid_size),
        ask_size=D(ask_size),
        quoted_at=datetime(2025, 1, 6, 15, 0, tzinfo=UTC),
        source=source,
    )


def rest(bid: str, ask: str) -> Quote:
    """A REST quote (inside-spread pricing)."""
    return quote(bid, ask, source=QuoteSource.REST)


@pytest.mark.parametrize(
    ("bid", "ask", "side", "expected"),
    [
        ("100.00", "100.50", BUY, "100.01"),
        ("100.00", "100.50", SELL, "100.49"),
        ("100", "200", BUY, "100.01"),
        ("100", "200", SELL, "199.99"),
        ("100.00", "100.02", BUY, "100.01"),
        ("100.00", "100.02", SELL, "100.01"),
        ("0.10", "0.11", BUY, "0.1001"),
        ("0.10", "0.11", SELL, "0.1099"),
    ],
)
def test_acceptance_inside_spread_fallback(bid: str, ask: str, side: Side, expected: str) -> None:
    """REST quotes: BUY bid + 1 tick, SELL ask - 1 tick (sub-penny under $1)."""
    decision = price_order(side, D(10), rest(bid, ask), CONFIG)
    assert decision.method == "inside_spread"
    assert decision.limit_price == D(expected)


def test_sub_penny_fallback_reports_the_sub_penny_tick() -> None:
    """0.10/0.11 prices on the 0.0001 tick."""
    assert price_order(BUY, D(10), rest("0.10", "0.11"), CONFIG).tick == D("0.0001")


def test_acceptance_off_tick_quote_lands_on_a_cent() -> None:
    """100.123/100.567: BUY 100.13 and SELL 100.56, both whole cents."""
    assert price_order(BUY, D(10), rest("100.123", "100.567"), CONFIG).limit_price == D("100.13")
    assert price_order(SELL, D(10), rest("100.123", "100.567"), CONFIG).limit_price == D("100.56")


def test_fallback_on_a_one_tick_spread_does_not_reach_the_far_side() -> None:
    """100.00/100.01: bid + 1 tick is the ask, so BUY stays at the bid and SELL at the ask."""
    assert price_order(BUY, D(10), rest("100.00", "100.01"), CONFIG).limit_price == D("100.00")
    assert price_order(SELL, D(10), rest("100.00", "100.01"), CONFIG).limit_price == D("100.01")


def test_fallback_is_capped_at_mid() -> None:
    """100.00/100.015: bid + 1 tick passes mid 100.0075, so mid is used, then rounded."""
    buy = price_order(BUY, D(10), rest("100.00", "100.015"), CONFIG)
    sell = price_order(SELL, D(10), rest("100.00", "100.015"), CONFIG)
    assert (buy.metadata["rule"], buy.limit_price) == ("mid", D("100.01"))
    assert (sell.metadata["rule"], sell.limit_price) == ("mid", D("100.01"))


def test_fallback_off_tick_quote_with_no_tick_inside_stays_on_a_cent() -> None:
    """100.123/100.127 holds no whole cent: the BUY rounds half-even to 100.12."""
    decision = price_order(BUY, D(10), rest("100.123", "100.127"), CONFIG)
    assert decision.metadata["rule"] == "max(ask - 1 tick, bid)"
    assert decision.limit_price == D("100.12")


@pytest.mark.parametrize(
    ("quantity", "side", "expected"),
    [
        ("100", BUY, "100.00"),
        ("300", BUY, "100.00"),
        ("301", BUY, "100.01"),
        ("800", BUY, "100.01"),
        ("801", BUY, "100.02"),
        ("100", SELL, "100.50"),
        ("500", SELL, "100.49"),
        ("900", SELL, "100.48"),
    ],
)
def test_liquidity_aware_adds_ticks_by_size_ratio(quantity: str, side: Side, expected: str) -> None:
    """Ratio above 0.3 adds one tick, above 0.8 two, from the bid (BUY) or ask (SELL)."""
    decision = price_order(side, D(quantity), quote("100.00", "100.50"), CONFIG)
    assert decision.method == "liquidity_aware"
    assert decision.limit_price == D(expected)


def test_buy_adds_a_tick_when_bids_outweigh_asks() -> None:
    """BUY: imbalance (ask - bid)/(ask + bid) below -0.2 adds one more tick."""
    decision = price_order(BUY, D(10), quote("100", "100.50", "1000", "500"), CONFIG)
    assert decision.limit_price == D("100.01")
    assert decision.metadata["recommendation"] == "aggressive"


def test_sell_takes_a_tick_when_asks_outweigh_bids() -> None:
    """SELL mirrors: imbalance above +0.2 takes one more tick off the ask."""
    decision = price_order(SELL, D(10), quote("100", "100.50", "500", "1000"), CONFIG)
    assert decision.limit_price == D("100.49")


def test_buy_is_capped_one_tick_below_the_ask() -> None:
    """A large BUY on 100/100.02 with bid-heavy imbalance stops at ask - 1 tick."""
    decision = price_order(BUY, D(5000), quote("100", "100.02", "1000", "10"), CONFIG)
    assert decision.limit_price == D("100.01")


def test_sell_is_floored_one_tick_above_the_bid() -> None:
    """A large SELL on 100/100.02 with ask-heavy imbalance stops at bid + 1 tick."""
    decision = price_order(SELL, D(5000), quote("100", "100.02", "10", "1000"), CONFIG)
    assert decision.limit_price == D("100.01")


def test_locked_quote_prices_at_the_common_price() -> None:
    """bid == ask: there is no inside, the price stays at the quote."""
    assert price_order(BUY, D(5000), quote("100", "100"), CONFIG).limit_price == D("100")
    assert price_order(SELL, D(5000), quote("100", "100"), CONFIG).limit_price == D("100")


def test_acceptance_sub_dollar_liquidity_aware_buy_uses_sub_penny_tick() -> None:
    """BUY 1000 on 0.5012/0.5050, sizes 1000/1000: ratio 1 adds 2 ticks of 0.0001."""
    decision = price_order(BUY, D(1000), quote("0.5012", "0.5050"), CONFIG)
    assert decision.limit_price == D("0.5014")
    assert decision.tick == D("0.0001")


def test_ratio_thresholds_come_from_config() -> None:
    """With liquidity_small_ratio=0.05, 100 of 1000 displayed already adds a tick."""
    config = ExecutionConfig(liquidity_small_ratio=D("0.05"))
    assert price_order(BUY, D(100), quote("100", "100.50"), config).limit_price == D("100.01")


def test_zero_displayed_size_counts_as_one_share() -> None:
    """ratio = qty / max(bid_size, 1): no displayed bid makes any order large."""
    decision = price_order(BUY, D(1), quote("100", "100.50", "0", "0"), CONFIG)
    assert decision.metadata["ratio"] == "1.0000"
    assert decision.limit_price == D("100.02")


@pytest.mark.parametrize("source", [QuoteSource.STREAM, QuoteSource.SIMULATED, QuoteSource.TAPE])
def test_streamed_like_quotes_are_priced_liquidity_aware(source: QuoteSource) -> None:
    """Stream, simulated and tape quotes use the liquidity-aware method."""
    decision = price_order(BUY, D(10), quote("100", "100.50", source=source), CONFIG)
    assert decision.method == "liquidity_aware"


def test_metadata_is_json_safe_text_with_scores() -> None:
    """Metadata holds score, confidence, recommendation, imbalance and ratio as strings."""
    decision = price_order(BUY, D(900), quote("100", "100.50", "1000", "3000"), CONFIG)
    metadata = decision.metadata
    json.dumps(metadata)
    assert all(isinstance(value, str) for value in metadata.values())
    assert metadata["liquidity_score"] == "10"
    assert metadata["confidence"] == "1.00"
    assert metadata["recommendation"] == "split"
    assert metadata["imbalance"] == "0.5000"
    assert metadata["ratio"] == "0.9000"


def test_recommendation_is_patient_when_the_book_leans_our_way() -> None:
    """A small BUY into an ask-heavy book is patient; scores do not move the price."""
    decision = price_order(BUY, D(10), quote("100", "100.50", "500", "1000"), CONFIG)
    assert decision.metadata["recommendation"] == "patient"
    assert decision.limit_price == D("100.00")


@pytest.mark.parametrize(("bid", "ask"), [("-1", "100"), ("0", "0"), ("100", "99"), ("1", "0")])
def test_unpriceable_quotes_raise_invalid_quote_with_reasons(bid: str, ask: str) -> None:
    """A side <= 0 or a crossed quote cannot be priced; the error lists why."""
    with pytest.raises(InvalidQuote) as caught:
        price_order(BUY, D(10), quote(bid, ask), CONFIG)
    assert caught.value.reasons


def test_non_positive_quantity_is_rejected() -> None:
    """Pricing a zero quantity is a domain error."""
    with pytest.raises(DomainError, match="quantity"):
        price_order(BUY, D(0), quote("100", "100.50"), CONFIG)
