"""The built example site in a real browser: Debian's headless Chromium driven by Selenium.

Checks what a reader would notice: the home table lists every model, every chart renders an SVG,
the console stays clean, no request leaves localhost, tables fit their column at 1400 and 390 px
in both palettes with nothing over the charts, and instant navigation still draws the charts.
Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefboard import pipeline
from prefboard.config import load_config
from tests.conftest import Published, once

REPO = Path(__file__).parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUTPUT = REPO / "test-output" / "browser"

try:
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
    )

    # Material swaps the content in place on navigation: an element found a moment ago may be
    # gone when its text is read. A wait retries on these instead of failing on the race.
    SETTLING: tuple[type[Exception], ...] = (
        NoSuchElementException,
        StaleElementReferenceException,
    )
except ImportError:  # the browser tests skip without selenium
    SETTLING = ()

pytestmark = pytest.mark.browser

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium and chromium-driver (.ci/run does)")
    pytest.skip("Debian chromium/chromium-driver not installed", allow_module_level=True)


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    """A folder served without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path, handler: type[QuietFiles] = QuietFiles) -> Iterator[str]:
    """`folder` served on a free local port for the duration; yields its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class _QuietHandler(QuietFiles):
    """Serves the built site as if at its site_url: Material's instant navigation only takes
    over links listed in sitemap.xml, which names the public address (host and port must
    match), so the sitemap is sent with that address swapped for this server's."""

    public_url = ""
    local_url = ""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/sitemap.xml":
            super().do_GET()
            return
        path = Path(self.translate_path("/sitemap.xml"))
        body = path.read_text("utf-8").replace(self.public_url, self.local_url + "/").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _build_example(root: Path) -> None:
    pipeline.build(REPO / "leaderboard.toml", root / "site")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    # built once per run (conftest once()): the module's tests run on both xdist workers
    out = once(tmp_path_factory, "example-site", _build_example) / "site"
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _QuietHandler.public_url = load_config(REPO / "leaderboard.toml").leaderboard.url
    _QuietHandler.local_url = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base, out
    finally:
        server.shutdown()


