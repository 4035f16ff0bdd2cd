"""A Markdown extension for the generated pages' raw HTML blocks (ranking tables, chart
containers), listed in the derived mkdocs.yml as `prefboard.site_markdown`.

Python-Markdown finds where a raw HTML block ends by running an HTML parser over the whole
page, and MkDocs runs a second one to collect anchor ids: at 100 models the pages hold ~13 MB of
tables, and the two parses were most of the Markdown stage. This extension stashes each
top-level block whose end is plain from its text (a block-level tag at the start of a line
after a blank line, its closing tag ending the last line before the next blank line, the tag
balanced there and not earlier) exactly as Python-Markdown would, so the parsers never see it.
Anything else (an unbalanced or unusual block) is left to Python-Markdown as before. The
output is byte-identical; tests/test_site_speed.py compares the two on real pages.

On a page with nothing for Python-Markdown's whitespace normaliser or fenced-code finder to
change (no tab, carriage return, NUL, STX/ETX or code fence), the blocks are found before
either runs, so that both scan only the prose between them (at 300 models they were a fifth of
MkDocs' time, scanning megabytes of tables they leave as they are).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from markdown import Markdown, util
from markdown.extensions import Extension
from markdown.postprocessors import RawHtmlPostprocessor
from markdown.preprocessors import Preprocessor

_OPENING = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)[\s>]")
# The ids MkDocs collects from raw HTML so that a link to `page.md#id` is known to resolve.
_ANCHOR = re.compile(r"<[a-zA-Z][^>]*?\sid=\"([^\"]*)\"|<a\s[^>]*?name=\"([^\"]*)\"")


def _block_end(lines: list[str], start: int, tag: str) -> int | None:
    """Index of the last line of the raw HTML block opening with `<tag` at `lines[start]`, or
    None when its end is not plain (the tag balances before the blank line that follows, or
    never, or the last line does not end with the closing tag)."""
    opening, closing = re.compile(rf"<{tag}[\s>/]"), f"</{tag}>"
    depth = 0
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip():
            return None
        depth += len(opening.findall(line)) - line.count(closing)
        if depth <= 0:
            at_end = i + 1 == len(lines) or not lines[i + 1].strip()
            return i if depth == 0 and at_end and line.endswith(closing) else None
    return None


#: A stashed block's line until the late pass stores it (a NUL: refused in the pages it is used on).
_MARK = "\x00prefboard-raw-block\x00"
# What the whitespace normaliser (priority 30) or the fenced-code finder (25) would change.
_UNPLAIN = ("\t", "\r", "\x00", "\x02", "\x03", "```", "~~~")


def _plain(lines: list[str]) -> bool:
    """True when the preprocessors before the stash would leave every line as it is (bar
    blank lines of spaces, which end a block either way)."""
    text = "\n".join(lines)
    return not any(s in text for s in _UNPLAIN)


class _StashBlocks(Preprocessor):
    """Runs before Python-Markdown's whitespace normaliser: on a plain page, replaces each block
    by a mark line, which `_PlaceBlocks` stores in the HTML stash (the normaliser strips the
    stash's own placeholders, so they cannot be made this early)."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
        self.anchors: set[str] = set()
        self.blocks: list[str] | None = None  # None: the page is not plain, stash it late

    def run(self, lines: list[str]) -> list[str]:
        self.anchors = set()
        self.blocks = None
        if not _plain(lines):
            return lines
        blocks: list[str] = []
        self.blocks = blocks

        def mark(block: str) -> str:
            blocks.append(block)
            return _MARK

        return self.stash(lines, mark)

    def stash(self, lines: list[str], store: Callable[[str], str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(lines):
            end = self._block_at(lines, i, out)
            if end is None:
                out.append(lines[i])
                i += 1
                continue
            # with the line break after the closing tag, as Python-Markdown stores it
            block = "\n".join(lines[i : end + 1]) + "\n"
            self.anchors.update(a or b for a, b in _ANCHOR.findall(block))
            # What Python-Markdown's HTML block parser leaves: the placeholder as a paragraph
            # of its own, which its raw-HTML postprocessor replaces by the block.
            out += [store(block), ""]
            i = end + 1
        return out

    def _block_at(self, lines: list[str], i: int, out: list[str]) -> int | None:
        if out and out[-1].strip():
            return None
        match = _OPENING.match(lines[i])
        if match is None or not self.md.is_block_level(match.group(1).lower()):
            return None
        return _block_end(lines, i, match.group(1))


class _PlaceBlocks(Preprocessor):
    """Runs where the stash ran before (after the fenced-code finder, before MkDocs' anchor
    collector): stores the early pass's blocks, or stashes a page that was not plain."""

    def __init__(self, md: Markdown, stash: _StashBlocks) -> None:
        super().__init__(md)
        self.stash = stash

    def run(self, lines: list[str]) -> list[str]:
        store = self.md.htmlStash.store
        blocks = self.stash.blocks
        if blocks is None:
            return self.stash.stash(lines, store)
        found = iter(blocks)
        return [store(next(found)) if line == _MARK else line for line in lines]


class _AddAnchors(Preprocessor):
    """Hands the stashed blocks' ids to MkDocs' anchor collector, which runs between the two."""

    def __init__(self, md: Markdown, stash: _StashBlocks) -> None:
        super().__init__(md)
        self.stash = stash

    def run(self, lines: list[str]) -> list[str]:
        if "mkdocs_raw_html" in self.md.preprocessors:
            collector = self.md.preprocessors["mkdocs_raw_html"]
            ids: set[str] = getattr(collector, "present_anchor_ids", set())
            ids.update(html.unescape(a) for a in self.stash.anchors)
        return lines


class _RawHtml(RawHtmlPostprocessor):
    """Python-Markdown's `raw_html` postprocessor (3.11's `run`, same output), except that a
    stashed block is searched for placeholders nested in it only when it holds one (an STX,
    which starts every placeholder). Its regex stops at every `<` to try `<p>` + STX: at 300
    models, scanning the megabytes of stashed tables for none was 8 % of MkDocs' time."""

    def run(self, text: str) -> str:
        stash = self.md.htmlStash
        if not stash.html_counter:
            return text
        base_placeholder = util.HTML_PLACEHOLDER % r"([0-9]+)"
        pattern = re.compile(f"<p>{base_placeholder}</p>|{base_placeholder}")

        def substitute_match(m: re.Match[str]) -> str:
            wrapped = bool(m.group(1))
            key = int(m.group(1) or m.group(2))
            if key >= stash.html_counter:
                return m.group(0)
            html = str(stash.rawHtmlBlocks[key])  # what the stock stash_to_string does
            if wrapped and not self.isblocklevel(html):
                html = f"<p>{html}</p>"
            return pattern.sub(substitute_match, html) if util.STX in html else html

        return pattern.sub(substitute_match, text)


class RawBlocksExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        stash = _StashBlocks(md)
        # 30 is Python-Markdown's whitespace normaliser, 25 the fenced-code finder, 21 MkDocs'
        # anchor collector, 20 Python-Markdown's HTML block parser.
        md.preprocessors.register(stash, "prefboard_raw_blocks", 31)
        md.preprocessors.register(_PlaceBlocks(md, stash), "prefboard_raw_place", 22)
        md.preprocessors.register(_AddAnchors(md, stash), "prefboard_raw_anchors", 20.5)
        # Same name and priority as Python-Markdown's own, which it replaces (not another
        # extension's, such as md_in_html's, which works differently).
        if type(md.postprocessors["raw_html"]) is RawHtmlPostprocessor:
            md.postprocessors.register(_RawHtml(md), "raw_html", 30)


def makeExtension(**kwargs: object) -> RawBlocksExtension:
    return RawBlocksExtension(**kwargs)
