"""Fit and bias checks: the statistics against scipy.stats, and planted misfits / position
effects on seeded simulated battles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from prefboard.rating import batch, checks, exact_test

BETA = 25 / 6
MARGIN = 0.8  # a tie margin giving about 15 % ties between equal models


def simulate(
    skill: np.ndarray, n: int, seed: int, h: float = 0.0, shift: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Battles under TrueSkill's model with a first-shown advantage h; `shift` adds an extra
    gap to one pair ((i, j) -> extra for i over j) so that pair misfits the model."""
    rng = np.random.default_rng(seed)
    m = skill.size
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    gap = skill[a] - skill[b] + h + rng.normal(0, np.sqrt(2) * BETA, n)
    for (i, j), extra in (shift or {}).items():
        gap[(a == i) & (b == j)] += extra
        gap[(a == j) & (b == i)] -= extra
    outcome = np.where(gap > MARGIN, 0, np.where(gap < -MARGIN, 1, 2))
    return a, b, outcome


def test_pearson_matches_scipy_chisquare() -> None:
    # Reference: scipy.stats.chisquare (Pearson, k - 1 = 2 degrees of freedom).
    obs = np.array([30, 12, 8])
    exp = np.array([25.0, 17.5, 7.5])
    stat, p = checks.pearson(obs, exp)
    ref = stats.chisquare(obs, exp)
    assert stat == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize(("k", "n", "p"), [(3, 10, 0.5), (9, 20, 0.3), (0, 7, 0.2), (15, 15, 0.9)])
def test_exact_multinomial_reduces_to_scipy_binomtest(k: int, n: int, p: float) -> None:
    # With an impossible third cell the exact multinomial test is the exact binomial test;
    # reference: scipy.stats.binomtest (two-sided, same "no more likely" rule).
    got = checks.exact_multinomial(np.array([k, n - k, 0]), np.array([p, 1 - p, 0.0]))
    assert got == pytest.approx(stats.binomtest(k, n, p).pvalue, rel=1e-9)


def test_exact_multinomial_known_answer() -> None:
    # n = 2, probabilities (1/2, 1/4, 1/4): outcomes and probabilities by hand:
    # (2,0,0) 1/4, (0,2,0) 1/16, (0,0,2) 1/16, (1,1,0) 1/4, (1,0,1) 1/4, (0,1,1) 1/8.
    # Observing (0,1,1) (prob 1/8): outcomes no more likely sum to 1/8 + 1/16 + 1/16 = 1/4.
    probs = np.array([0.5, 0.25, 0.25])
    assert checks.exact_multinomial(np.array([0, 1, 1]), probs) == pytest.approx(0.25)
    assert checks.exact_multinomial(np.array([1, 1, 0]), probs) == pytest.approx(1.0)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (520, 1000), (7, 30), (150, 200)])
def test_sign_test_matches_scipy_binomtest(k: int, n: int) -> None:
    # Reference: scipy.stats.binomtest(k, n, 0.5), two-sided.
    assert checks.sign_test(k, n) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-9)


def test_holm_known_answer() -> None:
    # Holm (1979) by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06,
    # 0.04; running maximum 0.02, 0.03, 0.06, 0.06; back in input order:
    got = checks.holm(np.array([0.01, 0.04, 0.03, 0.005]))
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])


def test_predicted_probabilities_sum_to_one() -> None:
    d = np.linspace(-20, 20, 41)
    p_a, p_b, p_t = checks.outcome_probabilities(d, BETA, MARGIN)
    np.testing.assert_allclose(p_a + p_b + p_t, 1.0)
    assert np.all(np.diff(p_a) > 0)


SKILL = np.array([28.0, 27.0, 26.0, 25.0, 24.0, 23.0, 22.0])


def test_planted_misfitting_pair_is_flagged_and_clean_boards_rarely_are() -> None:
    # Pair (1, 4) behaves as if model 4 were 4 points better against model 1 only: no single
    # set of skills explains it. Scores are the true skills (the "fitted" model is the truth
    # for every other pair), so the check sees exactly the planted departure.
    for seed in range(3):
        a, b, o = simulate(SKILL, 20_000, seed, shift={(1, 4): -4.0})
        fits = checks.pair_fit(7, a, b, o, SKILL, BETA, MARGIN)
        assert {(f.i, f.j) for f in fits if f.flagged} == {(1, 4)}, seed
    # Holm at 0.05 over 21 pairs: a board the model fits gets any flag with probability
    # <= 5 % (1 expected in 20 boards; more than 3 has probability 1.6 %).
    flagged = 0
    for seed in range(100, 120):
        clean = checks.pair_fit(7, *simulate(SKILL, 5_000, seed), SKILL, BETA, MARGIN)
        assert len(clean) == 21 and all(f.method == "chi-square" for f in clean)
        flagged += any(f.flagged for f in clean)
    assert flagged <= 3


