"""The sticky pull-request comment: its body from a real `prefboard diff --fail-on` on a fixture,
the update-in-place decision, and the script end to end against a stand-in for `gh`."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from tests.test_gate import RULES, pair  # noqa: F401 (pair is a fixture)

REPO = Path(__file__).parent.parent
SCRIPT = REPO / ".github" / "scripts" / "pr_comment.py"
TEMPLATE = REPO / "src" / "prefboard" / "templates" / "scaffold" / "pr_comment.py"
RUN_URL = "https://github.com/acme/board/actions/runs/42"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pr_comment", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pc = load()


def test_repository_and_init_share_one_script_using_only_the_standard_library() -> None:
    assert SCRIPT.read_bytes() == TEMPLATE.read_bytes()
    # the commenting job installs nothing: every import must ship with Python
    tree = ast.parse(SCRIPT.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


@pytest.fixture
def artifact(pair: tuple[Path, Path], tmp_path: Path) -> Path:  # noqa: F811
    """What the pull-request job uploads: the gate's Markdown diff and the PR number."""
    result = CliRunner().invoke(
        cli, ["diff", str(pair[0]), str(pair[1]), "--format", "markdown", "--fail-on", RULES]
    )
    assert result.exit_code == 1
    folder = tmp_path / "ranking-diff"
    folder.mkdir()
    (folder / "diff.md").write_text(result.output, encoding="utf-8")
    (folder / "pr-number").write_text("7\n", encoding="utf-8")
    return folder


def test_body_is_the_diff_under_a_hidden_marker(artifact: Path) -> None:
    diff = (artifact / "diff.md").read_text()
    body = pc.comment_body(diff, False, RUN_URL)
    assert body.startswith("<!-- prefboard-ranking-diff -->\n### Standings diff\n")
    assert "| Overall | 2 | ↓1 | Alpha | 30.00 → 28.00 (−2.00) | 26.00 – 30.00 |" in body
    assert "**Gate failed: 3 findings from rank-drop, score-drop:2%, new-exclusions" in body
    assert body.endswith(
        f"\n\nUpdated in place on every push by the [pull request run]({RUN_URL}).\n"
    )


def test_an_empty_diff_says_the_diff_failed() -> None:
    assert pc.comment_body(" \n", False, RUN_URL) == (
        f"{pc.MARKER}\nThe ranking diff could not be computed for this push; see the run's log."
        f"\n\nUpdated in place on every push by the [pull request run]({RUN_URL}).\n"
    )


def test_hostile_artifact_text_is_defused() -> None:
    diff = (
        "| @octocat | see #12 and GH-3 | &#64;hubot &commat;x | a &lt; b |\n"
        "<!-- prefboard-ranking-diff --> forged\n"
        "bell\x07 esc\x1b[31m rlo\u202eevil\r\n"
    )
    body = pc.comment_body(diff, False, "javascript:alert(1)")
    assert body.count("<!--") == 1  # only our own marker
    assert "| @&#8203;octocat | see #&#8203;12 and GH-&#8203;3 |" in body
    assert "| &amp;#&#8203;64;hubot &amp;commat;x | a &lt; b |" in body  # diff's escapes stay
    assert not any(ch in body for ch in "\x07\x1b\u202e\r")
    assert "javascript" not in body  # a run URL that is not https is left out


def test_oversized_diff_is_cut_at_a_line_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "diff.md"
    path.write_text("<details>\n" + "| row |\n" * 20_000, encoding="utf-8")
    text, truncated = pc.read_capped(path, pc.MAX_DIFF)
    body = pc.comment_body(text, truncated, RUN_URL)
    assert truncated and len(body) < 65_536
    assert body.endswith(
        "| row |\n\n</details>\n\n… truncated: the whole diff is in the job summary of the run."
        f"\n\nUpdated in place on every push by the [pull request run]({RUN_URL}).\n"
    )


def test_symlinked_artifact_files_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("123")
    (tmp_path / "pr-number").symlink_to(secret)
    with pytest.raises(OSError):
        pc.read_capped(tmp_path / "pr-number", 20)


@pytest.mark.parametrize("text", ["7; rm -rf /", "", "0", "-1", "1e3", "99999999999"])
def test_pr_number_must_be_digits(text: str) -> None:
    with pytest.raises(ValueError, match="pull request number is not a number"):
        pc.pr_number(text)


