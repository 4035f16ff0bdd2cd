"""results/benchmarks.csv: validated like contributor data, shown beside human preference."""

from __future__ import annotations

from pathlib import Path

from prefboard import pipeline
from prefboard.render.pages import render_pages


def test_bad_rows_are_located(tiny: Path) -> None:
    (tiny / "results" / "benchmarks.csv").write_text(
        "model,benchmark,score,source\n"
        "aurora-7b,qa,61.5,paper\n"
        "nobody,qa,50,paper\n"
        "delta-mini,qa,inf,paper\n"
        "aurora-7b,qa,62,paper\n"
    )
    config, root = pipeline.load(tiny / "leaderboard.toml")
    data = pipeline.validate(config, root)
    errors = [(p.line, p.column, p.rule) for p in data.problems if p.severity == "error"]
    assert errors == [(3, 1, "unknown-model"), (4, 3, "number"), (5, 1, "duplicate-id")]


def test_benchmark_page_ranks_against_people(tiny: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    (tiny / "results" / "benchmarks.csv").write_text(
        "model,benchmark,score,source\n"
        "aurora-7b,qa,90,paper\ncobalt-large,qa,50,paper\ndelta-mini,qa,10,paper\n"
    )
    config, root = pipeline.load(toml)
    _, standings = pipeline.rate(config, root, toml)
    assert standings.benchmarks[0].model == "aurora-7b"
    assert standings.benchmarks[0].score == 90.0
    page = next(p for p in render_pages(standings) if p.path == "benchmarks.md")
    assert "Benchmarks vs humans" in page.text
    # people rank aurora, delta, cobalt; the benchmark aurora, cobalt, delta: it overstates
    # cobalt-large by one place (+1) and understates delta-mini by one (-1)
    # (the score column is styled secondary: the ranks are the comparison)
    row = '<td class="pb-secondary">{}</td><td>{}</td><td>{}</td><td>{}</td>'
    assert "cobalt-large</a></td>" + row.format(50, 2, 3, "+1") in page.text
    assert "delta-mini</a></td>" + row.format(10, 3, 2, "\u22121") in page.text  # U+2212 minus
