"""Planning on the batch posterior: information, fantasy updates, stopping rule, quotas, study."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.special import ndtr, ndtri

from prefboard.cli import cli
from prefboard.matchmaking import batches, goal, stage
from prefboard.matchmaking import information as info
from prefboard.matchmaking import quotas as mq
from prefboard.matchmaking.stopping import project, separation_z
from prefboard.render import format as fmt
from prefboard.render import plan_figures
from prefboard.standings.model import GoalProjection, PlanGoal, Standings, write_standings
from prefboard.studies import planning as study
from tests.test_matchmaking import make_standings, sample

BETA = 25.0 / 6.0
EPS = 1.1
C = math.sqrt(2.0) * BETA


def _simulate(m: float, v: float, draws: int = 400_000) -> tuple[np.ndarray, np.ndarray]:
    """Seeded draws of (difference, outcome) under TrueSkill's model, for reference values."""
    rng = np.random.default_rng(7)
    delta = m + math.sqrt(v) * rng.standard_normal(draws)
    d = delta + C * rng.standard_normal(draws)
    return delta, np.where(d > EPS, 0, np.where(d < -EPS, 1, 2))


@pytest.mark.parametrize(("m", "v"), [(0.0, 1.0), (0.5, 0.25), (2.0, 4.0)])
def test_order_information_matches_a_monte_carlo_estimate(m: float, v: float) -> None:
    # I(outcome; sign of the difference) from the empirical joint of 400,000 seeded draws.
    delta, outcome = _simulate(m, v)
    joint = np.zeros((3, 2))
    np.add.at(joint, (outcome, (delta > 0).astype(int)), 1.0)
    joint /= joint.sum()
    indep = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    reference = float(np.sum(joint * np.log(joint / indep)))
    got = info.order_information(np.array([m]), np.array([v]), BETA, EPS)[0]
    assert got == pytest.approx(reference, rel=0.05, abs=2e-4)
    # Knowing the skills tells at least as much as knowing their order.
    assert info.mutual_information(np.array([m]), np.array([v]), BETA, EPS)[0] >= got


def test_expected_variance_is_the_exact_posterior_variance_averaged_over_outcomes() -> None:
    # One probit-type observation on a Gaussian: moment matching is exact, so the expected
    # posterior variance equals sum_o P(o) Var(delta | o) from the seeded draws.
    m, v = 0.5, 2.0
    delta, outcome = _simulate(m, v)
    reference = sum(np.mean(outcome == o) * np.var(delta[outcome == o]) for o in range(3))
    got = info.expected_difference_variance(np.array([m]), np.array([v]), BETA, EPS)[0]
    assert got == pytest.approx(reference, rel=0.01)
    assert got < v


def test_fantasy_update_sets_the_pair_variance_and_keeps_symmetry() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 5))
    cov = a @ a.T + np.eye(5)
    mean = rng.standard_normal(5)
    new = info.fantasy_update(cov, 1, 3, mean, BETA, EPS)
    v = cov[1, 1] + cov[3, 3] - 2 * cov[1, 3]
    expected = info.expected_difference_variance(
        np.array([mean[1] - mean[3]]), np.array([v]), BETA, EPS
    )[0]
    assert new[1, 1] + new[3, 3] - 2 * new[1, 3] == pytest.approx(expected)
    assert np.allclose(new, new.T)
    assert np.all(np.linalg.eigvalsh(new) > 0)
    assert np.all(np.diag(new) <= np.diag(cov) + 1e-12)  # information never adds variance


def _brute_force(mean: np.ndarray, cov: np.ndarray, size: int) -> list[int]:
    pairs = info.PairSet.of(len(mean))
    picks = []
    for _ in range(size):
        m, v = info.difference_moments(mean, cov, pairs)
        k = int(np.argmax(info.order_information(m, v, BETA, EPS)))
        picks.append(k)
        cov = info.fantasy_update(cov, int(pairs.i[k]), int(pairs.j[k]), mean, BETA, EPS)
    return picks


