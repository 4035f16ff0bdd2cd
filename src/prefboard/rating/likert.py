"""Likert-scale rating statistics: per-group summaries and inter-rater agreement.

Participants rate single-model sessions on integer Likert scales (e.g. 1..7), one scale per
dimension. This module turns those answers into the numbers a leaderboard shows next to a model:
how many answers, their mean with a Student-t confidence interval, the distribution over scale
points, and Krippendorff's alpha as a check that raters agree at all.

Everything here is pure (no I/O, no global state) so it can be unit-tested and reused by both the
pipeline and notebooks. Missing answers (NaN / NA) always mean "this question was not asked" and
are dropped, never treated as a scale point.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from scipy import stats

from prefboard.jit import njit

__all__ = [
    "Agreement",
    "LikertSummary",
    "agreement",
    "summarize",
    "summarize_groups",
]

# Columns `summarize_groups` adds next to the grouping keys, in output order (the per-scale-point
# count_<k> columns follow them).
_STAT_COLUMNS = ("n", "mean", "sd", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class LikertSummary:
    """Descriptive statistics of the answers to one Likert item.

    `sd` is the sample standard deviation (ddof=1) because the participants are a sample of the
    population whose mean rating we want to estimate; `ci_lower`/`ci_upper` are the matching
    Student-t interval of the mean. `counts[i]` is the number of answers equal to
    `scale_min + i`, so the tuple always has one entry per scale point, including empty ones.
    """

    n: int
    mean: float  # nan when n == 0
    sd: float  # sample sd (ddof=1), nan when n < 2
    ci_lower: float  # nan when n < 2
    ci_upper: float  # nan when n < 2
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha for one Likert item, with the sizes a reader needs to judge it.

    `units`, `raters` and `pairable_values` describe only the data alpha actually used: values in
    units that received at least two answers. A high alpha on ten pairable values means little,
    so the sizes are reported next to the coefficients rather than left implicit.
    """

    alpha_ordinal: float
    alpha_interval: float
    units: int  # units (columns of the reliability matrix) with >= 2 pairable values
    raters: int  # raters that contributed at least one pairable value
    pairable_values: int
    unit: str  # human description of a unit, e.g. "model"
    rater: str  # human description of a rater, e.g. "participant"


def _check_scale(scale_min: int, scale_max: int, confidence: float) -> None:
    # A one-point "scale" carries no information and would make every sd zero; reject it early
    # rather than publish a meaningless interval.
    if int(scale_min) != scale_min or int(scale_max) != scale_max:
        raise ValueError(f"scale bounds must be integers, got {scale_min!r}..{scale_max!r}")
    if scale_min >= scale_max:
        raise ValueError(f"scale_min must be < scale_max, got {scale_min}..{scale_max}")
    # Written as a negated range test so that a NaN confidence is rejected too.
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _check_values(values: np.ndarray, scale_min: int, scale_max: int) -> None:
    """Reject answers that are not scale points; `values` must already be free of NaN."""
    # Out-of-scale or fractional answers mean the input is corrupt (wrong column, wrong scale in
    # the config); silently counting them would skew the mean and lose them from `counts`.
    bad = (values < scale_min) | (values > scale_max) | (values != np.round(values))
    if bad.any():
        examples = ", ".join(repr(v) for v in np.unique(values[bad])[:5].tolist())
        raise ValueError(
            f"{int(bad.sum())} value(s) are not integer points of the scale "
            f"{scale_min}..{scale_max}, e.g. {examples}"
        )


def _to_float(values: np.ndarray | pd.Series) -> np.ndarray:
    """Numeric 1-d float array with NaN for every kind of missing (None, pd.NA, NaN)."""
    # pd.to_numeric accepts nullable Int64, object columns holding pd.NA, and plain numpy arrays
    # alike; going through float64 lets NaN stand for "not asked" uniformly afterwards.
    series = pd.Series(np.asarray(values) if not isinstance(values, pd.Series) else values)
    return pd.to_numeric(series).to_numpy(dtype="float64", na_value=np.nan)


def _t_halfwidth(n: np.ndarray, sd: np.ndarray, confidence: float) -> np.ndarray:
    """Half-width of the two-sided Student-t interval of the mean; NaN where n < 2."""
    n = np.asarray(n, dtype="float64")
    sd = np.asarray(sd, dtype="float64")
    out = np.full(n.shape, np.nan)
    ok = n >= 2
    # Only evaluate t.ppf where the degrees of freedom are positive: with df <= 0 scipy returns NaN
    # anyway, but computing only the valid entries keeps the intent explicit.
    crit = stats.t.ppf(0.5 + confidence / 2.0, df=n[ok] - 1.0)
    out[ok] = crit * sd[ok] / np.sqrt(n[ok])
    return out