def test_small_pairs_use_the_exact_test() -> None:
    a, b, o = simulate(SKILL, 60, seed=4)
    fits = checks.pair_fit(7, a, b, o, SKILL, BETA, MARGIN)
    small = [f for f in fits if min(f.expected) < 5]
    assert small and all(f.method == "exact" and f.statistic is None for f in small)
    for f in fits:
        assert sum(f.observed) == pytest.approx(sum(f.expected))
        assert 0.0 <= f.p_value <= f.p_adjusted <= 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_position_effect_recovered_within_its_interval(seed: int) -> None:
    h = 0.6
    a, b, o = simulate(SKILL, 30_000, seed, h=h)
    fit = checks.position_bias(7, a, b, o, BETA, MARGIN, prior_sigma=25 / 3)
    assert abs(fit.h - h) < 1.96 * fit.h_se
    assert 0.02 < fit.h_se < 0.1
    assert fit.enough and fit.flagged and fit.p_value < 1e-6
    assert fit.share_a > 0.5 and fit.share_p < 0.05
    assert fit.share_p == pytest.approx(stats.binomtest(fit.wins_a, fit.decided).pvalue)


def test_no_position_effect_is_not_flagged() -> None:
    a, b, o = simulate(SKILL, 30_000, seed=9)
    fit = checks.position_bias(7, a, b, o, BETA, MARGIN, prior_sigma=25 / 3)
    assert abs(fit.h) < 1.96 * fit.h_se and not fit.flagged


def test_position_needs_enough_battles() -> None:
    a, b, o = simulate(SKILL, 150, seed=2, h=3.0)
    fit = checks.position_bias(7, a, b, o, BETA, MARGIN, prior_sigma=25 / 3)
    assert not fit.enough and not fit.flagged