def start_chrome(user_data_dir: Path, capabilities: dict[str, object]) -> Any:
    """Debian's headless Chromium through its own chromedriver (nothing downloads a browser),
    with the flags this machine's closed network needs; shared by every browser test module."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    for name, value in capabilities.items():
        options.set_capability(name, value)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    return browser


def wait_for_charts(driver: object, timeout: float = 120) -> int:
    from selenium.webdriver.support.ui import WebDriverWait

    script = """
      const blocks = document.querySelectorAll('.pb-chart');
      const done = Array.from(blocks).filter(
        b => b.getAttribute('data-rendered') === 'true' && b.querySelector('svg, canvas'));
      return [blocks.length, done.length];
    """
    WebDriverWait(driver, timeout, ignored_exceptions=SETTLING).until(
        lambda d: (lambda r: r[0] == r[1])(d.execute_script(script))
    )
    return driver.execute_script(script)[0]


def drain_logs(driver: object) -> tuple[list[dict], list[str]]:
    console = driver.get_log("browser")
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return console, requests


def assert_local(base: str, requests: list[str]) -> None:
    # chrome:// and data: URLs are the browser's own; anything on the network must be ours.
    network = [u for u in requests if u.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")]
    outside = [u for u in network if not u.startswith(base + "/")]
    assert outside == [], f"requests left localhost: {outside[:5]}"


def test_home_page_table_charts_console_and_network(site, driver) -> None:
    from selenium.webdriver.common.by import By

    base, _ = site
    driver.get(base + "/index.html")
    charts = wait_for_charts(driver)
    assert charts >= 1
    rows = driver.find_elements(By.CSS_SELECTOR, "table[data-sortable] tbody tr")
    shown = [r for r in rows if r.is_displayed()]
    assert len(shown) == 12  # one per model of the example board, in the open dimension tab
    assert "Synthetic data" in driver.page_source
    OUTPUT.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(OUTPUT / "home-light.png"))
    driver.execute_script("document.body.setAttribute('data-md-color-scheme', 'slate')")
    wait_for_charts(driver)
    driver.save_screenshot(str(OUTPUT / "home-dark.png"))
    console, requests = drain_logs(driver)
    assert [e for e in console if e["level"] == "SEVERE"] == []
    assert_local(base, requests)


def test_sorting_a_table_by_clicking_its_header(site, driver) -> None:
    from selenium.webdriver.common.by import By

    base, _ = site
    driver.get(base + "/index.html")
    wait_for_charts(driver)
    table = driver.find_element(By.CSS_SELECTOR, "table[data-sortable]")
    battles_header = table.find_elements(By.CSS_SELECTOR, "thead th")[-1]
    battles_header.click()
    # the private preview's row is hidden until "All models" is pressed: its text reads empty
    values = [
        int(r.find_elements(By.TAG_NAME, "td")[-1].text.replace(",", ""))
        for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        if r.is_displayed()
    ]
    assert len(values) == 12 and values == sorted(values)


def test_sorting_reads_formatted_numbers_back(site, driver) -> None:
    """Cells without a sort key print "2,804" or "−0.13": sorting reads them as numbers."""
    from selenium.webdriver.common.by import By

    base, _ = site
    driver.get(base + "/models/index.html")
    wait_for_charts(driver)
    table = driver.find_element(By.CSS_SELECTOR, "table[data-sortable]")
    table.find_elements(By.CSS_SELECTOR, "thead th")[-1].click()
    cells = [
        r.find_elements(By.TAG_NAME, "td")[-1] for r in table.find_elements(By.TAG_NAME, "tr")[1:]
    ]
    texts = [c.get_attribute("textContent") for c in cells]
    assert all("," in t for t in texts)  # thousands separators on the page
    values = [int(t.replace(",", "")) for t in texts]
    assert values == sorted(values)


def test_every_page_renders_its_charts_without_errors(site, driver) -> None:
    base, out = site
    pages = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*.html")
        if p.name != "404.html" and "assets" not in p.parts
    )
    assert len(pages) > 20
    drain_logs(driver)
    for page in pages:
        driver.get(f"{base}/{page}")
        wait_for_charts(driver)
        console, requests = drain_logs(driver)
        severe = [e["message"] for e in console if e["level"] == "SEVERE"]
        assert severe == [], f"{page}: {severe}"
        assert_local(base, requests)


def test_the_repository_board_publishes_its_hand_written_pages(site) -> None:
    """The example board keeps its own pages in a top-level site_src/ (the promised layout)."""
    _, out = site
    home = (out / "index.html").read_text("utf-8")
    assert "This is prefboard's own example board" in home
    assert "Reproduce this site" in (out / "reproduce.html").read_text("utf-8")
    assert 'href="reproduce.html"' in home


# Pages with the widest tables and every chart family.
LAYOUT_PAGES = [
    "index.html",
    "next.html",
    "models/aurora-7b.html",
    "groups/age_group.html",
    "benchmarks.html",
    "fairness.html",
    "data.html",
    "ratings.html",
]
# For each table: how far its scroll wrapper overflows, the table's header cells and where the
# content column ends. For each chart: an <svg>, and any control (vega-embed's menu, our link
# row) whose box meets the box of a data mark.
LAYOUT_SCRIPT = """
  const content = document.querySelector('.md-content__inner').getBoundingClientRect();
  const tables = Array.from(document.querySelectorAll('.md-typeset table')).map(t => {
    const wrap = t.closest('.md-typeset__scrollwrap') || t.parentElement;
    return {overflow: wrap.scrollWidth - wrap.clientWidth,
            right: t.getBoundingClientRect().right - content.right,
            headers: Array.from(t.tHead.rows[0].cells).filter(c => c.offsetParent !== null)
                          .map(c => c.textContent.trim())};
  });
  const meets = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const charts = Array.from(document.querySelectorAll('.pb-chart')).map(block => {
    const marks = Array.from(block.querySelectorAll('svg g.role-mark > *'))
      .map(m => m.getBoundingClientRect()).filter(r => r.width > 0 || r.height > 0);
    const controls = Array.from(block.querySelectorAll('details, .vega-actions, .pb-chart-links'))
      .map(c => c.getBoundingClientRect());
    return {id: block.id, svg: block.querySelector('svg') !== null, marks: marks.length,
            details: block.querySelectorAll('details').length,
            overlaps: controls.filter(c => marks.some(m => meets(c, m))).length};
  });
  // how far the last paragraph ends above the footer (negative: the footer covers it)
  const last = document.querySelector('.md-content__inner').lastElementChild;
  const footer = document.querySelector('.md-footer');
  const footerGap = footer.getBoundingClientRect().top - last.getBoundingClientRect().bottom;
  return {tables, charts, width: window.innerWidth, footerGap};
