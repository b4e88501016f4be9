"""``release-bot notes``: the release notes of a range of commits, as Markdown, HTML or JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import gitrepo
from bot.config import Config, ValidationSettings, load_config
from bot.errors import UsageError
from bot.flow.fields import validate_each
from bot.lfs import LfsAccess
from bot.notes.changeset import build_changeset
from bot.notes.html import render_html
from bot.notes.markdown import render_markdown
from bot.notes.model import build_notes
from bot.notes.version import next_version
from bot.versions import parse_version


def run(args: argparse.Namespace) -> int:
    repo = Path(args.repo)
    config = _config(args.config, repo)
    for flag, ref in (("--base", args.base), ("--head", args.head)):
        _check_commit(repo, flag, ref, config.github.tag_prefix)
    previous = args.previous_version
    if previous is None:
        tag = gitrepo.latest_release_tag(repo, config.github.tag_prefix)
        previous = tag[2] if tag else None
    if previous is not None:
        parse_version(previous)  # fail before any file is read
    with tempfile.TemporaryDirectory(prefix="release-bot-notes-") as tmp:
        changes = build_changeset(
            str(repo),
            args.base,
            args.head,
            config.catalog.fields_dir,
            stats=lambda paths: field_stats(repo, args.head, paths, Path(tmp), config.validation),
            previous_version=previous,
            repo_url=_repo_url(),
            ignore_logins=(config.github.bot_login,),
        )
    version = next_version(previous, changes, config.versioning)
    notes = build_notes(changes, version, release_date())
    if args.format == "json":
        text = json.dumps(notes.to_json(), indent=2, ensure_ascii=False)
    elif args.format == "html":
        text = render_html(notes)
    else:
        text = render_markdown(notes)
    sys.stdout.write(text + "\n")
    return 0


def _config(path: str, repo: Path) -> Config:
    """The config named on the command line, else the one at the repository's root."""
    given = Path(path)
    if not given.exists() and not given.is_absolute() and (repo / given).exists():
        given = repo / given
    return load_config(given)


def _check_commit(repo: Path, flag: str, ref: str, prefix: str) -> None:
    try:
        gitrepo.resolve(repo, ref)
    except gitrepo.GitError as exc:
        raise UsageError(
            f"{flag} {ref}: not a commit in {repo} ({exc.message})",
            hint=f"pass a commit sha or a release tag (git -C {repo} tag --list '{prefix}*'); in CI, "
            "check out with fetch-depth: 0 so tags and history are present",
        ) from None


def _repo_url() -> str | None:
    server, name = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{name}" if server and name else None


def release_date() -> dt.date:
    """Today (UTC), or the day of ``SOURCE_DATE_EPOCH`` when set, for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return now.date()


def field_stats(
    repo: Path, head: str, paths: Mapping[int, str], scratch: Path, settings: ValidationSettings
) -> dict[int, Any]:
    """Validate each new field file as committed at ``head`` and keep its statistics (None where missing)."""
    report = validate_each(repo, gitrepo.resolve(repo, head), dict(paths), scratch, settings, _lfs_access())
    for file in report.files:
        if not file.valid:
            print(f"warning: {file.path} is not valid ({file.error_count} errors); "
                  "run `release-bot validate` on it", file=sys.stderr)
    return {f: r.stats for f, r in zip(sorted(paths), report.files, strict=True)}


def _lfs_access() -> LfsAccess:
    return LfsAccess.for_repository(os.environ.get("GITHUB_SERVER_URL") or "https://github.com",
                                    os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_TOKEN"))
