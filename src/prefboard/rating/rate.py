"""Validated tables -> `Standings`: every number the site shows, computed once."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from prefboard import __version__
from prefboard.config import Config
from prefboard.ingest.privacy import active_participants
from prefboard.ingest.validate import Ingested
from prefboard.rating import batch, btd, checks, groups, ranks, strata
from prefboard.rating import group_tables as gt
from prefboard.rating import likert as lk
from prefboard.rating import trueskill as ts
from prefboard.rating.ties import tie_model, with_prompt_noise
from prefboard.rating.tournaments import (
    Result,
    Spec,
    run_tournaments,
    z_score,
)
from prefboard.standings.model import (
    POOLED,
    POSTSTRATIFIED,
    AgreementRow,
    BenchmarkScore,
    CrossCheck,
    CrossCheckEntry,
    DimensionInfo,
    Entry,
    FileRecord,
    FitCheck,
    History,
    LikertRow,
    ModelInfo,
    OrderSensitivity,
    Pair,
    Parameters,
    PlanGoal,
    PoolingInfo,
    PositionBias,
    Provenance,
    SampleShare,
    SliceInfo,
    Standings,
    Table,
    TieModel,
)

HISTORY_POINTS = 300
DEFAULT_BAND = "posterior"


def params_of(config: Config, draw_probability: float | None = None) -> ts.TrueSkillParams:
    """TrueSkill constants; the draw probability is the pinned one unless one is given (the
    learnt value of a dimension)."""
    r = config.rating
    p = draw_probability if draw_probability is not None else r.draw_probability
    return ts.TrueSkillParams(r.mu, r.sigma, r.beta, r.tau, 0.10 if p is None else p)


def rate(config: Config, data: Ingested, config_text: str = "") -> Standings:
    """Run every tournament and summary; deterministic for the same inputs and config."""
    params = params_of(config)
    z = z_score(config.rating.interval)
    keys = config.model_keys
    battles = _canonical_order(data.battles)
    codes = _slice_codes(config, battles["participant_id"], data.participants)
    active = active_participants(data)
    published = _published_values(config, active)
    people, uniques = pd.factorize(battles["participant_id"])
    n_people = len(uniques)
    a = battles["model_a"].to_numpy(np.int64)
    b = battles["model_b"].to_numpy(np.int64)

    clusters = _cluster_codes(battles)
    clustering = _clustering_name(clusters)
    tables: list[Table] = []
    pairs: list[Pair] = []
    history: list[History] = []
    sensitivity: list[OrderSensitivity] = []
    crosscheck: list[CrossCheck] = []
    fit_checks: list[FitCheck] = []
    tie_models: list[TieModel] = []
    pooling: list[PoolingInfo] = []
    cells = strata.target_cells(config, _participant_codes(config, active))
    for dim in config.battle_dimensions:
        asked = battles[dim.key].to_numpy(np.int8)
        specs = _specs(config, dim.key, asked, codes, published)
        # "Not asked" (-1) battles appear in no tournament's index list, but the engine checks
        # the whole outcome array, so they get a placeholder it accepts.
        outcome = np.where(asked < 0, 0, asked).astype(np.int8)
        arrays = batch.Battles.of(len(keys), a, b, outcome)
        ties = tie_model(config, dim.key, arrays, specs[0].battles)
        dim_params = params_of(config, ties.draw_probability)
        # The batch fits' config: beta widened for noise shared by votes on a prompt.
        ties, bconf = with_prompt_noise(config, ties, arrays, specs[0].battles, clusters)
        tie_models.append(ties)
        bparams = params_of(bconf, ties.draw_probability)
        results = run_tournaments(
            len(keys),
            a,
            b,
            outcome,
            specs,
            config.rating.permutations,
            _seed(config.rating.seed, dim.key),
            dim_params,
        )
        by_slice = {(r.spec.attribute, r.spec.value): r for r in results}
        fits = {
            key: _posterior(bconf, arrays, r.spec.battles, ties.draw_margin, clusters)
            for key, r in by_slice.items()
        }
        grouped = _grouped(
            bconf, dim.key, a, b, outcome, asked, codes, published, cells, ties, clusters
        )
        pooling += grouped.info
        for r in results:
            n_part = _distinct(people, n_people, r.spec.battles)
            parts = _components(len(keys), a, b, r.spec.battles)
            post = grouped.slices.get((r.spec.attribute, r.spec.value))
            fit = _moments(fits[(r.spec.attribute, r.spec.value)])
            if post is not None:
                fit = (post.mean, post.cov, post.inflation)
            table = _table(config, r, fit, z, n_part, parts, clustering)
            tables.append(table if post is None else table.model_copy(update={"pooled": True}))
        pooled = by_slice[(POOLED, POOLED)]
        if grouped.headline is None:
            tables.append(_unstratified(config, pooled, fits[(POOLED, POOLED)], z, clustering))
        else:
            tables.append(_pooled_headline(config, pooled, grouped.headline, z, clustering))
        dim_pairs = _pairs(config, dim.key, pooled, fits[(POOLED, POOLED)], a, b, outcome, bparams)
        dim_pairs, fit_check = _fit_check(
            config,
            dim.key,
            pooled.spec.battles,
            fits[(POOLED, POOLED)].mean,
            ties.draw_margin,
            a,
            b,
            outcome,
            bparams,
            dim_pairs,
        )
        pairs += dim_pairs
        fit_checks.append(fit_check)
        history.append(_history(config, dim.key, pooled, a, b, outcome, dim_params))
        pooled_table = next(t for t in reversed(tables) if t.slice_attribute == POOLED)
        crosscheck.append(_crosscheck(config, pooled_table, pooled, a, b, outcome))
        sensitivity.append(
            OrderSensitivity(
                dimension=dim.key,
                median_spread_over_sigma=_median_ratio(pooled),
                max_rank_shift=int(pooled.pass_rank_shift.max()) if len(keys) else 0,
                passes=1 + config.rating.permutations,
            )
        )

    likert_rows, agreement = _likert(config, data, published)
    return Standings(
        title=config.leaderboard.title,
        description=config.leaderboard.description,
        synthetic=config.leaderboard.synthetic,
        version=config.site.version,
        provenance=_provenance(config_text, data),
        parameters=Parameters(
            mu=params.mu,
            sigma=params.sigma,
            beta=params.beta,
            tau=params.tau,
            draw_probability=config.rating.draw_probability,
            interval=config.rating.interval,
            z=z,
            permutations=config.rating.permutations,
            seed=config.rating.seed,
            band=DEFAULT_BAND,
            rank_draws=ranks.DRAWS,
            min_battles=config.rating.min_battles,
            stratify_by=[s.attribute for s in config.strata],
            min_participants=config.privacy.min_participants,
        ),
        models=[
            ModelInfo(
                key=m.key,
                name=m.display,
                organization=m.organization,
                license=m.license,
                release_date=m.release_date.isoformat() if m.release_date else "",
                url=m.url,
            )
            for m in config.models
        ],
        dimensions=[
            DimensionInfo(
                key=d.key,
                label=d.name,
                description=d.description,
                battles=d.battles,
                likert=d.likert,
                scale_min=d.scale_min,
                scale_max=d.scale_max,
            )
            for d in config.dimensions
        ],
        slices=[
            SliceInfo(
                attribute=s.attribute,
                label=s.name,
                values=s.values,
                population=strata.population_of(config, s.attribute),
                published=[v for v in s.values if v in published[s.attribute]],
            )
            for s in config.slices
        ],
        tables=tables,
        pairs=pairs,
        history=history,
        likert=likert_rows,
        agreement=agreement,
        samples=_samples(config, codes, active, published),
        order_sensitivity=sensitivity,
        crosscheck=crosscheck,
        ties=tie_models,
        benchmarks=[
            BenchmarkScore(model=r.model, benchmark=r.benchmark, score=r.score, source=r.source)
            for r in data.benchmarks.itertuples(index=False)
        ],
        fit_checks=fit_checks,
        pooling=pooling,
        plan_goal=PlanGoal(**config.plan.model_dump()),
    )


def _distinct(people: np.ndarray, n_people: int, idx: np.ndarray) -> int:
    """Distinct participants among the battles `idx` (a mark array: no sort of strings)."""
    seen = np.zeros(n_people, dtype=bool)
    seen[people[idx]] = True
    return int(seen.sum())


def _seed(seed: int, dimension: str) -> int:
    # A per-dimension seed, stable across Python runs (hash() is salted per process).
    digest = hashlib.sha256(f"{seed}:{dimension}".encode()).digest()
    return int.from_bytes(digest[:7], "little")


def _canonical_order(battles: pd.DataFrame) -> pd.DataFrame:
    """Timestamp order, ties broken by battle_id, so every build replays the same sequence."""
    return battles.sort_values(["timestamp", "battle_id"], kind="stable").reset_index(drop=True)


def _slice_codes(
    config: Config, participant_ids: pd.Series, participants: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per slice attribute, the index of each battle's participant value (-1 when unknown)."""
    where = participants.index.get_indexer(participant_ids)
    out = {}
    for s in config.slices:
        value_codes = pd.Index(s.values).get_indexer(participants[s.attribute].astype(str))
        per_battle = np.where(where >= 0, value_codes[np.maximum(where, 0)], -1)
        out[s.attribute] = per_battle.astype(np.int64)
    return out


