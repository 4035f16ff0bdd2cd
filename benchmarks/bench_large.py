"""Large input: 10,000,000 battle rows through validation and the rating stage.

Prints rows, seconds per stage and peak memory. Run:
.venv/bin/python benchmarks/bench_large.py [--rows N] [--permutations K]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _boards import peak_rss_mib, target

from prefboard.config import load_config
from prefboard.ingest.validate import ingest
from prefboard.rating.rate import rate


def generate(dest: Path, rows: int) -> None:
    """Simulate the board in a child process, so peak memory below is validation + rating."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
        "from _boards import example_board; "
        "example_board(Path(sys.argv[2]), int(sys.argv[3]), participants=20_000)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(dest), str(rows)], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--permutations", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root, args.rows)
        config = load_config(root / "leaderboard.toml")
        config = config.model_copy(
            update={"rating": config.rating.model_copy(update={"permutations": args.permutations})}
        )
        size = sum(p.stat().st_size for p in (root / "results").rglob("*.csv"))
        print(
            f"simulated {args.rows:,} rows ({size / 1e9:.2f} GB of CSV) in "
            f"{time.perf_counter() - start:.1f} s (child process)"
        )
        start = time.perf_counter()
        data = ingest(config, root)
        validated = time.perf_counter() - start
        print(
            f"validate: {validated:.1f} s, "
            f"{len(data.battles):,} accepted, {len(data.problems)} problems, "
            f"peak RSS {peak_rss_mib():,.0f} MiB"
        )
        start = time.perf_counter()
        standings = rate(config, data)
        rated = time.perf_counter() - start
        print(
            f"rate ({1 + args.permutations} passes): {rated:.1f} s, "
            f"{len(standings.tables)} tables, peak RSS {peak_rss_mib():,.0f} MiB"
        )
        if args.rows == 10_000_000 and args.permutations == 20:  # issue 18's board
            print(target("validate + rate", validated + rated, 90, " s"))
            print(target("peak RSS", peak_rss_mib(), 1536, " MiB"))


if __name__ == "__main__":
    main()
