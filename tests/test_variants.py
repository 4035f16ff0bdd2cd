"""Model variants and disclosure (issue 16 part 4), through the CLI: `[[models]] family` and
`status`, the Disclosure figures in standings.json (checked against pandas on the CSV), and the
built pages: private rows present but hidden by default, the Disclosure page listing them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from prefboard.cli import cli
from tests.conftest import copy_board

# Two battles on top of the tiny board's three (the third is excluded: too few turns), with
# prompt ids: q1 is judged twice, b000005 has none (a prompt of its own).
MORE_BATTLES = (
    "b000004,2026-09-02T09:00:00Z,p0002,delta-mini,aurora-7b,5,b,a,a,a,a,a\n"
    "b000005,2026-09-02T09:30:00Z,p0001,cobalt-large,delta-mini,6,a,b,b,b,b,b\n"
)
PROMPTS = {"b000001": "q1", "b000002": "q1", "b000003": "q2", "b000004": "q2", "b000005": ""}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def variant_board(tiny: Path, cobalt_status: str = "private", prompts: bool = True) -> Path:
    """The tiny board with two Aurora Labs variants (cobalt-large not public) and prompt ids."""
    toml = tiny / "leaderboard.toml"
    text = toml.read_text()
    text = text.replace(
        '[[models]]\nkey = "aurora-7b"\n',
        '[[models]]\nkey = "aurora-7b"\norganization = "Aurora Labs"\nfamily = "aurora"\n',
    )
    text = text.replace(
        '[[models]]\nkey = "cobalt-large"\n',
        '[[models]]\nkey = "cobalt-large"\nname = "Aurora preview 3"\n'
        f'organization = "Aurora Labs"\nfamily = "aurora"\nstatus = "{cobalt_status}"\n',
    )
    toml.write_text(text)
    path = tiny / "results" / "battles" / "battles.csv"
    frame = pd.read_csv(
        pd.io.common.StringIO(path.read_text() + MORE_BATTLES), dtype=str, keep_default_na=False
    )
    if prompts:
        frame["prompt_id"] = frame["battle_id"].map(PROMPTS)
    frame.to_csv(path, index=False)
    return toml


def test_status_must_be_public_private_or_retired(tiny: Path) -> None:
    toml = variant_board(tiny, cobalt_status="secret")
    result = invoke("validate", "--config", str(toml))
    assert result.exit_code == 2
    line = toml.read_text().splitlines().index('status = "secret"') + 1  # the value's own line
    assert result.output.strip() == (
        f"Error: leaderboard.toml:{line}:0: invalid-value: models[1].status: "
        "Input should be 'public', 'private' or 'retired'"
    )


def expected_disclosure(tiny: Path) -> dict[str, tuple[int, float]]:
    """Each model's battles and share of prompts, computed independently from the CSV: the
    accepted battles (turns >= 3, participant not struck), prompts by id or by battle."""
    b = pd.read_csv(tiny / "results" / "battles" / "battles.csv", dtype=str, na_filter=False)
    b = b[(b["turns"].astype(int) >= 3) & (b["participant_id"] != "p0003")]
    b = b.assign(prompt=b["prompt_id"].where(b["prompt_id"] != "", "own:" + b["battle_id"]))
    long = pd.concat([b[["model_a", "prompt"]].set_axis(["model", "prompt"], axis=1),
                      b[["model_b", "prompt"]].set_axis(["model", "prompt"], axis=1)])  # fmt: skip
    total = b["prompt"].nunique()
    battles = long.groupby("model").size()
    prompts = long.drop_duplicates().groupby("model").size()
    return {m: (int(battles[m]), prompts[m] / total) for m in battles.index}


def test_disclosure_counts_in_standings(tiny: Path, tmp_path: Path) -> None:
    toml = variant_board(tiny)
    result = invoke("rate", "--config", str(toml), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    standings = json.loads((tmp_path / "out" / "standings.json").read_text())
    d = standings["analysis"]["disclosure"]
    assert (d["unit"], d["total"]) == ("prompts", 3)  # q1, q2 and b000005's own
    orgs = {o["organization"]: o for o in d["organizations"]}
    assert list(orgs) == ["Aurora Labs", "(organization not stated)"]
    aurora = orgs["Aurora Labs"]
    assert (aurora["variants"], aurora["families"], aurora["private"]) == (2, 1, ["cobalt-large"])
    found = {r["model"]: (r["battles"], r["share"]) for o in orgs.values() for r in o["rows"]}
    expected = expected_disclosure(tiny)
    assert found.keys() == expected.keys()
    for model, (battles, share) in expected.items():
        assert found[model] == (battles, pytest.approx(share))
    models = {m["key"]: m for m in standings["models"]}
    assert (models["cobalt-large"]["status"], models["cobalt-large"]["family"]) == (
        "private",
        "aurora",
    )
    # The private variant is ranked with the others: hiding it changes no one's number.
    overall = next(t for t in standings["tables"] if t["slice_attribute"] == "all")
    assert {e["model"] for e in overall["entries"]} == set(expected)


def build_variants(root: Path) -> None:
    """`variant_board` built through the CLI into `tiny/site` (its default out): once per run
    (`variant_site` in conftest.py), read here and served to the browser in
    test_browser_variants.py."""
    tiny = root / "tiny"
    copy_board(Path(__file__).parent / "fixtures" / "tiny", tiny)
    result = invoke("build", "--config", str(variant_board(tiny)))
    assert result.exit_code == 0, result.output


def test_built_pages_hide_private_rows_and_disclose_them(variant_site: Path) -> None:
    site = variant_site
    home = (site / "index.html").read_text()
    row = re.search(
        r'<tr class="pb-provisional pb-unreleased" data-status="private">.*?</tr>', home
    )
    assert row and "Aurora preview 3" in row.group(0) and ">private</span>" in row.group(0)
    assert 'data-unreleased="1"' in home
    assert "Public models are shown; 1 private or retired variant(s) are hidden" in home
    page = (site / "disclosure.html").read_text()
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\s+", " ", text)
    assert "Aurora Labs 2 variants tested. Never made public: Aurora preview 3." in text
    assert "Aurora preview 3 aurora private (never made public) 3 2 66.7%" in text
    assert "Shares are of the board's 3 distinct prompts" in text
    assert "delta-mini — public" in text  # no family declared: a dash, not its name twice
    model = (site / "models" / "cobalt-large.html").read_text()
    assert "A private variant of aurora: tested on this board but never made public" in model


def test_without_prompt_ids_shares_are_of_battles(tiny: Path, tmp_path: Path) -> None:
    toml = variant_board(tiny, cobalt_status="retired", prompts=False)
    result = invoke("rate", "--config", str(toml), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    d = json.loads((tmp_path / "out" / "standings.json").read_text())["analysis"]["disclosure"]
    assert (d["unit"], d["total"]) == ("battles", 4)  # the four accepted battles
    aurora = d["organizations"][0]
    assert (aurora["private"], aurora["retired"]) == ([], ["cobalt-large"])
    shares = {r["model"]: (r["prompts"], r["share"]) for r in aurora["rows"]}
    assert shares == {"cobalt-large": (3, 0.75), "aurora-7b": (2, 0.5)}
