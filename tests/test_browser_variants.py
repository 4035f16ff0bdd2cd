"""Private variants in a real browser: the home ranking shows public models, and the "All
models" switch (prefboard.js) reveals the private row and hides it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import OUTPUT, SETTLING, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(variant_site: Path) -> Iterator[str]:
    """The variant board's site test_variants.py reads, built once per run (conftest.py)."""
    with serving(variant_site) as base:
        yield base


def test_all_models_switch_reveals_the_private_row(served: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = driver  # the worker's shared Chromium (conftest)
    browser.get(served + "/index.html")
    wait = WebDriverWait(browser, 60, ignored_exceptions=SETTLING)
    # the first tab's table (the headline of the main dimension)
    table = browser.find_element(By.CSS_SELECTOR, ".tabbed-block table[data-sortable]")
    private = table.find_element(By.CSS_SELECTOR, 'tr[data-status="private"]')
    public = table.find_elements(By.CSS_SELECTOR, "tbody tr:not(.pb-unreleased)")
    assert not private.is_displayed() and all(r.is_displayed() for r in public)
    button = wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, ".tabbed-block .pb-models-toggle")
    )
    assert button.text == "All models (+1 private or retired)"
    button.click()
    wait.until(lambda _: private.is_displayed())
    assert "Aurora preview 3" in private.text and button.text == "Public models only"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "home-all-models.png"))
    button.click()
    wait.until(lambda _: not private.is_displayed())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