def test_lazy_greedy_picks_what_recomputing_everything_picks() -> None:
    rng = np.random.default_rng(3)
    mean = np.sort(rng.normal(25, 3, 9))[::-1]
    a = rng.standard_normal((9, 9)) * 0.4
    cov = a @ a.T + np.eye(9) * 0.5
    batch = batches.plan_batch(mean, cov, BETA, EPS, 25, 0.0, rng)
    picks, explored = batch.picks, batch.explored
    assert picks == _brute_force(mean, cov, 25)
    assert not any(explored)
    # One batch spreads over pairs instead of repeating the best one 25 times.
    assert len(set(picks)) > 5


def test_goal_information_ignores_settled_targets() -> None:
    mean = np.array([40.0, 30.0, 29.5, 10.0])
    cov = np.eye(4) * 0.5
    pairs = info.PairSet.of(4)
    everything = np.arange(pairs.size)
    settled = goal.goal_information(
        mean, cov, pairs, everything, (np.array([0]), np.array([1])), BETA, EPS
    )
    open_ = goal.goal_information(
        mean, cov, pairs, everything, (np.array([1]), np.array([2])), BETA, EPS
    )
    assert settled.max() < 1e-9
    # The best battle for the open target is that very pair (models 1 and 2: index 3).
    assert int(np.argmax(open_)) == 3


def test_separation_z_is_bonferroni_over_pairs_and_looks() -> None:
    assert separation_z(0.05, 5, 20) == pytest.approx(float(ndtri(1 - 0.05 / 200)))
    assert separation_z(0.05, 1, 1) == pytest.approx(1.959963984540054)


def _project(mean: np.ndarray, cov: np.ndarray, **kw: object) -> object:
    args = dict(
        goal="top", k=2, level=0.95, looks=20, max_half_width=None, batch=100, explore=0.5, seed=0
    )
    args.update(kw)
    return project(mean, cov, BETA, EPS, **args)  # type: ignore[arg-type]


def test_projection_of_battles_still_needed() -> None:
    cov = np.eye(4) * 0.04
    done = _project(np.array([40.0, 30.0, 20.0, 10.0]), cov)
    assert done.met_now and done.battles == 0 and done.passing == 2
    close = _project(np.array([40.0, 30.0, 29.0, 10.0]), np.eye(4) * 0.5)
    assert not close.met_now and close.passing == 1 and close.targets == 2
    assert close.battles is not None and close.battles > 0
    # More planned looks means a stricter test, so never fewer battles.
    strict = _project(np.array([40.0, 30.0, 29.0, 10.0]), np.eye(4) * 0.5, looks=200)
    assert strict.battles >= close.battles
    width = _project(
        np.array([40.0, 30.0, 29.0, 10.0]),
        np.eye(4) * 0.5,
        goal="half_width",
        max_half_width=0.5,
    )
    assert not width.met_now and width.battles is not None and width.battles > 0


def test_quotas_bring_groups_to_their_shares() -> None:
    # 60 young and 40 old participants; the population is half and half.
    s = make_standings(
        samples=[sample("age", "young", 60, 0.6, 0.5), sample("age", "old", 40, 0.4, 0.5)]
    )
    rows = {q.value: q for q in mq.quotas(s)}
    # The 60 young fix the smallest balanced sample at 120: 20 more old, no more young.
    assert (rows["old"].for_share, rows["young"].for_share) == (20, 0)
    more = {q.value: q for q in mq.quotas(s, more_participants=100)}
    # 200 in all after recruiting: 100 of each, i.e. 40 young and 60 old more.
    assert (more["young"].quota, more["old"].quota) == (40, 60)
    text = mq.quotas_csv(list(more.values()))
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == mq.QUOTA_COLUMNS
    assert parsed[1] == ["age", "young", "60", "0.5", "40", "0", "40"]


