"""End-to-end calibration study: do the published 95 % bands and rank intervals cover the truth?

Each run writes a real board (a `leaderboard.toml` and a `results/` folder made by
`prefboard.tools.simulate` from hidden skills), rates it through the product's own pipeline
(`pipeline.rate`: ingest, quality rules, privacy, rating, post-stratification) and compares every
published band with the hidden truth:

* the headline (post-stratified) table: truth = the population-share-weighted mean of the group
  skills over the `stratify_by` cells, sum_v w_v (skill_m + g_vm), w the configured population
  shares, skill_m the model's population-level skill and g_vm the effect of group v on model m;
* each group's table: truth = that group's skill, skill_m + g_vm.

TrueSkill identifies only differences, so before counting the truth of each table is shifted by
one constant, mean(estimate) - mean(truth) over the table's models; no rescaling is done (the
generator and the config share beta). A rank interval covers when it holds the model's true rank
among the table's models.

The board: 12 models, one battle dimension, one demographic attribute (age group, three groups,
population shares 0.30 / 0.35 / 0.35, the sample tilted toward the first group), 600 simulated
participants, 6,000 battles, the simulator's quality wrinkles (short battles, struck
participants) left in, so some rows are excluded exactly as in a real build.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from prefboard import pipeline
from prefboard.config import Config
from prefboard.standings.model import POSTSTRATIFIED, Standings, Table
from prefboard.tools.simulate import SimulationSpec, hidden_skills, simulate, simulate_batch

__all__ = ["SCENARIOS", "Cell", "Scenario", "board_toml", "run_board", "study", "summarise"]

MODELS = 12
DIMENSION = "overall"
ATTRIBUTE = "age_group"
POPULATION = {"18-34": 0.30, "35-54": 0.35, "55+": 0.35}
BATTLES = 6_000
PARTICIPANTS = 600
PLAN_PAIRS = 20  # `prefboard plan`'s default queue length


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    conditions: str
    spec: SimulationSpec
    pin_draw_probability: bool = True  # config gets the truth's equivalent draw_probability
    batches: int = 0  # adaptive: battles after the first spec.battles come from `plan`
    batch_battles: int = 0


_BASE = SimulationSpec(battles=BATTLES, ratings=0, participants=PARTICIPANTS, battle_files=1)
_COMMON = (
    f"{MODELS} models, {BATTLES:,} battles, {PARTICIPANTS} participants, 3 age groups with "
    "population shares 0.30/0.35/0.35 and a sample tilted toward the first"
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "groups",
        "Skewed sample, real group differences",
        f"{_COMMON}; group effects sd 0.8 (beta 4.17); 15 % ties; draw_probability pinned to "
        "the true value",
        _BASE,
    ),
    Scenario(
        "ties",
        "40 % ties, no draw_probability in the config",
        f"{_COMMON}; group effects sd 0.8; 40 % of judgements are ties; the config sets no "
        "draw_probability",
        replace(_BASE, tie_share=0.40),
        pin_draw_probability=False,
    ),
    Scenario(
        "prompts",
        "4 votes per prompt sharing a prompt effect",
        f"{_COMMON}; group effects sd 0.8; 15 % ties; each prompt (one pair of answers) judged "
        "by 4 participants, its effect on the performance gap N(0, (0.6 beta)^2)",
        replace(_BASE, votes_per_prompt=4, prompt_sd=0.6),
    ),
    Scenario(
        "no-groups",
        "No group differences",
        f"{_COMMON}; every group shares the population's skills; 15 % ties",
        replace(_BASE, group_scale=0.0),
    ),
    Scenario(
        "adaptive",
        "Battles chosen by prefboard plan",
        f"{_COMMON}; group effects sd 0.8; 15 % ties; 2,000 uniform battles, then 4 batches of "
        f"1,000 battles spread over the top {PLAN_PAIRS} pairs of `prefboard plan` (defaults, "
        "no exploration), refitting after each",
        replace(_BASE, battles=2_000),
        batches=4,
        batch_battles=1_000,
    ),
)


def board_toml(seed: int, draw_probability: float | None) -> str:
    """The study board's `leaderboard.toml`."""
    models = "".join(f'\n[[models]]\nkey = "m{i:02d}"\n' for i in range(MODELS))
    shares = ", ".join(f'"{k}" = {v}' for k, v in POPULATION.items())
    values = ", ".join(f'"{k}"' for k in POPULATION)
    draw = "" if draw_probability is None else f"draw_probability = {draw_probability:.6f}\n"
    return (
        '[leaderboard]\ntitle = "calibration study"\nsynthetic = true\n\n'
        f'[rating]\nseed = {seed}\nstratify_by = ["{ATTRIBUTE}"]\n{draw}\n'
        f'[[dimensions]]\nkey = "{DIMENSION}"\n\n'
        f'[[slices]]\nattribute = "{ATTRIBUTE}"\nvalues = [{values}]\n'
        f"population = {{ {shares} }}\n{models}"
    )


