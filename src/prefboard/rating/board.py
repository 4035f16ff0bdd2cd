"""The parts of `Standings` that describe the board rather than rank it: Likert summaries,
samples against the population, provenance."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from prefboard import __version__
from prefboard.config import Config, Slice
from prefboard.ingest.validate import Ingested
from prefboard.rating import likert as lk
from prefboard.rating import ranks, strata, usage
from prefboard.rating import trueskill as ts
from prefboard.standings.model import (
    POOLED,
    AgreementRow,
    BenchmarkScore,
    DimensionInfo,
    FileRecord,
    LikertRow,
    ModelInfo,
    Parameters,
    Provenance,
    SampleShare,
    SliceInfo,
)


def likert_tables(
    config: Config, data: Ingested, published: dict[str, set[str]]
) -> tuple[list[LikertRow], list[AgreementRow]]:
    ratings = data.ratings.copy()
    keys = config.model_keys
    ratings["model_key"] = [keys[i] for i in ratings["model"]]
    # Ratings are of a model, not of a battle: battle slices have no Likert tables.
    for s in config.participant_slices:
        ratings[s.attribute] = ratings["participant_id"].map(data.participants[s.attribute])
    rows: list[LikertRow] = []
    agreement: list[AgreementRow] = []
    for d in config.likert_dimensions:
        groupings: list[tuple[str, Slice | None]] = [(POOLED, None)]
        groupings += [(s.attribute, s) for s in config.participant_slices]
        for attribute, group in groupings:
            by = ["model_key"] if group is None else [attribute, "model_key"]
            summary = lk.summarize_groups(ratings, by, d.key, d.scale_min, d.scale_max)
            for rec in summary.to_dict("records"):
                value = POOLED if group is None else str(rec[attribute])
                if group is not None and value not in published[attribute]:
                    continue
                rows.append(_likert_row(d.key, attribute, value, rec, d.scale_min, d.scale_max))
        ag = lk.agreement(
            ratings, unit="model_key", rater="participant_id", value=d.key, timestamp="timestamp"
        )
        agreement.append(
            AgreementRow(
                dimension=d.key,
                alpha_ordinal=finite_or_none(ag.alpha_ordinal),
                alpha_interval=finite_or_none(ag.alpha_interval),
                units=ag.units,
                raters=ag.raters,
                pairable_values=ag.pairable_values,
                unit="model",
                rater="participant",
            )
        )
    return rows, agreement


def _likert_row(
    dimension: str, attribute: str, value: str, rec: dict[Hashable, Any], lo: int, hi: int
) -> LikertRow:
    return LikertRow(
        dimension=dimension,
        slice_attribute=attribute,
        slice_value=value,
        model=str(rec["model_key"]),
        n=int(rec["n"]),
        mean=finite_or_none(rec["mean"]),
        sd=finite_or_none(rec["sd"]),
        ci_lower=finite_or_none(rec["ci_lower"]),
        ci_upper=finite_or_none(rec["ci_upper"]),
        counts=[int(rec[f"count_{k}"]) for k in range(lo, hi + 1)],
    )


def finite_or_none(value: object) -> float | None:
    v = float(value)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def samples(
    config: Config,
    codes: dict[str, np.ndarray],
    active: pd.DataFrame,
    published: dict[str, set[str]],
) -> list[SampleShare]:
    out = []
    for s in config.participant_slices:
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


def provenance(config_text: str, data: Ingested) -> Provenance:
    latest = [t.max() for t in (data.battles["timestamp"], data.ratings["timestamp"]) if len(t)]
    through = max(latest).strftime("%Y-%m-%dT%H:%M:%SZ") if latest else ""
    return Provenance(
        prefboard_version=__version__,
        config_sha256=hashlib.sha256(config_text.encode()).hexdigest(),
        data_through=through,
        files=[FileRecord(**vars(f)) for f in data.ledger.files],
        totals=data.ledger.totals(),
        excluded=data.ledger.reasons(),
        prompts=usage.board_prompts(data.battles),
    )


DEFAULT_BAND = "posterior"


def parameters(config: Config, params: ts.TrueSkillParams, z: float) -> Parameters:
    r = config.rating
    return Parameters(
        mu=params.mu,
        sigma=params.sigma,
        beta=params.beta,
        tau=params.tau,
        draw_probability=r.draw_probability,
        interval=r.interval,
        z=z,
        permutations=r.permutations,
        permuted_tables=r.permuted_tables,
        seed=r.seed,
        band=DEFAULT_BAND,
        rank_draws=ranks.DRAWS,
        min_battles=r.min_battles,
        stratify_by=[s.attribute for s in config.strata],
        min_participants=config.privacy.min_participants,
    )


def models(config: Config, battles: pd.DataFrame) -> list[ModelInfo]:
    counts, prompts = usage.model_usage(battles, len(config.models))
    return [
        ModelInfo(
            key=m.key,
            name=m.display,
            organization=m.organization,
            license=m.license,
            release_date=m.release_date.isoformat() if m.release_date else "",
            url=m.url,
            family=m.family,
            status=m.status,
            battles=int(counts[i]),
            prompts=int(prompts[i]),
        )
        for i, m in enumerate(config.models)
    ]


def dimensions(config: Config) -> list[DimensionInfo]:
    return [
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
    ]


def slices(
    config: Config, published: dict[str, set[str]], blank: dict[str, int]
) -> list[SliceInfo]:
    return [
        SliceInfo(
            attribute=s.attribute,
            label=s.name,
            values=s.values,
            population=strata.population_of(config, s.attribute),
            published=[v for v in s.values if v in published[s.attribute]],
            level=s.level,
            blank_battles=blank.get(s.attribute, 0),
        )
        for s in config.slices
    ]


def benchmarks(data: Ingested) -> list[BenchmarkScore]:
    return [
        BenchmarkScore(
            model=str(r["model"]),
            benchmark=str(r["benchmark"]),
            score=float(r["score"]),
            source=str(r["source"]),
        )
        for r in data.benchmarks.to_dict("records")
    ]
