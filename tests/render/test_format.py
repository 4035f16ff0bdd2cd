"""The one number formatter: the glyphs a reader sees on every page, chart and CLI line."""

from __future__ import annotations

import math

from prefboard.render import format as f


def test_negatives_use_the_minus_sign_and_rounded_zero_has_no_sign() -> None:
    assert f.number(-1.5) == "−1.50"
    assert f.number(-0.001) == "0.00"
    assert f.signed(-0.001) == "±0.00"
    assert f.signed(0.25) == "+0.25"


def test_missing_and_non_finite_values_print_an_em_dash_never_nan() -> None:
    for x in (None, math.nan, math.inf):
        assert f.number(x) == "—"
        assert f.percent(x) == "—"
    assert f.band(1.0, None) == "—"


def test_counts_ranges_and_ranks() -> None:
    assert f.count(17081) == "17,081"
    assert f.band(-1.0, 2.5) == "−1.00 – 2.50"
    assert f.rank_range(9, 9) == "9"
    assert f.rank_range(2, 5) == "2–5"
    assert f.signed_count(-2) == "−2"
    assert f.signed_count(0) == "±0"


def test_percentages_never_round_to_false_certainty() -> None:
    assert f.percent(0.76) == "76.0%"
    assert f.percent(0.0004) == "<0.1%"
    assert f.percent(0.99995) == ">99.9%"
    assert f.percent(1.0) == "100.0%"
    assert f.percent(0.0) == "0.0%"


def test_counted_nouns_agree_with_their_number() -> None:
    assert f.counted(1, "battle") == "1 battle"
    assert f.counted(17081, "battle") == "17,081 battles"
    assert f.counted(0, "participant") == "0 participants"
