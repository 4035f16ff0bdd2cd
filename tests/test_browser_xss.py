"""Script payloads in every field of a board, proved inert in a real browser (Debian's headless
Chromium through Selenium): every page of the built site, and Material's search results for the
payload, load without an alert and without any element that the data put there.

The board is the one tests/test_xss.py checks with an HTML parser; here the browser's own DOM is
the judge. Alerts are left open (`unhandledPromptBehavior: ignore`), so one fired while a page
loaded is still there to be found; a canary test shows that this detection works.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_browser import SETTLING, _QuietHandler, serving

pytestmark = pytest.mark.browser

# Elements and attributes the data could only have reached by becoming markup. Material's own
# markup has no inline event handler, no <img> and no javascript: link.
INJECTED = """
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
      if (/^\\s*javascript:/i.test(attr.value) && ['href', 'src'].includes(attr.name))
        found.push(el.tagName + ' ' + attr.name + '=' + attr.value);
    }
  }
  for (const el of document.querySelectorAll('img, iframe, textarea'))
    found.push(el.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('script:not([type="application/json"])'))
    if (el.textContent.includes('alert(') && !el.textContent.includes('%3Cimg'))
      found.push('script ' + el.textContent.slice(0, 80));
  if (/[<>]/.test(document.title)) found.push('title ' + document.title);
  return found;
"""


@pytest.fixture(scope="module")
def site(xss_built: Path) -> Iterator[tuple[str, Path]]:
    """The site test_xss.py reads, built once per run (conftest.py), served to the browser."""
    out = xss_built / "site"
    with serving(out, _QuietHandler) as base:
        yield base, out


def open_alert(driver: object) -> str | None:
    """The text of an alert, confirm or prompt left open by the page, dismissing it."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return None
    text = alert.text
    alert.dismiss()
    return text


def load(driver: object, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    # load fires after every image has loaded or failed, so any onerror has run by then
    WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
        lambda d: (
            open_alert_present(d) or d.execute_script("return document.readyState") == "complete"
        )
    )


def open_alert_present(driver: object) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 - the lookup is the check
    except NoAlertPresentException:
        return False
    return True


def test_the_detection_sees_an_alert_and_an_injected_image(site, driver) -> None:
    base, _ = site
    load(driver, f"{base}/index.html")
    driver.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(99)>')"
    )
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(open_alert_present)
    assert open_alert(driver) == "99"
    assert any("onerror" in f for f in driver.execute_script(INJECTED))


def test_every_page_loads_without_alert_or_injected_element(site, driver) -> None:
    base, out = site
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert len(pages) > 20 and "404.html" in pages and "changes.html" in pages
    for page in pages:
        load(driver, f"{base}/{page}")
        assert open_alert(driver) is None, page
        assert driver.execute_script(INJECTED) == [], page
    # the names are on the page as text, and the title shows the look-alikes
    load(driver, f"{base}/models/aurora-7b.html")
    assert driver.title.startswith("‹/title›‹img src=x onerror=alert(3)› - ")
    heading = driver.execute_script("return document.querySelector('article h1').textContent")
    assert heading.startswith("</title><img src=x onerror=alert(3)>")


# Material splits words on spaces and hyphens and matches prefixes: "onerror=alert(3)" is one word
@pytest.mark.parametrize("query", ["onerror", "src"])
def test_search_results_for_the_payload_are_text(site, driver, query: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = site
    load(driver, f"{base}/index.html")
    # the header's search box, as a reader types into it (the worker loads search_index.json)
    box = driver.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.send_keys(query)
    WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
        lambda d: (
            open_alert_present(d) or d.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
        )
    )
    assert open_alert(driver) is None
    results = driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    assert results
    assert driver.execute_script(INJECTED) == []
    if query == "onerror":
        # the payload is found, and shown as the text it is
        text = driver.find_element(By.CSS_SELECTOR, ".md-search-result").text
        assert "onerror=alert(" in text
