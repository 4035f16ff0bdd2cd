"""Problems and ledgers as text for people, JSON for machines, annotations for GitHub Actions."""

from __future__ import annotations

import json
from typing import Literal

from prefboard.errors import Problem
from prefboard.ingest.validate import Ingested
from prefboard.render.escape import printable
from prefboard.render.format import count

Format = Literal["text", "json", "github"]
MAX_SHOWN = 500


def summary_lines(result: Ingested) -> list[str]:
    out = []
    reasons = result.ledger.reasons()
    for kind, t in result.ledger.totals().items():
        out.append(
            f"{kind}: {count(t['files'])} file(s), {count(t['rows'])} rows, "
            f"{count(t['accepted'])} accepted, {count(t['excluded'])} excluded"
        )
        for reason, n in reasons.get(kind, {}).items():
            out.append(f"  excluded {count(n):>8}  {printable(reason)}")
    errors = sum(p.severity == "error" for p in result.problems)
    warnings = len(result.problems) - errors
    out.append(f"{count(errors)} problem(s), {count(warnings)} warning(s)")
    return out


def render(result: Ingested, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(
            {
                "ok": result.ok,
                "problems": [p.as_dict() for p in result.problems],
                "totals": result.ledger.totals(),
                "excluded": result.ledger.reasons(),
            },
            indent=2,
            sort_keys=True,
        )
    shown = result.problems[:MAX_SHOWN]
    lines = [github_annotation(p) if fmt == "github" else p.format() for p in shown]
    if len(result.problems) > MAX_SHOWN:
        lines.append(f"... {len(result.problems) - MAX_SHOWN} more problem(s) not shown")
    return "\n".join([*lines, *summary_lines(result)])


def github_annotation(p: Problem) -> str:
    """A workflow command that puts the problem on the offending line of the pull request."""
    props = [f"file={_prop(printable(p.file))}"] if p.file else []
    if p.line:
        props.append(f"line={p.line}")
    if p.column:
        props.append(f"col={p.column}")
    props.append(f"title={_prop(p.rule)}")
    return f"::{p.severity} {','.join(props)}::{_data(printable(p.message))}"


def _data(text: str) -> str:
    # Escaping per GitHub's workflow-command rules, so a hostile cell cannot inject a command
    # (callers pass `printable` text: no line break or escape sequence reaches the log).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
