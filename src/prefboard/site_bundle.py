"""The Vega bundle every site ships: vega, vega-lite and vega-embed in one script, made by
vl-convert and cached per vl-convert version in the user's cache folder."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["bundle_cache", "vega_bundle"]


def vega_bundle() -> str:
    """vega, vega-lite and vega-embed in one script that sets window.vegaEmbed, made by
    vl-convert from the versions it ships: no CDN at build or view time.

    Bundling takes vl-convert about a second of JavaScript work per process, and the result
    depends only on its version: it is kept in the user's cache folder (outside the board, so a
    pull request cannot plant one) under that version's name.
    """
    from importlib.metadata import version

    import vl_convert

    cached = bundle_cache() / f"vega-bundle-{version('vl-convert-python')}.js"
    try:
        # bytes, not text: reading text would turn any "\r\n" in the bundle into "\n"
        text = cached.read_bytes().decode("utf-8")
        # An emptied or cut-short file (a full disk, a hand edit) would leave every chart
        # blank without a word: only a bundle that ends by defining vegaEmbed is used.
        if _BUNDLE_END in text[-4096:]:
            return text
    except (OSError, UnicodeDecodeError):
        pass
    # The stub marks `snippet` required; without it vl-convert uses its default snippet, which
    # sets window.vegaEmbed as prefboard.js expects.
    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    # Written whole then renamed: a concurrent build reads the old file or the new one.
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(bundle.encode("utf-8"))
        partial.replace(cached)
    except OSError:  # a read-only home or a full disk: bundle again next time
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return bundle


def bundle_cache() -> Path:
    """$XDG_CACHE_HOME/prefboard, else ~/.cache/prefboard."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prefboard"


# What vl-convert's default snippet ends the bundle with (checked in tests/test_site_speed.py).
_BUNDLE_END = "window.vegaEmbed"
