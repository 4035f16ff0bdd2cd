"""Per dimension, the batch posteriors of every table: the plain fit clustered for repeated
votes, and the pooled group fits with the post-stratified headline (rating/group_tables.py)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np

from prefboard.config import Config
from prefboard.rating import batch, groups, strata
from prefboard.rating import group_tables as gt
from prefboard.rating.inputs import Dimension, Inputs
from prefboard.standings.model import PoolingInfo, TieModel


def posterior(
    config: Config,
    battles: batch.Battles,
    idx: np.ndarray,
    draw_margin: float,
    clusters: list[np.ndarray],
    pc: batch.PairCounts,
) -> batch.Posterior:
    """The batch posterior of one table's battles ``idx`` (pair counts ``pc``), inflated for
    clustered votes."""
    r = config.rating
    post = batch.fit_counts(
        pc, prior_mean=r.mu, prior_sigma=r.sigma, beta=r.beta, draw_margin=draw_margin
    )
    return batch.cluster_inflation_index(post, battles, idx, clusters, counts=pc)


@dataclass(frozen=True)
class Grouped:
    """Pooled group posteriors of one dimension (rating/group_tables.py)."""

    slices: dict[tuple[str, str], gt.GroupPosterior]
    headline: gt.Headline | None
    info: list[PoolingInfo]


def grouped(
    config: Config,
    dimension: str,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    idx: np.ndarray,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
    cells: strata.Cells,
    ties: TieModel,
    clusters: list[np.ndarray],
) -> Grouped:
    """The pooled group fits of the battles ``idx`` (those that asked the dimension)."""
    r = config.rating
    model = groups.Model(r.mu, r.sigma, r.beta, ties.draw_margin)
    a, b, outcome = (gt.subset(x, idx) for x in (a, b, outcome))
    view = gt.Battles(len(config.model_keys), a, b, outcome, idx, tuple(clusters))
    posts, info, fits = gt.slice_posteriors(config, dimension, view, codes, published, model)
    headline = None
    if config.strata:
        headline = gt.headline(config, dimension, view, codes, cells, fits, model)
        # One stratifying attribute: the cells are its values, the same fit; one row for both.
        same = [k for k, i in enumerate(info) if i.grouping == headline.info.grouping]
        if same:
            info[same[0]] = headline.info
        else:
            info.append(headline.info)
    return Grouped({(p.attribute, p.value): p for p in posts}, headline, info)


@dataclass(frozen=True)
class DimensionFit:
    """Every batch fit of one dimension: per table (attribute, value) its pair counts, the
    pooled group posteriors and headline, and the clustered posterior of each table that has
    no pooled group posterior (the pooled table; the Bradley–Terry–Davidson cross-check is
    fitted beside them: rating/crosschecks.py)."""

    posteriors: dict[tuple[str, str], batch.Posterior]
    counts: dict[tuple[str, str], batch.PairCounts]
    grouped: Grouped


# Accepted battles from which the pooled group fits of the dimensions run one at a time. Each
# holds ~90 bytes per battle while it runs (its battles' int64 copies, the sandwich's
# per-battle scores: rating/pooled_robust.py), so two at once on the two fitting threads
# made the stage's peak (10M battles: ~0.7 GB of it). The other thread's fits and the
# replays keep both cores busy meanwhile; below this size the memory is small and the
# overlap is kept. Each dimension's numbers do not depend on when it is fitted.
SERIAL_GROUP_FITS = 1_500_000


def group_fit_turns(n_battles: int) -> AbstractContextManager[object]:
    """What a dimension holds while it runs its pooled group fits: one lock shared by the
    stage's fitting threads on large boards (:data:`SERIAL_GROUP_FITS`), else nothing."""
    return threading.Lock() if n_battles >= SERIAL_GROUP_FITS else nullcontext()


def fit_dimension(
    config: Config,
    inputs: Inputs,
    dim: Dimension,
    turns: AbstractContextManager[object] | None = None,
) -> DimensionFit:
    # The batch fits use the dimension's batch config (beta widened for prompt-shared noise).
    bconf = dim.batch_config
    with nullcontext() if turns is None else turns:
        pooled = _grouped(bconf, inputs, dim)
    counts = {
        (s.attribute, s.value): batch.aggregate_index(dim.arrays, s.battles) for s in dim.run.specs
    }
    # A group's table shows its pooled posterior: its own batch fit would be computed only to
    # be replaced (19 of a dimension's 20 fits on the example board's slices), so it is not.
    posteriors = {}
    for s in dim.run.specs:
        key = (s.attribute, s.value)
        if key not in pooled.slices:
            eps = dim.ties.draw_margin
            posteriors[key] = posterior(
                bconf, dim.arrays, s.battles, eps, inputs.clusters, counts[key]
            )
    return DimensionFit(posteriors, counts, pooled)


def _grouped(bconf: Config, inputs: Inputs, dim: Dimension) -> Grouped:
    return grouped(
        bconf,
        dim.key,
        inputs.a,
        inputs.b,
        dim.outcome,
        dim.pooled,  # the asked battles (the pooled table's): not a second index array
        inputs.codes,
        inputs.published,
        inputs.cells,
        dim.ties,
        inputs.clusters,
    )
