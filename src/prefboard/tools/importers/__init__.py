"""Start (or grow) a board from pairwise preference data people already have.

`prefboard import FORMAT SOURCE --into DIR` reads a CSV, JSON (array of records), JSONL or Parquet
file of pairwise votes (Chatbot Arena's export, a crowd-sourcing platform's CSV, ...) and writes
it into a board folder in prefboard's own formats:

- `leaderboard.toml`: created, with comments, when absent (one dimension, a `[[models]]` block per
  model found, a `[[slices]]` block per `--slice` column, `[quality] min_turns = 0`); when it
  exists, only new models, new slices and new slice values are added, as text, so that the
  maintainer's comments and layout survive.
- `results/participants.csv` (or whatever `[data] participants` names): one row per judge, or the
  single synthetic participant `imported` when the source names none.
- `results/battles/imported-<stem>.csv`: the battles, one dimension column answered.
- `results/import-ledger-<stem>.csv` (`-2`, `-3`, ... for later runs: one ledger per run, none
  overwritten): what happened to every source row; a duplicate's reason names the file that
  already holds it.

Rules, in the order they apply to each source row (`source_row` is the 1-based record number:
CSV data rows after the header, JSON array elements, JSONL objects, Parquet rows):

1. `missing-field`: model_a, model_b or winner empty (or the participant / timestamp, when the
   mapping names those columns).
2. `field-too-long`: a model name over 100 characters or a participant id over 200, after control
   and invisible formatting characters (bidi overrides, zero-width spaces, ...) are stripped.
3. `unknown-winner-value`: the winner is none of `winner_values` or `extra_ties`.
4. `bad-timestamp`: not a Unix epoch number (seconds; milliseconds, microseconds and nanoseconds
   are recognised by magnitude) nor an ISO 8601 date/time; or outside 1970-2099. ISO values
   without a zone are taken as UTC.
5. `same-model`: both sides are the same model (after name normalisation).
6. `duplicate` (not skipped, counted apart): the battle id is already in one of the board's
   battle files (the one this import appends to, or any other the config's globs read), i.e.
   the vote came in with an earlier import, whatever that source file was called or its format.

Battle ids are derived from the content that identifies a judgement, never from the file's name,
format or row position (`rows.battle_ids`): `i` + the first 16 hex digits of SHA-256 over the
dimension, the cleaned model names, the outcome, the participant, the source's timestamp in
microseconds, and the source's own id column (`--battle-id`) or, without one and only for a
row repeating an earlier identical row of the source, its occurrence number (1, 2, ...). The
same votes imported again, as CSV then JSONL or under another file name, therefore add
nothing; a grown copy adds only its new rows. An import in which nothing is new and something
is a duplicate writes no file at all (no ledger either) and says so: re-running an import is a
no-op. The limit of this: a source with no timestamps, participants or ids cannot tell "the
same vote again" from "another identical vote", so a second such source repeating the first's
votes row for row is taken for a re-import.

Timestamps: epoch numbers and ISO values are written as ISO 8601 UTC with `Z`. When the mapping
names no timestamp column, the imported rows keep their source order through synthesised,
strictly increasing timestamps one second apart, starting one second after the latest battle
already in the board's battle CSVs (2000-01-01T00:00:00Z on an empty board), so a second
source's battles follow the first's; the import says so in a note.

Placeholders: the `[[models]]` and `[[slices]]` blocks `prefboard init` marks
`# prefboard:placeholder` are removed while they read as init wrote them and nothing uses them
(see `placeholders`).

Model keys: a model name is matched (case-insensitively) against the keys and names already in
`leaderboard.toml`; otherwise its key is the name lower-cased, accents dropped, every character
outside [a-z0-9_.-] replaced by `-` (runs collapsed, leading/trailing non-alphanumerics
trimmed), with `-2`, `-3`, ... added if another model already holds that key. The original
name is kept as the model's `name`.

Participants: a judge whose slice column holds several values gets the most frequent one (ties:
the alphabetically first non-empty value); the count of such judges is reported. Slice cells
over 100 characters are treated as empty. Participants already in the participants file are
never rewritten (except to fill a slice column this import adds). Every participant gets
`strikes = 0`. Every battle gets `turns = 1`: the sources record no turn counts, and a new board
gets `min_turns = 0` so that the turns rule excludes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from prefboard.io.tables import read_source
from prefboard.tools.importers.board_files import (
    battle_header,
    battle_table,
    board_ids,
    ledger_file,
    refuse_planted,
    write_battles,
    write_ledger,
)
from prefboard.tools.importers.categories import with_categories
from prefboard.tools.importers.mapping import (
    ARENA,
    FORMATS,
    PAIRWISE,
    PairwiseMapping,
    check_mapping,
)
from prefboard.tools.importers.participants import plan_participants
from prefboard.tools.importers.report import ImportReport, ImportSourceError
from prefboard.tools.importers.rows import prepare_rows
from prefboard.tools.importers.sources import (
    SourceTarget,
    as_source,
    people_and_source,
    target_file,
)
from prefboard.tools.importers.steps import (
    additions,
    already_imported,
    closing_notes,
    imported_rows,
    key_models,
    models_to_add,
    open_board,
    participants_file,
    people_and_slices,
    sort_rows,
    write_config,
)
from prefboard.tools.importers.values import normalise_key, parse_timestamps

__all__ = [
    "ARENA",
    "FORMATS",
    "PAIRWISE",
    "ImportReport",
    "ImportSourceError",
    "PairwiseMapping",
    "SourceTarget",
    "import_pairwise",
    "normalise_key",
    "parse_timestamps",
    "read_source",
]


def import_pairwise(
    source: Path,
    into: Path,
    mapping: PairwiseMapping,
    progress: Callable[[int, int], None] | None = None,
    target: SourceTarget | None = None,
) -> ImportReport:
    """Import the votes in `source` into the board folder `into` (module docs); `progress`
    after each chunk; `target`: their verdict source. Raises `ImportSourceError` when the
    source or mapping is unusable as a whole (a new board with fewer than two models: after
    writing the ledger that says why), `ConfigError` on an invalid existing leaderboard.toml
    (writing nothing). Nothing new: nothing written."""
    source, into = Path(source), Path(into)
    mapping = with_categories(source, mapping)
    check_mapping(mapping)
    board = open_board(into, mapping)
    frame = read_source(source, mapping.columns)
    total = len(frame)
    rows = prepare_rows(frame, mapping, progress)
    del frame
    keys = key_models(rows, board)
    stem = normalise_key(source.stem)
    battles_rel = target_file(board.config, target, stem)
    header = battle_header(board.config, mapping)
    fates = sort_rows(rows, board_ids(into, board.config, battles_rel, header))
    if not fates.imported.any() and fates.duplicate.any():
        return already_imported(total, fates, board)
    ledger_path = ledger_file(into, stem)
    imp = imported_rows(rows, fates, keys, mapping, board)
    new_models = models_to_add(imp, keys, board, fates, source, ledger_path)
    people, slice_attrs = people_and_slices(imp, mapping, board)
    participants_path, battles_path = into / participants_file(board.config), into / battles_rel
    refuse_planted(into, [board.config_path, participants_path, battles_path, ledger_path])
    dropped = board.base.slices if board.base is not None else []
    attrs = [a for a, _ in slice_attrs]
    plan = plan_participants(participants_path, people, attrs, board.config, dropped)
    adds = additions(new_models, slice_attrs, plan.slice_values, imp, mapping, board)
    written, added_values, pending = write_config(board, source, mapping, adds)
    write_people = partial(plan.write, participants_path, into)
    written += people_and_source(target, write_people, participants_path, board, battles_rel)
    if write_battles(battles_path, into, battle_table(as_source(imp, target), header, mapping)):
        written.append(battles_path)
    write_ledger(ledger_path, into, fates.ledger)
    written.append(ledger_path)
    board.notes += closing_notes(board, battles_rel) if target is None else []
    return ImportReport(
        source_rows=total,
        imported=int(fates.imported.sum()),
        skipped=fates.skipped,
        duplicates=int(fates.duplicate.sum()),
        models_added=[k for k, _ in new_models],
        files_written=written,
        ledger_path=ledger_path,
        bothbad_ties=int(imp["bothbad"].sum()),
        participants_added=plan.added,
        slice_values_added={a: v for a, v in added_values.items() if v},
        slice_values_pending=pending,
        notes=board.notes,
        warnings=keys.warnings,
    )
