#!/usr/bin/env python3
"""Post a pull request's ranking diff as one sticky comment, updated in place on each push.

Run by the `pull request comment` workflow (on `workflow_run`) with a token that can write
pull-request comments. That workflow never checks out or runs the pull request's code, and this
script treats the `ranking-diff` artifact of the pull request's run as data from a stranger: the
pull request's own code wrote it. So: files are read without following symlinks and capped in
size, the pull request number must be digits and its head commit must be the one the run
tested, control characters go, and @mentions, issue references and HTML comments are defused
(so the data can neither ping people, nor cross-link issues, nor forge the comment's marker).

Standard library only, so the job installs nothing; GitHub is reached only through `gh api`.

    pr_comment.py ARTIFACT_DIR     (environment: GH_REPO, HEAD_SHA, RUN_URL and gh's GH_TOKEN)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

MARKER = "<!-- prefboard-ranking-diff -->"
BOT = "github-actions[bot]"
# GitHub refuses comments over 65,536 characters; leave room for the marker and the footer
MAX_DIFF = 60_000
MAX_NUMBER = 20

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"((?<!&)#|\bGH-)(?=[0-9])", re.IGNORECASE)
# `&#64;` and `&commat;` are an @ too: keep only the entities `prefboard diff` itself writes
_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot);)")


def read_capped(path: Path, cap: int) -> tuple[str, bool]:
    """At most `cap` characters of a regular file (never through a symlink), and whether it
    was longer. Bytes that are not UTF-8 become U+FFFD."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(cap * 4 + 1)
    text = raw.decode("utf-8", errors="replace")
    return text[:cap], len(text) > cap


def pr_number(text: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) == 0:
        raise ValueError(f"the artifact's pull request number is not a number: {value[:20]!r}")
    return int(value)


def defuse(text: str) -> str:
    """Markdown from the artifact, made inert for GitHub's side effects (see module doc)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    text = _ENTITY.sub("&amp;", text).replace("<!--", "&lt;!--")
    # a zero-width space after # or @ keeps the text and drops the link and the notification
    text = _REFERENCE.sub(lambda m: m.group(1) + "&#8203;", text)
    return _MENTION.sub("@&#8203;", text)


def comment_body(diff: str, truncated: bool, run_url: str) -> str:
    """The whole comment: marker, the defused diff, and where it came from."""
    body = defuse(diff).rstrip()
    if not body:
        # `prefboard diff` failed (exit 2) and wrote nothing: say so rather than post a blank
        body = "The ranking diff could not be computed for this push; see the run's log."
    if truncated:
        body = body[: body.rfind("\n")] if "\n" in body else body
        if body.count("<details>") > body.count("</details>"):
            body += "\n\n</details>"
        body += "\n\n… truncated: the whole diff is in the job summary of the run."
    link = run_url if re.fullmatch(r"https://[\w./-]+", run_url) else ""
    footer = f"Updated in place on every push by the [pull request run]({link})." if link else ""
    return f"{MARKER}\n{body}\n\n{footer}".rstrip() + "\n"


def plan(comments: list[dict[str, object]], body: str, bot: str = BOT) -> tuple[str, int | None]:
    """("create", None), ("update", id) or ("unchanged", id): the oldest comment by `bot` that
    starts with the marker is the sticky one; comments by anyone else never count."""
    ours = [
        c for c in comments if c.get("login") == bot and str(c.get("body", "")).startswith(MARKER)
    ]
    if not ours:
        return "create", None
    sticky = min(ours, key=lambda c: int(str(c["id"])))
    if sticky.get("body") == body:
        return "unchanged", int(str(sticky["id"]))
    return "update", int(str(sticky["id"]))


def gh_api(*args: str, payload: dict[str, str] | None = None) -> str:
    data = json.dumps(payload) if payload is not None else None
    command = ["gh", "api", *args] + (["--input", "-"] if data is not None else [])
    result = subprocess.run(command, input=data, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"gh api {args[0]} failed: {result.stderr.strip()[:500]}")
    return result.stdout


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return post(Path(argv[1]), os.environ["GH_REPO"], os.environ["HEAD_SHA"])
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


def post(folder: Path, repo: str, head_sha: str) -> int:
    number = pr_number(read_capped(folder / "pr-number", MAX_NUMBER)[0])
    # the number came from the pull request's job: believe it only if that pull request's head
    # is the commit the run tested
    actual = gh_api(f"repos/{repo}/pulls/{number}", "--jq", ".head.sha").strip()
    if actual != head_sha:
        print(f"pull request #{number} is at {actual[:12]}, not {head_sha[:12]}: not commenting")
        return 1
    diff, truncated = read_capped(folder / "diff.md", MAX_DIFF)
    body = comment_body(diff, truncated, os.environ.get("RUN_URL", ""))
    listed = gh_api(
        "--paginate",
        f"repos/{repo}/issues/{number}/comments",
        "--jq",
        ".[] | {id, body, login: .user.login}",
    )
    comments = [json.loads(line) for line in listed.splitlines() if line.strip()]
    action, comment_id = plan(comments, body)
    if action == "create":
        gh_api("-X", "POST", f"repos/{repo}/issues/{number}/comments", payload={"body": body})
    elif action == "update":
        path = f"repos/{repo}/issues/comments/{comment_id}"
        gh_api("-X", "PATCH", path, payload={"body": body})
    print(f"pull request #{number}: ranking comment {action}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
