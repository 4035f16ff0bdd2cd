"""How far an automated judge agrees with the humans, beside how far humans agree with each
other (the noise ceiling). Every agreement statistic is here, once; the analysis stage calls
`judge_agreement` and the Agreement page only formats what it returns.

Per judge and dimension, on the items both judged (rating/judges.py defines an item):
- match: share of the judge's verdicts equal to the human plurality (a/b/tie, oriented to the
  pair). When two outcomes tie for the plurality the item counts 1/k for each of the k tied
  outcomes: the expected agreement with a plurality broken at random.
- kappa: Cohen's kappa of the same weighted 3 x 3 table (match is its observed agreement).
- tie rates: the judge's share of tie verdicts and the humans' share of tie votes, same items.
- position bias: the judge's share of "a" among its non-tie verdicts (all its battles), Wilson
  interval; the humans' share beside it.
- tau: Kendall tau-b between the judge's pooled ranking and the humans' headline, interval from
  paired posterior draws of both score vectors (each model's score ~ N(score, sd)).
Intervals for match and kappa: percentile bootstrap over items (seeded).

The ceiling: one human against the plurality of the others, on items with 2+ human votes (each
item weighs 1, split over its votes), the same match and kappa; and the split-half tau between
two halves of the human participants, each rated like a judge. The halves have half the votes,
so their tau is a conservative ceiling for a judge with as many verdicts.

"Clearly below": the upper end of the judge's interval lies below the ceiling's point value,
for match or for tau.
"""

from __future__ import annotations

import math

import numpy as np

from prefboard.rating.btd import kendall_tau
from prefboard.rating.ranks import rank_seed
from prefboard.standings.judges import Agreement, HumanReference, Interval, Verdicts
from prefboard.standings.model import Standings, Table

BOOTSTRAP = 500  # resamples for the match / kappa intervals
DRAWS = 1000  # posterior draws for the tau intervals
RECHECK = "re-check this judge before using it to screen models"


def judge_agreement(standings: Standings) -> list[Agreement]:
    """One row per judge and dimension it answered."""
    refs = {r.dimension: r for r in standings.human_reference}
    p = standings.parameters
    out = []
    for board in standings.judges:
        for jd in board.dimensions:
            ref = refs.get(jd.dimension)
            mine = next((t for t in board.tables if t.dimension == jd.dimension), None)
            human = standings.headline(jd.dimension)
            seed = rank_seed(p.seed, "agreement", board.key, jd.dimension)
            row = _row(board.key, jd.dimension, jd.judged, ref, (mine, human), p.z, seed)
            sides = jd.sides
            row = row.model_copy(update={"position_a": wilson(sides.a, sides.a + sides.b, p.z)})
            out.append(_flag(row))
    return out


def _row(
    judge: str,
    dimension: str,
    judged: Verdicts,
    ref: HumanReference | None,
    ranked: tuple[Table | None, Table | None],
    z: float,
    seed: int,
) -> Agreement:
    rng = np.random.default_rng(seed)
    counts, mult = _counts(judged), np.asarray(judged.count, dtype=np.float64)
    verdict = np.asarray(judged.verdict, dtype=np.int64)
    units = np.arange(len(verdict))
    match, kappa = _figures(verdict, plurality(counts), np.ones(len(verdict)), units, mult, rng, z)
    votes = float(counts.sum(axis=1) @ mult)
    update: dict[str, object] = {}
    if ref is not None:
        rc, rm = _counts(ref.items), np.asarray(ref.items.count, dtype=np.float64)
        rows, cols, weight, item = ceiling_units(rc)
        c_match, c_kappa = _figures(rows, cols, weight, item, rm, rng, z)
        halves = ref.halves if len(ref.halves) == 2 else [None, None]
        update = {
            "ceiling_items": int(rm[rc.sum(axis=1) >= 2].sum()),
            "ceiling_match": c_match,
            "ceiling_kappa": c_kappa,
            "human_position_a": wilson(ref.sides.a, ref.sides.a + ref.sides.b, z),
            "ceiling_tau": tau_interval(halves[0], halves[1], rng, z),
        }
    return Agreement(
        judge=judge,
        dimension=dimension,
        items=int(mult.sum()),
        match=match,
        kappa=kappa,
        judge_tie_rate=float(mult @ (verdict == 2) / mult.sum()) if len(verdict) else None,
        human_tie_rate=float(counts[:, 2] @ mult / votes) if votes else None,
        position_a=Interval(),
        tau=tau_interval(ranked[0], ranked[1], rng, z),
        **update,  # type: ignore[arg-type]  # keys are Agreement fields, checked by pydantic
    )


def _counts(v: Verdicts) -> np.ndarray:
    return np.column_stack([v.lo, v.hi, v.tie]).astype(np.float64).reshape(-1, 3)


def plurality(counts: np.ndarray) -> np.ndarray:
    """Per item, weight 1/k on each of the k outcomes with the most votes (rows sum to 1)."""
    top = counts == counts.max(axis=1, keepdims=True)
    weights: np.ndarray = top / top.sum(axis=1, keepdims=True)
    return weights


