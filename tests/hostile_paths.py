"""Run-time cases of the hostile corpus for site paths and planted symlinks
(tests/fixtures/hostile/cases-paths.toml): symlinks, FIFOs and a `.git` folder cannot be
committed as fixtures, so they are built here, inside the case's own temporary folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

SECRET = "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n"


def _outside_page(tmp: Path) -> Path:
    outside = tmp / "outside" / "secret.md"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("# not for publishing\n", encoding="utf-8")
    return outside


def _fake_git(board: Path) -> Path:
    config = board / ".git" / "config"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SECRET, encoding="utf-8")
    return config


def _site_src(board: Path) -> Path:
    src = board / "site_src"
    src.mkdir(exist_ok=True)
    (src / "index.md").write_text("Welcome.\n", encoding="utf-8")
    return src


def site_src_symlink_file_out(board: Path, tmp: Path) -> None:
    os.symlink(_outside_page(tmp), _site_src(board) / "leak.md")


def site_src_symlink_to_git_config(board: Path, tmp: Path) -> None:
    os.symlink(_fake_git(board), _site_src(board) / "config.md")


def site_src_folder_symlink_out(board: Path, tmp: Path) -> None:
    os.symlink(_outside_page(tmp).parent, board / "site_src")


def site_src_symlinked_folder_loop(board: Path, tmp: Path) -> None:
    os.symlink("..", _site_src(board) / "up")


def site_src_fifo(board: Path, tmp: Path) -> None:
    os.mkfifo(_site_src(board) / "page.md")  # copying it would block forever


def site_src_symlink_loop(board: Path, tmp: Path) -> None:
    src = _site_src(board)
    os.symlink("b.md", src / "a.md")
    os.symlink("a.md", src / "b.md")


def site_src_non_utf8_name(board: Path, tmp: Path) -> None:
    (_site_src(board) / os.fsdecode(b"page-\xff.md")).write_text("# Page\n", encoding="utf-8")


def battles_symlink_into_git(board: Path, tmp: Path) -> None:
    os.symlink("../../.git/config", board / "results/battles/git.csv")
    _fake_git(board)


GENERATORS: dict[str, Callable[[Path, Path], None]] = {
    "paths-site-src-symlink-file-out": site_src_symlink_file_out,
    "paths-site-src-symlink-to-git-config": site_src_symlink_to_git_config,
    "paths-site-src-folder-symlink-out": site_src_folder_symlink_out,
    "paths-site-src-symlinked-folder-loop": site_src_symlinked_folder_loop,
    "paths-site-src-fifo": site_src_fifo,
    "paths-site-src-symlink-loop": site_src_symlink_loop,
    "paths-site-src-non-utf8-name": site_src_non_utf8_name,
    "paths-battles-symlink-into-git": battles_symlink_into_git,
}
