"""A release as users get it: the wheel carries every template and builds a board with no source
tree present; `init` pins the prefboard that created the board; the release workflow checks
and publishes only with trusted publishing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

import prefboard
from prefboard.tools.scaffold import requirement_for

REPO = Path(__file__).parent.parent
TEMPLATES = REPO / "src" / "prefboard" / "templates"
SHA = "0123456789abcdef0123456789abcdef01234567"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_wheel_carries_the_templates_and_builds_a_board_without_the_source(
    tmp_path: Path,
) -> None:
    # build from a copy, so setuptools' build/ and egg-info never land in the working tree
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # offline: the test extra installs the build backend, so no isolation and no index
    run(
        *pip,
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        "dist",
        ".",
        cwd=source,
    )
    (wheel,) = (source / "dist").glob("prefboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "prefboard/" + p.relative_to(TEMPLATES.parent).as_posix()
        for p in TEMPLATES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected - names == set()
    assert "prefboard/py.typed" in names
    assert "prefboard/templates/scaffold/workflows/pr-comment.yml" in names

    # install the wheel alone, then use it from a folder with no source tree in sight
    site = tmp_path / "site-packages"
    run(*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel), cwd=tmp_path)
    shutil.rmtree(source)
    work = tmp_path / "work"
    work.mkdir()
    # NUMBA_DISABLE_JIT: numba's cache is keyed by the source file's path, so kernels compiled
    # from the wheel's fresh folder would all compile again (about 20 CPU seconds, most of this
    # test). What is checked here is what the wheel carries; every other build test runs the
    # compiled kernels, and the release workflow builds the example board from the wheel.
    env = dict(os.environ, PYTHONPATH=str(site), NO_MKDOCS_2_WARNING="1", NUMBA_DISABLE_JIT="1")
    where = run(
        sys.executable, "-c", "import prefboard; print(prefboard.__file__)", cwd=work, env=env
    )
    assert where.startswith(str(site))
    prefboard_cli = [sys.executable, "-m", "prefboard"]
    out = run(*prefboard_cli, "init", "board", cwd=work, env=env)
    assert "note: prefboard was installed from a local folder or file" in out
    requirements = (work / "board" / "requirements.txt").read_text()
    assert requirements.splitlines()[-1] == f"prefboard=={prefboard.__version__}"
    run(*prefboard_cli, "validate", cwd=work / "board", env=env)
    run(*prefboard_cli, "build", cwd=work / "board", env=env)
    assert (work / "board" / "site" / "index.html").is_file()
    assert (work / "board" / "site" / "assets").is_dir()


def test_one_version_for_the_package_and_the_cli() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == prefboard.__version__


def test_init_pins_the_release_from_an_index() -> None:
    pin = requirement_for("1.2.0", None)
    assert (pin.line, pin.note) == ("prefboard==1.2.0", None)


def test_init_pins_a_git_install_to_its_commit_without_credentials() -> None:
    direct_url = {
        "url": "https://user:t0ken@github.com/acme/prefboard.git",
        "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "main"},
    }
    pin = requirement_for("1.2.0", direct_url)
    assert (pin.line, pin.note) == (
        f"prefboard @ git+https://github.com/acme/prefboard.git@{SHA}",
        None,
    )


def test_init_from_a_local_checkout_pins_the_version_and_says_what_to_do() -> None:
    for direct_url in (
        {"url": "file:///home/me/prefboard", "dir_info": {"editable": True}},
        {"url": "file:///tmp/prefboard-1.2.0-py3-none-any.whl", "archive_info": {}},
        # a git URL that would not survive a requirements file is not written
        {"url": "https://x.org/a\nevil", "vcs_info": {"vcs": "git", "commit_id": SHA}},
    ):
        pin = requirement_for("1.2.0", direct_url)
        assert pin.line == "prefboard==1.2.0"
        assert pin.note == (
            "note: prefboard was installed from a local folder or file, so requirements.txt pins "
            "prefboard==1.2.0; until 1.2.0 is on PyPI, point that line at a source CI can reach, "
            "e.g. prefboard @ git+https://github.com/OWNER/prefboard@v1.2.0"
        )


def test_release_workflow_checks_before_it_publishes_with_trusted_publishing() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    assert doc[True] == {"push": {"tags": ["v*"]}}
    build, publish = doc["jobs"]["build"], doc["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    script = "\n".join(s.get("run", "") for s in build["steps"])
    for command in (
        "--require-hashes -r requirements/release.txt",
        "-m build --no-isolation",
        'twine" check --strict dist/*',
        "--require-hashes -r requirements/ci.txt",
        "--no-deps dist/*.whl",
        'cd "$RUNNER_TEMP"',
        "build --config example/leaderboard.toml",
        '"$prefboard" init fresh',
        'test "$("$prefboard" --version)" = "prefboard, version ${TAG#v}"',
    ):
        assert command in script, command
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    uses = [s["uses"].split("@")[0] for s in publish["steps"]]
    assert uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert all("with" not in s or "password" not in s["with"] for s in publish["steps"])
    assert not any("run" in s for s in publish["steps"])