def _published_values(config: Config, active: pd.DataFrame) -> dict[str, set[str]]:
    """Slice values with enough distinct participants to be shown on their own (privacy)."""
    out = {}
    for s in config.slices:
        counts = active[s.attribute].value_counts()
        out[s.attribute] = {
            v for v in s.values if counts.get(v, 0) >= config.privacy.min_participants
        }
    return out


def _specs(
    config: Config,
    dimension: str,
    outcome: np.ndarray,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
) -> list[Spec]:
    asked = outcome >= 0
    specs = [Spec(dimension, POOLED, POOLED, np.flatnonzero(asked))]
    # The headline pools the groups (rating/group_tables.py) instead of combining per-group
    # tournaments, so only published groups need one: their counts and order diagnostics.
    for s in config.slices:
        c = codes[s.attribute]
        for i, v in enumerate(s.values):
            if v in published[s.attribute]:
                specs.append(Spec(dimension, s.attribute, v, np.flatnonzero(asked & (c == i))))
    return specs


def _cluster_codes(battles: pd.DataFrame) -> list[np.ndarray]:
    """Cluster code per battle: participant, and prompt when any battle names one. A battle
    with no prompt_id is its own prompt cluster (nothing says it shares an item). Codes follow
    sorted ids, not first appearance, so the sandwich does not depend on the battle order."""
    by_person = pd.factorize(battles["participant_id"], sort=True)[0].astype(np.int64)
    prompts = battles.get("prompt_id")
    if prompts is None or not (prompts != "").any():
        return [by_person]
    codes, uniq = pd.factorize(prompts, sort=True)
    codes = codes.astype(np.int64)
    none = np.flatnonzero(prompts.to_numpy() == "")
    alone = pd.factorize(battles["battle_id"].to_numpy()[none], sort=True)[0]
    codes[none] = len(uniq) + alone
    return [by_person, codes]