def summarize(
    values: np.ndarray, scale_min: int, scale_max: int, confidence: float = 0.95
) -> LikertSummary:
    """Summarise the answers to one Likert item.

    NaN entries are "not asked" and ignored, exactly as in `summarize_groups`, so both functions
    agree on every group. Answers must be integers within `scale_min..scale_max` (floats such as
    `3.0` are accepted); anything else raises `ValueError`, as does an invalid scale or
    `confidence` outside (0, 1).

    The interval is mean ± t_{(1+confidence)/2, n-1} · sd / √n. The t (not normal) quantile is used
    because per-slice n can be small, where the normal interval is visibly too narrow.
    """
    _check_scale(scale_min, scale_max, confidence)
    x = _to_float(np.ravel(values))
    x = x[~np.isnan(x)]
    _check_values(x, scale_min, scale_max)

    n = int(x.size)
    # bincount over the offset from scale_min gives one slot per scale point, including points
    # nobody chose, which is what a stacked-bar chart needs.
    counts = np.bincount((x - scale_min).astype(np.int64), minlength=scale_max - scale_min + 1)

    mean = float(x.mean()) if n > 0 else math.nan
    sd = float(x.std(ddof=1)) if n >= 2 else math.nan
    half = float(_t_halfwidth(np.array([n]), np.array([sd]), confidence)[0])
    return LikertSummary(
        n=n,
        mean=mean,
        sd=sd,
        ci_lower=mean - half,
        ci_upper=mean + half,
        counts=tuple(int(c) for c in counts),
    )


