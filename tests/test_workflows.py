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
            assert granted == WRITERS.get((path.name, name)), f"{path.name}: {name}: {granted}"
    for step in steps(doc):
        if "uses" in step:
            assert SHA.match(step["uses"]), f"not pinned to a full SHA: {step['uses']}"
        if "run" in step:
            assert "${{" not in step["run"], f"expression interpolated into a script: {step}"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


# The only jobs that may write, and exactly what each may write.
WRITERS = {
    ("publish.yml", "push"): {"contents": "write"},
    ("pr-comment.yml", "comment"): {"actions": "read", "pull-requests": "write"},
    ("release.yml", "publish"): {"id-token": "write"},
}


def test_pull_request_workflow_cancels_superseded_runs() -> None:
    for path in (REPO / ".github/workflows/pull-request.yml", SCAFFOLD / "pull-request.yml"):
        doc = load(path)
        assert doc["jobs"]["check"]["concurrency"]["cancel-in-progress"] is True
        runs = " ".join(s.get("run", "") for s in steps(doc))
        for command in ("validate --format github", "rate --out", "diff", "GITHUB_STEP_SUMMARY"):
            assert command in runs
        # the gate, overridable by a maintainer's label, and the diff as data for the comment
        job = doc["jobs"]["check"]
        assert job["env"]["GATE_RULES"] == "rank-drop,score-drop:2%,new-exclusions"
        assert runs.count('--fail-on "$GATE_RULES"') == 2
        assert "labeled" in doc["on"]["pull_request"]["types"]
        gate = job["steps"][-1]
        assert "allow-regression" in gate["env"]["ALLOWED"] and 'exit "$status"' in gate["run"]
        uploads = [s["with"]["name"] for s in job["steps"] if "upload-art" in s.get("uses", "")]
        assert "ranking-diff" in uploads


def test_comment_workflow_never_checks_out_or_runs_the_pull_request() -> None:
    for path in (REPO / ".github/workflows/pr-comment.yml", SCAFFOLD / "pr-comment.yml"):
        text = path.read_text()
        doc = load(path)
        assert doc["on"] == {
            "workflow_run": {"workflows": ["pull request"], "types": ["completed"]}
        }
        # the one zizmor suppression in all workflows, and why it is safe, are stated here
        assert text.count("zizmor: ignore") == 1
        assert "zizmor: ignore[dangerous-triggers] never checks out the pull request" in text
        (job,) = doc["jobs"].values()
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"] == {
            "persist-credentials": False,
            "sparse-checkout": ".github/scripts",
        }, "no ref: the default branch, never the pull request's head"
        assert "head_sha" not in yaml.safe_dump(checkout)
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert 'gh run download "$RUN_ID" --name ranking-diff' in runs[0]
        assert 'python3 .github/scripts/pr_comment.py "$RUNNER_TEMP/ranking-diff"' in runs[1]
    for path in WORKFLOWS:
        assert "zizmor: ignore" not in path.read_text() or path.name == "pr-comment.yml"


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
                # the comment script is the default branch's, standard library only (its test
                # checks), never the pull request's
                trusted = script.replace("python3 .github/scripts/pr_comment.py", "")
                assert not PROJECT_CODE.search(trusted), f"{name}: token beside code: {script}"
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