def _posterior(
    config: Config,
    battles: batch.Battles,
    idx: np.ndarray,
    draw_margin: float,
    clusters: list[np.ndarray],
) -> batch.Posterior:
    """The batch posterior of one table's battles, inflated for clustered votes."""
    r = config.rating
    pc = batch.aggregate_index(battles, idx)
    post = batch.fit_counts(
        pc, prior_mean=r.mu, prior_sigma=r.sigma, beta=r.beta, draw_margin=draw_margin
    )
    return batch.cluster_inflation_index(post, battles, idx, clusters)


def _clustering_name(clusters: list[np.ndarray]) -> str:
    return "participant" if len(clusters) == 1 else "participant+prompt"


def _relative(cov: np.ndarray, played: np.ndarray) -> np.ndarray:
    """Covariance of each skill minus the average skill of the models that played.

    Comparisons identify skills only up to a common shift; the posterior's uncertainty about
    that shift comes from the prior alone (sd ~ sigma0 / sqrt(M)) and would dominate every band
    once there are many battles, while no comparison depends on it. The band therefore shows
    the uncertainty of each skill relative to the table's average.
    """
    m = cov.shape[0]
    u = played / played.sum() if played.any() else np.full(m, 1.0 / max(m, 1))
    a = np.eye(m) - np.outer(np.ones(m), u)
    return a @ cov @ a.T