@dataclass(frozen=True)
class Interval:
    """One published band (and rank interval) scored against the truth."""

    scenario: str
    table: str  # "headline" or "age_group=<value>"
    seed: int
    model: str
    covered: bool
    rank_covered: bool
    rank_mass: float  # the rank interval's own posterior mass (near 95 %: ranks are whole)
    width: float
    z_error: float  # (estimate - truth) / (half-width / z): ~N(0, 1) when calibrated


def run_board(scenario: Scenario, seed: int, workdir: Path) -> list[Interval]:
    """Simulate, rate (adaptively when the scenario says so) and score one board."""
    spec = replace(scenario.spec, seed=seed)
    truth = hidden_skills(_config_for(seed, None), seed, spec)
    pinned = truth["equivalent_draw_probability"] if scenario.pin_draw_probability else None
    path = workdir / "leaderboard.toml"
    path.write_text(board_toml(seed, pinned), encoding="utf-8")
    config, root = pipeline.load(path)
    simulate(config, root / "results", spec)
    rng = np.random.default_rng([seed, 7])
    for batch in range(1, scenario.batches + 1):
        standings = pipeline.rate(config, root, path)[1]
        pairs = _planned_pairs(standings, scenario.batch_battles, rng)
        simulate_batch(config, root / "results", spec, pairs, batch)
    standings = pipeline.rate(config, root, path)[1]
    return score(scenario.key, seed, standings, truth)


def _config_for(seed: int, draw_probability: float | None) -> Config:
    import tomllib

    from prefboard.config import parse_config

    text = board_toml(seed, draw_probability)
    return parse_config(tomllib.loads(text), text)


def _planned_pairs(
    standings: Standings, battles: int, rng: np.random.Generator
) -> list[tuple[str, str]]:
    """`battles` battles spread round-robin over the queue `prefboard plan` prints by default;
    which model is shown first is a coin flip, as a battle interface would do."""
    from prefboard import matchmaking as mm

    queue = mm.plan(standings, mm.params_from(standings), n=PLAN_PAIRS)
    pairs = [(queue[k % len(queue)].model_a, queue[k % len(queue)].model_b) for k in range(battles)]
    flip = rng.random(battles) < 0.5
    return [(b, a) if f else (a, b) for (a, b), f in zip(pairs, flip, strict=True)]


def score(key: str, seed: int, standings: Standings, truth: dict[str, Any]) -> list[Interval]:
    """Every model's band and rank interval in the headline and each group table."""
    skills = {m: v[DIMENSION] for m, v in truth["skills"].items()}
    effects = truth["group_effects"][ATTRIBUTE]
    headline = {
        m: sum(w * (s + effects[v][m]) for v, w in POPULATION.items()) for m, s in skills.items()
    }
    z = standings.parameters.z
    out: list[Interval] = []
    for t in standings.tables:
        if t.dimension != DIMENSION:
            continue
        if t.slice_attribute == POSTSTRATIFIED:
            out += _score_table(key, "headline", seed, t, headline, z)
        elif t.slice_attribute == ATTRIBUTE:
            group = {m: s + effects[t.slice_value][m] for m, s in skills.items()}
            out += _score_table(key, f"{ATTRIBUTE}={t.slice_value}", seed, t, group, z)
    return out


