"""The GitHub Actions workflows, the repository's own and the ones `prefboard init` writes:
valid against GitHub's schema, clean under zizmor, and least-privilege by construction."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
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


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_offline_has_no_findings(persona: str) -> None:
    # the auditor persona adds the pedantic audits (undocumented permissions, unpinned images)
    result = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--no-progress",
            f"--persona={persona}",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


# Anything that runs the board's code or installs packages: never in a step that holds a token,
# never in a job that can write.
PROJECT_CODE = re.compile(r"prefboard|\bpip\b|python|\.venv|\bmake\b|\.ci/run|npm|node")
TOKEN = re.compile(r"\$\{\{\s*(secrets\.|github\.token)")


def writes(job: dict) -> bool:
    return "write" in job.get("permissions", {}).values()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tokens_only_reach_steps_that_run_no_project_code(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        assert "container" not in job, f"{name}: a container image tag is not pinned"
        for step in job.get("steps", []):
            script = step.get("run", "")
            assert "remote set-url" not in script and "x-access-token:$" not in script
            if TOKEN.search(yaml.safe_dump(step.get("env", {}))):
                assert not PROJECT_CODE.search(script), f"{name}: token beside code: {script}"
                assert "git config" not in script, f"{name}: token may reach .git/config"


def test_publish_pushes_from_a_fresh_job_that_runs_only_git() -> None:
    for path in (REPO / ".github/workflows/publish.yml", SCAFFOLD / "publish.yml"):
        jobs = load(path)["jobs"]
        assert jobs["build"]["permissions"] == {"contents": "read"}
        builds = " ".join(s.get("run", "") for s in jobs["build"]["steps"])
        assert "prefboard publish --version" in builds and "--push" not in builds
        assert "git bundle create" in builds
        push = jobs["push"]
        assert push["needs"] == "build" and push["permissions"] == {"contents": "write"}
        uses = [s["uses"].split("@")[0] for s in push["steps"] if "uses" in s]
        assert uses == ["actions/download-artifact"], "the pushing job checks nothing out"
        for step in push["steps"]:
            assert not PROJECT_CODE.search(step.get("run", ""))
        script = push["steps"][-1]["run"]
        assert "git init" in script and "--force" not in script
        assert 'push "$remote" refs/heads/gh-pages:refs/heads/gh-pages' in script


LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==\S+ \\$")


def locked_names(path: Path) -> set[str]:
    """Names pinned in a `--generate-hashes` lock file, each checked to carry a sha256 hash."""
    lines = path.read_text().splitlines()
    names = set()
    for i, line in enumerate(lines):
        if line.startswith(("#", " ")) or not line:
            continue
        match = LOCKED.match(line)
        assert match, f"{path.name}: not pinned with ==: {line}"
        assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{path.name}: no hash: {line}"
        names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def test_lock_files_pin_every_dependency_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["build-system"]["requires"],
    ]
    names = locked_names(REPO / "requirements" / "ci.txt")
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ \[;]", requirement)[0]).lower()
        assert name in names, f"{name} is not in requirements/ci.txt: run make lock"
    assert {"build", "twine"} <= locked_names(REPO / "requirements" / "release.txt")
    makefile = (REPO / "Makefile").read_text()
    assert "\nlock:" in makefile and makefile.count("--generate-hashes") == 2


def test_repository_workflows_install_only_hash_locked_packages() -> None:
    for name in ("publish.yml", "release.yml"):
        path = REPO / ".github" / "workflows" / name
        if not path.exists():
            continue
        for step in steps(load(path)):
            for line in step.get("run", "").splitlines():
                if "pip install" in line:
                    assert "--require-hashes -r requirements/" in line or "--no-deps" in line, line
