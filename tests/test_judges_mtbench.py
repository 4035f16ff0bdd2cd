"""Issue 16 part 2 on real data: MT-Bench human votes and GPT-4's verdicts on the same items
(tests/fixtures/mtbench, CC-BY-4.0). The Agreement figures `prefboard rate` writes must equal an
independent pandas / scipy computation here, and the human rankings must be exactly those of a
board built from the human votes alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.stats import kendalltau

from prefboard.cli import cli

MTBENCH = Path(__file__).parent / "fixtures" / "mtbench"
WINNER = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (inconsistent)": "tie"}


def _votes(split: str) -> pd.DataFrame:
    rows = [json.loads(line) for line in (MTBENCH / f"{split}.jsonl").read_text().splitlines()]
    return pd.DataFrame(rows)


def _board(root: Path, with_judge: bool) -> Path:
    """A board of the human votes (and, if asked, GPT-4's as a judge source)."""
    human, gpt4 = _votes("human"), _votes("gpt4_pair")
    models = sorted(set(human["model_a"]) | set(human["model_b"]))
    (root / "results" / "battles").mkdir(parents=True)
    toml = ['[[dimensions]]\nkey = "overall"\n']
    toml += [f'[[models]]\nkey = "{m}"\n' for m in models]
    if with_judge:
        toml.append('[[sources]]\nkey = "gpt4"\nlabel = "GPT-4"\nkind = "judge"\n')
        toml.append('files = ["results/judges/*.csv"]\n')
        (root / "results" / "judges").mkdir()
        _battles(gpt4, "g").to_csv(root / "results" / "judges" / "gpt4.csv", index=False)
    (root / "leaderboard.toml").write_text("\n".join(toml))
    people = pd.DataFrame({"participant_id": sorted(set(human["judge"])), "strikes": 0})
    people.to_csv(root / "results" / "participants.csv", index=False)
    _battles(human, "h").to_csv(root / "results" / "battles" / "human.csv", index=False)
    return root / "leaderboard.toml"


def _battles(votes: pd.DataFrame, prefix: str) -> pd.DataFrame:
    n = len(votes)
    return pd.DataFrame(
        {
            "battle_id": [f"{prefix}{i:05d}" for i in range(n)],
            "timestamp": pd.date_range("2023-06-01", periods=n, freq="min").strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "participant_id": votes["judge"].str.replace("gpt4_pair", "gpt4"),
            "model_a": votes["model_a"],
            "model_b": votes["model_b"],
            "turns": 1,
            "overall": votes["winner"].map(WINNER),
            "prompt_id": votes["question_id"].astype(str) + "-" + votes["turn"].astype(str),
        }
    )


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    out = {}
    for with_judge in (True, False):
        root = tmp_path_factory.mktemp(f"mtbench-{with_judge}")
        config = _board(root, with_judge)
        result = CliRunner().invoke(
            cli, ["rate", "--config", str(config), "--out", str(root / "out")]
        )
        assert result.exit_code == 0, result.output
        out[with_judge] = json.loads((root / "out" / "standings.json").read_text())
    return out[True], out[False]


def _item_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Each vote as (item, choice): the preferred model's name or "tie", item = question,
    turn and the unordered pair."""
    lo = np.minimum(votes["model_a"], votes["model_b"])
    hi = np.maximum(votes["model_a"], votes["model_b"])
    choice = np.where(
        votes["winner"] == "model_a",
        votes["model_a"],
        np.where(votes["winner"] == "model_b", votes["model_b"], "tie"),
    )
    item = votes["question_id"].astype(str) + "/" + votes["turn"].astype(str) + "/" + lo + "/" + hi
    side = pd.Series(np.where(choice == lo, "lo", np.where(choice == hi, "hi", "tie")))
    return pd.DataFrame({"item": item.to_numpy(), "choice": side.to_numpy()})


def _plurality_weights(counts: pd.Series) -> dict[str, float]:
    top = counts[counts == counts.max()]
    return {c: 1 / len(top) for c in top.index}


def _kappa(pairs: pd.DataFrame) -> tuple[float, float]:
    """Observed agreement and Cohen's kappa of weighted (rater, reference) labels."""
    table = pairs.pivot_table(index="rater", columns="ref", values="w", aggfunc="sum")
    table = table.reindex(index=["lo", "hi", "tie"], columns=["lo", "hi", "tie"]).fillna(0)
    total = table.to_numpy().sum()
    po = np.trace(table.to_numpy()) / total
    pe = (table.sum(axis=1).to_numpy() * table.sum(axis=0).to_numpy()).sum() / total**2
    return po, (po - pe) / (1 - pe)


def test_agreement_figures_match_an_independent_computation(rated: tuple[dict, dict]) -> None:
    standings, _ = rated
    (row,) = standings["judge_agreement"]
    human, judge = _item_votes(_votes("human")), _item_votes(_votes("gpt4_pair"))
    by_item = {item: g["choice"].value_counts() for item, g in human.groupby("item")}
    judged = judge.loc[judge["item"].isin(by_item)]
    pairs = pd.DataFrame(
        [
            {"rater": c, "ref": ref, "w": w}
            for item, c in zip(judged["item"], judged["choice"], strict=True)
            for ref, w in _plurality_weights(by_item[item]).items()
        ]
    )
    match, kappa = _kappa(pairs)
    assert row["items"] == len(judged)
    assert row["match"]["value"] == pytest.approx(match, abs=1e-12)
    assert row["kappa"]["value"] == pytest.approx(kappa, abs=1e-12)
    assert row["judge_tie_rate"] == pytest.approx((judged["choice"] == "tie").mean())
    ties = sum(by_item[i].get("tie", 0) for i in judged["item"])
    assert row["human_tie_rate"] == pytest.approx(
        ties / sum(by_item[i].sum() for i in judged["item"])
    )
    winners = _votes("gpt4_pair")["winner"]
    a, b = (winners == "model_a").sum(), (winners == "model_b").sum()
    assert row["position_a"]["value"] == pytest.approx(a / (a + b))
    # the ceiling: every human vote against the plurality of the others on its item (2+ votes),
    # each item weighing 1
    ceiling = []
    for counts in by_item.values():
        n = counts.sum()
        if n < 2:
            continue
        for choice, k in counts.items():
            others = counts.copy()
            others[choice] -= 1
            ceiling += [
                {"rater": choice, "ref": ref, "w": k / n * w}
                for ref, w in _plurality_weights(others).items()
            ]
    c_match, c_kappa = _kappa(pd.DataFrame(ceiling))
    assert row["ceiling_match"]["value"] == pytest.approx(c_match, abs=1e-12)
    assert row["ceiling_kappa"]["value"] == pytest.approx(c_kappa, abs=1e-12)
    # tau: the judge's own table against the humans' headline, scipy's tau-b
    (board,) = standings["judges"]
    mine = {e["model"]: e["score"] for e in board["tables"][0]["entries"]}
    head = next(t for t in standings["tables"] if t["slice_attribute"] == "poststratified")
    theirs = {e["model"]: e["score"] for e in head["entries"]}
    models = sorted(mine)
    tau = kendalltau([mine[m] for m in models], [theirs[m] for m in models]).statistic
    assert row["tau"]["value"] == pytest.approx(tau, abs=1e-12)
    for name in ("match", "kappa", "tau", "ceiling_match", "ceiling_tau"):
        lo, hi = row[name]["lower"], row[name]["upper"]
        assert lo <= row[name]["value"] <= hi, name


def test_human_rankings_identical_without_the_judge(rated: tuple[dict, dict]) -> None:
    with_judge, humans_only = rated
    for key in ("tables", "pairs", "fit_checks", "ties", "samples", "history"):
        assert with_judge[key] == humans_only[key], key
    assert humans_only["judges"] == [] and humans_only["judge_agreement"] == []
    assert [j["key"] for j in with_judge["judges"]] == ["gpt4"]
