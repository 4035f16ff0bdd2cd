"""The built example site in a real browser: Debian's headless Chromium driven by Selenium.

Checks what a reader would notice: the home table lists every model, every chart renders an SVG,
the console stays clean, and no request leaves localhost. Screenshots of the home page in the
light and dark palettes go to test-output/browser/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefboard import pipeline

REPO = Path(__file__).parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUTPUT = REPO / "test-output" / "browser"

pytestmark = pytest.mark.browser

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium and chromium-driver (.ci/run does)")
    pytest.skip("Debian chromium/chromium-driver not installed", allow_module_level=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("site") / "site"
    pipeline.build(REPO / "leaderboard.toml", out)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", out
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
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
        f"--user-data-dir={tmp_path_factory.mktemp('chrome')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def wait_for_charts(driver: object, timeout: float = 30) -> int:
    from selenium.webdriver.support.ui import WebDriverWait

    script = """
      const blocks = document.querySelectorAll('.pb-chart');
      const done = Array.from(blocks).filter(
        b => b.getAttribute('data-rendered') === 'true' && b.querySelector('svg, canvas'));
      return [blocks.length, done.length];
    """
    WebDriverWait(driver, timeout).until(
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
    assert len(rows) == 12  # one per model of the example board
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
    values = [
        int(r.find_elements(By.TAG_NAME, "td")[-1].text)
        for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
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
