"""The stages after rating on a many-model board: pages + charts, then MkDocs, and what they
produce (Markdown handed to MkDocs, built HTML, standings.json, search index). The board is
rated once; only the two stages are timed, so their cost can be measured without the rating's.

Run: .venv/bin/python benchmarks/bench_pages.py [--models N] [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _boards import example_board

from prefboard import pipeline
from prefboard.render.pages import render_pages
from prefboard.site import build_site


def _bytes(site: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in site.rglob(pattern) if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _, root = example_board(Path(tmp) / "board", args.rows, models=args.models)
        config_path = root / "leaderboard.toml"
        config, root = pipeline.load(config_path)
        data, standings = pipeline.rate(config, root, config_path)
        start = time.perf_counter()
        pages = render_pages(standings)
        rendered = time.perf_counter()
        site = build_site(config, standings, data.ledger, pages, root, Path(tmp) / "site")
        built = time.perf_counter()
        markdown = sum(len(p.text.encode()) for p in pages)
        html = _bytes(site.output, "*.html")
        print(
            f"{args.models} models x {args.rows:,} battles, {len(standings.pairs):,} pairs: "
            f"pages + charts {rendered - start:.1f} s, mkdocs {built - rendered:.1f} s; "
            f"{len(pages)} pages, Markdown {markdown:,} bytes, HTML {html:,} bytes, "
            f"standings.json {_bytes(site.output, 'standings.json'):,} bytes, "
            f"search index {_bytes(site.output, 'search_index.json'):,} bytes"
        )


if __name__ == "__main__":
    main()
