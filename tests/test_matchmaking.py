"""Matchmaking: expected information gain, the plan queue, groups in need, the online study."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefboard.matchmaking import (
    PLAN_COLUMNS,
    Candidate,
    expected_gain,
    expected_gain_array,
    groups_in_need,
    outcome_probabilities,
    params_from,
    plan,
    plan_csv,
    plan_table,
)
from prefboard.rating.trueskill import TrueSkillParams, rate_1vs1
from prefboard.standings.model import (
    DimensionInfo,
    Entry,
    ModelInfo,
    Pair,
    SampleShare,
    SliceInfo,
    Standings,
    Table,
)
from prefboard.studies.online_planning import simulate_policy
from tests import factories
from tests.factories import parameters, provenance

PARAMS = TrueSkillParams(draw_probability=0.15)

# ------------------------------------------------------------------------------------------
# Hand-built standings: models a, b, c, d; "overall" has battles, "style" is Likert only.
# ------------------------------------------------------------------------------------------


def entry(model: str, mu: float, sigma: float, rank: int, lo: int, hi: int, battles: int) -> Entry:
    return factories.entry(
        model,
        mu,
        rank,
        sd=sigma,
        z=1.96,
        rank_lower=lo,
        rank_upper=hi,
        battles=battles,
        wins=0,
        losses=0,
        provisional=battles < 10,
    )


def table(attribute: str, value: str, entries: list[Entry]) -> Table:
    return factories.table(entries, "overall", attribute, value)


def pair(a: str, b: str, battles: int) -> Pair:
    return Pair(
        dimension="overall",
        model_a=a,
        model_b=b,
        battles=battles,
        wins_a=0,
        wins_b=0,
        ties=0,
        p_a=0.4,
        p_b=0.4,
        p_tie=0.2,
    )


def sample(attr: str, value: str, n: int, share: float, pop: float | None, pub: bool = True):
    return SampleShare(
        attribute=attr,
        value=value,
        participants=n,
        battles=n * 3,
        sample_share=share,
        population_share=pop,
        published=pub,
    )


def make_standings(
    pooled: list[Entry] | None = None, samples: list[SampleShare] | None = None
) -> Standings:
    pooled = pooled or [
        entry("a", 30.0, 1.0, 1, 1, 2, 15),
        entry("b", 29.0, 1.5, 2, 1, 3, 17),
        entry("c", 20.0, 2.0, 4, 3, 4, 12),
        entry("d", 25.0, 6.0, 3, 1, 4, 3),
    ]
    young = [
        entry("a", 31.0, 2.0, 1, 1, 2, 8),
        entry("b", 28.0, 2.5, 2, 1, 3, 9),
        entry("c", 21.0, 3.0, 4, 2, 4, 6),
        entry("d", 25.0, 8.0, 3, 1, 4, 0),
    ]
    return Standings(
        title="t",
        description="",
        synthetic=True,
        version="0",
        provenance=provenance(data_through=""),
        parameters=parameters(draw_probability=0.15),
        models=[ModelInfo(key=k, name=k.upper()) for k in "abcd"],
        dimensions=[
            DimensionInfo(
                key="overall",
                label="Overall",
                battles=True,
                likert=False,
                scale_min=1,
                scale_max=7,
            ),
            DimensionInfo(
                key="style", label="Style", battles=False, likert=True, scale_min=1, scale_max=7
            ),
        ],
        slices=[
            SliceInfo(
                attribute="age",
                label="Age",
                values=["young", "old"],
                population={"young": 0.5, "old": 0.5},
                published=["young"],
            )
        ],
        tables=[table("all", "all", pooled), table("age", "young", young)],
        pairs=[
            pair("a", "b", 10),
            pair("a", "c", 5),
            pair("a", "d", 0),
            pair("b", "c", 7),
            pair("b", "d", 3),
            pair("c", "d", 0),
        ],
        history=[],
        likert=[],
        agreement=[],
        samples=samples or [],
        order_sensitivity=[],
    )


# ------------------------------------------------------------------------------------------
# Expected gain
# ------------------------------------------------------------------------------------------


def test_separated_pair_gains_less_than_overlapping_pair() -> None:
    separated = expected_gain(35.0, 1.0, 15.0, 1.0, PARAMS)
    overlapping = expected_gain(25.0, 3.0, 25.5, 3.0, PARAMS)
    assert 0.0 <= separated < overlapping
    assert separated < 0.01 * overlapping


def test_gain_is_symmetric_and_probabilities_sum_to_one() -> None:
    ab = expected_gain(27.0, 2.0, 24.0, 5.0, PARAMS)
    ba = expected_gain(24.0, 5.0, 27.0, 2.0, PARAMS)
    assert ab == pytest.approx(ba, rel=1e-12)
    p_a, p_b, p_t = outcome_probabilities(27.0, 2.0, 24.0, 5.0, PARAMS)
    assert float(p_a + p_b + p_t) == pytest.approx(1.0, abs=1e-12)
    assert p_a > p_b


def test_gain_matches_hand_computation_with_rate_1vs1() -> None:
    mu_a, s_a, mu_b, s_b = 26.0, 3.0, 24.0, 4.0
    probs = outcome_probabilities(mu_a, s_a, mu_b, s_b, PARAMS)
    tau2 = PARAMS.tau**2
    want = 0.0
    for o in (0, 1, 2):
        _, sa, _, sb = rate_1vs1(mu_a, s_a, mu_b, s_b, o, PARAMS)
        want += float(probs[o]) * (
            math.log(math.sqrt(s_a**2 + tau2) / sa) + math.log(math.sqrt(s_b**2 + tau2) / sb)
        )
    assert expected_gain(mu_a, s_a, mu_b, s_b, PARAMS) == pytest.approx(want, rel=1e-12)


def test_array_version_matches_scalar() -> None:
    rng = np.random.default_rng(0)
    mu_a, mu_b = rng.normal(25, 6, 50), rng.normal(25, 6, 50)
    s_a, s_b = rng.uniform(0.2, 8.3, 50), rng.uniform(0.2, 8.3, 50)
    for measure in ("entropy", "variance"):
        got = expected_gain_array(mu_a, s_a, mu_b, s_b, PARAMS, measure)
        want = [expected_gain(*x, PARAMS, measure) for x in zip(mu_a, s_a, mu_b, s_b, strict=True)]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # Broadcasting: one model against a vector of opponents.
    assert expected_gain_array(25.0, 2.0, mu_b, s_b, PARAMS).shape == (50,)


def test_gain_without_draws_and_bad_measure() -> None:
    no_draws = TrueSkillParams(draw_probability=0.0)
    assert expected_gain(25.0, 3.0, 25.0, 3.0, no_draws) > 0.0
    assert float(outcome_probabilities(25.0, 3.0, 25.0, 3.0, no_draws)[2]) == 0.0
    with pytest.raises(ValueError, match="measure must be one of"):
        expected_gain(25.0, 3.0, 25.0, 3.0, PARAMS, "kl")


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-50, 100),
    st.floats(0.01, 10),
    st.floats(-50, 100),
    st.floats(0.01, 10),
    st.sampled_from([0.0, 0.05, 0.1, 0.3]),
    st.sampled_from([0.0, 25 / 300]),
)
def test_gain_is_never_negative_and_symmetric(mu_a, s_a, mu_b, s_b, draw, tau) -> None:
    params = TrueSkillParams(draw_probability=draw, tau=tau)
    g = expected_gain(mu_a, s_a, mu_b, s_b, params)
    assert g >= 0.0
    assert g == pytest.approx(expected_gain(mu_b, s_b, mu_a, s_a, params), rel=1e-9, abs=1e-15)


# ------------------------------------------------------------------------------------------
# Plan
# ------------------------------------------------------------------------------------------


def test_params_from_standings() -> None:
    p = params_from(make_standings())
    assert (p.mu, p.beta, p.tau, p.draw_probability) == (25.0, 25 / 6, 25 / 300, 0.15)


def test_plan_queue_is_deterministic_distinct_and_explained() -> None:
    s = make_standings()
    cands = plan(s, None, n=20, measure="order", explore=0.0)
    # Distinct pairs: a queue of 20 on four models holds each of the six pairs once.
    assert sorted((c.model_a, c.model_b) for c in cands) == [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]
    assert plan(s, None, n=20, measure="order", explore=0.0) == cands
    # Greedy picks in order: a shorter queue is a prefix of a longer one.
    assert plan(s, None, n=3, measure="order", explore=0.0) == cands[:3]
    for c in cands:
        assert (c.dimension, c.slice_attribute, c.slice_value) == ("overall", "all", "all")
        assert c.p_a + c.p_b + c.p_tie == pytest.approx(1.0)
        assert not c.explored
    by_pair = {(c.model_a, c.model_b): c for c in cands}
    # a (30 +- 1) and b (29 +- 1.5): P(a above b) = Phi(1 / sqrt(1 + 2.25)) = 0.71.
    assert by_pair[("a", "b")].reason == (
        "ranks 1 and 2 not yet separated: P(1 above 2) = 0.71; decides rank 1"
    )
    assert by_pair[("a", "b")].p_above == pytest.approx(0.7104, abs=1e-3)
    assert by_pair[("a", "d")].battles == 0
    assert by_pair[("a", "d")].reason.endswith("; never compared")
    assert by_pair[("a", "b")].battles == 10
    # c (rank 4) is 10 points below a with sds 1 and 2: settled, so it comes last.
    assert by_pair[("a", "c")].reason == "ranks 1 and 4 already separated: P(1 above 4) = 1.000"
    assert cands[-1] == by_pair[("a", "c")]
    assert cands[-1].gain < 0.01 * cands[0].gain


def test_plan_recommends_uncertain_pairs_not_separated_ones() -> None:
    pooled = [
        entry("a", 45.0, 1.0, 1, 1, 1, 40),
        entry("b", 25.0, 1.0, 2, 2, 3, 40),
        entry("c", 24.5, 1.0, 3, 2, 3, 40),
        entry("d", 10.0, 1.0, 4, 4, 4, 40),
    ]
    cands = plan(make_standings(pooled), None, n=6, measure="order", explore=0.0)
    assert (cands[0].model_a, cands[0].model_b) == ("b", "c")
    assert cands[0].reason == "ranks 2 and 3 not yet separated: P(2 above 3) = 0.64"
    by_pair = {(c.model_a, c.model_b): c for c in cands}
    assert by_pair[("a", "d")].gain < 1e-6 * cands[0].gain
    # The default measure aims at the goal's pairs (top 3 adjacent here): same first pick.
    goal = plan(make_standings(pooled), None, n=2, explore=0.0)
    assert (goal[0].model_a, goal[0].model_b) == ("b", "c")


def test_exploration_share_is_seeded_and_labelled() -> None:
    s = make_standings()
    random_only = plan(s, None, n=4, explore=1.0)
    assert all(c.explored for c in random_only)
    assert all(c.reason.startswith("random pair (exploration); ") for c in random_only)
    assert plan(s, None, n=4, explore=1.0) == random_only
    assert len({(c.model_a, c.model_b) for c in random_only}) == 4


def test_plan_on_a_slice_and_over_all_dimensions() -> None:
    s = make_standings()
    young = plan(s, PARAMS, dimension="overall", slice_attribute="age", slice_value="young")
    assert len(young) == 6
    assert all((c.slice_attribute, c.slice_value) == ("age", "young") for c in young)
    # Pair counts are only known for the pooled table.
    assert all(c.battles == 0 for c in young)
    # dimension=None plans over battle dimensions only (the Likert-only one is skipped).
    assert plan(s, PARAMS, dimension=None) == plan(s, PARAMS, dimension="overall")
    assert plan(s, PARAMS, n=0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dimension": "nope"}, r"unknown dimension 'nope'; battle dimensions: overall"),
        ({"dimension": "style"}, r"'style' is rated on a scale only and has no battles"),
        ({"slice_attribute": "age", "slice_value": "old"}, r"age=old is not published"),
        (
            {"slice_attribute": "region", "slice_value": "north"},
            r"no table for slice region=north .*available in 'overall': all=all, age=young",
        ),
        (
            {"slice_attribute": "poststratified", "slice_value": "age"},
            r"post-stratified table combines",
        ),
        ({"n": -1}, r"n must be non-negative"),
        ({"measure": "vibes"}, r"measure must be one of goal, order, skills; got 'vibes'"),
        ({"explore": 1.5}, r"explore must be between 0 and 1, got 1.5"),
    ],
)
def test_plan_rejects_unknown_tables(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(make_standings(), PARAMS, **kwargs)


def test_plan_csv_and_table() -> None:
    cands = plan(make_standings(), PARAMS, n=4)
    rows = list(csv.reader(io.StringIO(plan_csv(cands))))
    assert rows[0] == PLAN_COLUMNS
    assert len(rows) == 5
    assert rows[1][3:5] == [cands[0].model_a, cands[0].model_b]
    assert float(rows[1][5]) == cands[0].gain
    text = plan_table(cands)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "dimension", "slice"]
    assert len(lines) == 2 + 4
    # Columns line up: the gain column ends at the same offset on every row.
    ends = {line.index(f"{c.gain:.4f}") + 6 for line, c in zip(lines[2:], cands, strict=True)}
    assert len(ends) == 1
    assert plan_table([]) == "No candidate battles.\n"


def test_plan_csv_neutralises_formulas() -> None:
    c = Candidate(
        dimension="overall",
        slice_attribute="all",
        slice_value="all",
        model_a="=cmd()",
        model_b="b",
        gain=0.1,
        p_a=0.4,
        p_b=0.4,
        p_tie=0.2,
        battles=0,
        reason="r",
    )
    assert "'=cmd()" in plan_csv([c])
    # Columns added with planning on the batch posterior come after the earlier ones.
    assert PLAN_COLUMNS[-4:] == ["rank_a", "rank_b", "p_above", "explored"]


# ------------------------------------------------------------------------------------------
# Groups in need
# ------------------------------------------------------------------------------------------


def test_groups_in_need() -> None:
    samples = [
        sample("age", "young", 60, 0.6, 0.4),
        sample("age", "old", 40, 0.4, 0.6),
        sample("region", "north", 45, 0.45, 0.3),
        sample("region", "south", 50, 0.5, 0.5),
        sample("region", "east", 0, 0.0, 0.2, pub=False),  # 5 people, hidden by privacy
        sample("country", "x", 10, 1.0, None),  # no population share: not listed
    ]
    needs = groups_in_need(make_standings(samples=samples))
    got = {(g.attribute, g.value): g for g in needs}
    assert ("country", "x") not in got
    # old: (40 + x) / (100 + x) = 0.6  ->  x = 50
    assert got[("age", "old")].needed == 50
    assert got[("age", "young")].needed == 0
    # The region total is 100 (from 45 / 0.45), not the 95 visible in published groups.
    assert got[("region", "east")].needed == 25  # (0 + x) / (100 + x) = 0.2
    assert got[("region", "east")].published is False
    assert got[("region", "south")].needed == 0  # exactly at its share
    assert got[("region", "north")].needed == 0
    assert [(g.attribute, g.value) for g in needs][:2] == [("age", "old"), ("region", "east")]
    assert [g.needed for g in needs] == sorted((g.needed for g in needs), reverse=True)
    old = got[("age", "old")]
    assert (old.participants, old.sample_share, old.population_share) == (40, 0.4, 0.6)


# ------------------------------------------------------------------------------------------
# Simulation
# ------------------------------------------------------------------------------------------

TRUTH6 = 25.0 + 3.0 * np.array([2.5, 1.5, 0.5, -0.5, -1.5, -2.5])
KEYS = {
    "battles",
    "kendall_tau",
    "top_separated",
    "top_correct",
    "coverage",
    "scale",
    "mean_sigma",
    "pairs_compared",
}


@pytest.mark.parametrize("policy", ["infogain", "random", "skewed"])
def test_simulate_policy_improves_with_battles(policy: str) -> None:
    marks = [0, 30, 100, 300, 600]
    runs = simulate_policy(policy, TRUTH6, 600, PARAMS, seed=3, checkpoints=marks, batch=20)
    assert [r["battles"] for r in runs] == marks
    assert all(set(r) == KEYS for r in runs)
    assert runs[0]["kendall_tau"] == 0.0  # the prior ranks nobody
    assert runs[-1]["kendall_tau"] > runs[1]["kendall_tau"]
    assert runs[-1]["kendall_tau"] >= 0.7
    assert runs[-1]["mean_sigma"] < runs[1]["mean_sigma"] < PARAMS.sigma
    assert all(0.0 <= r["coverage"] <= 1.0 for r in runs)
    again = simulate_policy(policy, TRUTH6, 600, PARAMS, seed=3, checkpoints=marks, batch=20)
    assert again == runs


def test_simulate_policy_with_permutations_and_exploration() -> None:
    runs = simulate_policy(
        "infogain", TRUTH6, 200, PARAMS, seed=1, checkpoints=[200], permutations=3, explore=0.5
    )
    assert runs[0]["kendall_tau"] > 0.5
    assert runs[0]["pairs_compared"] > 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "greedy"}, "policy must be one of"),
        ({"checkpoints": [700]}, r"checkpoints must lie in \[0, 600\]"),
        ({"true_skills": np.array([1.0])}, "at least two models"),
        ({"batch": 0}, "batch must be >= 1"),
        ({"explore": 1.5}, r"explore must be in \[0, 1\]"),
    ],
)
def test_simulate_policy_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    args = {
        "policy": "random",
        "true_skills": TRUTH6,
        "battles": 600,
        "params": PARAMS,
        "seed": 0,
        "checkpoints": [600],
    }
    extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in args}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        simulate_policy(**args, **extra)


def test_plan_table_shows_control_characters_in_a_reason_as_escapes() -> None:
    # A slice table's reason names its group, a value from participants.csv.
    c = Candidate(
        dimension="overall",
        slice_attribute="country",
        slice_value="U\x1b[2JS",
        model_a="a",
        model_b="b",
        gain=0.1,
        p_a=0.4,
        p_b=0.4,
        p_tie=0.2,
        battles=0,
        reason="ranks 1 and 2 not yet separated; group U\x1b[2JS under-sampled",
    )
    text = plan_table([c])
    assert "\x1b" not in text
    assert "group U\\x1b[2JS under-sampled" in text


def test_binary_entropy_equals_the_clipped_formula_bit_for_bit() -> None:
    """The goal information's entropy lost its clipped copies for speed: the values (and so
    every plan) must not move. Expected values: the formula it replaced, with clipped logs."""
    from prefboard.matchmaking.goal import _binary_entropy

    rng = np.random.default_rng(3)
    p = np.concatenate([[0.0, 1e-320, 0.5, 1.0 - 2.0**-53, 1.0], rng.uniform(0.0, 1.0, 10_000)])
    clipped = -(
        p * np.log(np.clip(p, 1e-300, 1.0)) + (1.0 - p) * np.log(np.clip(1.0 - p, 1e-300, 1.0))
    )
    ours = _binary_entropy(p)
    # 1e-320 (subnormal) is the one input the two treat differently: its log is taken, not
    # clipped; both round to the same entropy at double precision but for the last bits.
    keep = p != 1e-320
    assert np.array_equal(ours[keep], clipped[keep])
    assert ours[1] == pytest.approx(clipped[1], abs=1e-300)
    assert ours[0] == 0.0 and ours[4] == 0.0 and ours[2] == pytest.approx(math.log(2.0))


@pytest.mark.parametrize("pairs", [1, 16, 219, 220, 221, 439, 658, 2191])
def test_goal_information_in_blocks_equals_the_whole_array_bit_for_bit(pairs: int) -> None:
    """goal_information scores its (target, pair) cells in column blocks so a 300-model
    board's ~13 M cells never exist at once; every plan must stay the same. Expected values:
    the formula computed on the whole (targets, pairs) array at once, as before the blocks
    (299 targets make blocks of 219 pairs, so 220 leaves a one-column remainder)."""
    from scipy.special import ndtr

    from prefboard.matchmaking import goal
    from prefboard.matchmaking import information as info

    n = 300
    rng = np.random.default_rng(5)
    a = rng.normal(size=(n, n))
    cov = a @ a.T / n + 0.1 * np.eye(n)
    mean = 2.0 * rng.normal(size=n)
    ps = info.PairSet.of(n)
    idx = rng.choice(len(ps.i), size=pairs, replace=False)
    order = np.argsort(-mean)
    hi, lo = order[:-1], order[1:]
    beta, eps = 4.1, 0.5
    # the unblocked formula
    m_t = mean[hi] - mean[lo]
    w = cov[hi, :] - cov[lo, :]
    v_t = np.maximum(w[:, hi].diagonal() - w[:, lo].diagonal(), 1e-300)
    i, j = ps.i[idx], ps.j[idx]
    m, v = mean[i] - mean[j], np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-300)
    v_post = info.expected_difference_variance(m, v, beta, eps)
    lam = np.maximum(v / np.maximum(v_post, 1e-300) - 1.0, 0.0) / v
    cross = w[:, i] - w[:, j]
    v_new = np.maximum(v_t[:, None] - cross**2 * (lam / (1.0 + lam * v))[None, :], 1e-300)
    before = goal._binary_entropy(ndtr(np.abs(m_t) / np.sqrt(v_t)))
    after = goal._binary_entropy(ndtr(np.abs(m_t)[:, None] / np.sqrt(v_new)))
    whole = np.maximum(before[:, None] - after, 0.0).sum(axis=0)

    blocked = goal.goal_information(mean, cov, ps, idx, (hi, lo), beta, eps)
    assert np.array_equal(blocked, whole)


def test_goal_information_blocks_cover_every_pair_once_and_none_alone() -> None:
    """A one-column block would be summed pairwise by numpy, not row by row (a few ulps off
    the unblocked sum): blocks are in order, cover every pair once and are never one wide."""
    from prefboard.matchmaking.goal import _chunks

    for n in (1, 2, 218, 219, 220, 221, 438, 439, 44_850):
        blocks = _chunks(n, 299)
        assert [k for b in blocks for k in range(b.start, b.stop)] == list(range(n))
        assert n == 1 or all(b.stop - b.start >= 2 for b in blocks)
