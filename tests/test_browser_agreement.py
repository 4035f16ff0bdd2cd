"""The Agreement page in headless Chromium, on the MT-Bench board (real human votes and GPT-4's
verdicts, tests/fixtures/mtbench): its charts draw, the console stays clean, and no request
leaves localhost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prefboard import pipeline
from tests.test_browser import (
    OUTPUT,
    assert_local,
    drain_logs,
    serving,
    wait_for_charts,
)
from tests.test_judges_mtbench import _board

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def agreement_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mtbench-site")
    out = root / "site"
    pipeline.build(_board(root, with_judge=True), out)
    with serving(out) as base:
        yield base


def test_agreement_page_draws_its_charts(agreement_site: str, driver: Any) -> None:
    browser = driver  # the worker's shared Chromium (conftest)
    browser.get(agreement_site + "/agreement.html")
    # the agreement-vs-ceiling bars and the judge-vs-human score scatter
    assert wait_for_charts(browser) == 2
    text = browser.find_element("css selector", "article").text
    assert "GPT-4 (automated judge)" in text
    assert "67.8%" in text and "68.0%" in text  # judge and human ceiling agreement
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "agreement.png"))
    console, requests = drain_logs(browser)
    # a plain `mkdocs build` asks for /versions.json (DESIGN.md, known traps): tolerated
    severe = [e for e in console if e["level"] == "SEVERE" and "versions.json" not in e["message"]]
    assert severe == []
    assert_local(agreement_site, requests)