"""


def set_palette(driver: object, scheme: str) -> None:
    # What Material's palette toggle does; prefboard.js re-renders the charts on the change.
    driver.execute_script(f"document.body.setAttribute('data-md-color-scheme', '{scheme}')")
    wait_for_charts(driver)


@pytest.mark.parametrize("width", [1400, 390])
def test_layout_fits_at_desktop_and_phone_width_in_both_palettes(site, driver, width) -> None:
    """Decision: every table fits its column without sideways scrolling at both widths; on a
    phone, secondary columns are hidden until "All columns" is pressed (then, and only then,
    the table's wrapper may scroll)."""
    base, _ = site
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        driver.set_window_size(width, 1000)
        for page in LAYOUT_PAGES:
            driver.get(f"{base}/{page}")
            wait_for_charts(driver)
            for scheme in ("default", "slate"):
                set_palette(driver, scheme)
                state = driver.execute_script(LAYOUT_SCRIPT)
                where = (page, width, scheme)
                assert state["width"] == width, where
                assert state["footerGap"] >= 16, (where, state["footerGap"])
                for table in state["tables"]:
                    assert table["overflow"] <= 0 and table["right"] <= 1, (where, table)
                if page in ("index.html", "models/aurora-7b.html"):
                    assert state["charts"], where
                for chart in state["charts"]:
                    assert chart["svg"] and chart["marks"] > 0, (where, chart)
                    assert chart["details"] == 0 and chart["overlaps"] == 0, (where, chart)
                if page in ("index.html", "models/aurora-7b.html"):
                    # the whole page: a window as tall as the document, then back
                    name = page.replace("/", "-").removesuffix(".html")
                    height = driver.execute_script("return document.body.scrollHeight")
                    driver.set_window_size(width, min(height, 8000))
                    driver.save_screenshot(str(OUTPUT / f"{name}-{width}-{scheme}.png"))
                    driver.set_window_size(width, 1000)
            if page == "index.html":
                headline = state["tables"][0]["headers"]
                assert "Score" in headline and "95% band" in headline
                assert ("P(best)" in headline) == (width == 1400)
    finally:
        driver.set_window_size(1280, 1600)


def test_all_columns_toggle_on_a_phone(site, driver) -> None:
    from selenium.webdriver.common.by import By

    base, _ = site
    try:
        driver.set_window_size(390, 1000)
        driver.get(base + "/index.html")
        wait_for_charts(driver)
        score = driver.find_element(By.XPATH, "//table//th[text()='Score']").rect
        assert score["x"] + score["width"] <= 390  # the score is on screen
        toggle = driver.find_element(By.CSS_SELECTOR, ".pb-columns-toggle")
        assert (
            toggle.text == "All columns (+7)"
        )  # organization, license, conservative, P(…), battles
        toggle.click()
        assert toggle.text == "Fewer columns"
        assert driver.find_element(By.XPATH, "//table//th[text()='P(best)']").is_displayed()
    finally:
        driver.set_window_size(1280, 1600)


def test_instant_navigation_draws_the_next_pages_charts(site, driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = site
    driver.get(base + "/index.html")
    wait_for_charts(driver)
    drain_logs(driver)
    driver.execute_script("window.pbSamePage = true")
    link = driver.find_element(By.CSS_SELECTOR, "table[data-sortable] tbody a")
    name = link.text
    link.click()
    WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".md-content h1").text == name
    )
    wait_for_charts(driver)
    assert "/models/" in driver.current_url
    # Material swapped the content in place (no new page load), and the charts still rendered
    assert driver.execute_script("return window.pbSamePage") is True
    assert driver.find_elements(By.CSS_SELECTOR, ".pb-chart svg")
    console, _ = drain_logs(driver)
    assert [e["message"] for e in console if e["level"] == "SEVERE"] == []


