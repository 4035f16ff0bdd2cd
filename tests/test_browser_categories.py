"""The category switcher on the home table in Debian's headless Chromium (issue 16 part 1).

A simulated board with a `category` battle slice whose values include markup: choosing a
category swaps the home table for that category's ranking (its rows and order), choosing "all
battles" brings the dimension tabs back, and no value becomes an element or runs as script.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.test_battle_slices import BOARD, invoke, make_board
from tests.test_browser import SETTLING, _QuietHandler, serving
from tests.test_browser_xss import INJECTED, load, open_alert

pytestmark = pytest.mark.browser

# Declared in this order; the simulator writes them (quoted where a value needs it).
VALUES = ["coding", "<img src=x onerror=alert(1)>", "\"><script>alert(2)</script>'"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("category-browser")
    # JSON strings are TOML basic strings: the quotes and the backslash-free payloads survive
    text = BOARD.replace('["coding", "writing", "maths"]', json.dumps(VALUES))
    config = make_board(root / "board", text=text)
    out = root / "site"
    result = invoke("build", "--config", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    with serving(out, _QuietHandler) as base:
        yield base


VISIBLE_ROWS = """
  const box = document.querySelector('[data-pb-switch]');
  const shown = Array.from(box.querySelectorAll('table'))
    .filter(t => t.offsetParent !== null);
  return shown.map(t => Array.from(t.tBodies[0].rows).map(r => r.cells[2].textContent.trim()));
"""


def choose(driver: object, label: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    box = driver.find_element(By.CSS_SELECTOR, "select[data-pb-switch-select]")
    Select(box).select_by_visible_text(label)
    rows: list[list[str]] = driver.execute_script(VISIBLE_ROWS)
    return rows


def test_choosing_a_category_swaps_the_home_table(site: str, driver: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    load(driver, f"{site}/index.html")
    WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".pb-switch-control").is_displayed()
    )
    select = Select(driver.find_element(By.CSS_SELECTOR, "select[data-pb-switch-select]"))
    assert [o.text for o in select.options] == ["all battles", *VALUES]

    overall = driver.execute_script(VISIBLE_ROWS)
    assert len(overall) == 1 and len(overall[0]) == 4  # the first tab's table only
    tabs = driver.find_element(By.CSS_SELECTOR, ".pb-tabs")
    orders = {}
    for value in VALUES:
        shown = choose(driver, value)
        assert not tabs.is_displayed()
        assert len(shown) == 1 and sorted(shown[0]) == sorted(overall[0])
        orders[value] = shown[0]
        caption = driver.execute_script(
            "return Array.from(document.querySelectorAll('.pb-switch-table'))"
            ".find(b => !b.hidden).querySelector('p').textContent"
        )
        assert caption.startswith(f"Category: {value}. ")
        assert open_alert(driver) is None
        assert driver.execute_script(INJECTED) == []
    # the categories really rank differently (the simulated per-category skills)
    assert len({tuple(o) for o in orders.values()}) > 1
    assert any(o != overall[0] for o in orders.values())
    assert choose(driver, "all battles") == overall
    assert tabs.is_displayed()


def test_category_page_shows_values_as_text(site: str, driver: object) -> None:
    load(driver, f"{site}/categories/category.html")
    assert open_alert(driver) is None
    assert driver.execute_script(INJECTED) == []
    headings = driver.execute_script(
        "return Array.from(document.querySelectorAll('article h3'))"
        ".map(h => h.textContent.replace(/\u00b6$/, ''))"
    )
    for value in VALUES:
        assert value in headings


def test_without_javascript_the_links_lead_to_the_page(site: str) -> None:
    """The static HTML: select hidden, every category table hidden, a link to the page."""
    from urllib.request import urlopen

    with urlopen(f"{site}/index.html") as response:
        html = response.read().decode()
    assert '<p class="pb-switch-control" hidden>' in html
    assert html.count('class="pb-switch-table" data-pb-switch-table=') == 3
    assert html.count("hidden>\n<p>Category: ") == 3
    assert '<a href="categories/category.html">Category</a>' in html
