"""Validation speed: 1,000,000 battle rows through the full ingest stage.

Run: .venv/bin/python benchmarks/bench_ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _boards import example_board, peak_rss_mib

from prefboard.ingest.validate import ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, root = example_board(Path(tmp), args.rows)
        size = sum(p.stat().st_size for p in (root / "results").rglob("*.csv"))
        start = time.perf_counter()
        result = ingest(config, root)
        seconds = time.perf_counter() - start
        totals = result.ledger.totals()["battles"]
        print(f"battle rows: {totals['rows']}")
        print(f"csv bytes: {size / 1e6:.1f} MB")
        print(f"problems: {len(result.problems)}")
        print(f"accepted: {totals['accepted']}  excluded: {totals['excluded']}")
        print(f"validate seconds: {seconds:.2f}")
        print(f"rows/s: {totals['rows'] / seconds:,.0f}")
        print(f"peak RSS MiB: {peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