def test_plan_updates_the_oldest_own_marked_comment_in_place() -> None:
    body = pc.MARKER + "\nnew\n"
    bot = "github-actions[bot]"
    other = {"id": 1, "login": "mallory", "body": pc.MARKER + "\nfake"}
    assert pc.plan([], body) == ("create", None)
    assert pc.plan([other], body) == ("create", None)  # never someone else's comment
    plain = {"id": 2, "login": bot, "body": "no marker"}
    assert pc.plan([other, plain], body) == ("create", None)
    old = {"id": 5, "login": bot, "body": pc.MARKER + "\nold\n"}
    newer = {"id": 9, "login": bot, "body": pc.MARKER + "\nolder race\n"}
    assert pc.plan([newer, other, old], body) == ("update", 5)
    assert pc.plan([{**old, "body": body}], body) == ("unchanged", 5)


FAKE_GH = """#!{python}
import json, os, sys
state_path = os.environ["FAKE_STATE"]
state = json.load(open(state_path))
args = sys.argv[1:]
state["calls"].append(args)
path = next(a for a in args if a.startswith("repos/"))
if path.endswith("/pulls/7"):
    print(state["head"])
elif "-X" in args:
    body = json.load(sys.stdin)["body"]
    if args[args.index("-X") + 1] == "POST":
        state["comments"].append({{"id": state["next"], "login": "github-actions[bot]",
                                   "body": body}})
        state["next"] += 1
    else:
        cid = int(path.rsplit("/", 1)[1])
        for c in state["comments"]:
            if c["id"] == cid:
                c["body"] = body
else:
    for c in state["comments"]:
        print(json.dumps(c))
json.dump(state, open(state_path, "w"))
"""


@pytest.fixture
def gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `gh` on PATH keeping comments in a JSON file; a human's comment exists."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gh"
    fake.write_text(FAKE_GH.format(python=sys.executable))
    fake.chmod(0o755)
    state = tmp_path / "state.json"
    human = {"id": 100, "login": "maintainer", "body": "looks good"}
    state.write_text(json.dumps({"head": "a" * 40, "comments": [human], "next": 200, "calls": []}))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.setenv("GH_REPO", "acme/board")
    monkeypatch.setenv("RUN_URL", RUN_URL)
    return state


def test_script_creates_then_updates_the_same_comment(
    gh: Path, artifact: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEAD_SHA", "a" * 40)
    assert pc.main(["pr_comment.py", str(artifact)]) == 0
    assert pc.main(["pr_comment.py", str(artifact)]) == 0
    (artifact / "diff.md").write_text("### Standings diff\n\nNo changes.\n")
    assert pc.main(["pr_comment.py", str(artifact)]) == 0
    assert capsys.readouterr().out == (
        "pull request #7: ranking comment create\n"
        "pull request #7: ranking comment unchanged\n"
        "pull request #7: ranking comment update\n"
    )
    state = json.loads(gh.read_text())
    assert [c["id"] for c in state["comments"]] == [100, 200]
    assert state["comments"][1]["body"].startswith(pc.MARKER + "\n### Standings diff\n\nNo ch")
    assert state["comments"][0]["body"] == "looks good"
    writes = [c[1:4] for c in state["calls"] if "-X" in c]
    assert writes == [
        ["-X", "POST", "repos/acme/board/issues/7/comments"],
        ["-X", "PATCH", "repos/acme/board/issues/comments/200"],
    ]


def test_script_refuses_a_number_whose_head_is_not_the_tested_commit(
    gh: Path, artifact: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEAD_SHA", "b" * 40)
    assert pc.main(["pr_comment.py", str(artifact)]) == 1
    assert capsys.readouterr().out == (
        "pull request #7 is at aaaaaaaaaaaa, not bbbbbbbbbbbb: not commenting\n"
    )
    assert json.loads(gh.read_text())["comments"][1:] == []


def test_script_reports_a_bad_artifact_in_one_line(
    gh: Path, artifact: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEAD_SHA", "a" * 40)
    (artifact / "pr-number").write_text("7 && curl evil")
    assert pc.main(["pr_comment.py", str(artifact)]) == 1
    err = capsys.readouterr().err
    assert err == "Error: the artifact's pull request number is not a number: '7 && curl evil'\n"
