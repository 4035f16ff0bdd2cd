"""Hostile inputs built at run time (too big to commit, or names and links git cannot hold):
the generators of tests/fixtures/hostile/cases-crash.toml, also used by tests/test_input_bounds.py.

Each writes into a copy of tests/fixtures/tiny (`board`); `tmp` is the test's own folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

B_HEADER = (
    "battle_id,timestamp,participant_id,model_a,model_b,turns,"
    "overall,helpfulness,communication,adaptiveness,trust_safety,personality"
)
GOOD = "g1,2026-09-01T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,a,tie,a,tie,b"
RECORD = dict(zip(B_HEADER.split(","), GOOD.split(","), strict=True))
# battle globs that also read the columnar formats
COLUMNAR_GLOBS = (
    '[data]\nbattles = ["results/battles/*.csv", "results/battles/*.parquet", '
    '"results/battles/*.jsonl"]\n'
)


def append_config(board: Path, text: str) -> None:
    toml = board / "leaderboard.toml"
    toml.write_text(toml.read_text("utf-8") + "\n" + text, "utf-8")


def deep_json_line(depth: int) -> str:
    """One battle record whose `overall` holds arrays nested `depth` deep."""
    head = json.dumps({k: v for k, v in RECORD.items() if k != "overall"})[:-1]
    return f'{head}, "overall": {"[" * depth}{"]" * depth}}}\n'


def _non_utf8_name(board: Path, tmp: Path) -> None:
    name = os.fsencode(board / "results/battles") + b"/caf\xe9-latin1.csv"
    with open(name, "wb") as fh:
        fh.write(f"{B_HEADER}\n{GOOD}\n".encode())


def _symlink_loops(board: Path, tmp: Path) -> None:
    battles = board / "results/battles"
    os.symlink("self.csv", battles / "self.csv")
    os.symlink("ping.csv", battles / "pong.csv")
    os.symlink("pong.csv", battles / "ping.csv")


def _jsonl_nested(depth: int) -> Callable[[Path, Path], None]:
    def write(board: Path, tmp: Path) -> None:
        # a good record and a blank line first: the problem must name physical line 3
        good = json.dumps(dict(RECORD, battle_id="d1")) + "\n\n"
        (board / "results/battles/deep.jsonl").write_text(good + deep_json_line(depth), "utf-8")
        append_config(board, COLUMNAR_GLOBS)

    return write


def parquet_bomb(path: Path, rows: int = 2_000_000, width: int = 1_000) -> None:
    """A file of a few hundred KB whose one text column decodes to rows x width bytes:
    dictionary encoding stores the value once and run-length encodes the indices."""
    indices = pa.array(np.zeros(rows, dtype=np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * width]))
    pq.write_table(pa.table({"battle_id": column}), path, compression="zstd")


def _parquet_bomb(board: Path, tmp: Path) -> None:
    parquet_bomb(board / "results/battles/bomb.parquet")
    append_config(board, COLUMNAR_GLOBS)


def parquet_duplicated_column(path: Path) -> None:
    names = B_HEADER.split(",")
    values = GOOD.split(",")
    table = pa.table([pa.array([v]) for v in values] + [pa.array(["b"])], names=[*names, "overall"])
    pq.write_table(table, path)


def _parquet_duplicated(board: Path, tmp: Path) -> None:
    parquet_duplicated_column(board / "results/battles/dup.parquet")
    append_config(board, COLUMNAR_GLOBS)


def strata_bomb_config(slices: int = 3, values: int = 100) -> str:
    """About 12 KB: `slices` slices of `values` values, all stratified (values^slices cells)."""
    share = 1 / values
    out = [f"[rating]\nstratify_by = {json.dumps([f's{k}' for k in range(slices)])}\n"]
    for k in range(slices):
        vals = ", ".join(f'"v{i}"' for i in range(values))
        pop = ", ".join(f"v{i} = {share}" for i in range(values))
        out.append(f'[[slices]]\nattribute = "s{k}"\nvalues = [{vals}]\npopulation = {{{pop}}}\n')
    return "\n".join(out)


def _strata_bomb(board: Path, tmp: Path) -> None:
    append_config(board, strata_bomb_config())


def _slice_values_60k(board: Path, tmp: Path) -> None:
    values = ", ".join(f'"v{i}"' for i in range(60_000))  # 480 KB, under the 1 MB config limit
    append_config(board, f'[[slices]]\nattribute = "region"\nvalues = [{values}]\n')


def _benchmarks_4000(board: Path, tmp: Path) -> None:
    rows = "".join(f"aurora-7b,bench-{i},{i},paper\n" for i in range(4_000))
    (board / "results/benchmarks.csv").write_text("model,benchmark,score,source\n" + rows)


GENERATORS: dict[str, Callable[[Path, Path], None]] = {
    "file-name-not-utf8": _non_utf8_name,
    "symlink-loops-in-battles": _symlink_loops,
    "jsonl-nested-5000": _jsonl_nested(5_000),
    "jsonl-nested-50000": _jsonl_nested(50_000),
    "parquet-decodes-to-gigabytes": _parquet_bomb,
    "parquet-duplicated-column": _parquet_duplicated,
    "config-strata-million-cells": _strata_bomb,
    "config-slice-60000-values": _slice_values_60k,
    "benchmarks-4000-names": _benchmarks_4000,
}
