"""The GitHub Actions workflows, the repository's own and the ones `prefboard init` writes:
valid against GitHub's schema, clean under zizmor, and least-privilege by construction."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parent.parent
SCAFFOLD = REPO / "src" / "prefboard" / "templates" / "scaffold" / "workflows"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml")) + sorted(SCAFFOLD.glob("*.yml"))
BIN = Path(sys.executable).parent
SHA = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(doc: dict) -> list[dict]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_workflow_security_properties(path: Path) -> None:
    doc = load(path)
    assert "pull_request_target" not in doc["on"]
    assert "permissions" in doc, "top-level permissions must be explicit"
    top = doc["permissions"]
    assert top in ({}, {"contents": "read"})
    for name, job in doc["jobs"].items():
        granted = job.get("permissions", {})
        assert set(granted.values()) <= {"read", "write"}
        if "write" in granted.values():
            assert path.name == "publish.yml" and granted == {"contents": "write"}, name
    for step in steps(doc):
        if "uses" in step:
            assert SHA.match(step["uses"]), f"not pinned to a full SHA: {step['uses']}"
        if "run" in step:
            assert "${{" not in step["run"], f"expression interpolated into a script: {step}"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_pull_request_workflow_cancels_superseded_runs() -> None:
    for path in (REPO / ".github/workflows/pull-request.yml", SCAFFOLD / "pull-request.yml"):
        doc = load(path)
        assert doc["concurrency"]["cancel-in-progress"] is True
        runs = " ".join(s.get("run", "") for s in steps(doc))
        for command in ("validate --format github", "rate --out", "diff", "GITHUB_STEP_SUMMARY"):
            assert command in runs


def test_schema_validation_offline() -> None:
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_has_no_findings() -> None:
    result = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr
