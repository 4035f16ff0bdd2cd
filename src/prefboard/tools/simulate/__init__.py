"""`prefboard simulate`: a synthetic but realistic results folder drawn from hidden skills.

The point of simulating is calibration: because the truth is known (and written beside the data
as `hidden_skills.json`), the rest of the pipeline can be checked against it. So the generative
model is deliberately close to what the rating stage assumes, with the realistic wrinkles that
make the later stages earn their keep:

* Thurstone/probit battles: each model performs at skill + group effects + N(0, beta^2) and a
  battle is a tie when the two performances are closer than a margin (TrueSkill's own model).
* Group effects per (demographic value, model), so rankings differ between groups.
* A skewed participant sample (young and first-listed values over-represented), so
  post-stratification to population shares matters.
* Short battles, struck participants who answer carelessly, unasked questions.

Everything is vectorised numpy/pyarrow and seeded, so a run is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from prefboard.config import Config
from prefboard.io.files import ensure_folder, write_atomic
from prefboard.tools.simulate.people import population
from prefboard.tools.simulate.spec import SimulationResult, SimulationSpec, parse_start
from prefboard.tools.simulate.style import style_truth
from prefboard.tools.simulate.tables import battle_table, rating_table
from prefboard.tools.simulate.truth import Truth, hidden_skills, truth_json

__all__ = ["SimulationResult", "SimulationSpec", "hidden_skills", "simulate", "simulate_batch"]


def _write_csv(table: pa.Table, path: Path) -> None:
    # Every value in battle and rating tables is an id, a model key (key pattern), a timestamp,
    # a number or a/b/tie: none can need quoting, so write them bare, as contributors would.
    opts = pacsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
    write_atomic(path, lambda fh: pacsv.write_csv(table, fh, opts))


def simulate(config: Config, out_dir: Path, spec: SimulationSpec) -> SimulationResult:
    """Write participants, battles, ratings and the hidden truth under `out_dir` (`results/`)."""
    out_dir = Path(out_dir)
    battle_dir, rating_dir = out_dir / "battles", out_dir / "ratings"
    # A symlinked results/ (or battles/) committed to the board would carry every write out.
    ensure_folder(out_dir)
    for folder in (battle_dir, rating_dir):
        ensure_folder(folder, out_dir)
    # A re-run with fewer files must not leave stale simulated files for ingest to pick up.
    for stale in [*battle_dir.glob("battles-*.csv"), *rating_dir.glob("ratings-*.csv")]:
        stale.unlink()

    crowd = population(config, spec)
    start = parse_start(spec.start)

    participants = pd.DataFrame({"participant_id": crowd.pid.to_numpy(zero_copy_only=False)})
    for sl, c in zip(config.slices, crowd.codes, strict=True):
        participants[sl.attribute] = np.asarray(sl.values, dtype=object)[c]
    participants["strikes"] = crowd.strikes
    participants_path = out_dir / "participants.csv"
    write_atomic(participants_path, participants.to_csv(index=False, lineterminator="\n"))

    battles = battle_table(config, crowd, spec, start)
    files = max(1, min(spec.battle_files, battles.num_rows))
    digits = max(3, len(str(files)))
    bounds = np.linspace(0, battles.num_rows, files + 1).round().astype(int)
    battle_paths = []
    for k in range(files):
        path = battle_dir / f"battles-{k + 1:0{digits}d}.csv"
        _write_csv(battles.slice(bounds[k], bounds[k + 1] - bounds[k]), path)
        battle_paths.append(path)

    ratings = rating_table(config, crowd, spec, start)
    rating_paths = []
    if config.likert_dimensions:
        path = rating_dir / "ratings-001.csv"
        _write_csv(ratings, path)
        rating_paths.append(path)

    skills_path = out_dir / "hidden_skills.json"
    write_atomic(
        skills_path,
        json.dumps(_truth(config, crowd.truth, spec), sort_keys=True, indent=2) + "\n",
    )

    return SimulationResult(
        participants_path=participants_path,
        battle_paths=battle_paths,
        rating_paths=rating_paths,
        skills_path=skills_path,
        battles=battles.num_rows,
        ratings=ratings.num_rows,
        participants=spec.participants,
    )


def _truth(config: Config, truth: Truth, spec: SimulationSpec) -> dict[str, Any]:
    out = truth_json(config, spec.seed, truth, spec)
    if config.covariates:
        out["style_effects"] = style_truth(config, truth.beta, spec)
    return out


def simulate_batch(
    config: Config,
    out_dir: Path,
    spec: SimulationSpec,
    pairs: list[tuple[str, str]],
    batch: int,
) -> Path:
    """Append one battle per (model_a, model_b) in `pairs` to the board `simulate(config,
    out_dir, spec)` wrote: same hidden truth and participants, outcomes drawn afresh, in a file
    `battles/battles-batch-NNN.csv` timed after the earlier battles. Lets a study run the
    battles `prefboard plan` asked for (batch >= 1)."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, not {batch}")
    index = {k: i for i, k in enumerate(config.model_keys)}
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    table = battle_table(
        config, population(config, spec), spec, parse_start(spec.start), (a, b), batch
    )
    path = Path(out_dir) / "battles" / f"battles-batch-{batch:03d}.csv"
    _write_csv(table, path)
    return path
