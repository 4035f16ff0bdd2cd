"""What the derived mkdocs.yml asks of Material besides the pages: navigation features, the
public URL, repository and edit links, the version selector, and four template overrides
(the outdated-version banner, a styled 404, edit buttons only on hand-written pages, and a
sitemap the version selector can use).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prefboard.config import Config

FEATURES = [
    # Instant loading swaps only the content; prefboard.js re-renders charts on document$.
    "navigation.instant",
    "navigation.tabs",
    "navigation.sections",
    "navigation.top",
    "navigation.indexes",
    # The table of contents moves into the left sidebar: the right one took a fifth of a
    # 1400 px screen that the ranking tables need.
    "toc.integrate",
    "search.highlight",
    "content.action.edit",
]
# Versions that are never "outdated": the released alias and the version main publishes.
CURRENT_VERSIONS = ["latest", "dev"]
_HOSTED = re.compile(r"^https://(github\.com|gitlab\.com)/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")

# Material hides this block and shows it only on a version whose name and aliases match none
# of extra.version.default. The text is fixed here, never taken from the config, so nothing in
# leaderboard.toml reaches it unescaped.
MAIN_HTML = """{% extends "base.html" %}
{% block outdated %}
  You are reading an older version of this leaderboard.
  <a href="{{ '../' ~ base_url }}"><strong>Go to the latest version.</strong></a>
{% endblock %}
"""
NOT_FOUND_HTML = """{% extends "main.html" %}
{% block content %}
  <h1>Page not found</h1>
  <p>This page is not part of this version of the leaderboard. It may have been renamed, or
  belong to another version: pick one in the version selector, or start from the
  <a href="{{ base_url.rstrip('/') }}/index.html">home page</a>.</p>
{% endblock %}
"""
# MkDocs' sitemap.xml plus the site's root URL first. Material's version selector keeps the
# page only if the other version's sitemap lists the root that all its pages start with; with
# use_directory_urls off the home page is ".../index.html", so without this entry every switch
# landed on the other version's home page.
SITEMAP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{%- if config.site_url %}
    <url>
         <loc>{{ (config.site_url.rstrip('/') ~ '/')|e }}</loc>
    </url>
{%- endif %}
{%- for file in pages -%}
    {% if not file.page.is_link and (file.page.abs_url or file.page.canonical_url) %}
    <url>
         <loc>{{ (file.page.canonical_url or file.page.abs_url)|e }}</loc>
         {% if file.page.update_date %}<lastmod>{{ file.page.update_date }}</lastmod>{% endif %}
    </url>
    {%- endif -%}
{% endfor %}
</urlset>
"""
# Generated pages have no source file to edit; only pages copied from site/source get the
# button (their paths are listed in extra.prefboard_editable).
ACTIONS_HTML = """{% if page.edit_url and page.file.src_uri in config.extra.prefboard_editable %}
  <a href="{{ page.edit_url }}" title="{{ lang.t('action.edit') }}"
     class="md-content__button md-icon" rel="edit">
    {% include ".icons/material/file-edit-outline.svg" %}
  </a>
{% endif %}
"""


def public_url(config: Config) -> str:
    """leaderboard.url, or the GitHub Pages address of a GitHub repo_url. Material's version
    selector needs it: it finds the current page in the other version's sitemap.xml, whose
    entries exist only when site_url is set."""
    if config.leaderboard.url:
        return config.leaderboard.url
    match = _HOSTED.match(config.leaderboard.repo_url)
    if match and match.group(1) == "github.com":
        return f"https://{match.group(2).lower()}.github.io/{match.group(3)}/"
    return ""


def repo_links(config: Config) -> dict[str, Any]:
    """repo_url (the web page, not the clone URL) and, on GitHub or GitLab, edit links into
    the hand-written pages folder of the default branch."""
    url = config.leaderboard.repo_url
    # Material puts repo_url in an href: anything but a web address (javascript:, a local
    # path) is left out rather than linked.
    if not re.match(r"^https?://[^\s\"'<>]+$", url):
        return {}
    links: dict[str, Any] = {"repo_url": url.removesuffix(".git")}
    match = _HOSTED.match(url)
    if match:
        prefix = "edit" if match.group(1) == "github.com" else "-/edit"
        links["edit_uri"] = f"{prefix}/main/{config.site.source.strip('/')}/"
    else:
        links["edit_uri"] = ""  # MkDocs would guess a GitHub-style path that may not exist
    return links


def version_extra() -> dict[str, Any]:
    # alias: true lists "latest" beside the version it points to in the selector.
    return {"provider": "mike", "default": CURRENT_VERSIONS, "alias": True}


def write_overrides(folder: Path) -> Path:
    """Material's custom_dir for this build."""
    for rel, text in (
        ("main.html", MAIN_HTML),
        ("404.html", NOT_FOUND_HTML),
        ("partials/actions.html", ACTIONS_HTML),
        ("sitemap.xml", SITEMAP_XML),
    ):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return folder
