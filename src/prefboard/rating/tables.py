"""One ranking table from a batch posterior (and its online-pass diagnostics): entries, band,
ranks, the pooled and post-stratified headline."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from prefboard.config import Config
from prefboard.rating import batch, ranks
from prefboard.rating import group_tables as gt
from prefboard.rating.tournaments import Result, Spec
from prefboard.standings.model import POSTSTRATIFIED, Entry, Table


def _relative(cov: np.ndarray, played: np.ndarray) -> np.ndarray:
    """Covariance of each skill minus the average skill of the models that played.

    Comparisons identify skills only up to a common shift; the posterior's uncertainty about
    that shift comes from the prior alone (sd ~ sigma0 / sqrt(M)) and would dominate every band
    once there are many battles, while no comparison depends on it. The band therefore shows
    the uncertainty of each skill relative to the table's average.
    """
    m = cov.shape[0]
    u = _average_weights(played)
    a = np.eye(m) - np.outer(np.ones(m), u)
    out: np.ndarray = a @ cov @ a.T
    return out


def _average_weights(played: np.ndarray) -> np.ndarray:
    """u: the average over the models that played (every model when none did)."""
    m = len(played)
    u: np.ndarray = played / played.sum() if played.any() else np.full(m, 1.0 / max(m, 1))
    return u


def relative_sd(cov: np.ndarray, played: np.ndarray) -> np.ndarray:
    """The standard deviations of `_relative`'s covariance, from its diagonal alone:
    Var(s_i - uᵀs) = C_ii - 2 (Cu)_i + uᵀCu, one matrix-vector product where `_relative`
    forms the whole matrix (two n³ products; a table keeps only the diagonal). Equal to
    `np.sqrt(np.diag(_relative(...)))` to rounding: within 7e-14 relative on the example and
    300-model boards (tests/rating/test_tables.py)."""
    u = _average_weights(played)
    cu = cov @ u
    var = np.diag(cov) - 2.0 * cu + float(u @ cu)
    # Rounding can leave -1e-17 where the variance is 0 (a lone model that played).
    out: np.ndarray = np.sqrt(np.maximum(var, 0.0))
    return out


def moments(post: batch.Posterior) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return post.mean, post.cov, post.inflation


def _entries(
    config: Config,
    r: Result,
    mean: np.ndarray,
    cov: np.ndarray,
    inflation: np.ndarray,
    z: float,
    seed: int,
) -> list[Entry]:
    keys = config.model_keys
    sd = relative_sd(cov, r.battles > 0)
    lower, upper = ranks.band(mean, sd, z)
    # Ranks and differences do not depend on the board's level, so the full covariance gives
    # the same draws' ranks as the relative one.
    rk = ranks.summarize(mean, cov, keys, config.rating.interval, seed)
    # One column per field, as Python values, in rank order (ranks are 1..M); validated at
    # once as plain dicts: one Entry(...) call per model was most of a table's assembly.
    columns: dict[str, list[Any]] = {
        "model": keys,
        "mu": _floats(r.mu),
        "sigma": _floats(r.sigma),
        "mu_mean": _floats(r.mu_mean),
        "mu_spread": _nan_to_none(r.mu_spread),
        "lower": _floats(lower),
        "upper": _floats(upper),
        "conservative": _floats(mean - 3 * sd),
        "rank": _ints(rk.rank),
        "rank_lower": _ints(rk.rank_lower),
        "rank_upper": _ints(rk.rank_upper),
        "battles": _ints(r.battles),
        "wins": _ints(r.wins),
        "losses": _ints(r.losses),
        "ties": _ints(r.ties),
        "provisional": (r.battles < config.rating.min_battles).tolist(),
        "p_best": _floats(rk.p_best),
        "p_top": _floats(rk.p_top),
        "score": _floats(mean),
        "sd": _floats(sd),
        "p_above_next": _nan_to_none(rk.p_above_next),
        "inflation": _floats(inflation),
        "rank_mass": _floats(rk.rank_mass),
    }
    by_rank = np.argsort(rk.rank, kind="stable").tolist()
    names = list(columns)
    return _ENTRIES.validate_python(
        [dict(zip(names, [columns[n][i] for n in names], strict=True)) for i in by_rank]
    )


_ENTRIES = TypeAdapter(list[Entry])


def _floats(values: np.ndarray) -> list[float]:
    """Python floats, as float(values[i]) gave them."""
    out: list[float] = np.asarray(values, dtype=np.float64).tolist()
    return out


def _ints(values: np.ndarray) -> list[int]:
    out: list[int] = np.asarray(values, dtype=np.int64).tolist()
    return out


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    """Floats with nan as None (what the standings publish for "not measured")."""
    return [None if math.isnan(v) else v for v in _floats(values)]


def table_of(
    config: Config,
    r: Result,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    z: float,
    participants: int,
    components: int,
    clustering: str,
) -> Table:
    """One ranking; ``fit`` is the posterior's (mean, cov, per-model sd inflation)."""
    mean, cov, inflation = fit
    seed = ranks.rank_seed(config.rating.seed, r.spec.dimension, r.spec.attribute, r.spec.value)
    entries = _entries(config, r, mean, cov, inflation, z, seed)
    played = r.battles > 0
    return Table(
        dimension=r.spec.dimension,
        slice_attribute=r.spec.attribute,
        slice_value=r.spec.value,
        battles=len(r.spec.battles),
        participants=participants,
        entries=entries,
        components=components,
        clustering=clustering,
        inflation_median=float(np.median(inflation[played])) if played.any() else 1.0,
    )


def components(n_models: int, a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> int:
    """Connected components of the comparison graph among models that played in `idx`."""
    if not len(idx):
        return 0
    pair = a[idx].astype(np.int64) * n_models + b[idx]  # narrow codes (model_dtype) widened
    seen = np.bincount(pair, minlength=n_models * n_models) > 0
    rows, cols = np.divmod(np.flatnonzero(seen), n_models)
    return graph_components(n_models, rows, cols)


def graph_components(n_models: int, i: np.ndarray, j: np.ndarray) -> int:
    """Connected components of the graph with edges ``i[k] - j[k]``, among the models on an
    edge (the pairs of a table's :class:`batch.PairCounts` are its comparison graph)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(i):
        return 0
    graph = csr_matrix((np.ones(len(i)), (i, j)), shape=(n_models, n_models))
    _, labels = connected_components(graph, directed=False)
    played = np.unique(np.concatenate([i, j]))
    return len(np.unique(labels[played]))


def unstratified(
    config: Config, pooled: Result, post: batch.Posterior, z: float, clustering: str
) -> Table:
    t = table_of(config, pooled, moments(post), z, 0, 1, clustering)
    return t.model_copy(
        update={
            "slice_attribute": POSTSTRATIFIED,
            "slice_value": "none",
            "notes": ["No population shares configured: this is the pooled ranking."],
        }
    )


def pooled_headline(
    config: Config,
    pooled: Result,
    head: gt.Headline,
    z: float,
    clustering: str,
) -> Table:
    """Σ w_g θ_g over the joint cells: one weight vector for every model, full covariance.
    The order diagnostics (mu, sigma, mu_mean, mu_spread) are the pooled tournament's."""
    fit = (head.mean, head.cov, head.inflation)  # widened through the pooling already
    grouping = "+".join(s.attribute for s in config.strata)
    spec = Spec(pooled.spec.dimension, POSTSTRATIFIED, grouping, pooled.spec.battles)
    table = table_of(config, replace(pooled, spec=spec), fit, z, 0, 1, clustering)
    return table.model_copy(update={"weights": head.weights, "notes": head.notes, "pooled": True})
