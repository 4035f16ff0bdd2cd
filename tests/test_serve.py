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

import pytest


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


class _Server:
    """Stands in for the HTTP server: serve_board's loop is what is tested."""

    def serve_forever(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def server_close(self) -> None:
        pass


def test_a_rebuild_the_system_refuses_is_one_line_and_serving_goes_on(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first build succeeds; the rebuild after a change meets a full disk; the loop reports
    # it in one line and keeps polling until Ctrl+C. No real server, build or clock.
    from prefboard import serve

    builds: list[int] = []

    def build(*args: object, **kwargs: object) -> None:
        builds.append(1)
        if len(builds) == 2:
            raise OSError(28, "No space left on device", str(tiny / "site" / "index.html"))

    sleeps = iter(range(100))
    changes = iter(range(100))  # every poll sees the inputs changed

    def sleep(seconds: float) -> None:
        if next(sleeps) == 3:  # Ctrl+C after three rebuilds
            raise KeyboardInterrupt

    monkeypatch.setattr(serve.pipeline, "build", build)
    monkeypatch.setattr(serve, "_listen", lambda *a: _Server())
    monkeypatch.setattr(serve, "input_fingerprint", lambda *a: (next(changes),))
    monkeypatch.setattr(serve.time, "sleep", sleep)
    said: list[str] = []
    serve.serve_board(tiny / "leaderboard.toml", "127.0.0.1", 8000, said.append)
    errors = [line for line in said if line.startswith("Error: ")]
    assert errors == [f"Error: {tiny / 'site' / 'index.html'}: No space left on device"]
    assert said[-1] == "stopped" and len(builds) == 4  # the first, then three rebuilds
