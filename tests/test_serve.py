"""`prefboard serve`: serves the built site on localhost and rebuilds when an input changes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_for(predicate, timeout: float = 300.0):
    # a generous ceiling, not a speed assumption: polling ends as soon as the server answers
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_serve_rebuilds_and_the_page_can_reload(tiny: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    port = free_port()
    log = tiny / "serve.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefboard",
            "serve",
            "--config",
            str(toml),
            "--port",
            str(port),
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        first = wait_for(lambda: fetch(f"{base}/build-stamp.txt"))
        # progress during the first build, stage by stage, before the address
        printed = log.read_text()
        assert printed.startswith(f"building {tiny / 'site'} (the first build")
        stages = [
            "config:",
            "validate:",
            "rate:",
            "analyze:",
            "pages + charts:",
            "mkdocs:",
            "serving ",
        ]
        positions = [printed.find(stage) for stage in stages]
        assert -1 not in positions and positions == sorted(positions), printed
        home = fetch(f"{base}/index.html")
        assert home is not None and "/__prefboard/livereload.js" in home  # polls the stamp
        assert fetch(f"{base}/__prefboard/livereload.js") is not None
        # ... added by the server only: site/ is what `prefboard build` writes
        built = list((tiny / "site").rglob("*"))
        assert not [p for p in built if "livereload" in p.name]
        assert not [p for p in built if p.suffix == ".html" and "livereload" in p.read_text()]
        battles = tiny / "results" / "battles" / "battles.csv"
        battles.write_text(battles.read_text().replace("delta-mini,4,b,b", "delta-mini,4,a,b"))
        second = wait_for(lambda: (s := fetch(f"{base}/build-stamp.txt")) != first and s)
        assert second != first
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
