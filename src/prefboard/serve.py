"""`prefboard serve`: build, serve over HTTP on localhost, rebuild when an input changes."""

from __future__ import annotations

import errno
import functools
import http.server
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefboard import pipeline
from prefboard.errors import PrefboardError

POLL_SECONDS = 1.0


def input_fingerprint(
    root: Path, config_path: Path, source: str
) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every input, cheap enough to poll every second."""
    paths = [config_path.resolve()]
    for folder in (root / "results", root / source):
        if folder.is_dir():
            paths += [p for p in folder.rglob("*") if p.is_file()]
    out = []
    for p in sorted(paths):
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def serve_board(config_path: Path, host: str, port: int, echo: Callable[[str], None]) -> None:
    config, root = pipeline.load(config_path)
    output = root / config.site.output
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(output))
    server = _listen(host, port, handler)  # before the build: a busy port fails at once
    try:
        pipeline.build(config_path, None, live_reload=True)
    except BaseException:
        server.server_close()
        raise
    threading.Thread(target=server.serve_forever, daemon=True).start()
    echo(f"serving {output} at http://{host}:{port}/ (Ctrl+C to stop)")
    seen = input_fingerprint(root, config_path, config.site.source)
    try:
        while True:
            time.sleep(POLL_SECONDS)
            now = input_fingerprint(root, config_path, config.site.source)
            if now == seen:
                continue
            seen = now
            echo("change detected, rebuilding")
            try:
                pipeline.build(config_path, None, live_reload=True)
                echo("rebuilt")
            except PrefboardError as exc:
                echo(f"Error: {exc.format_message()}")
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.shutdown()


def _listen(host: str, port: int, handler: Callable[..., Any]) -> http.server.ThreadingHTTPServer:
    """The bound server, or a one-line error naming the address (a port in use was a traceback)."""
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = "; stop the other server or pass --port" if exc.errno == errno.EADDRINUSE else ""
        raise PrefboardError(f"cannot serve on {host}:{port}: {reason}{hint}") from None
