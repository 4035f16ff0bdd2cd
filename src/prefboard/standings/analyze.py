"""The analysis stage: figures computed once from the rated standings, between rating and
rendering, so that pages only format and every number on the site is in standings.json.

Fairness (sampling bias, effective samples, group spread and agreement), benchmark agreement,
Likert/battle concordance, and the quality rules ingest applied. Also the comparison with a
previous version's standings for the "What changed" page.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from prefboard.config import Config
from prefboard.io.files import packaged_text
from prefboard.rating.btd import disagreements, kendall_tau
from prefboard.rating.ranks import rank_seed, summarize
from prefboard.standings import fairness as f
from prefboard.standings.agreement import judge_agreement
from prefboard.standings.diff import Comparison, diff_standings
from prefboard.standings.disclosure import disclose
from prefboard.standings.model import (
    POOLED,
    Analysis,
    BenchmarkAgreement,
    BenchmarkRank,
    Concordance,
    EffectiveSampleRow,
    GroupAgreement,
    GroupSpread,
    QualityRules,
    SamplingBiasRow,
    Standings,
)


def analyze(standings: Standings, config: Config) -> Standings:
    """The standings with `analysis` and `quality` filled in."""
    battle_dims = [d.key for d in standings.dimensions if d.battles]
    main = battle_dims[0] if battle_dims else ""
    analysis = Analysis(
        main_dimension=main,
        sampling_bias=sampling_bias(standings, battle_dims),
        effective_samples=[
            EffectiveSampleRow(
                attribute=e.attribute,
                participants=e.participants,
                effective=e.effective,
                groups_missing=e.groups_missing,
            )
            for e in f.effective_samples(standings)
        ],
        group_spread=[
            GroupSpread(model=c.model, best=c.best, worst=c.worst, groups=c.groups)
            for c in (f.group_consistency(standings, main) if main else [])
        ],
        group_agreement=[
            GroupAgreement(attribute=a, value=v, tau=tau)
            for a, v, tau in (f.group_agreement(standings, main) if main else [])
        ],
        benchmark_agreement=benchmark_agreement(standings, battle_dims),
        benchmark_ranks=benchmark_ranks(standings, main) if main else [],
        concordance=concordance(standings),
        studies=quoted_studies(),
        disclosure=disclose(
            standings.models,
            standings.provenance.prompts,
            standings.provenance.totals.get("battles", {}).get("accepted", 0),
        ),
    )
    quality = QualityRules(
        strike_limit=config.quality.strike_limit, min_turns=config.quality.min_turns
    )
    provenance = standings.provenance.model_copy(
        update={"synthetic_timestamps": config.leaderboard.synthetic_timestamps}
    )
    return standings.model_copy(
        update={
            "analysis": analysis,
            "quality": quality,
            "provenance": provenance,
            "judge_agreement": judge_agreement(standings),
        }
    )


def compare(label: str, before: Standings, after: Standings) -> Comparison:
    return Comparison(label, before, diff_standings(before, after))


def sampling_bias(standings: Standings, dimensions: list[str]) -> list[SamplingBiasRow]:
    rows = []
    for key in dimensions:
        head, pooled = standings.headline(key), standings.table(key)
        if head is None or pooled is None:
            continue
        b = f.sampling_bias(head)
        rows.append(
            SamplingBiasRow(
                dimension=key,
                spearman=_finite(b.spearman),
                min_battles=b.min_battles,
                max_battles=b.max_battles,
                ratio=b.ratio,
                tie_rate=f.tie_rate(pooled),
            )
        )
    return rows


def _human_ranks(standings: Standings, dimension: str) -> dict[str, int]:
    head = standings.headline(dimension)
    return {e.model: e.rank for e in head.entries if e.battles} if head else {}


def benchmark_agreement(standings: Standings, dimensions: list[str]) -> list[BenchmarkAgreement]:
    """Kendall's tau between each benchmark's scores and each dimension's headline ranks."""
    scores = {(b.benchmark, b.model): b.score for b in standings.benchmarks}
    rows = []
    for name in sorted({b.benchmark for b in standings.benchmarks}):
        for key in dimensions:
            people = _human_ranks(standings, key)
            common = sorted(m for m in people if (name, m) in scores)
            tau = (
                kendall_tau(
                    np.array([-scores[(name, m)] for m in common]),
                    np.array([people[m] for m in common], dtype=float),
                )
                if len(common) > 2
                else math.nan
            )
            rows.append(BenchmarkAgreement(benchmark=name, dimension=key, tau=_finite(tau)))
    return rows


