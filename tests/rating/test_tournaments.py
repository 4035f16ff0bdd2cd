"""Tournaments, the batch tables built on them and post-stratification, on known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import trueskill

from prefboard import pipeline
from prefboard.rating.tournaments import z_score
from prefboard.standings.model import schema_json, to_json, write_standings

P_HEADER = "participant_id,age,strikes\n"
B_HEADER = "battle_id,timestamp,participant_id,model_a,model_b,turns,overall\n"


def make_board(
    tmp_path: Path,
    battles: list[tuple[str, str, str, str]],
    extra: str = "",
    tau: str = "0",
    rating: str = "",
) -> Path:
    """A board with models x, y, z, one attribute `age` (young/old, population 50/50) and the
    given battles (participant, model_a, model_b, outcome) in timestamp order."""
    board = tmp_path / "board"
    (board / "results" / "battles").mkdir(parents=True)
    people = sorted({p for p, *_ in battles})
    (board / "results" / "participants.csv").write_text(
        P_HEADER + "".join(f"{p},{p.split('-')[0]},0\n" for p in people)
    )
    rows = "".join(
        f"b{i:06d},2026-09-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,{p},{a},{b},5,{o}\n"
        for i, (p, a, b, o) in enumerate(battles)
    )
    (board / "results" / "battles" / "b.csv").write_text(B_HEADER + rows)
    (board / "leaderboard.toml").write_text(
        f"[rating]\npermutations = 4\nseed = 3\nmin_battles = 1\ntau = {tau}\n{rating}"
        "[privacy]\nmin_participants = 1\n"
        '[[dimensions]]\nkey = "overall"\n'
        '[[models]]\nkey = "x"\n[[models]]\nkey = "y"\n[[models]]\nkey = "z"\n'
        '[[slices]]\nattribute = "age"\nvalues = ["young", "old"]\n'
        "population = { young = 0.5, old = 0.5 }\n" + extra
    )
    return board


def rate(board: Path):
    config, root = pipeline.load(board / "leaderboard.toml")
    return pipeline.rate(config, root, board / "leaderboard.toml")[1]


def test_three_battles_match_hand_worked_updates(tmp_path: Path) -> None:
    # Hand-worked with the closed-form two-player update (Herbrich et al. 2006, eqs. for v, w),
    # using TrueSkill defaults and draw probability 0.10: x beats y, y beats z, x ties z.
    board = make_board(
        tmp_path,
        [("young-1", "x", "y", "a"), ("young-1", "y", "z", "a"), ("young-1", "x", "z", "tie")],
        tau=repr(25 / 300),
        # Pinned: ties are learnt from the data by default, and these numbers use TrueSkill's 0.10.
        rating="draw_probability = 0.1\n",
    )
    standings = rate(board)
    pooled = {e.model: e for e in standings.table("overall").entries}

    mu0, s0, beta, tau = 25.0, 25 / 3, 25 / 6, 25 / 300  # the board sets TrueSkill's tau
    eps = math.sqrt(2) * beta * _ppf(0.55)
    pdf = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda t: 0.5 * math.erfc(-t / math.sqrt(2))  # noqa: E731
    r = {k: [mu0, s0] for k in "xyz"}

    def play(a: str, b: str, draw: bool) -> None:
        va, vb = r[a][1] ** 2 + tau**2, r[b][1] ** 2 + tau**2
        c = math.sqrt(2 * beta**2 + va + vb)
        t, e = (r[a][0] - r[b][0]) / c, eps / c
        if draw:
            den = cdf(e - t) - cdf(-e - t)
            v = (pdf(-e - t) - pdf(e - t)) / den
            w = v * v + ((e - t) * pdf(e - t) - (-e - t) * pdf(-e - t)) / den
        else:
            v = pdf(t - e) / cdf(t - e)
            w = v * (v + t - e)
        r[a] = [r[a][0] + va / c * v, math.sqrt(va * (1 - va / c**2 * w))]
        r[b] = [r[b][0] - vb / c * v, math.sqrt(vb * (1 - vb / c**2 * w))]

    play("x", "y", False)
    play("y", "z", False)
    play("x", "z", True)
    for k in "xyz":
        assert pooled[k].mu == pytest.approx(r[k][0], abs=1e-9)
        assert pooled[k].sigma == pytest.approx(r[k][1], abs=1e-9)
    # and the trueskill package (mpmath backend, exact normal functions) agrees
    env = trueskill.TrueSkill(draw_probability=0.10, tau=25 / 300, backend="mpmath")
    ref = {k: env.create_rating() for k in "xyz"}
    ref["x"], ref["y"] = trueskill.rate_1vs1(ref["x"], ref["y"], env=env)
    ref["y"], ref["z"] = trueskill.rate_1vs1(ref["y"], ref["z"], env=env)
    ref["x"], ref["z"] = trueskill.rate_1vs1(ref["x"], ref["z"], drawn=True, env=env)
    for k in "xyz":
        assert pooled[k].mu == pytest.approx(float(ref[k].mu), abs=1e-9)
    assert (pooled["x"].wins, pooled["x"].ties, pooled["z"].losses) == (1, 1, 1)


def _ppf(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def skewed_battles() -> list[tuple[str, str, str, str]]:
    """Young participants (90 % of the sample) prefer x over y 70 % of the time; old ones
    (10 %) prefer y over x 90 % of the time. With a 50/50 population y is preferred overall
    (x wins 0.5·0.7 + 0.5·0.1 = 40 %), yet the pooled sample says x (0.9·0.7 + 0.1·0.1 = 64 %)."""
    rng = np.random.default_rng(11)
    out = []
    for i in range(3000):
        old = rng.random() < 0.1
        p_x = 0.1 if old else 0.7
        who = f"{'old' if old else 'young'}-{i % 40}"
        x_wins = rng.random() < p_x
        out.append((who, "x", "y", "a" if x_wins else "b"))
        out.append((who, "z", "x" if i % 2 else "y", "b"))  # z is weak in both groups
    return out


def test_poststratification_corrects_skewed_sample(tmp_path: Path) -> None:
    standings = rate(make_board(tmp_path, skewed_battles()))
    pooled = [e.model for e in standings.table("overall").entries]
    headline = standings.headline("overall")
    assert headline.slice_attribute == "poststratified"
    assert headline.weights == {"young": 0.5, "old": 0.5}
    assert pooled[:2] == ["x", "y"]  # biased by the young-heavy sample
    assert [e.model for e in headline.entries][:2] == ["y", "x"]
    # the headline is the population-weighted mean of the pooled group posteriors
    young = {e.model: e for e in standings.table("overall", "age", "young").entries}
    old = {e.model: e for e in standings.table("overall", "age", "old").entries}
    y = next(e for e in headline.entries if e.model == "y")
    assert y.score == pytest.approx(0.5 * young["y"].score + 0.5 * old["y"].score)
    assert (y.lower, y.upper) == pytest.approx(
        (y.score - 1.959964 * y.sd, y.score + 1.959964 * y.sd)
    )
    # surer than the small group it half consists of (it borrows from the big one)
    assert y.sd < old["y"].sd
    # one attribute: its groups are the cells, one pooling row (tau) for both
    assert [(p.grouping, p.cells, p.target) for p in standings.pooling] == [
        ("age", 2, "population shares")
    ]
    # the order diagnostics of the headline are the pooled tournament's
    everyone = {e.model: e for e in standings.table("overall").entries}
    assert (y.mu, y.sigma) == (everyone["y"].mu, everyone["y"].sigma)


def test_z_score_for_95_percent() -> None:
    assert z_score(0.95) == pytest.approx(1.959964, abs=1e-6)


def test_rating_is_deterministic_and_schema_valid(tmp_path: Path) -> None:
    board = make_board(tmp_path, skewed_battles()[:600])
    first, second = rate(board), rate(board)
    assert to_json(first) == to_json(second)
    out = tmp_path / "out"
    write_standings(first, out)
    doc = json.loads((out / "standings.json").read_text())
    jsonschema.validate(doc, json.loads(schema_json()))
    header = (out / "standings.csv").read_text().splitlines()[0]
    assert header == (
        "dimension,slice_attribute,slice_value,model,mu,sigma,mu_mean,mu_spread,lower,upper,"
        "conservative,rank,rank_lower,rank_upper,battles,wins,losses,ties,"
        "score,sd,p_best,p_top,p_above_next,inflation,rank_mass"
    )
    slices = {(t.slice_attribute, t.slice_value) for t in first.tables}
    assert slices == {("all", "all"), ("age", "young"), ("age", "old"), ("poststratified", "age")}


def test_permutations_spread_and_counts(tmp_path: Path) -> None:
    standings = rate(make_board(tmp_path, skewed_battles()[:600]))
    pooled = standings.table("overall")
    for e in pooled.entries:
        assert e.mu_spread > 0  # orders differ, so the averaged mu has a spread
        assert e.wins + e.losses + e.ties == e.battles
        assert e.lower < e.score < e.upper
    assert sum(e.battles for e in pooled.entries) == 2 * pooled.battles
    young = standings.table("overall", "age", "young").battles
    old = standings.table("overall", "age", "old").battles
    assert young + old == pooled.battles  # slices partition the pooled battles


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as f:
        return list(csv.DictReader(f))


HEADLINE_COLUMNS = ("score", "sd", "lower", "upper", "rank", "rank_lower", "rank_upper", "p_best")


@pytest.mark.parametrize("setting", ["", 'permuted_tables = "pooled"\n'])
def test_shuffled_orders_only_on_pooled_tables_by_default(tmp_path: Path, setting: str) -> None:
    # Through the CLI, as a maintainer reads standings.csv: the pooled table has its order
    # spread, the group tables say nothing (empty cell) rather than a made-up 0.
    from click.testing import CliRunner

    from prefboard.cli import cli

    board = make_board(tmp_path, skewed_battles()[:600], rating=setting)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["rate", "--config", str(board / "leaderboard.toml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out / "standings.csv")
    pooled = [r for r in rows if r["slice_attribute"] == "all"]
    groups = [r for r in rows if r["slice_attribute"] == "age"]
    assert pooled and all(float(r["mu_spread"]) > 0 for r in pooled)
    assert groups and all(r["mu_spread"] == "" for r in groups)
    assert all(r["mu_mean"] == r["mu"] for r in groups)  # one order: its mu
    doc = json.loads((out / "standings.json").read_text())
    assert doc["parameters"]["permuted_tables"] == "pooled"
    assert doc["order_sensitivity"][0]["passes"] == 5  # 1 + permutations = 4


def test_permuting_every_table_changes_only_the_order_diagnostics(tmp_path: Path) -> None:
    battles = skewed_battles()[:600]
    default = rate(make_board(tmp_path / "d", battles))
    every = rate(make_board(tmp_path / "e", battles, rating='permuted_tables = "all"\n'))
    assert every.parameters.permuted_tables == "all"
    for a, b in zip(default.tables, every.tables, strict=True):
        for ea, eb in zip(a.entries, b.entries, strict=True):
            for column in (*HEADLINE_COLUMNS, "mu", "sigma", "battles", "wins", "ties"):
                assert getattr(ea, column) == getattr(eb, column)
            if a.slice_attribute == "age":
                assert ea.mu_spread is None and eb.mu_spread is not None and eb.mu_spread > 0
            else:  # pooled and post-stratified rows: the pooled tournament's own orders
                assert ea.mu_mean == eb.mu_mean and ea.mu_spread == eb.mu_spread


def test_canonical_order_shortcut_agrees_with_the_sort() -> None:
    # Files written in time order skip the sort; equal timestamps must still be ordered by
    # battle id, and any row out of order must fall back to the sort.
    import pandas as pd

    from prefboard.rating.inputs import canonical_order

    rng = np.random.default_rng(4)
    n = 400
    stamps = pd.to_datetime(np.sort(rng.integers(0, 60, n)), unit="s", utc=True)
    ids = [f"b{k:04d}" for k in rng.permutation(n)]
    frame = pd.DataFrame({"battle_id": ids, "timestamp": stamps, "x": np.arange(n)})
    expected = frame.sort_values(["timestamp", "battle_id"], kind="stable")
    for candidate in (frame, expected, frame.iloc[::-1], expected.reset_index(drop=True)):
        got = canonical_order(candidate)
        assert list(got["x"]) == list(expected["x"])
        assert list(got.index) == list(range(n))


def test_pairs_and_history(tmp_path: Path) -> None:
    standings = rate(make_board(tmp_path, skewed_battles()[:600]))
    xy = next(p for p in standings.pairs if (p.model_a, p.model_b) == ("x", "y"))
    assert xy.battles == xy.wins_a + xy.wins_b + xy.ties == 300
    assert xy.p_a + xy.p_b + xy.p_tie == pytest.approx(1.0)
    hist = standings.history[0]
    assert hist.steps[-1] == 600
    assert len(hist.steps) <= 301
    last = standings.table("overall")
    x = next(e for e in last.entries if e.model == "x")
    assert hist.mu["x"][-1] == pytest.approx(x.mu, abs=1e-4)


def test_privacy_threshold_suppresses_small_groups(tmp_path: Path) -> None:
    board = make_board(tmp_path, skewed_battles()[:600], extra="")
    toml = board / "leaderboard.toml"
    toml.write_text(toml.read_text().replace("min_participants = 1", "min_participants = 30"))
    standings = rate(board)
    # 40 distinct young participants, 40 old ones at most, but old appear rarely in 600 rows
    published = standings.slices[0].published
    old_people = {p for p, *_ in skewed_battles()[:600] if p.startswith("old")}
    assert ("old" in published) == (len(old_people) >= 30)
    if "old" not in published:
        assert standings.table("overall", "age", "old") is None
        assert "old" not in json.dumps([s.model_dump() for s in standings.samples if s.published])


def test_bradley_terry_davidson_crosscheck_agrees_on_a_clear_board(tmp_path: Path) -> None:
    standings = rate(make_board(tmp_path, skewed_battles()[:1200]))
    (check,) = standings.crosscheck
    assert check.dimension == "overall"
    # x beats y 64 % of the time in the pooled sample and z loses everything: both methods
    # must order x, y, z, so Kendall's tau is exactly 1 and nobody is flagged.
    assert check.kendall_tau == 1.0
    assert [e.rank for e in check.entries] == [1, 2, 3]
    assert not any(e.disagrees for e in check.entries)
    assert check.nu == 0.0  # the constructed battles have no ties: Davidson's nu MLE is 0
