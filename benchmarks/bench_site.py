"""Site build time: the example board, and a 100-model, 1,000,000-battle board.

Run: .venv/bin/python benchmarks/bench_site.py [--rows N] [--models N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _boards import REPO, example_board, peak_rss_mib, target

from prefboard import pipeline


def timed_build(config_path: Path, out: Path) -> tuple[float, pipeline.BuildReport]:
    start = time.perf_counter()
    report = pipeline.build(config_path, out)
    return time.perf_counter() - start, report


def _sizes(site: Path) -> str:
    """What grows with the board: the built pages and standings.json, in bytes."""
    html = sum(p.stat().st_size for p in site.rglob("*.html"))
    standings = (site / "downloads" / "standings.json").stat().st_size
    return f"HTML pages {html:,} bytes, standings.json {standings:,} bytes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # warm numba's cache and imports so both figures measure the build itself
        timed_build(REPO / "leaderboard.toml", Path(tmp) / "warm")
        seconds, report = timed_build(REPO / "leaderboard.toml", Path(tmp) / "example")
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        print(
            f"example board: {seconds:.1f} s, {report.site.pages} pages, "
            f"{report.site.charts} charts ({stages}); {_sizes(report.site.output)}"
        )
        _, root = example_board(Path(tmp) / "big", args.rows, models=args.models)
        seconds, report = timed_build(root / "leaderboard.toml", Path(tmp) / "big-site")
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        print(
            f"{args.models}-model {args.rows:,}-battle board: {seconds:.1f} s, "
            f"{report.site.pages} pages, {report.site.charts} charts ({stages})"
        )
        print(f"{args.models}-model board: {_sizes(report.site.output)}")
        limit = {100: 30, 300: 60}.get(args.models)
        if limit is not None and args.rows == 1_000_000:  # issue 18's boards
            print(target(f"{args.models}-model build", seconds, limit, " s"))
        print(f"peak RSS MiB: {peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
