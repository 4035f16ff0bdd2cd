"""The code's shape is part of the product: a newcomer reads one stage per folder, no module
longer than a sitting, no function longer than a screen (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "prefboard"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "templates" not in p.parts]


def test_no_module_is_longer_than_four_hundred_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _sources()
        if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = {}
    for p in _sources():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(SRC)}:{node.lineno} {node.name}"] = length
    assert long == {}


def test_each_stage_is_a_folder() -> None:
    stages = {"io", "ingest", "rating", "standings", "matchmaking", "render", "tools", "studies"}
    assert stages <= {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}


def test_the_tests_run_first_still_exist() -> None:
    # conftest.LONGEST names tests by node id: a renamed or moved test would silently drop out
    # of the order that keeps both workers busy to the end of `make test`.
    from tests.conftest import LONGEST, REPO

    for nodeid in LONGEST:
        path, name = nodeid.split("::")
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in names, nodeid
