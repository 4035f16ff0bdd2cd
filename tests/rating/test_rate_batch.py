"""The batch posterior as a user meets it: through `prefboard validate`, `rate` and `import`."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.rating import trueskill as ts
from prefboard.standings.model import read_standings

MODELS = ["m0", "m1", "m2", "m3", "m4"]
SKILL = [31.0, 28.0, 25.0, 22.0, 19.0]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write_board(
    root: Path,
    n: int,
    seed: int,
    rating: str = "",
    p_tie: float = 0.3,
    repeat: int = 1,
    prompts: bool = False,
) -> Path:
    """Battles drawn from TrueSkill's own model (known skills, draw probability p_tie); each
    judged item is voted on `repeat` times by different participants, sharing one outcome."""
    rng = np.random.default_rng(seed)
    eps = ts.draw_margin(p_tie, 25 / 6)
    rows = []
    for item in range(n):
        i, j = rng.choice(len(MODELS), 2, replace=False)
        d = SKILL[i] - SKILL[j] + rng.normal(0, math.sqrt(2) * 25 / 6)
        out = "a" if d > eps else "b" if d < -eps else "tie"
        for r in range(repeat):
            k = item * repeat + r
            stamp = f"2026-09-01T{k // 3600 % 24:02d}:{k // 60 % 60:02d}:{k % 60:02d}Z"
            pid = f"p{rng.integers(0, 400):03d}"
            row = [f"b{k:06d}", stamp, pid, MODELS[i], MODELS[j], "3", out]
            rows.append([*row, f"q{item}"] if prompts else row)
    (root / "results" / "battles").mkdir(parents=True)
    header = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns", "overall"]
    with open(root / "results" / "battles" / "b.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*header, "prompt_id"] if prompts else header)
        w.writerows(rows)
    people = "".join(f"p{k:03d},0\n" for k in range(400))
    (root / "results" / "participants.csv").write_text("participant_id,strikes\n" + people)
    models = "".join(f'[[models]]\nkey = "{m}"\n' for m in MODELS)
    (root / "leaderboard.toml").write_text(
        f"[rating]\npermutations = 2\nmin_battles = 1\n{rating}"
        f'[[dimensions]]\nkey = "overall"\n{models}'
    )
    return root / "leaderboard.toml"


def rate(config: Path, out: Path):
    result = invoke("rate", "--config", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    return result, read_standings(out)


def test_battle_order_changes_nothing_the_site_shows(tmp_path: Path) -> None:
    config = write_board(tmp_path / "one", 600, seed=1)
    _, first = rate(config, tmp_path / "out1")
    # Same battles, timestamps shuffled among them: a different replay order for the online
    # pass, the same data for the batch posterior.
    other = write_board(tmp_path / "two", 600, seed=1)
    path = other.parent / "results" / "battles" / "b.csv"
    lines = path.read_text().splitlines()
    rows = [r.split(",") for r in lines[1:]]
    stamps = [r[1] for r in rows]
    np.random.default_rng(5).shuffle(stamps)
    path.write_text(
        "\n".join(
            [lines[0]] + [",".join([r[0], s, *r[2:]]) for r, s in zip(rows, stamps, strict=True)]
        )
        + "\n"
    )
    _, second = rate(other, tmp_path / "out2")
    one, two = first.table("overall"), second.table("overall")
    shown = ["score", "sd", "lower", "upper", "rank", "rank_lower", "rank_upper", "p_best"]
    assert [[getattr(e, k) for k in shown] for e in one.entries] == [
        [getattr(e, k) for k in shown] for e in two.entries
    ]
    assert [e.mu for e in one.entries] != [e.mu for e in two.entries]  # the online pass moved


def test_ties_are_learnt_and_reported(tmp_path: Path) -> None:
    config = write_board(tmp_path, 3000, seed=2, p_tie=0.3)
    _, standings = rate(config, tmp_path / "out")
    (tie,) = standings.ties
    assert tie.source == "learnt"
    assert tie.lower < 0.3 < tie.upper  # the generating draw probability
    assert tie.draw_probability == tie.mle
    assert standings.parameters.draw_probability is None
    table = standings.table("overall")
    assert sum(e.p_best for e in table.entries) == pytest.approx(1.0)
    assert all(e.rank_lower <= e.rank <= e.rank_upper for e in table.entries)
    assert [e.model for e in table.entries] == MODELS  # 3,000 battles order these skills
    header = (tmp_path / "out" / "standings.csv").read_text().splitlines()[0]
    assert header.endswith(",ties,score,sd,p_best,p_top,p_above_next,inflation,rank_mass")


def test_pinned_draw_probability_the_data_reject_is_a_warning(tmp_path: Path) -> None:
    config = write_board(tmp_path, 3000, seed=3, p_tie=0.3, rating="draw_probability = 0.01\n")
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 0
    (line,) = [x for x in result.output.splitlines() if "draw-probability" in x]
    assert line.startswith(
        "leaderboard.toml:0:0: warning: draw-probability: rating.draw_probability = 0.01 is "
        "outside the "
        "95 % interval "
    )
    assert line.endswith("; remove it to learn ties from the data")
    rated, standings = rate(config, tmp_path / "out")
    assert "leaderboard.toml:0:0: warning: draw-probability:" in rated.output
    assert standings.ties[0].source == "pinned"
    assert standings.ties[0].draw_probability == 0.01


def test_repeated_votes_on_a_prompt_widen_the_bands(tmp_path: Path) -> None:
    # Each item judged by 4 participants who all give the same verdict: 4x the rows, the
    # information of 1. Clustering by prompt sees it; the bands widen by about 2x.
    config = write_board(tmp_path / "p", 600, seed=4, repeat=4, prompts=True)
    _, clustered = rate(config, tmp_path / "out1")
    table = clustered.table("overall")
    assert table.clustering == "participant+prompt"
    assert 1.6 < table.inflation_median < 2.4
    plain = write_board(tmp_path / "n", 600, seed=4, repeat=4)
    _, naive = rate(plain, tmp_path / "out2")
    assert naive.table("overall").clustering == "participant"
    assert naive.table("overall").inflation_median < 1.3  # participants look independent
    sd = {e.model: e.sd for e in table.entries}
    assert all(sd[e.model] > 1.5 * e.sd for e in naive.table("overall").entries)


def test_shared_prompt_noise_widens_beta_of_the_batch_fits_only(tmp_path: Path) -> None:
    # Four votes per item that always agree: their noise is shared whole. The batch fits (score,
    # sd, pairs) use beta / sqrt(1 - rho); the online pass (mu, sigma) keeps the configured beta,
    # so it gives the same numbers as the same battles without prompt ids.
    from prefboard.render import format as fmt
    from prefboard.render.pages import render_pages

    config = write_board(tmp_path / "p", 600, seed=4, repeat=4, prompts=True)
    _, shared = rate(config, tmp_path / "out1")
    ties = shared.ties[0]
    assert ties.prompt_correlation > 0.9 and ties.prompt_vote_pairs == 600 * 6  # 4 votes: 6 pairs
    assert ties.batch_beta is not None and ties.batch_beta > shared.parameters.beta
    plain = write_board(tmp_path / "n", 600, seed=4, repeat=4)
    _, alone = rate(plain, tmp_path / "out2")
    assert alone.ties[0].prompt_vote_pairs == 0 and alone.ties[0].batch_beta is None
    assert alone.ties[0].prompt_correlation_lower is None
    mu = {e.model: (e.mu, e.sigma) for e in alone.table("overall").entries}
    assert {e.model: (e.mu, e.sigma) for e in shared.table("overall").entries} == mu
    method = {p.path: p.text for p in render_pages(shared)}["methodology.md"]
    assert ties.prompt_correlation_lower is not None and ties.prompt_correlation_upper is not None
    assert ties.prompt_correlation_lower <= ties.prompt_correlation <= ties.prompt_correlation_upper
    interval = fmt.band(ties.prompt_correlation_lower, ties.prompt_correlation_upper, 3)
    rho = fmt.number(ties.prompt_correlation, 3)
    row = f"<td>{rho} ({interval}; {fmt.count(ties.prompt_vote_pairs)})"
    assert row in method and f"<td>{fmt.number(ties.batch_beta)}</td>" in method


def test_import_writes_no_tie_value(tmp_path: Path) -> None:
    source = tmp_path / "arena.jsonl"
    source.write_text(
        '{"model_a": "A", "model_b": "B", "winner": "tie", "judge": "u1", "tstamp": 1}\n'
    )
    board = tmp_path / "board"
    assert invoke("import", "arena", str(source), "--into", str(board)).exit_code == 0
    text = (board / "leaderboard.toml").read_text()
    assert "draw_probability =" not in text
    assert "Ties are learnt from the data" in text


def test_pages_show_the_batch_numbers(tmp_path: Path) -> None:
    from prefboard.render import format as fmt
    from prefboard.render.pages import render_pages

    config = write_board(tmp_path, 1500, seed=6, p_tie=0.3)
    _, standings = rate(config, tmp_path / "out")
    pages = {p.path: p.text for p in render_pages(standings)}
    home = pages["index.md"]
    top = standings.headline("overall").entries[0]
    assert f'<td data-sort="{top.score:.4f}">{top.score:.2f}</td>' in home
    assert f"<td>{fmt.rank_range(top.rank_lower, top.rank_upper)}</td>" in home.replace(
        f'<td data-sort="{top.rank_lower}">', "<td>"
    )
    assert "P(above next)" in home and fmt.percent(top.p_above_next) in home
    method = pages["methodology.md"]
    assert "learnt from the data" in method
    assert "Median sd inflation" in method
    assert "no prompt judged twice" in method  # no prompt_id column: beta stays as configured
    assert (
        "the range of whole ranks whose share of the\nmodel's rank draws is nearest 95%" in method
    )
    assert "(Self & Liang\n1987)" in method  # the test of no group differences


def test_every_standings_column_is_explained_on_the_data_page(tmp_path: Path) -> None:
    from prefboard.render.pages import render_pages
    from prefboard.standings.model import STANDINGS_COLUMNS

    config = write_board(tmp_path, 300, seed=7)
    _, standings = rate(config, tmp_path / "out")
    page = {p.path: p.text for p in render_pages(standings)}["data.md"]
    header = (tmp_path / "out" / "standings.csv").read_text().splitlines()[0].split(",")
    assert header == STANDINGS_COLUMNS
    for column in header:
        assert f"<td>{column}</td>" in page  # one row per column, with its meaning beside it
    assert "Posterior probability that the rank lies in [rank_lower, rank_upper]" in page
