"""`prefboard diff`: rank moves, file and exclusion changes, and safe Markdown for job summaries."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prefboard.render.diff import NO_CHANGES, md, render_markdown, render_text
from prefboard.standings.diff import (
    ExclusionChange,
    FileChange,
    RankMove,
    diff_standings,
    render_json,
)
from prefboard.standings.files import read_standings, to_json
from prefboard.standings.model import (
    Entry,
    FileRecord,
    ModelInfo,
    SliceInfo,
    Standings,
    Table,
)
from tests import factories

NAMES = {"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta"}
SHA = {"old": "1" * 64, "new": "2" * 64, "p": "3" * 64}


def entry(model: str, rank: int, score: float) -> Entry:
    return factories.entry(model, score, rank, battles=50, mu_spread=0.1)


def table(dimension: str, attribute: str, value: str, ranking: list[tuple[str, float]]) -> Table:
    entries = [entry(m, i + 1, s) for i, (m, s) in enumerate(ranking)]
    return factories.table(entries, dimension, attribute, value, battles=100, participants=20)


def standings(
    headline: list[tuple[str, float]],
    pooled: list[tuple[str, float]],
    style: list[tuple[str, float]],
    files: list[FileRecord],
    excluded: dict[str, dict[str, int]],
    names: dict[str, str] | None = None,
) -> Standings:
    names = names or NAMES
    models = sorted({m for m, _ in [*headline, *pooled, *style]})
    tables = [
        table("overall", "all", "all", pooled),
        table("overall", "poststratified", "region", headline),
        table("style", "all", "all", style),
    ]
    return factories.standings(
        tables,
        provenance=factories.provenance(files=files, excluded=excluded),
        parameters=factories.parameters(permutations=10, seed=0, stratify_by=["region"]),
        models=[ModelInfo(key=m, name=names[m]) for m in models],
        dimensions=[
            factories.dimension("overall", scale_max=5),
            factories.dimension("style", scale_max=5),
        ],
        slices=[
            SliceInfo(
                attribute="region",
                label="Region",
                values=["eu", "us"],
                population={"eu": 0.5, "us": 0.5},
                published=["eu", "us"],
            )
        ],
    )


def files(battles_rows: int) -> list[FileRecord]:
    sha = SHA["old"] if battles_rows == 300 else SHA["new"]
    return [
        FileRecord(
            path="results/battles/b1.csv",
            kind="battles",
            sha256=sha,
            bytes=battles_rows * 50,
            rows=battles_rows,
            accepted=battles_rows - 10,
            excluded=10,
        ),
        FileRecord(
            path="results/participants.csv",
            kind="participants",
            sha256=SHA["p"],
            bytes=1000,
            rows=40,
            accepted=40,
            excluded=0,
        ),
    ]


def old_standings() -> Standings:
    return standings(
        headline=[("a", 30.0), ("b", 28.0), ("c", 20.0)],
        pooled=[("a", 29.0), ("b", 28.5), ("c", 21.0)],
        style=[("c", 26.0), ("a", 25.0), ("b", 24.0)],
        files=files(300),
        excluded={"battles": {"too-few-turns": 10}},
    )


def new_standings(names: dict[str, str] | None = None) -> Standings:
    """B overtakes A in the headline, D is added, the battles file grows by 120 rows, and two
    rows are newly excluded for a new reason. The style ranking and its scores are unchanged."""
    return standings(
        headline=[("b", 31.0), ("a", 30.0), ("c", 20.0), ("d", 15.0)],
        pooled=[("a", 29.0), ("b", 28.5), ("c", 21.0), ("d", 16.0)],
        style=[("c", 26.0), ("a", 25.0), ("b", 24.0)],
        files=files(420),
        excluded={"battles": {"too-few-turns": 10, "duplicate-battle": 2}},
        names=names,
    )


def band(score: float) -> tuple[float, float]:
    return (score - 2.0, score + 2.0)


def assert_tables_keep_shape(markdown: str) -> None:
    """Every row of every table has as many cell separators as its header (GFM: a pipe after a
    backslash escape is text)."""
    for block in re.findall(r"(?:^\|.*\n)+", markdown, flags=re.M):
        counts = {re.sub(r"\\.", "", row).count("|") for row in block.splitlines()}
        assert len(counts) == 1, block


def test_moves_models_files_and_exclusions() -> None:
    d = diff_standings(old_standings(), new_standings())
    assert d.moves == [
        RankMove("overall", "all", "all", "d", None, 4, None, 16.0, None, band(16.0)),
        RankMove(
            "overall", "poststratified", "region", "a", 1, 2, 30.0, 30.0, band(30), band(30), True
        ),
        RankMove(
            "overall", "poststratified", "region", "b", 2, 1, 28.0, 31.0, band(28), band(31), True
        ),
        RankMove(
            "overall", "poststratified", "region", "d", None, 4, None, 15.0, None, band(15), True
        ),
    ]
    assert [m.change for m in d.moves] == ["new", "↓1", "↑1", "new"]
    assert d.models_added == ["d"]
    assert d.models_removed == []
    assert d.files == [
        FileChange("results/battles/b1.csv", "battles", "changed", 300, 420, 290, 410, True)
    ]
    assert d.exclusions == [ExclusionChange("battles", "duplicate-battle", 0, 2)]
    assert d.tables_added == [] and d.tables_removed == []
    assert d.headline_tables == {
        "overall": ("overall", "poststratified", "region"),
        "style": ("style", "all", "all"),
    }
    assert not d.empty


def test_score_only_change_is_a_move_and_tiny_noise_is_not() -> None:
    old = old_standings()
    nudged = old.model_copy(
        update={
            "tables": [
                table("overall", "all", "all", [("a", 29.0 + 1e-12), ("b", 28.6), ("c", 21.0)]),
                *old.tables[1:],
            ]
        }
    )
    d = diff_standings(old, nudged)
    assert [(m.model, m.change) for m in d.moves] == [("b", "=")]
    assert render_text(d, old, nudged).splitlines()[0] == (
        "No headline rank changes, scores moved in 1 table"
    )


def test_markdown_summary_and_headline_table() -> None:
    old, new = old_standings(), new_standings()
    out = render_markdown(diff_standings(old, new), old, new)
    lines = out.splitlines()
    assert lines[0] == "### Standings diff"
    assert lines[2] == (
        "2 models moved in the headline ranking, 1 model added, "
        "120 battles added in 1 file, 2 rows newly excluded"
    )
    assert "| Overall | 1 | ↑1 | Beta | 28.00 → 31.00 (+3.00) | 29.00 – 33.00 |" in lines
    assert "| Overall | 2 | ↓1 | Alpha | 30.00 → 30.00 (±0.00) | 28.00 – 32.00 |" in lines
    assert "| Overall | 4 | new | Delta | — → 15.00 | 13.00 – 17.00 |" in lines
    # The headline table comes before the collapsed details, which hold the rest.
    assert out.index("↑1") < out.index("<details>")
    details = out[out.index("<details>") :]
    assert "| Overall | pooled | 4 | new | Delta | — → 16.00 |" in details
    # values are backslash-escaped (GitHub shows "results/battles/b1.csv")
    assert "| results/battles/b1\\.csv | battles | changed | 300 → 420 | +120 |" in details
    assert "| battles | duplicate\\-battle | 0 | 2 | +2 |" in details
    assert details.rstrip().endswith("</details>")
    # Every table row has as many unescaped cell separators as its header.
    assert_tables_keep_shape(out)


def test_text_has_the_same_content_in_aligned_columns() -> None:
    old, new = old_standings(), new_standings()
    out = render_text(diff_standings(old, new), old, new)
    lines = out.splitlines()
    assert lines[0] == (
        "2 models moved in the headline ranking, 1 model added, "
        "120 battles added in 1 file, 2 rows newly excluded"
    )
    head = lines.index("Headline rankings")
    header, rule, *rows = lines[head + 1 : head + 6]
    assert header.split() == ["Dimension", "Rank", "Change", "Model", "Score", "Band"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert rows[0].split()[:4] == ["Overall", "1", "↑1", "Beta"]
    assert rows[1].split()[:4] == ["Overall", "2", "↓1", "Alpha"]
    assert rows[2].split()[:4] == ["Overall", "4", "new", "Delta"]
    # Columns line up: each model name starts where the header's Model does.
    col = header.index("Model")
    assert [r[col:].split()[0] for r in rows] == ["Beta", "Alpha", "Delta"]
    assert "results/battles/b1.csv" in out and "duplicate-battle" in out


def test_json_round_trips_and_is_deterministic() -> None:
    d = diff_standings(old_standings(), new_standings())
    text = render_json(d)
    assert text == render_json(diff_standings(old_standings(), new_standings()))
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=1) + "\n"
    assert data["empty"] is False
    assert data["models_added"] == ["d"]
    assert [(m["model"], m["old_rank"], m["new_rank"], m["change"]) for m in data["moves"]] == [
        ("d", None, 4, "new"),
        ("a", 1, 2, "↓1"),
        ("b", 2, 1, "↑1"),
        ("d", None, 4, "new"),
    ]
    assert data["moves"][2]["new_band"] == [29.0, 33.0]
    assert data["files"][0]["rows_delta"] == 120
    assert data["exclusions"] == [
        {"delta": 2, "kind": "battles", "new": 2, "old": 0, "reason": "duplicate-battle"}
    ]


def test_identical_standings_are_empty(tmp_path: Path) -> None:
    old = old_standings()
    (tmp_path / "standings.json").write_text(to_json(old), encoding="utf-8")
    again = read_standings(tmp_path)
    d = diff_standings(old, again)
    assert d.empty
    assert render_markdown(d, old, again) == f"### Standings diff\n\n{NO_CHANGES}\n"
    assert render_text(d, old, again) == NO_CHANGES + "\n"
    assert json.loads(render_json(d))["empty"] is True


def test_removed_model_file_and_table() -> None:
    old, new = new_standings(), old_standings()
    new = new.model_copy(
        update={
            "tables": new.tables[:2],
            "provenance": new.provenance.model_copy(update={"files": new.provenance.files[:1]}),
        }
    )
    d = diff_standings(old, new)
    assert d.models_removed == ["d"]
    assert [(m.model, m.change) for m in d.moves if m.headline] == [
        ("a", "↑1"),
        ("b", "↓1"),
        ("d", "gone"),
    ]
    assert d.tables_removed == [("style", "all", "all")]
    assert [(f.path, f.status, f.old_rows, f.new_rows) for f in d.files] == [
        ("results/battles/b1.csv", "changed", 420, 300),
        ("results/participants.csv", "removed", 40, None),
    ]
    out = render_markdown(d, old, new)
    assert out.splitlines()[2] == (
        "2 models moved in the headline ranking, 1 model removed, "
        "120 battles removed in 1 file, 40 participants removed in 1 file, "
        "2 rows no longer excluded, 1 table removed"
    )
    assert "| Overall | (4) | gone | Delta | 15.00 → — | 13.00 – 17.00 |" in out


HOSTILE = "<img src=x onerror=alert(1)>|[x](javascript:1)"


def test_hostile_names_paths_and_reasons_are_escaped() -> None:
    old = old_standings()
    new = new_standings(names={**NAMES, "d": HOSTILE, "b": "`code` **bold** _it_ \\| $x$"})
    evil_file = FileRecord(
        path="results/battles/<script>alert(1)</script>|x.csv\n| injected | row |",
        kind="battles",
        sha256="4" * 64,
        bytes=10,
        rows=5,
        accepted=5,
        excluded=0,
    )
    new = new.model_copy(
        update={
            "provenance": new.provenance.model_copy(
                update={
                    "files": [*new.provenance.files, evil_file],
                    "excluded": {"battles": {"[click](https://evil.example)&amp;": 3}},
                }
            )
        }
    )
    d = diff_standings(old, new)
    out = render_markdown(d, old, new)
    assert "<img" not in out and "<script" not in out
    assert "](javascript:" not in out and "](https:" not in out
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;&#124;\\[x\\]\\(javascript&#58;1\\)" in out
    assert "\\`code\\` \\*\\*bold\\*\\* \\_it\\_ \\\\&#124; &#36;x&#36;" in out
    assert "&amp;amp;" in out
    # The newline in the path cannot start a row of its own.
    assert "\n| injected" not in out
    # Every table keeps its shape: no value adds a cell.
    assert_tables_keep_shape(out)
    # The only raw HTML is the details wrapper.
    assert set(re.findall(r"<[^>]*>", out)) == {
        "<details>",
        "<summary>",
        "</summary>",
        "</details>",
    }


def test_values_are_capped_and_single_line() -> None:
    long = "x" * 500 + "\n\x1b[31m"
    assert len(md(long)) == 80 and md(long).endswith("…")
    # line breaks read as spaces; ESC and the bidi override are shown, not obeyed
    assert md("a\nb\r\x1bc\u202ed") == "a b \\\\x1bc\\\\u202ed"
    old = old_standings()
    new = new_standings(names={**NAMES, "d": "D" * 300})
    out = render_markdown(diff_standings(old, new), old, new)
    assert "D" * 80 not in out and "D" * 79 + "…" in out


def test_limit_truncates_each_section() -> None:
    old, new = old_standings(), new_standings()
    d = diff_standings(old, new)
    out = render_markdown(d, old, new, limit=1)
    assert "| Overall | 1 | ↑1 | Beta |" in out
    assert "| Overall | 2 | ↓1 | Alpha |" not in out
    assert "… and 2 more (see --format json)." in out