def benchmark_ranks(standings: Standings, dimension: str) -> list[BenchmarkRank]:
    """Per benchmark, each rated model's rank by score and by the headline among the same
    models (ties broken by model key, as the page has always shown them)."""
    people = _human_ranks(standings, dimension)
    rows = []
    for name in sorted({b.benchmark for b in standings.benchmarks}):
        present = sorted(
            (b for b in standings.benchmarks if b.benchmark == name and b.model in people),
            key=lambda b: (-b.score, b.model),
        )
        bench_rank = {b.model: i for i, b in enumerate(present, start=1)}
        order = sorted(bench_rank, key=lambda m: (people[m], m))
        rows += [
            BenchmarkRank(benchmark=name, model=m, benchmark_rank=bench_rank[m], human_rank=i)
            for i, m in enumerate(order, start=1)
        ]
    return rows


def concordance(standings: Standings) -> list[Concordance]:
    """Models whose Likert rank and battle rank disagree beyond their ranges, for each
    dimension measured both ways (Likert ranges: marginal rank intervals from draws of the
    means, sd from their confidence intervals)."""
    rows: list[Concordance] = []
    for d in standings.dimensions:
        head = standings.headline(d.key) if d.battles and d.likert else None
        if head is None:
            continue
        likert = {
            r.model: r
            for r in standings.likert
            if r.dimension == d.key and r.slice_attribute == POOLED and r.n >= 2
        }
        battle = {e.model: e for e in head.entries if e.battles}
        common = sorted(set(likert) & set(battle))
        if len(common) < 2:
            continue
        mean = np.array([likert[m].mean for m in common], dtype=float)
        lo = np.array([likert[m].ci_lower for m in common], dtype=float)
        hi = np.array([likert[m].ci_upper for m in common], dtype=float)
        sd = (hi - lo) / (2 * standings.parameters.z)
        lk = summarize(
            mean,
            np.diag(sd**2),
            common,
            standings.parameters.interval,
            rank_seed(0, "likert", d.key),
        )
        b_rank = np.array([battle[m].rank for m in common], dtype=float)
        b_best = np.array([battle[m].rank_lower for m in common], dtype=float)
        b_worst = np.array([battle[m].rank_upper for m in common], dtype=float)
        flags = disagreements(lk.rank, lk.rank_lower, lk.rank_upper, b_rank, b_best, b_worst)
        rows += [
            Concordance(
                dimension=d.key,
                model=m,
                likert_rank=int(lk.rank[i]),
                likert_lower=int(lk.rank_lower[i]),
                likert_upper=int(lk.rank_upper[i]),
                battle_rank=battle[m].rank,
                battle_lower=battle[m].rank_lower,
                battle_upper=battle[m].rank_upper,
            )
            for i, m in enumerate(common)
            if flags[i]
        ]
    return rows


def _finite(x: float | None) -> float | None:
    # NaN has no JSON form: "not computable" is stored as null.
    return None if x is None or math.isnan(x) else float(x)


# The benchmark outputs shipped with the package (templates/), by the name pages quote them.
STUDIES = {"calibration": "calibration.json", "planning": "planning.json"}


def quoted_studies() -> dict[str, Any]:
    """The benchmarks' figures the methodology and Next battles pages quote."""
    return {key: json.loads(packaged_text(name)) for key, name in STUDIES.items()}