def test_group_precision_goal_adds_participants() -> None:
    s = make_standings(
        samples=[sample("age", "young", 10, 0.5, 0.5), sample("age", "old", 10, 0.5, 0.5)]
    ).model_copy(update={"plan_goal": PlanGoal(group_half_width=2.94)})
    # The young table's widest band among models with battles (d has none there): c with
    # sd 3, half-width 1.96 * 3 = 5.88, twice the target, so 10 participants need
    # 10 * (2^2 - 1) = 30 more.
    rows = {q.value: q for q in mq.quotas(s)}
    assert rows["young"].for_precision == 30
    assert rows["old"].for_precision == 0  # no published table for old


def test_study_run_is_seeded_and_reaches_an_easy_goal() -> None:
    board = study.leaders_board(8, gap=8.0)
    first = study.run(board, study.World(), "plan", 3, budget=3000, k=2)
    again = study.run(board, study.World(), "plan", 3, budget=3000, k=2)
    assert first == again
    assert first.separated_at is not None and first.wrong == 0
    assert 0.0 <= first.coverage_skills <= 1.0 and -1.0 <= first.tau <= 1.0
    noisy = study.run(board, study.World(logistic=True, careless=0.2), "random", 3, budget=500)
    assert len(noisy.taus) == 5


def test_bootstrap_ratio_of_medians() -> None:
    ratio, lo, hi = study.bootstrap_ratio(np.array([5.0, 5.0, 5.0]), np.array([10.0] * 3))
    assert (ratio, lo, hi) == (0.5, 0.5, 0.5)