def test_rate_reports_an_intransitive_cycle_and_a_position_bias(tiny, tmp_path) -> None:
    # Through the CLI: aurora beats cobalt, cobalt beats delta, delta beats aurora, 90 battles
    # each, 80 % of them decided for the "winner" -- no skills can predict all three records.
    # Every battle also shows the winner first, so model_a wins 80 % of decided battles.
    import json

    from click.testing import CliRunner

    from prefboard.cli import cli

    header = "battle_id,timestamp,participant_id,model_a,model_b,turns,overall"
    rows = [header]
    cycle = [("aurora-7b", "cobalt-large"), ("cobalt-large", "delta-mini"),
             ("delta-mini", "aurora-7b")]  # fmt: skip
    for k in range(270):
        a, b = cycle[k % 3]
        outcome = "a" if k % 5 else ("b" if k % 10 else "tie")
        rows.append(f"c{k:04d},2026-09-01T10:{k // 60:02d}:{k % 60:02d}Z,p0001,{a},{b},5,{outcome}")
    (tiny / "results/battles/battles.csv").write_text("\n".join(rows) + "\n")
    toml = tiny / "leaderboard.toml"
    text = toml.read_text().replace(
        '[[dimensions]]\nkey = "helpfulness"\nlikert = true',
        '[[dimensions]]\nkey = "helpfulness"\nbattles = false\nlikert = true',
    )
    for d in ("communication", "adaptiveness", "trust_safety", "personality"):
        text = text.replace(
            f'key = "{d}"\nlikert = true', f'key = "{d}"\nbattles = false\nlikert = true'
        )
    toml.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["rate", "--config", str(toml), "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "standings.json").read_text())
    (check,) = doc["fit_checks"]
    assert check["test"] == checks.TEST and check["adjustment"] == "Holm"
    assert check["pairs_tested"] == 3 and len(check["misfits"]) >= 2
    flagged = [p for p in doc["pairs"] if p["misfit"]]
    assert all(p["fit_p_adjusted"] < 0.05 for p in flagged)
    assert check["position"]["share_a"] == pytest.approx(216 / 243)
    assert check["position"]["enough"] and check["position"]["flagged"]
    # What a reader sees: the methodology page names the flagged pairs and the position effect,
    # and each model page lists its flagged opponents with observed and predicted records.
    from prefboard.render.pages import render_pages
    from prefboard.standings.model import read_standings

    pages = {p.path: p.text for p in render_pages(read_standings(out))}
    method = pages["methodology.md"]
    assert "## Fit and bias checks" in method and "Holm" in method
    assert " flagged</td>" in method  # the position effect
    for pair in check["misfits"]:
        assert pair in method
    first = check["misfits"][0].split(" vs ")
    model_page = pages[f"models/{first[0]}.md"]
    assert "Observed (won–lost–tied)" in model_page and f"{first[1]}.html" in model_page


def test_methodology_quotes_every_calibration_scenario(tiny) -> None:
    import json
    from importlib import resources

    from prefboard import pipeline
    from prefboard.render.pages import render_pages

    config, root = pipeline.load(tiny / "leaderboard.toml")
    standings = pipeline.rate(config, root, tiny / "leaderboard.toml")[1]
    method = next(p for p in render_pages(standings) if p.path == "methodology.md")
    study = json.loads(
        resources.files("prefboard").joinpath("templates", "calibration.json").read_text()
    )
    assert len(study["scenarios"]) == 5
    for sc in study["scenarios"]:
        head = next(c for c in sc["cells"] if c["table"] == "headline")
        assert sc["label"] in method.text
        assert f"{head['coverage']:.1f}%" in method.text
        assert head["intervals"] >= 200


def test_exact_multinomials_of_many_pairs_equal_each_pair_tested_alone() -> None:
    # The batched tests (one evaluation per n, chunked) must be the one-pair test bit for
    # bit: the fit checks publish these p-values. Mixed n, impossible cells, a certain outcome.
    rng = np.random.default_rng(7)
    probs = rng.dirichlet([1.0, 1.0, 0.3], size=60)
    probs[::7, 2] = 0.0
    probs /= probs.sum(axis=1, keepdims=True)
    probs[5] = [1.0, 0.0, 0.0]
    n = np.concatenate([rng.integers(1, 12, 30), rng.integers(150, 201, 30)])
    observed = np.array([rng.multinomial(k, p) for k, p in zip(n, probs, strict=True)])
    alone = [
        float(checks.exact_multinomials(o[None, :], p[None, :])[0])
        for o, p in zip(observed, probs, strict=True)
    ]
    assert checks.exact_multinomials(observed, probs).tolist() == alone
    assert checks.exact_multinomial(observed[0], probs[0]) == alone[0]


def test_exact_p_values_are_the_per_row_sums_bit_for_bit() -> None:
    # Expected values: the per-row formula the fit check used before the compiled run sums
    # (checks.py at a2b0a10: min(1, np.sum(exp(kept log-pmf))) per pair), on mixed n with
    # impossible cells; the published p-values must not move by a bit.
    rng = np.random.default_rng(12)
    probs = rng.dirichlet([1.0, 1.0, 0.3], size=400)
    probs[::5, 2] = 0.0
    probs /= probs.sum(axis=1, keepdims=True)
    n = np.concatenate([rng.poisson(20, 300), rng.integers(100, 201, 100)])
    observed = np.array([rng.multinomial(k, p) for k, p in zip(n, probs, strict=True)])
    got = checks.exact_multinomials(observed, probs)
    for o, p, value in zip(observed, probs, got, strict=True):
        total = int(o.sum())
        x, y, z, base = exact_test._outcomes(total)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.log(p)
            terms = np.zeros(x.size)
            for k, c in enumerate((x, y, z)):
                terms += np.where(c > 0, c * logp[k], 0.0)
            logpmf = base + terms
            ref = gammaln(total + 1) - gammaln(o + 1).sum() + np.sum(np.where(o > 0, o * logp, 0.0))
        assert value == min(1.0, np.exp(logpmf[logpmf <= ref + 1e-7]).sum())


def test_compiled_sum_is_numpys_pairwise_sum() -> None:
    # The exact test's sums replay numpy's pairwise summation (plain under 8 values, eight
    # accumulators up to 128, halves above); lengths around every switch, and long runs.
    rng = np.random.default_rng(13)
    for n in [*range(0, 300), 1000, 4097, 8192, 8193, 20301]:
        values = np.exp(rng.normal(-20, 30, n))
        assert exact_test.numpy_sum(values) == values.sum()


def test_position_fit_is_the_add_at_and_scipy_norm_computation_bit_for_bit() -> None:
    # Expected values: checks.position_bias at a2b0a10 (np.add.at accumulation and
    # scipy.stats.norm.pdf / logpdf) on these battles, printed with repr.
    a, b, o = simulate(np.linspace(-6, 6, 40), 20_000, seed=21, h=0.4)
    fit = checks.position_bias(40, a, b, o, BETA, MARGIN, prior_sigma=25 / 3)
    assert (fit.h, fit.h_se, fit.p_value) == (
        0.3938364913523565,
        0.05543452598711466,
        1.2072893471692056e-12,
    )


def test_design_information_and_densities_equal_add_at_and_scipy() -> None:
    rng = np.random.default_rng(14)
    m = 12
    ca, cb = rng.integers(0, m, 500), rng.integers(0, m, 500)
    w = rng.exponential(size=500)
    want = np.zeros((m + 1, m + 1))
    h = np.full(500, m)
    for rows, cols, sign in [
        (ca, ca, 1), (cb, cb, 1), (ca, cb, -1), (cb, ca, -1),
        (ca, h, 1), (h, ca, 1), (cb, h, -1), (h, cb, -1),
    ]:  # fmt: skip
        np.add.at(want, (rows, cols), w if sign > 0 else -w)
    want[m, m] = w.sum()
    assert checks._design_information(ca, cb, w, m).tobytes() == want.tobytes()
    x = np.concatenate([rng.normal(0, 20, 10_000), [0.0, -0.0, np.inf, -np.inf]])
    assert checks._norm_pdf(x).tobytes() == stats.norm.pdf(x).tobytes()
    assert checks._norm_logpdf(x).tobytes() == stats.norm.logpdf(x).tobytes()
    # a nan stays a nan (scipy's has the other sign bit; the fit stops on it either way)
    assert np.isnan(checks._norm_pdf(np.array([np.nan]))).all()


def test_position_fit_from_the_pooled_skills_is_the_cold_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Expected: the same fit from 0 (checks._fit_position as at 77cc958), the scoring's
    # tolerance apart; the start from the pooled batch mean saves scoring steps.
    skill = np.linspace(-6, 6, 40)
    a, b, o = simulate(skill, 20_000, seed=21, h=0.4)
    pooled = batch.fit(40, a, b, o, prior_mean=25.0, prior_sigma=25 / 3, beta=BETA,
                       draw_margin=MARGIN)  # fmt: skip
    steps: list[int] = []
    factor = checks.cho_factor

    def counted(matrix: np.ndarray) -> tuple[np.ndarray, bool]:
        steps[-1] += 1
        return factor(matrix)

    monkeypatch.setattr(checks, "cho_factor", counted)
    fits = []
    for skills in (None, pooled.mean):
        steps.append(0)
        fits.append(checks.position_bias(40, a, b, o, BETA, MARGIN, 25 / 3, skills=skills))
    cold, warm = fits
    assert warm.h == pytest.approx(cold.h, rel=1e-9)
    assert warm.h_se == pytest.approx(cold.h_se, rel=1e-9)
    assert warm.p_value == pytest.approx(cold.p_value, rel=1e-7)
    assert (warm.flagged, warm.enough) == (cold.flagged, cold.enough)
    assert steps[1] < steps[0]


def test_the_checks_read_through_an_index_as_on_the_gathered_battles() -> None:
    """rating/pairs.fit_check passes the whole board's arrays and the pooled battles' index
    (no gathered copies, issue 18's 10M memory): every count, statistic and flag must equal
    those of the gathered battles, with narrow codes and an int32 index as the stage has."""
    a, b, o = simulate(np.linspace(-3, 3, 12), 6_000, seed=8, h=0.3)
    idx = np.flatnonzero(np.arange(a.size) % 3 != 1).astype(np.int32)
    a16, b16, o8 = a.astype(np.int16), b.astype(np.int16), o.astype(np.int8)
    score = np.linspace(-1, 1, 12)
    gathered = checks.pair_fits(12, a[idx], b[idx], o[idx], score, BETA, MARGIN)
    read = checks.pair_fits(12, a16, b16, o8, score, BETA, MARGIN, idx=idx)
    for field in ("i", "j", "observed", "expected", "p_value", "p_adjusted", "flagged"):
        assert np.array_equal(getattr(gathered, field), getattr(read, field)), field
    pos = checks.position_bias(12, a[idx], b[idx], o[idx], BETA, MARGIN, 25 / 3, skills=score)
    pos_read = checks.position_bias(12, a16, b16, o8, BETA, MARGIN, 25 / 3, skills=score, idx=idx)
    assert pos == pos_read
    assert pos.decided > 0 and pos.wins_a != pos.decided - pos.wins_a