def summarize_groups(
    df: pd.DataFrame,
    by: list[str],
    value: str,
    scale_min: int,
    scale_max: int,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """`summarize` for every group of `df`, vectorised with one groupby.

    Returns one row per combination of `by` present in `df`, sorted by `by`, with columns
    `by + [n, mean, sd, ci_lower, ci_upper, count_<scale_min>, ..., count_<scale_max>]`.
    NA in `value` means "not asked" and is ignored; a group whose answers are all NA still gets a
    row (n = 0, NaN statistics, zero counts) so that a dimension never asked for a model is visible
    as such instead of the model silently disappearing. Rows with NA in a `by` column form their
    own group, sorted last, rather than being dropped without notice.
    """
    _check_scale(scale_min, scale_max, confidence)
    if not by:
        raise ValueError("`by` must name at least one column")
    if value in by:
        raise ValueError(f"value column {value!r} cannot also be a grouping column")
    points = list(range(int(scale_min), int(scale_max) + 1))
    count_cols = [f"count_{k}" for k in points]
    clash = set(by) & {*_STAT_COLUMNS, *count_cols}
    if clash:
        raise ValueError(f"grouping columns clash with output columns: {sorted(clash)}")

    x = _to_float(df[value])
    answered = ~np.isnan(x)
    _check_values(x[answered], scale_min, scale_max)

    # Group codes and one compiled pass instead of a pandas groupby, agg, join and reset_index:
    # the same groups in the same order with the same numbers (`_moments` does pandas'
    # arithmetic). A build asks for dimensions x (slices + 1) summaries, mostly small: pandas'
    # per-call overhead was most of the Likert tables' time (tiny board: 0.63 -> 0.25 s).
    keys, group = _groups(df, by)
    n, mean, sd = _moments(group, x, len(keys))
    half = _t_halfwidth(n, sd, confidence)
    width = len(points)
    cells = group[answered] * width + (x[answered] - scale_min).astype(np.int64)
    counts = np.bincount(cells, minlength=len(keys) * width).reshape(len(keys), width)
    columns = {
        **{c: keys[c].array for c in by},
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci_lower": mean - half,
        "ci_upper": mean + half,
        **{c: counts[:, k] for k, c in enumerate(count_cols)},
    }
    return pd.DataFrame(columns)


def _groups(df: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The combinations of ``by`` present in ``df``, sorted as ``groupby(by, sort=True,
    dropna=False, observed=True)`` orders them (each column's values sorted, a categorical's
    by its categories, NA last), and each row's group number in that order."""
    combined = np.zeros(len(df), dtype=np.int64)
    span = 1  # combined codes lie in 0..span-1, in the order of the keys so far
    levels = []
    for column in by:
        codes, uniques = pd.factorize(df[column], sort=True, use_na_sentinel=False)
        if span * max(len(uniques), 1) >= 2**62:  # ranks keep the order and fit in int64
            ranked, inverse = np.unique(combined, return_inverse=True)
            combined, span = inverse.reshape(-1).astype(np.int64), len(ranked)
        combined = combined * max(len(uniques), 1) + codes
        span *= max(len(uniques), 1)
        levels.append((codes, uniques))
    _, first, group = np.unique(combined, return_index=True, return_inverse=True)
    keys = pd.DataFrame(
        {c: uniques.take(codes[first]) for c, (codes, uniques) in zip(by, levels, strict=True)}
    )
    return keys, group.reshape(-1).astype(np.int64)


@njit(cache=True)
def _moments(
    group: np.ndarray, x: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group, over its answered values (x not NaN) in row order: their number, mean and
    sample sd (ddof=1; NaN below 2 values, the mean NaN at none). The arithmetic of pandas'
    groupby: mean = sum / n (the sum of scale points is exact), sd from Welford's running mean
    and sum of squared deviations, sqrt(M2 / (n - 1))."""
    n = np.zeros(groups, dtype=np.int64)
    total = np.zeros(groups)
    running = np.zeros(groups)
    m2 = np.zeros(groups)
    for k in range(x.shape[0]):
        v = x[k]
        if np.isnan(v):
            continue
        g = group[k]
        n[g] += 1
        total[g] += v
        old = running[g]
        running[g] += (v - old) / n[g]
        m2[g] += (v - old) * (v - running[g])
    mean = np.full(groups, np.nan)
    sd = np.full(groups, np.nan)
    for g in range(groups):
        if n[g] > 0:
            mean[g] = total[g] / n[g]
        if n[g] > 1:
            sd[g] = np.sqrt(m2[g] / (n[g] - 1))
    return n, mean, sd


def agreement(
    df: pd.DataFrame,
    unit: str,
    rater: str,
    value: str,
    timestamp: str | None = None,
) -> Agreement:
    """Krippendorff's alpha (ordinal and interval) of the answers in long-form `df`.

    Each row is one answer: `rater` rated `unit` with `value`. The rows become a reliability
    matrix of raters × units (the orientation the `krippendorff` package expects) via a pandas
    pivot.

    Data handling, in order:

    * rows with NA in `value` ("not asked"), `unit` or `rater` are dropped;
    * **duplicates:** if a rater answered the same unit more than once, only their *earliest*
      answer is kept — earliest by `timestamp` when given (stable sort, NA timestamps last, ties
      broken by row order), otherwise the first such row in `df`. Alpha assumes one value per
      rater per unit, and a first impression is not influenced by having seen the model before.
      The timestamp column is ordered by its dtype, so pass datetimes, not strings with mixed
      UTC offsets;
    * units answered by fewer than two raters are dropped: they hold no pairable values and
      contribute nothing to alpha, and the reported sizes should describe what alpha used.

    Ordinal alpha is computed with `value_domain` = the sorted scale points present among the
    pairable values (points nobody chose have zero marginal frequency and would not change the
    ordinal distances anyway). Both alphas are NaN, not an exception, when fewer than two units
    have pairable values, or when all pairable values are identical (expected disagreement is
    zero, so alpha is 0/0).
    """
    answers = _first_answers(df, unit, rater, value, timestamp)
    # pivot (not pivot_table) because duplicates are gone: it cannot silently average anything.
    matrix = answers.pivot(index="__rater", columns="__unit", values="__x")
    # Keep only pairable data: units with >= 2 answers, then raters left with any answer.
    matrix = matrix.loc[:, matrix.notna().sum(axis=0) >= 2]
    matrix = matrix.loc[matrix.notna().any(axis=1)]
    data = matrix.to_numpy(dtype="float64")

    present = data[~np.isnan(data)]
    n_units = int(matrix.shape[1])
    n_raters = int(matrix.shape[0])
    n_values = int(present.size)
    domain = np.unique(present)  # sorted

    alpha_ordinal = alpha_interval = math.nan
    if n_units >= 2 and domain.size >= 2:
        alpha_ordinal = _alpha(data, domain, "ordinal")
        alpha_interval = _alpha(data, domain, "interval")

    return Agreement(
        alpha_ordinal=alpha_ordinal,
        alpha_interval=alpha_interval,
        units=n_units,
        raters=n_raters,
        pairable_values=n_values,
        unit=unit,
        rater=rater,
    )


def _first_answers(
    df: pd.DataFrame, unit: str, rater: str, value: str, timestamp: str | None
) -> pd.DataFrame:
    """Answered rows (no NA) as ``__unit``, ``__rater``, ``__x``, each rater's earliest answer
    per unit only (see :func:`agreement`)."""
    answers = pd.DataFrame(
        {
            "__unit": df[unit].to_numpy(),
            "__rater": df[rater].to_numpy(),
            "__x": _to_float(df[value]),
        }
    )
    keep = answers["__x"].notna() & answers["__unit"].notna() & answers["__rater"].notna()
    if timestamp is not None:
        answers["__ts"] = df[timestamp].to_numpy()
        answers = answers[keep.to_numpy()]
        # A stable sort keeps the original row order among equal timestamps, so ties resolve to
        # the first row, the same rule as without timestamps.
        answers = answers.sort_values("__ts", kind="stable", na_position="last")
    else:
        answers = answers[keep.to_numpy()]
    return answers.drop_duplicates(["__rater", "__unit"], keep="first")


def _alpha(data: np.ndarray, domain: np.ndarray, level: Literal["ordinal", "interval"]) -> float:
    """Krippendorff's alpha at ``level`` of a raters × units matrix with pairable values."""
    with warnings.catch_warnings():
        # The package divides by expected disagreement; the guards in `agreement` keep it
        # non-zero, but never let a numerical warning escape from a reporting function.
        warnings.simplefilter("ignore", RuntimeWarning)
        # level_of_measurement is always explicit: the package silently defaults to interval.
        return float(
            krippendorff.alpha(
                reliability_data=data, value_domain=domain, level_of_measurement=level
            )
        )
