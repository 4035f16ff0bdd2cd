"""The golden standings: rating the committed golden board gives the pinned numbers.

An unintended change to any rated number (score, band, rank interval, P(best), tie model,
Likert mean) fails here, naming the table, model and field. After an intended change, re-pin
with `python -m tests.golden --write` and say why in the commit (tests/golden.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import golden


def _differences(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    out = []
    if want["tables"].keys() != got["tables"].keys():
        return [f"tables: {sorted(want['tables'])} != {sorted(got['tables'])}"]
    for key, models in want["tables"].items():
        if models.keys() != got["tables"][key].keys():
            out.append(f"{key}: models {sorted(models)} != {sorted(got['tables'][key])}")
            continue
        for model, fields in models.items():
            for name, expected in fields.items():
                actual = got["tables"][key][model][name]
                if not _close(name, expected, actual):
                    out.append(f"{key} {model} {name}: pinned {expected}, now {actual}")
    for part in ("ties", "likert"):
        for key, expected in want[part].items():
            actual = got[part].get(key)
            if not _close("score", expected, actual):
                out.append(f"{part} {key}: pinned {expected}, now {actual}")
    return out


def _close(name: str, expected: Any, actual: Any) -> bool:
    if expected is None or actual is None or name in golden.EXACT:
        return bool(expected == actual)
    tol = golden.PROBABILITY_TOLERANCE if name in golden.PROBABILITIES else golden.SCORE_TOLERANCE
    return bool(actual == pytest.approx(expected, abs=tol, rel=0))


def test_rating_the_golden_board_gives_the_pinned_numbers() -> None:
    want = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(golden.pinned(golden.rate_board())))
    assert _differences(want, got) == []
    # the file pins something real: both headlines, both groups, ties and Likert means
    assert "overall/poststratified/country" in want["tables"]
    assert {"overall/country/UK", "overall/country/US"} <= want["tables"].keys()
    assert set(want["ties"]) == {"overall", "helpfulness"} and len(want["likert"]) > 0


def test_a_changed_number_is_reported_by_table_model_and_field() -> None:
    want = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(want))
    pinned = want["tables"]["overall/all/all"]["aurora-7b"]
    entry = got["tables"]["overall/all/all"]["aurora-7b"]
    entry["score"] += 2 * golden.SCORE_TOLERANCE
    entry["sd"] += golden.SCORE_TOLERANCE / 2  # within the tolerance: not reported
    entry["rank_upper"] += 1
    assert _differences(want, got) == [  # fields in the file's (sorted) order
        f"overall/all/all aurora-7b rank_upper: pinned {pinned['rank_upper']}, "
        f"now {entry['rank_upper']}",
        f"overall/all/all aurora-7b score: pinned {pinned['score']}, now {entry['score']}",
    ]