def _moments(post: batch.Posterior) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    sd = np.sqrt(np.diag(_relative(cov, r.battles > 0)))
    lower, upper = ranks.band(mean, sd, z)
    # Ranks and differences do not depend on the board's level, so the full covariance gives
    # the same draws' ranks as the relative one.
    rk = ranks.summarize(mean, cov, keys, config.rating.interval, seed)
    entries = [
        Entry(
            model=keys[i],
            mu=float(r.mu[i]),
            sigma=float(r.sigma[i]),
            mu_mean=float(r.mu_mean[i]),
            mu_spread=float(r.mu_spread[i]),
            lower=float(lower[i]),
            upper=float(upper[i]),
            conservative=float(mean[i] - 3 * sd[i]),
            rank=int(rk.rank[i]),
            rank_lower=int(rk.rank_lower[i]),
            rank_upper=int(rk.rank_upper[i]),
            battles=int(r.battles[i]),
            wins=int(r.wins[i]),
            losses=int(r.losses[i]),
            ties=int(r.ties[i]),
            provisional=bool(r.battles[i] < config.rating.min_battles),
            p_best=float(rk.p_best[i]),
            p_top=float(rk.p_top[i]),
            score=float(mean[i]),
            sd=float(sd[i]),
            p_above_next=None if math.isnan(rk.p_above_next[i]) else float(rk.p_above_next[i]),
            inflation=float(inflation[i]),
            rank_mass=float(rk.rank_mass[i]),
        )
        for i in range(len(keys))
    ]
    return sorted(entries, key=lambda e: e.rank)


