"""The agreement statistics (standings/agreement.py) pinned to published or hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.standings.agreement import ceiling_units, confusion, kappa_of, plurality, wilson


def test_kappa_of_the_textbook_example() -> None:
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals read by two readers; both yes 20,
    # A yes / B no 5, A no / B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    table = np.array([[20.0, 5.0, 0.0], [10.0, 15.0, 0.0], [0.0, 0.0, 0.0]])
    po, kappa = kappa_of(table)
    assert po == pytest.approx(0.7)
    assert kappa == pytest.approx(0.4)


def test_plurality_splits_a_tied_top_evenly() -> None:
    counts = np.array([[3.0, 1.0, 0.0], [2.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    assert plurality(counts).tolist() == [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]]


def test_ceiling_one_person_against_the_others() -> None:
    # one item voted lo, lo, hi: each lo voter sees the others split (lo, hi) -> half a match;
    # the hi voter sees lo, lo -> no match. Each item weighs 1: the lo row carries 2/3, hi 1/3.
    rows, cols, weight, item = ceiling_units(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    assert rows.tolist() == [0, 1] and item.tolist() == [0, 0]  # the 1-vote item is left out
    assert weight.tolist() == pytest.approx([2 / 3, 1 / 3])
    table = confusion(rows, cols, weight)
    assert table.sum() == pytest.approx(1.0)
    assert kappa_of(table)[0] == pytest.approx(2 / 3 * 0.5)


def test_wilson_interval_equals_scipys() -> None:
    from scipy.stats import binomtest, norm

    for k, n in ((38, 262), (0, 10), (10, 10), (131, 262)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        got = wilson(k, n, float(norm.ppf(0.975)))
        assert got.value == pytest.approx(k / n)
        assert (got.lower, got.upper) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert wilson(0, 0, 1.96).value is None