def ceiling_units(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One unit per (item, outcome voted) on items with 2+ votes: the outcome as the row, the
    plurality of the item's other votes as the columns, weight (votes for it) / (item votes)
    so that each item weighs 1, and the item (pattern) it belongs to."""
    n = counts.sum(axis=1)
    keep = np.flatnonzero(n >= 2)
    item, outcome = np.nonzero(counts[keep] > 0)
    item = keep[item]
    others = counts[item].copy()
    others[np.arange(len(item)), outcome] -= 1
    return outcome, plurality(others), counts[item, outcome] / n[item], item


def confusion(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The weighted 3 x 3 table: rows the judge (or one human), columns the plurality."""
    onehot = np.eye(3)[rows] if len(rows) else np.zeros((0, 3))
    table: np.ndarray = onehot.T @ (cols * weight[:, None])
    return table


def kappa_of(table: np.ndarray) -> tuple[float, float]:
    """Observed agreement and Cohen's kappa of a 3 x 3 table (nan when empty or degenerate)."""
    total = table.sum()
    if total <= 0:
        return math.nan, math.nan
    po = float(np.trace(table) / total)
    pe = float(table.sum(axis=1) @ table.sum(axis=0) / total**2)
    return po, (po - pe) / (1 - pe) if pe < 1 else math.nan


def _figures(
    rows: np.ndarray,
    cols: np.ndarray,
    weight: np.ndarray,
    item: np.ndarray,
    mult: np.ndarray,
    rng: np.random.Generator,
    z: float,
) -> tuple[Interval, Interval]:
    """Match and kappa with percentile bootstrap intervals. Unit k belongs to item pattern
    `item[k]`, which `mult` items share; resampling the items with replacement draws each
    pattern's count from the multinomial over the patterns."""
    po, kappa = kappa_of(confusion(rows, cols, weight * mult[item]))
    if not len(rows):
        return Interval(), Interval()
    total = int(mult.sum())
    boot = np.empty((BOOTSTRAP, 2))
    for k in range(BOOTSTRAP):
        times = rng.multinomial(total, mult / total)
        boot[k] = kappa_of(confusion(rows, cols, weight * times[item]))
    (m_lo, m_hi), (k_lo, k_hi) = _percentiles(boot[:, 0], z), _percentiles(boot[:, 1], z)
    return _interval(po, m_lo, m_hi), _interval(kappa, k_lo, k_hi)


def wilson(k: int, n: int, z: float) -> Interval:
    """Share k/n with Wilson's score interval."""
    if n <= 0:
        return Interval()
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(value=p, lower=max(0.0, centre - half), upper=min(1.0, centre + half))


def tau_interval(x: Table | None, y: Table | None, rng: np.random.Generator, z: float) -> Interval:
    """Kendall tau-b of two tables' scores over the models rated in both, and its interval
    from paired posterior draws of both."""
    if x is None or y is None:
        return Interval()
    ex = {e.model: e for e in x.entries if e.battles > 0}
    ey = {e.model: e for e in y.entries if e.battles > 0}
    both = sorted(set(ex) & set(ey))
    if len(both) < 2:
        return Interval()
    mx, sx = np.array([[ex[m].score, ex[m].sd] for m in both]).T
    my, sy = np.array([[ey[m].score, ey[m].sd] for m in both]).T
    dx = mx + sx * rng.standard_normal((DRAWS, len(both)))
    dy = my + sy * rng.standard_normal((DRAWS, len(both)))
    taus = _draw_taus(dx, dy)
    lo, hi = _percentiles(taus, z)
    return _interval(kendall_tau(mx, my), lo, hi)


def _draw_taus(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Kendall tau of each row pair of draws, vectorised (scipy per draw took seconds per
    table). Continuous draws have no ties, so tau-a equals tau-b. Chunked so that a board of
    many models stays within a few hundred MB."""
    i, j = np.triu_indices(dx.shape[1], 1)
    step = max(1, 20_000_000 // max(1, len(i)))
    out = [
        (
            np.sign(dx[k : k + step, i] - dx[k : k + step, j])
            * np.sign(dy[k : k + step, i] - dy[k : k + step, j])
        ).mean(axis=1)
        for k in range(0, len(dx), step)
    ]
    return np.concatenate(out)


def _percentiles(values: np.ndarray, z: float) -> tuple[float, float]:
    """The central interval of coverage erf(z / sqrt 2) of the finite values (nan if none:
    kappa is undefined when every resample has a single category)."""
    ok = values[np.isfinite(values)]
    if not len(ok):
        return math.nan, math.nan
    tail = 100 * (1 - math.erf(z / math.sqrt(2))) / 2
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi)


def _interval(value: float, lower: float, upper: float) -> Interval:
    def clean(v: float) -> float | None:
        return None if not math.isfinite(v) else float(v)

    return Interval(value=clean(value), lower=clean(lower), upper=clean(upper))


def _flag(row: Agreement) -> Agreement:
    """Flag a judge whose interval lies wholly below the ceiling's value (match or tau)."""
    reasons = []
    for name, mine, ceiling in (
        ("agreement with the human plurality", row.match, row.ceiling_match),
        ("Kendall tau with the human ranking", row.tau, row.ceiling_tau),
    ):
        if mine.upper is not None and ceiling.value is not None and mine.upper < ceiling.value:
            reasons.append(f"{name} is clearly below the human ceiling")
    return row.model_copy(update={"flagged": bool(reasons), "reasons": reasons})