def _score_table(
    key: str, label: str, seed: int, table: Table, truth: dict[str, float], z: float
) -> list[Interval]:
    entries = [e for e in table.entries if e.battles > 0]
    est = np.array([e.score for e in entries])  # what the site ranks by
    true = np.array([truth[e.model] for e in entries])
    aligned = true + (est.mean() - true.mean())  # only differences are identified
    true_rank = 1 + (true[None, :] > true[:, None]).sum(axis=1)
    out = []
    for e, x, t, r in zip(entries, est, aligned, true_rank, strict=True):
        half = (e.upper - e.lower) / 2
        out.append(
            Interval(
                scenario=key,
                table=label,
                seed=seed,
                model=e.model,
                covered=bool(e.lower <= t <= e.upper),
                rank_covered=bool(e.rank_lower <= r <= e.rank_upper),
                rank_mass=float("nan") if e.rank_mass is None else e.rank_mass,
                width=float(e.upper - e.lower),
                z_error=float((x - t) / (half / z)) if half > 0 else float("nan"),
            )
        )
    return out


@dataclass(frozen=True)
class Cell:
    """Coverage of one scenario's table over every seed and model."""

    scenario: str
    table: str
    intervals: int
    coverage: float
    coverage_se: float  # from the spread of per-seed coverages (models of a board correlate)
    rank_coverage: float
    rank_mass: float  # mean posterior mass of the rank intervals: what their coverage should be
    width: float
    error_sd: float  # sd of z_error: 1 when the bands' width matches the actual errors


def _mean_known(values: list[float]) -> float:
    """Mean of the values that are known (not NaN); NaN, without numpy's empty-slice warning,
    when none is (standings written before `rank_mass`)."""
    known = [v for v in values if not math.isnan(v)]
    return float(np.mean(known)) if known else math.nan


def summarise(intervals: Iterable[Interval]) -> list[Cell]:
    groups: dict[tuple[str, str], list[Interval]] = {}
    for i in intervals:
        groups.setdefault((i.scenario, i.table), []).append(i)
    cells = []
    for (scenario, table), rows in groups.items():
        per_seed: dict[int, list[bool]] = {}
        for r in rows:
            per_seed.setdefault(r.seed, []).append(r.covered)
        seed_cov = np.array([np.mean(v) for v in per_seed.values()])
        se = float(seed_cov.std(ddof=1) / np.sqrt(seed_cov.size)) if seed_cov.size > 1 else 0.0
        z = np.array([r.z_error for r in rows])
        cells.append(
            Cell(
                scenario=scenario,
                table=table,
                intervals=len(rows),
                coverage=float(np.mean([r.covered for r in rows])),
                coverage_se=se,
                rank_coverage=float(np.mean([r.rank_covered for r in rows])),
                rank_mass=_mean_known([r.rank_mass for r in rows]),
                width=float(np.mean([r.width for r in rows])),
                error_sd=float(np.sqrt(np.nanmean(z**2))),
            )
        )
    return cells


def study(
    scenarios: Iterable[Scenario],
    seeds: Iterable[int],
    progress: Callable[[str], None] | None = None,
) -> list[Cell]:
    """Run every scenario on every seed (one fresh board each) and summarise per table."""
    intervals: list[Interval] = []
    for scenario in scenarios:
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix="prefboard-calibration-") as tmp:
                intervals += run_board(scenario, seed, Path(tmp))
            if progress:
                progress(f"{scenario.key} seed {seed}")
    return summarise(intervals)