def test_cli_plan_quotas_and_goal(tiny: Path, tiny_standings: Standings, tmp_path: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    out = tmp_path / "quotas.csv"
    result = CliRunner().invoke(
        cli, ["plan", "--config", str(toml), "-n", "3", "--quotas", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "goal ([plan] goal = top), pooled tables:" in result.output
    assert "adjacent pairs separated (" in result.output
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == mq.QUOTA_COLUMNS
    assert {r[0] for r in rows[1:]} == {"country"}
    # the same board's standings, rated once per run (conftest), rather than rating it again
    write_standings(tiny_standings, tmp_path / "rated")
    stdout = CliRunner().invoke(
        cli,
        ["plan", "--config", str(toml), "--standings", str(tmp_path / "rated"), "--quotas", "-"],
    )
    assert stdout.output == out.read_text(encoding="utf-8")


def test_plan_help_states_the_default_share_and_quotes_the_benchmark_file() -> None:
    text = CliRunner().invoke(cli, ["plan", "--help"]).output
    assert "[plan] explore, 0.5" in text
    assert "Bonferroni" in text
    figures = plan_figures.load()
    flat = " ".join(text.split())
    assert f"What benchmarks/bench_matchmaking.py shows: {figures['conditions']}" in flat
    row = figures["rows"][0]
    assert f"{row['board']}, {row['world']} world: " in flat
    assert f"ratio {fmt.number(row['ratio'])} (95 % CI " in flat


def test_p_above_uses_the_difference_not_band_overlap() -> None:
    # Sanity of the reason's number: correlated errors make the difference surer.
    mean = np.array([1.0, 0.0])
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    m, v = info.difference_moments(mean, cov, info.PairSet.of(2))
    assert v[0] == pytest.approx(0.2)
    assert float(ndtr(m[0] / math.sqrt(v[0]))) == pytest.approx(0.987, abs=1e-3)


def test_next_battles_page_states_goal_quotas_and_the_benchmark(
    tiny_standings: Standings,
) -> None:
    from prefboard.render.pages import render_pages

    page = next(p for p in render_pages(tiny_standings) if p.path == "next.md")
    assert "**Goal:** top 2 adjacent pairs separated" in page.text  # 3 models: 2 pairs
    assert "Bonferroni over the pairs" in page.text
    figures = plan_figures.load()
    assert " ".join(figures["conditions"].split()[:8]) in page.text
    for row in plan_figures.table_rows(figures):
        assert "| " + " | ".join(row) + " |" in page.text
    for row in figures["rows"]:
        if plan_figures.shortfalls(row):
            assert f"- {row['board']}, {row['world']} world: " in page.text


def test_the_plan_is_computed_once_into_the_standings_and_the_page_reads_it(
    tiny_standings: Standings,
) -> None:
    from prefboard.matchmaking import plan
    from prefboard.render.pages import render_pages

    s = tiny_standings
    # The plan stage ran inside `rate`: the queue is the one `prefboard plan` computes.
    dims = [d.key for d in s.dimensions if d.battles]
    assert len(dims) > 1
    for d in dims:
        queue = [c for c in s.plan.queue if c.dimension == d]
        assert queue == plan(s, None, dimension=d, n=stage.PLANNED_PER_DIMENSION)
    assert [g.dimension for g in s.plan.goals] == dims
    assert (s.plan.explore, s.plan.board) == (0.5, 0.25)
    assert s.plan.quotas == mq.quotas(s, max(g.participants or 0 for g in s.plan.goals))
    # The page formats what the standings hold and computes nothing itself.
    first = s.plan.queue[0].model_copy(update={"reason": "chosen by the plan stage"})
    edited = s.model_copy(
        update={"plan": s.plan.model_copy(update={"queue": [first], "groups": []})}
    )
    page = next(p for p in render_pages(edited) if p.path == "next.md")
    assert "chosen by the plan stage" in page.text
    assert page.text.count("<td>chosen by the plan stage</td>") == 1
    assert page.text.count("<td>delta-mini</td>") + page.text.count("<td>aurora-7b</td>") <= 2


def test_plan_stage_projection_sentence() -> None:
    status = GoalProjection(
        dimension="overall",
        met_now=False,
        battles=1200,
        passing=1,
        targets=5,
        z=3.3,
        horizon=20_000,
        participants=40,
    )
    assert status.sentence("top") == (
        "top 5 adjacent pairs separated (1 of 5 now): about 1,200 more battles (~40 participants)"
    )
    never = status.model_copy(update={"battles": None})
    assert never.sentence("half_width") == (
        "every band within the target half-width (1 of 5 now): not within 20,000 more battles "
        "(the projection's horizon)"
    )


def test_board_share_takes_its_picks_from_what_the_random_share_leaves() -> None:
    rng = np.random.default_rng(5)
    mean = np.sort(rng.normal(25, 2, 10))[::-1]
    cov = np.eye(10) * 0.8
    goal = batches.adjacent_pairs(mean, 2)
    kinds = {
        board: batches.plan_batch(
            mean, cov, BETA, EPS, 40, 0.5, np.random.default_rng(1), targets=goal, board=board
        ).kinds
        for board in (0.0, 0.25, 0.5)
    }
    # One uniform draw per pick: the random picks sit at the same places whatever the share.
    randoms = [[k == "random" for k in ks] for ks in kinds.values()]
    assert randoms[0] == randoms[1] == randoms[2]
    assert "board" not in kinds[0.0] and "goal" not in kinds[0.5]
    assert {"goal", "board", "random"} == set(kinds[0.25])
    # Without a goal (met, or another goal) the non-random picks aim at every pair's order.
    assert "goal" not in batches.plan_batch(mean, cov, BETA, EPS, 10, 0.5, rng).kinds


def test_adjacent_pairs_by_mean() -> None:
    hi, lo = batches.adjacent_pairs(np.array([1.0, 3.0, 2.0, 0.0]))
    assert (hi.tolist(), lo.tolist()) == ([1, 2, 0], [2, 0, 3])
    hi, lo = batches.adjacent_pairs(np.array([1.0, 3.0, 2.0, 0.0]), 9)
    assert hi.size == 3


def test_study_compares_tau_at_equal_battles() -> None:
    def result(stop: int | None, taus: list[float]) -> study.RunResult:
        return study.RunResult(stop, 0, 0.95, 0.95, 0.95, 0.95, taus[-1], taus)

    planned = [result(200, [0.5, 0.7]), result(100, [0.6]), result(None, [0.1, 0.2])]
    rand = [result(400, [0.4, 0.6, 0.7, 0.8]), result(None, [0.5, 0.6]), result(300, [0.3])]
    mine, theirs = study.taus_at_stop(planned, rand)
    # Seed 3: plan never stopped, no common budget.
    assert mine.tolist() == [0.7, 0.6] and theirs.tolist() == [0.6, 0.5]
    c = study.compare(("3 models", "matched"), planned, rand, budget=400)
    assert c.tau_difference == pytest.approx(0.1)
    assert c.tau_lower == pytest.approx(0.1) and c.tau_upper == pytest.approx(0.1)
    assert (c.plan_battles, c.random_battles, c.plan_censored, c.random_censored) == (
        200,
        400,
        1,
        1,
    )


def test_shortfalls_name_each_missed_criterion() -> None:
    good = {
        "board": "30 models",
        "world": "matched",
        "seeds": 20,
        "ratio": 0.1,
        "ratio_lower": 0.08,
        "ratio_upper": 0.12,
        "coverage_skills": 0.95,
        "coverage_diffs": 0.96,
        "wrong": 0,
        "tau_plan": 0.93,
        "tau_random": 0.92,
        "tau_difference": 0.01,
        "tau_lower": -0.005,
        "tau_upper": 0.02,
    }
    assert plan_figures.shortfalls(good) == []
    bad = {**good, "board": "12 models", "ratio": 0.8, "coverage_skills": 0.42, "wrong": 1}
    bad.update(tau_difference=-0.05, tau_lower=-0.07, tau_upper=-0.03)
    assert plan_figures.shortfalls(bad) == [
        "battles ratio 0.80 (criterion ≤ 0.75)",
        "coverage of skills 0.42 (criterion 0.93–0.97)",
        "1 wrong separations",
        "Kendall tau not shown no worse than random's: difference −0.050, 95 % CI lower end "
        "−0.0700 (criterion above −0.02)",
    ]


def test_quoted_figures_are_for_the_shipped_policy() -> None:
    # templates/planning.json is written by bench_matchmaking.py --write; if the policy's
    # shares change, the quoted figures no longer describe it: rerun the benchmark.
    from prefboard.matchmaking.queue import BOARD_SHARE, DEFAULT_EXPLORE

    figures = plan_figures.load()
    assert (figures["explore"], figures["board"]) == (DEFAULT_EXPLORE, BOARD_SHARE)
    fields = {f.name for f in dataclasses.fields(study.Comparison)}
    assert all(set(row) == fields for row in figures["rows"])
    assert {(r["board"], r["world"]) for r in figures["rows"]} == {
        (b, w) for b in ("30 models", "12 models") for w in ("matched", "misspecified")
    }
    assert figures["seeds"] >= 20


def test_plan_from_standings_of_either_schema_gives_the_same_answer(
    tiny_standings: Standings, tmp_path: Path
) -> None:
    import json

    from prefboard.standings.model import write_standings

    write_standings(tiny_standings, tmp_path / "new")
    raw = json.loads((tmp_path / "new" / "standings.json").read_text(encoding="utf-8"))
    # A schema-3 file (written before the plan stage) has no `plan`: plan computes it now.
    del raw["plan"]
    raw["schema_version"] = 3
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw), encoding="utf-8")
    outputs = [
        CliRunner().invoke(cli, ["plan", "--standings", str(path), "-n", "4", *extra]).output
        for path in (tmp_path / "new", old)
        for extra in ([], ["--quotas", "-"])
    ]
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    assert "overall: top 2 adjacent pairs separated (" in outputs[0]
    assert outputs[1].startswith(",".join(mq.QUOTA_COLUMNS))
