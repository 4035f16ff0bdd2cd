"""Tests for prefboard.rating.likert; each test names where its expected numbers come from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from prefboard.rating.likert import Agreement, LikertSummary, agreement, summarize, summarize_groups

# ---------------------------------------------------------------------------------------------
# summarize
# ---------------------------------------------------------------------------------------------


def test_summarize_hand_computed_sample() -> None:
    # Hand-worked for x = [1, 2, 2, 3, 5] on a 1..7 scale:
    #   mean = 13 / 5 = 2.6
    #   squared deviations 2.56 + 0.36 + 0.36 + 0.16 + 5.76 = 9.2, var (ddof=1) = 9.2 / 4 = 2.3,
    #   sd = sqrt(2.3) = 1.516575...
    #   t_{0.975, df=4} = 2.776445 (standard Student-t table), half-width = 2.776445 * sd / sqrt(5)
    #   = 1.883077, so the 95% interval is (0.716923, 4.483077).
    s = summarize(np.array([1, 2, 2, 3, 5]), scale_min=1, scale_max=7)
    assert isinstance(s, LikertSummary)
    assert s.n == 5
    assert s.mean == pytest.approx(2.6)
    assert s.sd == pytest.approx(math.sqrt(2.3))
    assert s.ci_lower == pytest.approx(0.716923, abs=1e-6)
    assert s.ci_upper == pytest.approx(4.483077, abs=1e-6)
    # Cross-check against scipy's own t-interval of the mean (scipy.stats.t.interval).
    lo, hi = stats.t.interval(0.95, df=4, loc=2.6, scale=math.sqrt(2.3) / math.sqrt(5))
    assert (s.ci_lower, s.ci_upper) == pytest.approx((lo, hi))
    # Counts per scale point 1..7, hand-tallied: one 1, two 2s, one 3, no 4, one 5, no 6 or 7.
    assert s.counts == (1, 2, 1, 0, 1, 0, 0)


def test_summarize_other_confidence_level() -> None:
    # 90% interval for the same sample; t_{0.95, df=4} = 2.131847 (Student-t table), so the
    # half-width is 2.131847 * sqrt(2.3) / sqrt(5) = 2.131847 * 0.678233 = 1.445889.
    s = summarize(np.array([1, 2, 2, 3, 5]), 1, 7, confidence=0.90)
    assert s.ci_lower == pytest.approx(2.6 - 1.445889, abs=1e-6)
    assert s.ci_upper == pytest.approx(2.6 + 1.445889, abs=1e-6)


def test_summarize_empty_and_single() -> None:
    # Documented: mean is nan when n == 0; sd and the interval are nan when n < 2.
    empty = summarize(np.array([], dtype=int), 1, 5)
    assert empty.n == 0
    assert all(math.isnan(v) for v in (empty.mean, empty.sd, empty.ci_lower, empty.ci_upper))
    assert empty.counts == (0, 0, 0, 0, 0)

    one = summarize(np.array([4]), 1, 5)
    assert one.n == 1
    assert one.mean == 4.0
    assert all(math.isnan(v) for v in (one.sd, one.ci_lower, one.ci_upper))
    assert one.counts == (0, 0, 0, 1, 0)


def test_summarize_ignores_nan_and_rejects_off_scale() -> None:
    # NaN is "not asked" (module docstring), so it is dropped rather than counted.
    s = summarize(np.array([1.0, np.nan, 3.0]), 1, 5)
    assert s.n == 2
    assert s.mean == pytest.approx(2.0)
    # Off-scale or fractional answers are corrupt input, not silently clipped.
    with pytest.raises(ValueError, match="not integer points"):
        summarize(np.array([1, 8]), 1, 7)
    with pytest.raises(ValueError, match="not integer points"):
        summarize(np.array([1.5]), 1, 7)
    with pytest.raises(ValueError):
        summarize(np.array([1]), 5, 5)
    with pytest.raises(ValueError):
        summarize(np.array([1]), 1, 5, confidence=1.0)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    scale_min=st.integers(-5, 5),
    width=st.integers(1, 10),
    confidence=st.floats(0.01, 0.999),
)
def test_summarize_property(
    data: st.DataObject, scale_min: int, width: int, confidence: float
) -> None:
    # Property (from the definition of the t-interval, mean ± a non-negative half-width): for any
    # integer array on the scale summarize does not raise, n and counts are consistent, and the
    # interval contains the mean whenever it is defined (n >= 2).
    scale_max = scale_min + width
    values = data.draw(st.lists(st.integers(scale_min, scale_max), max_size=60))
    s = summarize(np.array(values, dtype=int), scale_min, scale_max, confidence)
    assert s.n == len(values)
    assert sum(s.counts) == s.n
    assert len(s.counts) == width + 1
    if s.n >= 2:
        assert s.ci_lower <= s.mean <= s.ci_upper
        assert scale_min <= s.mean <= scale_max
    else:
        assert math.isnan(s.ci_lower) and math.isnan(s.ci_upper)


# ---------------------------------------------------------------------------------------------
# summarize_groups
# ---------------------------------------------------------------------------------------------


def _assert_row_matches(row: pd.Series, ref: LikertSummary, scale_min: int) -> None:
    assert row["n"] == ref.n
    for col in ("mean", "sd", "ci_lower", "ci_upper"):
        expected = getattr(ref, col)
        if math.isnan(expected):
            assert math.isnan(row[col]), col
        else:
            assert row[col] == pytest.approx(expected), col
    for i, c in enumerate(ref.counts):
        assert row[f"count_{scale_min + i}"] == c


def test_summarize_groups_matches_summarize_and_ignores_na() -> None:
    # Reference: `summarize` applied to each group's non-NA values (tested above against hand
    # calculation), so the vectorised path must agree with it group by group.
    rng = np.random.default_rng(7)
    n = 500
    df = pd.DataFrame(
        {
            "model": rng.choice(["m-b", "m-a", "m-c"], size=n),
            "slice": rng.choice(["en", "de"], size=n),
            "score": pd.array(rng.integers(1, 8, size=n), dtype="Int64"),
        }
    )
    df.loc[rng.random(n) < 0.2, "score"] = pd.NA  # "not asked"
    # A group whose answers are all NA, and one with a single answer.
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                {
                    "model": ["m-z", "m-z", "m-y"],
                    "slice": ["en", "en", "de"],
                    "score": pd.array([pd.NA, pd.NA, 6], dtype="Int64"),
                }
            ),
        ],
        ignore_index=True,
    )

    out = summarize_groups(df, ["model", "slice"], "score", 1, 7)
    assert list(out.columns) == [
        "model",
        "slice",
        "n",
        "mean",
        "sd",
        "ci_lower",
        "ci_upper",
        *[f"count_{k}" for k in range(1, 8)],
    ]
    # Deterministic order: sorted by the grouping keys.
    keys = list(zip(out["model"], out["slice"], strict=True))
    assert keys == sorted(keys)
    assert len(out) == df.groupby(["model", "slice"]).ngroups

    for _, row in out.iterrows():
        mask = (df["model"] == row["model"]) & (df["slice"] == row["slice"])
        vals = df.loc[mask, "score"].dropna().to_numpy(dtype=float)
        _assert_row_matches(row, summarize(vals, 1, 7), 1)

    empty = out[out["model"] == "m-z"].iloc[0]
    assert empty["n"] == 0 and math.isnan(empty["mean"])
    single = out[out["model"] == "m-y"].iloc[0]
    assert single["n"] == 1 and single["mean"] == 6.0 and math.isnan(single["sd"])


def test_summarize_groups_float_nan_and_validation() -> None:
    # Same reference as above, with NA encoded as float NaN instead of pd.NA.
    df = pd.DataFrame({"model": ["a", "a", "a", "b"], "v": [1.0, np.nan, 3.0, 2.0]})
    out = summarize_groups(df, ["model"], "v", 1, 3)
    _assert_row_matches(out.iloc[0], summarize(np.array([1, 3]), 1, 3), 1)
    _assert_row_matches(out.iloc[1], summarize(np.array([2]), 1, 3), 1)
    with pytest.raises(ValueError, match="not integer points"):
        summarize_groups(pd.DataFrame({"m": ["a"], "v": [9]}), ["m"], "v", 1, 7)


def _pandas_groupby_summary(
    df: pd.DataFrame, by: list[str], value: str, scale_min: int, scale_max: int
) -> pd.DataFrame:
    """`summarize_groups` written with pandas' groupby, as it was until issue 18 replaced it
    with one numpy pass: the reference for the groups, their order and every number."""
    x = pd.to_numeric(df[value]).to_numpy(dtype="float64", na_value=np.nan)
    work = df[by].copy()
    work["__x"] = x
    grouped = work.groupby(by, sort=True, dropna=False, observed=True)
    out = grouped["__x"].agg(n="count", mean="mean", sd="std")
    out["n"] = out["n"].astype("int64")
    n, sd = out["n"].to_numpy(dtype=float), out["sd"].to_numpy()
    half = np.full(len(out), np.nan)
    ok = n >= 2
    half[ok] = stats.t.ppf(0.975, df=n[ok] - 1.0) * sd[ok] / np.sqrt(n[ok])
    out["ci_lower"] = out["mean"].to_numpy() - half
    out["ci_upper"] = out["mean"].to_numpy() + half
    answered = ~np.isnan(x)
    width = scale_max - scale_min + 1
    cells = grouped.ngroup().to_numpy()[answered] * width + (x[answered] - scale_min).astype(int)
    counts = np.bincount(cells, minlength=len(out) * width).reshape(len(out), width)
    names = [f"count_{k}" for k in range(scale_min, scale_max + 1)]
    return out.join(pd.DataFrame(counts, index=out.index, columns=names)).reset_index()


@pytest.mark.parametrize("keys", ["strings", "categorical", "nullable answers", "empty"])
def test_summarize_groups_is_pandas_groupby_to_the_bit(keys: str) -> None:
    # Reference: pandas' groupby (count, mean, std; sort=True, dropna=False, observed=True).
    # Groups keyed by NA, groups with no answer or one, a categorical's own order: the same
    # frame, dtypes and bits.
    rng = np.random.default_rng(len(keys))
    n = 0 if keys == "empty" else 4000
    model = pd.Series(rng.choice([f"m{k:02d}" for k in range(25)], n), dtype="str")
    group = rng.choice(np.array(["x", "y", "z", None], dtype=object), n)
    answers = rng.integers(1, 8, n).astype(float)
    answers[rng.random(n) < 0.2] = np.nan
    answers[model == "m07"] = np.nan
    df = pd.DataFrame(
        {
            "model": model,
            "group": pd.Categorical(group, ["z", "x", "y", "w"])
            if keys == "categorical"
            else pd.Series(group, dtype="str"),
            "v": pd.array(np.where(np.isnan(answers), None, answers), dtype="Int64")
            if keys == "nullable answers"
            else answers,
        }
    )
    for by in (["model"], ["group", "model"], ["group"]):
        pd.testing.assert_frame_equal(
            summarize_groups(df, by, "v", 1, 7),
            _pandas_groupby_summary(df, by, "v", 1, 7),
            check_exact=True,
        )


def test_summarize_groups_with_more_key_combinations_than_int64_holds() -> None:
    # Six columns of ~2,000 values each: 2,000^6 combinations overflow int64 codes, so the
    # codes are re-ranked on the way; reference as above.
    rng = np.random.default_rng(3)
    by = [f"c{k}" for k in range(6)]
    df = pd.DataFrame({c: pd.Series(rng.integers(0, 2000, 3000).astype(str)) for c in by})
    df["v"] = rng.integers(1, 6, 3000).astype(float)
    pd.testing.assert_frame_equal(
        summarize_groups(df, by, "v", 1, 5),
        _pandas_groupby_summary(df, by, "v", 1, 5),
        check_exact=True,
    )


# ---------------------------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------------------------

# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability", section C ("any number of
# observers, any metric, missing data"): 4 observers (rows) x 12 units (columns); None = missing.
_KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def _krippendorff_long() -> pd.DataFrame:
    rows = [
        {"unit": u, "observer": obs, "value": v}
        for obs, values in _KRIPPENDORFF_2011.items()
        for u, v in enumerate(values, start=1)
        if v is not None
    ]
    return pd.DataFrame(rows)


def test_agreement_krippendorff_2011_worked_example() -> None:
    # Published values (Krippendorff 2011, section C): nominal 0.743, ordinal 0.815,
    # interval 0.849, ratio 0.797. The paper also counts n = 40 pairable values: unit 12 has a
    # single value (observer B's 3) and is not pairable, leaving 11 units.
    # Shuffle the rows so the result cannot depend on input order.
    df = _krippendorff_long().sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = agreement(df, unit="unit", rater="observer", value="value")
    assert isinstance(a, Agreement)
    assert round(a.alpha_ordinal, 3) == 0.815
    assert round(a.alpha_interval, 3) == 0.849
    assert a.pairable_values == 40
    assert a.units == 11
    assert a.raters == 4
    assert (a.unit, a.rater) == ("unit", "observer")


def test_agreement_keeps_earliest_duplicate_by_timestamp() -> None:
    # Reference: the worked example above (ordinal 0.815). Later re-answers that disagree wildly
    # must be discarded; earlier-timestamped rows placed *after* them in the frame must win.
    base = _krippendorff_long()
    base["ts"] = pd.Timestamp("2024-01-01")
    later = base[base["observer"] == "A"].assign(value=5, ts=pd.Timestamp("2024-02-01"))
    df = pd.concat([later, base], ignore_index=True)  # later answers come first in row order
    a = agreement(df, "unit", "observer", "value", timestamp="ts")
    assert round(a.alpha_ordinal, 3) == 0.815
    assert round(a.alpha_interval, 3) == 0.849

    # Without a timestamp the first row wins, so the same frame now keeps the bogus 5s ...
    b = agreement(df, "unit", "observer", "value")
    assert round(b.alpha_ordinal, 3) != 0.815
    # ... and putting the originals first restores the published value.
    c = agreement(pd.concat([base, later], ignore_index=True), "unit", "observer", "value")
    assert round(c.alpha_interval, 3) == 0.849


def test_agreement_ignores_na_values() -> None:
    # Reference: the worked example; rows with NA value are "not asked" and must not count.
    df = pd.concat(
        [
            _krippendorff_long(),
            pd.DataFrame({"unit": [12, 12], "observer": ["A", "C"], "value": [np.nan, np.nan]}),
        ],
        ignore_index=True,
    )
    a = agreement(df, "unit", "observer", "value")
    assert round(a.alpha_interval, 3) == 0.849
    assert a.pairable_values == 40


@pytest.mark.parametrize(
    "rows",
    [
        [],  # no data at all
        [("u1", "r1", 3)],  # one value
        [("u1", "r1", 3), ("u2", "r1", 4)],  # values, but no unit rated twice
        [("u1", "r1", 3), ("u1", "r2", 4), ("u2", "r3", 5)],  # only one pairable unit
        [("u1", "r1", 3), ("u1", "r2", 3), ("u2", "r1", 3), ("u2", "r2", 3)],  # no variation
    ],
)
def test_agreement_too_little_data_gives_nan(rows: list[tuple[str, str, int]]) -> None:
    # Documented contract: alpha is undefined (nan, no exception) with < 2 pairable units, or
    # when all pairable values are equal (Krippendorff's expected disagreement D_e = 0).
    df = pd.DataFrame(rows, columns=["unit", "rater", "value"]).astype({"value": "float64"})
    a = agreement(df, "unit", "rater", "value")
    assert math.isnan(a.alpha_ordinal)
    assert math.isnan(a.alpha_interval)


def test_agreement_reports_only_pairable_sizes() -> None:
    # Two pairable units answered by r1, r2; r3 only answered a unit nobody else did, so r3 and u3
    # contribute nothing pairable (Krippendorff 2011: only units with m_u >= 2 enter n).
    df = pd.DataFrame(
        {
            "unit": ["u1", "u1", "u2", "u2", "u3"],
            "rater": ["r1", "r2", "r1", "r2", "r3"],
            "value": [1, 2, 4, 5, 3],
        }
    )
    a = agreement(df, "unit", "rater", "value")
    assert (a.units, a.raters, a.pairable_values) == (2, 2, 4)
    assert not math.isnan(a.alpha_interval)
