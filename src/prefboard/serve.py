"""`prefboard serve`: build, serve over HTTP on localhost, rebuild when an input changes.

The site in `site/` is exactly what `prefboard build` writes: the live-reload script is added
to each HTML response by the server, never to the files, so a served folder can be published.
"""

from __future__ import annotations

import errno
import functools
import http.server
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from prefboard import pipeline
from prefboard.errors import PrefboardError, SystemIOError

POLL_SECONDS = 1.0
RELOAD_PATH = "/__prefboard/livereload.js"
RELOAD_TAG = f'<script src="{RELOAD_PATH}"></script>'.encode()


class LiveReloadHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder, adding the reload script to HTML pages on the way out."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == RELOAD_PATH:
            script = resources.files("prefboard").joinpath("templates/assets/livereload.js")
            self._send(script.read_bytes(), "text/javascript; charset=utf-8")
            return
        local = Path(self.translate_path(path))
        if path.endswith("/"):
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            body = local.read_bytes()
            at = body.rfind(b"</body>")
            body = body[:at] + RELOAD_TAG + body[at:] if at >= 0 else body + RELOAD_TAG
            self._send(body, "text/html; charset=utf-8")
            return
        super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury the rebuild messages


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

    def progress(message: str) -> None:
        echo(f"  {message}")

    handler = functools.partial(LiveReloadHandler, directory=str(output))
    server = _listen(host, port, handler)  # before the build: a busy port fails at once
    echo(f"building {output} (the first build rates every table, which can take a minute)")
    try:
        pipeline.build(config_path, None, progress=progress)
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
                pipeline.build(config_path, None, progress=progress)
                echo("rebuilt")
            except PrefboardError as exc:
                echo(f"Error: {exc.format_message()}")
            except OSError as exc:  # a full disk, a vanished folder: the last site stays served
                echo(f"Error: {SystemIOError.of(exc).format_message()}")
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
