"""Import speed: a 1,000,000-row Chatbot-Arena-style source through `prefboard import`.

Generates a seeded arena export (model_a, model_b, winner with ties and "tie (bothbad)", judge,
float-epoch tstamp, language, plus ~1.5 % bad rows) in a child process, so that this process's
peak memory is the import's own; then imports it into a new board, re-imports it (every row a
duplicate) and validates the board.

Run: .venv/bin/python benchmarks/bench_import.py [--rows N] [--format jsonl|parquet]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prefboard import pipeline
from prefboard.tools.importers import ARENA, import_pairwise

LANGUAGES = [
    "English",
    "Chinese",
    "Russian",
    "Spanish",
    "German",
    "French",
    "Japanese",
    "Portuguese",
    "Italian",
    "Korean",
    "Polish",
    "Arabic",
    "Vietnamese",
    "Dutch",
]


def generate(path: Path, rows: int, seed: int) -> None:
    """Write `rows` arena-format records to `path` (.jsonl or .parquet)."""
    rng = np.random.default_rng(seed)
    models = np.array([f"Model-{i:02d} {size}" for i in range(40) for size in ("7B",)][:40])
    a = rng.integers(0, len(models), rows)
    b = (a + rng.integers(1, len(models), rows)) % len(models)
    same = rng.random(rows) < 0.01
    b[same] = a[same]
    winner = rng.choice(
        np.array(["model_a", "model_b", "tie", "tie (bothbad)", "model_c"]),
        rows,
        p=[0.35, 0.35, 0.15, 0.145, 0.005],
    )
    judges = np.char.add("arena_user_", rng.integers(0, 50_000, rows).astype(str))
    lang_p = 1 / np.arange(1, len(LANGUAGES) + 1)
    language = rng.choice(np.array(LANGUAGES), rows, p=lang_p / lang_p.sum())
    tstamp = 1_682_000_000 + np.cumsum(rng.exponential(2.0, rows)).round(4)
    model_b = pd.Series(models[b], dtype=object)
    model_b[rng.random(rows) < 0.005] = None  # missing-field
    table = pa.table(
        {
            "model_a": models[a],
            "model_b": pa.array(model_b, type=pa.string()),
            "winner": winner,
            "judge": judges,
            "turn": rng.integers(1, 4, rows),
            "anony": np.ones(rows, dtype=bool),
            "language": language,
            "tstamp": tstamp,
        }
    )
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        table.to_pandas().to_json(path, orient="records", lines=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="Also report the peak of Python and numpy allocations (slower; Arrow not counted).",
    )
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rows, args.seed)
        return

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"arena.{args.format}"
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--rows",
                str(args.rows),
                "--seed",
                str(args.seed),
                "--generate",
                str(source),
            ],
            check=True,
        )
        print(
            f"generated {args.rows:,} rows ({source.stat().st_size / 1e6:.0f} MB {args.format}) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        board = Path(tmp) / "board"
        mapping = dataclasses.replace(ARENA, slices=("language",))
        baseline = peak_rss_mib()
        chunks: list[int] = []

        if args.tracemalloc:
            tracemalloc.start()
        start = time.perf_counter()
        report = import_pairwise(source, board, mapping, progress=lambda d, t: chunks.append(d))
        seconds = time.perf_counter() - start
        print(
            f"import: {report.imported:,} imported, skipped {report.skipped}, "
            f"{report.bothbad_ties:,} bothbad ties, {len(report.models_added)} models, "
            f"{report.participants_added:,} participants, {len(chunks)} progress calls"
        )
        print(f"import seconds: {seconds:.2f}  rows/s: {report.source_rows / seconds:,.0f}")
        print(f"peak RSS MiB: {peak_rss_mib():.0f} (before import {baseline:.0f})")
        if args.tracemalloc:
            print(f"tracemalloc peak MiB: {tracemalloc.get_traced_memory()[1] / 2**20:.0f}")
            tracemalloc.stop()

        start = time.perf_counter()
        again = import_pairwise(source, board, mapping)
        seconds = time.perf_counter() - start
        print(
            f"re-import: {again.duplicates:,} duplicates, {again.imported} imported; "
            f"{seconds:.2f} s, rows/s: {again.source_rows / seconds:,.0f}"
        )

        start = time.perf_counter()
        config, root = pipeline.load(board / "leaderboard.toml")
        result = pipeline.validate(config, root)
        totals = result.ledger.totals()["battles"]
        print(
            f"validate: ok={result.ok} accepted {totals['accepted']:,} of {totals['rows']:,} "
            f"in {time.perf_counter() - start:.2f} s"
        )
        print(f"peak RSS MiB after validate: {peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