def test_versions_banner_selector_and_page_kept_on_switch(
    driver: Any, published_tiny: Published, tmp_path: Path
) -> None:
    """Two versions published with mike into a local repository, served as GitHub Pages
    would serve gh-pages: the old one shows the banner, the selector lists "latest", and
    switching version from a model page lands on the same page of the other version."""
    import io
    import subprocess
    import tarfile

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    archive = subprocess.run(
        ["git", "archive", "gh-pages"], cwd=published_tiny.repo, capture_output=True, check=True
    ).stdout
    pages = tmp_path / "gh-pages"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(pages, filter="data")
    handler = functools.partial(_QuietHandler, directory=str(pages))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    banner = "[data-md-component=outdated]"
    try:
        driver.get(f"{base}/v1/models/aurora-7b.html")
        wait_for_charts(driver)
        WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
            lambda d: d.find_element(By.CSS_SELECTOR, banner).text
        )
        assert (
            "You are reading an older version" in driver.find_element(By.CSS_SELECTOR, banner).text
        )
        driver.get(f"{base}/v2/models/aurora-7b.html")
        wait_for_charts(driver)
        links = WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".md-version__link")
        )
        # "v2" with its alias "latest" in a span beside it, then "v1"
        assert [a.get_attribute("textContent").strip() for a in links] == ["v2latest", "v1"]
        alias = links[0].find_element(By.CSS_SELECTOR, ".md-version__alias")
        assert alias.get_attribute("textContent") == "latest"
        assert not driver.find_element(By.CSS_SELECTOR, banner).is_displayed()
        OUTPUT.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(OUTPUT / "version-v2-model.png"))
        # what a click in the selector does (its menu opens on hover)
        driver.execute_script("arguments[0].click()", links[1])
        WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
            lambda d: d.current_url.endswith("/v1/models/aurora-7b.html")
        )
        wait_for_charts(driver)
        driver.save_screenshot(str(OUTPUT / "version-v1-model-banner.png"))
    finally:
        server.shutdown()


# The open tab of the home table: its label, the rows it shows, and whether its visible header
# has a License column whose cells sit inside the content column.
TAB_SCRIPT = """
  const set = document.querySelector('.tabbed-set');
  const inputs = Array.from(set.querySelectorAll(':scope > input'));
  const open = inputs.findIndex(i => i.checked);
  const blocks = Array.from(set.querySelectorAll('.tabbed-block'));
  const shown = blocks.filter(b => b.offsetParent !== null);
  const table = shown.length ? shown[0].querySelector('table') : null;
  const content = document.querySelector('.md-content__inner').getBoundingClientRect();
  const licence = table ? Array.from(table.tHead.rows[0].cells)
      .find(c => c.textContent.trim() === 'License') : null;
  return {open, shown: shown.map(b => blocks.indexOf(b)),
          label: set.querySelectorAll('.tabbed-labels > label')[open].textContent,
          rows: table ? Array.from(table.tBodies[0].rows)
              .filter((r) => r.getClientRects().length > 0).length : 0,
          first: table ? table.tBodies[0].rows[0].cells[2].textContent.trim() : '',
          licence: licence && licence.offsetParent !== null
                   ? licence.getBoundingClientRect().right - content.right : null};
"""


@pytest.mark.parametrize("width", [1400, 390])
def test_dimension_tabs_switch_the_home_table(site, driver, width) -> None:
    """Decision: one tab per battle dimension over the home table; a click shows that
    dimension's headline and hides the others, in both palettes, also after Material's instant
    navigation has swapped the page in. The License column fits at 1400 px; on a phone it waits
    behind "All columns" with the other secondary columns."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = site
    try:
        driver.set_window_size(width, 1000)
        driver.get(base + "/models/index.html")
        wait_for_charts(driver)
        driver.execute_script("window.pbSamePage = true")
        # to the home page by instant navigation, as a reader clicking the site's tabs would
        home = driver.find_element(By.CSS_SELECTOR, "a.md-header__button.md-logo")
        driver.execute_script("arguments[0].click()", home)
        WebDriverWait(driver, 120, ignored_exceptions=SETTLING).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".tabbed-set")
        )
        wait_for_charts(driver)
        assert driver.execute_script("return window.pbSamePage") is True
        labels = driver.find_elements(By.CSS_SELECTOR, ".tabbed-labels > label")
        assert [x.get_attribute("textContent") for x in labels] == [
            "Overall",
            "Helpfulness",
            "Communication",
            "Adaptiveness",
            "Trust & safety",
            "Personality",
        ]
        for scheme in ("default", "slate"):
            set_palette(driver, scheme)
            driver.execute_script("arguments[0].click()", labels[0])
            first = driver.execute_script(TAB_SCRIPT)
            assert (first["open"], first["shown"], first["rows"]) == (0, [0], 12)
            labels[1].click()
            second = driver.execute_script(TAB_SCRIPT)
            assert (second["open"], second["shown"], second["rows"]) == (1, [1], 12)
            assert second["label"] == "Helpfulness"
            if width == 1400:
                assert second["licence"] is not None and second["licence"] <= 1, second
            else:
                assert second["licence"] is None  # hidden until "All columns"
            name = f"home-tabs-{width}-{scheme}.png"
            OUTPUT.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(OUTPUT / name))
    finally:
        driver.set_window_size(1280, 1600)
