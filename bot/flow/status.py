"""CLI glue for ``draft``, ``publish`` and ``status``: a maintainer's hands on the release, outside a PR."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from rich.table import Table

from bot import gitrepo
from bot.config import load_config
from bot.errors import EXIT_FINDING, EXIT_OK, Finding
from bot.flow.context import RunContext, context_from_env
from bot.flow.plan import NothingToRelease, open_published_catalog, prepare_release
from bot.scope import FIELDS_JSON, parse_fields_json
from bot.zenodo import drafts


def _context(args: argparse.Namespace, **overrides) -> RunContext:
    config = load_config(args.config)
    env = dict(os.environ)
    env.setdefault("GITHUB_WORKSPACE", str(Path.cwd()))
    return context_from_env(env, config, **overrides)


def run_draft(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="release-bot-"))
    ctx = _context(args, dry_run=args.dry_run, workdir=workdir)
    try:
        prepared = prepare_release(ctx, head=args.head, base=args.base, progress=True)
    except NothingToRelease as exc:
        ctx.console.print(exc.message)
        return EXIT_OK
    d = prepared.draft
    ctx.console.print(f"{'would draft' if ctx.dry_run else 'drafted'} {prepared.version} "
                      f"(was {prepared.previous_version}): draft {d.draft_id}, DOI {d.doi or '(to reserve)'}")
    ctx.console.print(f"Zenodo calls: {d.calls}; uploaded {', '.join(d.uploaded) or 'nothing'}; "
                      f"imported {', '.join(d.imported) or 'nothing'}")
    print(prepared.notes_markdown)
    return EXIT_OK


def publish_by_id(ctx: RunContext, draft_id: str) -> int:
    """Publish a draft from the command line (a maintainer holding the Zenodo token).

    The draft must be a complete, committed version of the configured record. In GitHub runs, publishing
    by hand goes through ``approve.publish_dispatched``, which applies a curator's checks.
    """
    return _publish_checked(ctx, draft_id)


def _publish_checked(ctx: RunContext, draft_id: str) -> int:
    client = ctx.zenodo()
    draft = client.get_draft(draft_id)
    latest = client.latest_record(ctx.config.zenodo.record)
    if draft.concept_id != latest.concept_id:
        raise Finding(f"draft {draft_id} is not a version of record {ctx.config.zenodo.record}",
                      hint="check the draft id; `release-bot status` shows the pending draft")
    files = client.draft_files(draft_id)
    pending = [k for k, f in files.items() if not f.committed]
    if pending or not files:
        raise Finding(f"draft {draft_id} has uncommitted or no files ({', '.join(pending) or 'empty'})",
                      hint="rerun `release-bot draft` to complete the draft")
    if not draft.version:
        raise Finding(f"draft {draft_id} has no version", hint="rerun `release-bot draft`")
    record = drafts.publish_draft(
        client, draft_id, expected_files={k: f.md5 or "" for k, f in files.items()},
        version=draft.version, publication_date=ctx.today, dry_run=ctx.dry_run,
    )
    if not ctx.dry_run:
        ctx.console.print(f"published {record.version}: DOI {record.doi}")
        ctx.write_summary(f"Published **{record.version}**: DOI `{record.doi}`")
    return EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    if not args.draft.isdigit():
        from bot.errors import UsageError

        raise UsageError(f"--draft {args.draft!r} is not a Zenodo record id", hint="digits only")
    ctx = _context(args, dry_run=args.dry_run)
    return publish_by_id(ctx, args.draft)


def collect_status(ctx: RunContext) -> dict:
    """The concept's latest version, any pending draft, and how they compare with the repository."""
    cfg = ctx.config
    client = ctx.zenodo()
    latest = drafts.latest_published(client, cfg.zenodo.record)
    pending = drafts.find_pending_draft(client, cfg.zenodo.record)
    problems: list[str] = []
    with open_published_catalog(ctx, latest) as catalog:
        zip_fields = catalog.fields
    if FIELDS_JSON in latest.files:
        listed = parse_fields_json(client.download(latest.id, FIELDS_JSON))
        if listed != zip_fields:
            problems.append(f"{FIELDS_JSON} lists {len(listed)} fields but the catalog zip holds {len(zip_fields)}")
    tag = f"{cfg.github.tag_prefix}{latest.version}"
    tagged = gitrepo.latest_release_tag(ctx.repo_dir, cfg.github.tag_prefix)
    unreleased: list[str] = []
    if tagged is None or tagged[0] != tag:
        problems.append(f"the latest Zenodo version {latest.version} has no tag {tag} in the repository "
                        f"(latest tag: {tagged[0] if tagged else 'none'})")
    else:
        unreleased = [c.path for c in gitrepo.changed_files(ctx.repo_dir, tagged[1], "HEAD", cfg.catalog.fields_dir)]
        if unreleased and pending is None:
            problems.append(f"{len(unreleased)} field file change(s) since {tag} and no pending draft")
    return {
        "concept_record": cfg.zenodo.record,
        "community": cfg.zenodo.community,
        "latest": {"id": latest.id, "version": latest.version, "doi": latest.doi, "fields": len(zip_fields),
                   "files": {k: f.md5 for k, f in sorted(latest.files.items())}},
        "pending_draft": None if pending is None else {
            "id": pending.id, "version": pending.version, "doi": pending.doi,
            "files": {k: f.md5 for k, f in sorted(client.draft_files(pending.id).items())},
        },
        "unreleased_changes": unreleased,
        "drift": problems,
    }


def report_status(ctx: RunContext, fmt: str = "text") -> int:
    status = collect_status(ctx)
    if fmt == "json":
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        community = f" (community {status['community']})" if status["community"] else ""
        table = Table(title=f"Zenodo concept record {status['concept_record']}{community}", show_header=False)
        latest = status["latest"]
        table.add_row("latest version", f"{latest['version']} (record {latest['id']}, DOI {latest['doi']})")
        table.add_row("fields", str(latest["fields"]))
        draft = status["pending_draft"]
        table.add_row("pending draft", "none" if draft is None else
                      f"{draft['id']} {draft['version'] or ''} ({len(draft['files'])} files)")
        table.add_row("unreleased field changes", str(len(status["unreleased_changes"])))
        table.add_row("drift", "; ".join(status["drift"]) or "none")
        ctx.console.print(table)
    lines = ["### Catalog status", "", f"- latest: {status['latest']['version']} ({status['latest']['doi']})"]
    lines += [f"- drift: {p}" for p in status["drift"]] or ["- no drift"]
    ctx.write_summary("\n".join(lines))
    return EXIT_FINDING if status["drift"] else EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    return report_status(_context(args), fmt=args.format)
