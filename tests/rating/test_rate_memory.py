"""The rating stage's narrow arrays (issue 18): int32 battle lists tiling one buffer per
dimension, int16 slice codes, int32 participant codes, and no copies of arrays every battle is
in. Each must give the standings the int64, copying code gave (the code of 1a92afd, which these
tests rebuild by patching the narrowing out), and must widen rather than overflow."""

from __future__ import annotations

import csv
import weakref
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.config import MAX_SLICE_VALUES, load_config
from prefboard.ingest.validate import ingest
from prefboard.rating import (
    batch,
    battle_slices,
    btd,
    crosschecks,
    fits,
    inputs,
    tables,
    tournaments,
)
from prefboard.rating import group_tables as gt
from prefboard.rating import rate as rate_module
from prefboard.rating import trueskill as ts
from prefboard.rating.rate import rate
from prefboard.rating.tournaments import Run, Spec, run_tournaments

TINY = Path(__file__).parent.parent / "fixtures" / "tiny" / "leaderboard.toml"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated tiny board on which every third battle did not ask helpfulness, so its
    pooled fits take the copying path while the other dimensions (every battle asked) don't."""
    root = tmp_path_factory.mktemp("narrow")
    text = TINY.read_text("utf-8").replace(
        "[quality]", "[privacy]\nmin_participants = 1\n\n[rating]\npermutations = 2\n\n[quality]"
    )
    (root / "leaderboard.toml").write_text(text, "utf-8")
    args = ["simulate", "--config", str(root / "leaderboard.toml"), "--battles", "2000"]
    args += ["--ratings", "0", "--participants", "200", "--seed", "5"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for path in sorted((root / "results" / "battles").glob("*.csv")):
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        for k, row in enumerate(rows):
            if k % 3 == 0:
                row["helpfulness"] = ""
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return root


def _standings_json(root: Path) -> str:
    config = load_config(root / "leaderboard.toml")
    return rate(config, ingest(config, root)).model_dump_json()


def test_narrow_arrays_give_the_standings_of_the_int64_copies(
    board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The new path, with the pooled group fits taken in turns and the dimensions fitted one
    # at a time, as on a large board.
    monkeypatch.setattr(fits, "SERIAL_GROUP_FITS", 0)
    monkeypatch.setattr(rate_module, "ONE_FIT_THREAD", 0)
    narrow = _standings_json(board)
    # The old code's arrays: int64 everywhere (also the group fits' slice codes and the
    # clustered posterior's battle list), one concatenated copy of the tournaments' lists for
    # the replay, every subset copied, each dimension's own lists (none shared), and the group
    # fits of two dimensions at once.
    monkeypatch.setattr(inputs.BattleLists, "lists", lambda self, asked, make: make())
    monkeypatch.setattr(fits, "SERIAL_GROUP_FITS", 10**12)
    monkeypatch.setattr(rate_module, "ONE_FIT_THREAD", 10**12)
    monkeypatch.setattr(ts, "model_dtype", lambda n: np.int64)
    monkeypatch.setattr(inputs, "index_dtype", lambda n: np.int64)
    monkeypatch.setattr(inputs, "code_dtype", lambda n: np.int64)
    monkeypatch.setattr(battle_slices, "code_dtype", lambda n: np.int64)
    monkeypatch.setattr(tournaments, "tiled", lambda specs: None)
    monkeypatch.setattr(gt, "subset", lambda full, index: full[index])
    assert _standings_json(board) == narrow


def test_the_rating_inputs_are_narrow_and_tiled(board: Path) -> None:
    config = load_config(board / "leaderboard.toml")
    prepared = inputs.prepare(config, ingest(config, board))
    assert {c.dtype for c in prepared.codes.values()} == {np.dtype(np.int16)}
    assert prepared.people.dtype == np.int32
    for key in ("overall", "helpfulness"):
        specs = inputs.dimension_of(config, prepared, key).run.specs
        flat = tournaments.tiled(specs)
        assert flat is not None and flat.dtype == np.int32
        assert flat.size == sum(s.battles.size for s in specs)


def test_model_codes_are_as_narrow_as_their_pair_keys_allow() -> None:
    # int16 while (lo * n + hi) * 3 + outcome fits in it, then int32, then int64
    assert ts.model_dtype(104) is np.int16
    assert ts.model_dtype(105) is np.int32
    assert ts.model_dtype(26_754) is np.int32
    assert ts.model_dtype(26_755) is np.int64
    codes = np.array([0, 3], dtype=np.int16)
    a, b, _ = ts.check_battle_arrays(12, codes, np.array([1, 2]), np.zeros(2))
    assert a is codes and b.dtype == np.int16  # narrow codes are read in place
    a, b, _ = ts.check_battle_arrays(300, np.array([0, 299]), np.array([1, 2]), np.zeros(2))
    assert a.dtype == b.dtype == np.int32


def test_a_code_out_of_range_is_refused_before_it_is_narrowed() -> None:
    # 65,536 + 1 would wrap to 1 in int16: the check reads the codes as given
    with pytest.raises(ValueError, match="model indices must lie"):
        ts.check_battle_arrays(12, np.array([65_537, 0]), np.array([2, 1]), np.zeros(2))
    with pytest.raises(ValueError, match="model indices must lie"):
        ts.check_battle_arrays(12, np.array([0.0, 2.0**40]), np.array([2, 1]), np.zeros(2))


def test_pair_keys_of_narrow_codes_do_not_wrap_at_the_largest_board() -> None:
    """The NumPy pair keys (batch_terms.aggregate, tables.components) of a 104-model board's
    int16 codes against the same codes as int64: the highest pair and every outcome."""
    n = 104
    a = np.array([103, 102, 103, 0, 5], dtype=np.int16)
    b = np.array([102, 103, 101, 103, 4], dtype=np.int16)
    outcome = np.array([0, 1, 2, 0, 1], dtype=np.int8)
    narrow = batch.aggregate(n, a, b, outcome)
    wide = batch.aggregate(n, a.astype(np.int64), b.astype(np.int64), outcome)
    assert np.array_equal(narrow.i, wide.i) and np.array_equal(narrow.j, wide.j)
    assert np.array_equal(narrow.counts, wide.counts)
    assert narrow.i.tolist() == [0, 4, 101, 102]  # pairs (0, 103), (4, 5), (101, 103), ...
    idx = np.arange(5)
    assert tables.components(n, a, b, idx) == tables.components(n, a.astype(int), b, idx)


def test_large_boards_fit_their_dimensions_one_at_a_time() -> None:
    assert rate_module.fit_threads(rate_module.ONE_FIT_THREAD - 1) == rate_module.FIT_THREADS
    assert rate_module.fit_threads(rate_module.ONE_FIT_THREAD) == 1


def test_group_lists_are_the_old_masks_in_order() -> None:
    """specs_of's one-pass fill against the formula it replaced, np.flatnonzero(asked & (code
    == i)), with unknown values (-1), unasked battles and an unpublished value."""
    config = load_config(TINY)
    rng = np.random.default_rng(1)
    n = 5_000
    outcome = rng.integers(-1, 3, n).astype(np.int8)
    codes = {
        s.attribute: rng.integers(-1, len(s.values), n).astype(np.int16) for s in config.slices
    }
    published = {s.attribute: set(s.values[1:]) for s in config.slices}
    specs = inputs.specs_of(config, "overall", outcome, codes, published)
    asked = outcome >= 0
    assert np.array_equal(specs[0].battles, np.flatnonzero(asked))
    expected = [
        (s.attribute, v, np.flatnonzero(asked & (codes[s.attribute] == i)))
        for s in config.slices
        for i, v in enumerate(s.values)
        if v in published[s.attribute]
    ]
    assert len(specs) == 1 + len(expected)
    for spec, (attribute, value, idx) in zip(specs[1:], expected, strict=True):
        assert (spec.attribute, spec.value) == (attribute, value)
        assert spec.battles.dtype == np.int32
        assert np.array_equal(spec.battles, idx)


def test_narrow_types_widen_at_their_limits() -> None:
    # Battle indices: int32 up to 2**31 - 1 battles, int64 beyond (no silent wrap).
    assert inputs.index_dtype(2**31 - 1) is np.int32
    assert inputs.index_dtype(2**31) is np.int64
    # Slice codes: the config caps a slice at MAX_SLICE_VALUES values, well inside int16
    # (codes run -1 .. n - 1); a slice with more values would get int32.
    assert np.iinfo(np.int16).max >= MAX_SLICE_VALUES
    assert battle_slices.code_dtype(MAX_SLICE_VALUES) is np.int16
    assert battle_slices.code_dtype(np.iinfo(np.int16).max + 1) is np.int32


def _specs(n: int, rng: np.random.Generator) -> list[Spec]:
    whole = np.arange(n)
    half = np.sort(rng.choice(n, n // 2, replace=False))
    return [Spec("d", "pooled", "pooled", whole, 3), Spec("d", "g", "x", half, 1)]


def test_the_replay_of_int32_tiled_lists_equals_the_int64_copies() -> None:
    """run_tournaments reading the tiled int32 buffer in place against concatenated int64
    copies of the same lists (what it always did before): the same bits."""
    rng = np.random.default_rng(2)
    n, m = 3_000, 6
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    outcome = rng.integers(0, 3, n).astype(np.int8)
    params = ts.TrueSkillParams(25.0, 25 / 3, 25 / 6, 0.0, 0.1)
    wide = _specs(n, rng)
    flat = np.concatenate([s.battles for s in wide]).astype(np.int32)
    cut = wide[0].battles.size
    narrow = [
        Spec("d", "pooled", "pooled", flat[:cut], 3),
        Spec("d", "g", "x", flat[cut:], 1),
    ]
    assert tournaments.tiled(narrow) is flat
    assert tournaments.tiled(wide) is None
    old = run_tournaments(m, a, b, [Run(outcome, wide, 7, params)])[0]
    new = run_tournaments(m, a, b, [Run(outcome, narrow, 7, params)])[0]
    for x, y in zip(old, new, strict=True):
        for field in ("mu", "sigma", "mu_mean", "mu_spread", "sigma_mean", "wins", "ties"):
            assert np.array_equal(getattr(x, field), getattr(y, field))


def test_lists_that_do_not_tile_their_buffer_are_copied() -> None:
    """Views of one buffer out of order, with a gap, or short of its end are not read in
    place: tiled() declines them and the replay concatenates."""
    flat = np.arange(10, dtype=np.int32)
    spec = lambda x: Spec("d", "pooled", "pooled", x)  # noqa: E731
    assert tournaments.tiled([spec(flat[:4]), spec(flat[4:])]) is flat
    assert tournaments.tiled([spec(flat[4:]), spec(flat[:4])]) is None
    assert tournaments.tiled([spec(flat[:4]), spec(flat[5:])]) is None
    assert tournaments.tiled([spec(flat[:4]), spec(flat[4:9])]) is None
    assert tournaments.tiled([spec(flat[::2])]) is None


def test_int32_packed_replays_equal_the_int64_packing() -> None:
    """Boards of at most MAX_MODELS_NARROW models replay battles packed in int32, larger ones
    in int64 (the packing every replay used before). Models that play no battle do not move
    the others, so the same battles on a board padded past the limit take the int64 path and
    must give the same bits for the models that played."""
    from prefboard.rating.replay import MAX_MODELS_NARROW, Jobs

    rng = np.random.default_rng(3)
    n, m = 2_000, 5
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    outcome = rng.integers(0, 3, (1, n)).astype(np.int8)
    half = np.sort(rng.choice(n, n // 2, replace=False))
    jobs = Jobs(
        offsets=np.array([0, n, n + half.size]),
        battles=np.concatenate([np.arange(n), half]),
        row=np.zeros(2, dtype=np.int64),
        eps=np.full(2, 0.5),
        seed=np.full(2, 11, dtype=np.uint64),
        stream=np.arange(2),
        passes=np.array([4, 2]),
    )
    params = ts.TrueSkillParams(25.0, 25 / 3, 25 / 6, 0.0, 0.1)
    mu, sigma = ts.replay_jobs(m, a, b, outcome, jobs, params)
    wide_mu, wide_sigma = ts.replay_jobs(MAX_MODELS_NARROW + 1, a, b, outcome, jobs, params)
    assert np.array_equal(mu, wide_mu[:, :, :m])
    assert np.array_equal(sigma, wide_sigma[:, :, :m])
    assert not np.array_equal(mu[0, 0], mu[0, 1])  # the shuffled passes did play


def test_large_boards_take_turns_for_the_pooled_group_fits() -> None:
    below = fits.group_fit_turns(fits.SERIAL_GROUP_FITS - 1)
    above = fits.group_fit_turns(fits.SERIAL_GROUP_FITS)
    with below, below:  # nothing to wait for: the fits of two dimensions overlap
        pass
    with above:
        assert not above.acquire(blocking=False)  # a second dimension would wait its turn
    assert above.acquire(blocking=False)


def test_dimensions_asked_in_the_same_battles_share_their_lists() -> None:
    """inputs.BattleLists: a second dimension asked in the same battles reads the first one's
    buffer (one copy, not one per dimension); another mask gets its own lists, each equal to
    the unshared specs_of's; lists no dimension holds any more are freed."""
    config = load_config(TINY)
    rng = np.random.default_rng(2)
    n = 3_000
    outcome = rng.integers(-1, 3, n).astype(np.int8)
    same = np.where(outcome >= 0, (outcome + 1) % 3, -1).astype(np.int8)  # other votes
    other = outcome.copy()
    other[:10] = -1
    other[10:20] = 0
    codes = {
        s.attribute: rng.integers(-1, len(s.values), n).astype(np.int16) for s in config.slices
    }
    published = {s.attribute: set(s.values) for s in config.slices}
    shared = inputs.BattleLists()
    first, second, third = (
        inputs.specs_of(config, key, o, codes, published, shared)
        for key, o in (("overall", outcome), ("helpfulness", same), ("overall", other))
    )
    assert second[0].battles.base is first[0].battles.base
    assert third[0].battles.base is not first[0].battles.base
    for specs, o in ((first, outcome), (second, same), (third, other)):
        alone = inputs.specs_of(config, specs[0].dimension, o, codes, published)
        assert [(s.attribute, s.value, s.passes) for s in specs] == [
            (s.attribute, s.value, s.passes) for s in alone
        ]
        for s, t in zip(specs, alone, strict=True):
            assert np.array_equal(s.battles, t.battles)
    base = weakref.ref(first[0].battles.base)
    del first, second
    assert base() is None  # freed once no dimension's specs hold it
    again = inputs.specs_of(config, "overall", outcome, codes, published, shared)
    assert np.array_equal(again[0].battles, np.flatnonzero(outcome >= 0))


def test_int32_cluster_codes_give_the_int64_codes_posterior() -> None:
    """inputs.cluster_codes gives int32 codes (and the pooled list is int32): the clustered
    posterior of two clusterings, whose intersection codes are formed in int64, must equal
    the one from int64 codes and an int64 list (the dtypes of the code before this change),
    both through the small-code path and the ranked one (codes spread far apart)."""
    rng = np.random.default_rng(6)
    n, m = 4_000, 6
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    outcome = rng.integers(0, 3, n).astype(np.int8)
    battles = batch.Battles.of(m, a, b, outcome)
    index = np.flatnonzero(rng.random(n) < 0.8)
    post = batch.fit_counts(
        batch.aggregate_index(battles, index),
        prior_mean=25.0,
        prior_sigma=25 / 3,
        beta=25 / 6,
        draw_margin=0.5,
    )
    person = rng.integers(0, 300, n)
    for prompt in (rng.integers(0, 900, n), rng.integers(0, 900, n) * 50_000):
        wide = batch.cluster_inflation_index(post, battles, index, [person, prompt])
        narrow = batch.cluster_inflation_index(
            post,
            battles,
            index.astype(np.int32),
            [person.astype(np.int32), prompt.astype(np.int32)],
        )
        assert np.array_equal(wide.cov, narrow.cov)
        assert np.array_equal(wide.inflation, narrow.inflation)


def test_the_cross_checks_count_each_dimensions_battles_in_place(board: Path) -> None:
    """crosschecks.job_of counts a dimension's battles through their index (no gathered copies
    at the stage's start): the counts btd.pair_counts gives on the gathered battles, also for
    helpfulness, which every third battle did not ask."""
    config = load_config(board / "leaderboard.toml")
    prepared = inputs.prepare(config, ingest(config, board))
    n = len(config.model_keys)
    for key in ("overall", "helpfulness"):
        asked = prepared.battles[key].to_numpy(np.int8)
        idx = np.flatnonzero(asked >= 0)
        gathered = btd.pair_counts(n, prepared.a[idx], prepared.b[idx], asked[idx])
        job = crosschecks.job_of(config, prepared, key)
        for ours, theirs in zip((job.i, job.j, job.cells), gathered, strict=True):
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)
        assert job.battles == idx.size < asked.size