def _table(
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


def _components(n_models: int, a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> int:
    """Connected components of the comparison graph among models that played in `idx`."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(idx):
        return 0
    seen = np.bincount(a[idx] * n_models + b[idx], minlength=n_models * n_models) > 0
    rows, cols = np.divmod(np.flatnonzero(seen), n_models)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_models, n_models))
    _, labels = connected_components(graph, directed=False)
    played = np.unique(np.concatenate([rows, cols]))
    return len(np.unique(labels[played]))


def _unstratified(
    config: Config, pooled: Result, post: batch.Posterior, z: float, clustering: str
) -> Table:
    t = _table(config, pooled, _moments(post), z, 0, 1, clustering)
    return t.model_copy(
        update={
            "slice_attribute": POSTSTRATIFIED,
            "slice_value": "none",
            "notes": ["No population shares configured: this is the pooled ranking."],
        }
    )


@dataclass(frozen=True)
class _Grouped:
    """Pooled group posteriors of one dimension (rating/group_tables.py)."""

    slices: dict[tuple[str, str], gt.GroupPosterior]
    headline: gt.Headline | None
    info: list[PoolingInfo]


def _grouped(
    config: Config,
    dimension: str,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    asked: np.ndarray,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
    cells: strata.Cells,
    ties: TieModel,
    clusters: list[np.ndarray],
) -> _Grouped:
    r = config.rating
    model = groups.Model(r.mu, r.sigma, r.beta, ties.draw_margin)
    idx = np.flatnonzero(asked >= 0)
    view = gt.Battles(len(config.model_keys), a[idx], b[idx], outcome[idx], idx, tuple(clusters))
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
    return _Grouped({(p.attribute, p.value): p for p in posts}, headline, info)


def _pooled_headline(
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
    table = _table(config, replace(pooled, spec=spec), fit, z, 0, 1, clustering)
    return table.model_copy(update={"weights": head.weights, "notes": head.notes, "pooled": True})


def _participant_codes(config: Config, active: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per slice attribute, each active participant's value index (-1 when not given)."""
    return {
        s.attribute: pd.Index(s.values).get_indexer(active[s.attribute].astype(str))
        for s in config.slices
    }


def _pairs(
    config: Config,
    dimension: str,
    pooled: Result,
    post: batch.Posterior,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
) -> list[Pair]:
    keys = config.model_keys
    m = len(keys)
    idx = pooled.spec.battles
    lo = np.minimum(a[idx], b[idx])
    hi = np.maximum(a[idx], b[idx])
    o = outcome[idx]
    lo_won = ((o == 0) & (a[idx] == lo)) | ((o == 1) & (b[idx] == lo))
    hi_won = ((o == 0) & (a[idx] == hi)) | ((o == 1) & (b[idx] == hi))
    code = lo * m + hi
    n = np.bincount(code, minlength=m * m)
    wl = np.bincount(code[lo_won], minlength=m * m)
    wh = np.bincount(code[hi_won], minlength=m * m)
    tie = np.bincount(code[o == 2], minlength=m * m)
    ii, jj = np.triu_indices(m, k=1)
    # The predictive difference uses the posterior variance of the *difference* (covariance
    # included), carried on one side: win_probabilities adds the two sides' variances.
    var = post.cov[ii, ii] + post.cov[jj, jj] - 2 * post.cov[ii, jj]
    zero = np.zeros(len(ii))
    p_a, p_b, p_t = ts.win_probabilities_array(
        post.mean[ii], np.sqrt(np.maximum(var, 0.0)), post.mean[jj], zero, params
    )
    return [
        Pair(
            dimension=dimension,
            model_a=keys[i],
            model_b=keys[j],
            battles=int(n[i * m + j]),
            wins_a=int(wl[i * m + j]),
            wins_b=int(wh[i * m + j]),
            ties=int(tie[i * m + j]),
            p_a=float(p_a[k]),
            p_b=float(p_b[k]),
            p_tie=float(p_t[k]),
        )
        for k, (i, j) in enumerate(zip(ii, jj, strict=True))
    ]


def _fit_check(
    config: Config,
    dimension: str,
    idx: np.ndarray,
    score: np.ndarray,
    margin: float,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
    pairs: list[Pair],
) -> tuple[list[Pair], FitCheck]:
    """Goodness of fit per pair and position bias on the pooled battles `idx` (rating/checks.py);
    predictions from the pooled batch posterior mean `score` and the dimension's draw margin."""
    keys = config.model_keys
    fits = checks.pair_fit(len(keys), a[idx], b[idx], outcome[idx], score, params.beta, margin)
    by_pair = {(keys[f.i], keys[f.j]): f for f in fits}
    checked = []
    for p in pairs:
        f = by_pair.get((p.model_a, p.model_b))
        if f is None:
            checked.append(p)
            continue
        update = {
            "expected_a": f.expected[0],
            "expected_b": f.expected[1],
            "expected_tie": f.expected[2],
            "fit_p": f.p_value,
            "fit_p_adjusted": f.p_adjusted,
            "misfit": f.flagged,
        }
        checked.append(p.model_copy(update=update))
    pos = checks.position_bias(
        len(keys), a[idx], b[idx], outcome[idx], params.beta, margin, params.sigma
    )
    check = FitCheck(
        dimension=dimension,
        test=checks.TEST,
        adjustment=checks.ADJUSTMENT,
        alpha=checks.ALPHA,
        pairs_tested=len(fits),
        misfits=[f"{keys[f.i]} vs {keys[f.j]}" for f in fits if f.flagged],
        position=PositionBias(
            decided=pos.decided,
            wins_a=pos.wins_a,
            share_a=_num(pos.share_a),
            share_p=pos.share_p,
            h=pos.h,
            h_se=pos.h_se,
            p_value=pos.p_value,
            enough=pos.enough,
            flagged=pos.flagged,
        ),
    )
    return checked, check


def _history(
    config: Config,
    dimension: str,
    pooled: Result,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
) -> History:
    idx = pooled.spec.battles.astype(np.int64)
    every = max(1, math.ceil(len(idx) / HISTORY_POINTS))
    keys = config.model_keys
    if not len(idx):
        return History(
            dimension=dimension, steps=[], mu={k: [] for k in keys}, sigma={k: [] for k in keys}
        )
    steps, mu, sigma = ts.replay_history(len(keys), a, b, outcome, idx, every, params)
    return History(
        dimension=dimension,
        steps=[int(s) for s in steps],
        mu={k: [round(float(v), 4) for v in mu[:, i]] for i, k in enumerate(keys)},
        sigma={k: [round(float(v), 4) for v in sigma[:, i]] for i, k in enumerate(keys)},
    )


BTD_DRAWS = 200


def _crosscheck(
    config: Config,
    table: Table,
    pooled: Result,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
) -> CrossCheck:
    """Fit Bradley–Terry–Davidson to the pooled battles and set it beside TrueSkill."""
    keys = config.model_keys
    idx = pooled.spec.battles
    fit = btd.btd_with_bootstrap(
        len(keys),
        a[idx],
        b[idx],
        outcome[idx],
        draws=BTD_DRAWS,
        seed=config.rating.seed,
        interval=config.rating.interval,
    )
    ts = {e.model: e for e in table.entries}
    ts_rank = np.array([ts[k].rank if ts[k].battles else np.nan for k in keys], dtype=float)
    ts_lo = np.array([ts[k].rank_lower for k in keys], dtype=float)
    ts_hi = np.array([ts[k].rank_upper for k in keys], dtype=float)
    flags = btd.disagreements(ts_rank, ts_lo, ts_hi, fit.rank, fit.rank_lower, fit.rank_upper)
    return CrossCheck(
        dimension=table.dimension,
        kendall_tau=_num(btd.kendall_tau(ts_rank, fit.rank)),
        nu=_num(fit.nu),
        draws=BTD_DRAWS,
        entries=[
            CrossCheckEntry(
                model=k,
                theta=_num(fit.theta[i]),
                lower=_num(fit.lower[i]),
                upper=_num(fit.upper[i]),
                rank=_int(fit.rank[i]),
                rank_lower=_int(fit.rank_lower[i]),
                rank_upper=_int(fit.rank_upper[i]),
                disagrees=bool(flags[i]),
            )
            for i, k in enumerate(keys)
        ],
    )


def _int(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


def _median_ratio(r: Result) -> float:
    played = r.battles > 0
    if not played.any():
        return 0.0
    return float(np.median(r.mu_spread[played] / r.sigma_mean[played]))


def _likert(
    config: Config, data: Ingested, published: dict[str, set[str]]
) -> tuple[list[LikertRow], list[AgreementRow]]:
    ratings = data.ratings.copy()
    keys = config.model_keys
    ratings["model_key"] = [keys[i] for i in ratings["model"]]
    for s in config.slices:
        ratings[s.attribute] = ratings["participant_id"].map(data.participants[s.attribute])
    rows: list[LikertRow] = []
    agreement: list[AgreementRow] = []
    for d in config.likert_dimensions:
        groupings = [(POOLED, None)] + [(s.attribute, s) for s in config.slices]
        for attribute, s in groupings:
            by = ["model_key"] if s is None else [attribute, "model_key"]
            summary = lk.summarize_groups(ratings, by, d.key, d.scale_min, d.scale_max)
            for rec in summary.to_dict("records"):
                value = POOLED if s is None else str(rec[attribute])
                if s is not None and value not in published[attribute]:
                    continue
                rows.append(_likert_row(d.key, attribute, value, rec, d.scale_min, d.scale_max))
        ag = lk.agreement(
            ratings, unit="model_key", rater="participant_id", value=d.key, timestamp="timestamp"
        )
        agreement.append(
            AgreementRow(
                dimension=d.key,
                alpha_ordinal=_num(ag.alpha_ordinal),
                alpha_interval=_num(ag.alpha_interval),
                units=ag.units,
                raters=ag.raters,
                pairable_values=ag.pairable_values,
                unit="model",
                rater="participant",
            )
        )
    return rows, agreement


def _likert_row(
    dimension: str, attribute: str, value: str, rec: dict, lo: int, hi: int
) -> LikertRow:
    return LikertRow(
        dimension=dimension,
        slice_attribute=attribute,
        slice_value=value,
        model=str(rec["model_key"]),
        n=int(rec["n"]),
        mean=_num(rec["mean"]),
        sd=_num(rec["sd"]),
        ci_lower=_num(rec["ci_lower"]),
        ci_upper=_num(rec["ci_upper"]),
        counts=[int(rec[f"count_{k}"]) for k in range(lo, hi + 1)],
    )


def _num(value: object) -> float | None:
    v = float(value)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def _samples(
    config: Config,
    codes: dict[str, np.ndarray],
    active: pd.DataFrame,
    published: dict[str, set[str]],
) -> list[SampleShare]:
    out = []
    for s in config.slices:
        population = strata.population_of(config, s.attribute)
        counts = active[s.attribute].value_counts()
        known = int(counts[counts.index.isin(s.values)].sum())
        c = codes[s.attribute]
        per_value = np.bincount(c[c >= 0], minlength=len(s.values))
        for i, v in enumerate(s.values):
            ok = v in published[s.attribute]
            n = int(counts.get(v, 0))
            out.append(
                SampleShare(
                    attribute=s.attribute,
                    value=v,
                    participants=n if ok else 0,
                    battles=int(per_value[i]) if ok else 0,
                    sample_share=(n / known if known else 0.0) if ok else 0.0,
                    population_share=population.get(v),
                    published=ok,
                )
            )
    return out


def _provenance(config_text: str, data: Ingested) -> Provenance:
    latest = [t.max() for t in (data.battles["timestamp"], data.ratings["timestamp"]) if len(t)]
    through = max(latest).strftime("%Y-%m-%dT%H:%M:%SZ") if latest else ""
    return Provenance(
        prefboard_version=__version__,
        config_sha256=hashlib.sha256(config_text.encode()).hexdigest(),
        data_through=through,
        files=[FileRecord(**vars(f)) for f in data.ledger.files],
        totals=data.ledger.totals(),
        excluded=data.ledger.reasons(),
    )
