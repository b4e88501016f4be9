"""The status stage: the latest published version, any pending draft, and drift from the repository.

Runs weekly (``schedule``), from the dispatch workflow's ``status`` action and as ``release-bot status``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.table import Table

from bot import gitrepo
from bot.errors import EXIT_FINDING, EXIT_OK
from bot.flow import recover
from bot.flow.context import RunContext, context_from_args
from bot.flow.pictures import plot_latest
from bot.flow.plan import open_published_catalog, recorded_commit, tag_disagreement
from bot.flow.router import Payload, Router
from bot.scope import FIELDS_JSON, field_from_filename, parse_fields_json
from bot.zenodo import drafts

router = Router()


def collect_status(ctx: RunContext) -> dict[str, Any]:
    """The concept's latest version, any pending draft, and how they compare with the repository."""
    cfg = ctx.config
    client = ctx.zenodo
    latest = drafts.latest_published(client, cfg.zenodo.record)
    pending = drafts.find_pending_draft(client, cfg.zenodo.record)
    problems: list[str] = []
    with open_published_catalog(ctx, latest) as catalog:
        zip_fields = catalog.fields
        recorded = recorded_commit(catalog, latest.version)
        manifest_fields = sorted(catalog.manifest or {})
    if FIELDS_JSON in latest.files:
        listed = parse_fields_json(client.download(latest.id, FIELDS_JSON))
        if listed != zip_fields:
            problems.append(f"{FIELDS_JSON} lists {len(listed)} fields but the catalog zip holds {len(zip_fields)}")
    base = _release_commit(ctx, latest.version, recorded, problems)
    unreleased: list[str] = []
    if base is not None:
        fields_dir = cfg.catalog.fields_dir
        unreleased = [c.path for c in gitrepo.changed_files(ctx.repo_dir, base, "HEAD", fields_dir)]
        if unreleased and pending is None:
            problems.append(f"{len(unreleased)} field file change(s) since {latest.version} and no pending draft")
        if recorded is not None and manifest_fields:
            problems += _manifest_vs_tree(ctx, base, manifest_fields)
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


def _release_commit(ctx: RunContext, version: str | None, recorded: str | None, problems: list[str]) -> str | None:
    """The commit the latest version was built from: its manifest's record, or a hand-made version's tag."""
    prefix = ctx.config.github.tag_prefix
    if recorded is not None:
        try:
            base = gitrepo.resolve(ctx.repo_dir, recorded)
        except gitrepo.GitError:
            problems.append(f"Zenodo's manifest says {version} was built from {recorded[:12]}, which is not in "
                            "the repository")
            return None
        problem = tag_disagreement(ctx, version, base)
        if problem is not None:
            problems.append(problem)
        return base
    tag = f"{prefix}{version}"
    tagged = gitrepo.latest_release_tag(ctx.repo_dir, prefix)
    if tagged is None or tagged[0] != tag:
        problems.append(f"the latest Zenodo version {version} has no manifest record and no tag {tag} in the "
                        f"repository (latest tag: {tagged[0] if tagged else 'none'})")
        return None
    return tagged[1]


def _manifest_vs_tree(ctx: RunContext, base: str, manifest_fields: list[int]) -> list[str]:
    """Does the published catalog hold every field file of the commit its manifest names?"""
    fields_dir = ctx.config.catalog.fields_dir
    tree = {field_from_filename(Path(c.path).name)
            for c in gitrepo.changed_files(ctx.repo_dir, gitrepo.EMPTY_TREE, base, fields_dir)} - {None}
    # The catalog may hold fields that never lived in git (the versions made by hand), not the reverse.
    extra = sorted(f for f in tree if f is not None and f not in set(manifest_fields))
    out = []
    if extra:
        out.append(f"the repository holds field(s) {', '.join(map(str, extra))} at {base[:12]} that the "
                   "published manifest does not list")
    return out


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
    ctx = context_from_args(args)
    code = report_status(ctx, fmt=args.format)
    if args.plot:
        plot_latest(ctx, Path(args.plot))
    return code


@router.register("workflow_dispatch", action="status")
def on_status(ctx: RunContext, payload: Payload) -> int:
    return report_status(ctx, fmt="text")


@router.register("schedule")
def on_schedule(ctx: RunContext, payload: Payload) -> int:
    """The weekly check: the status, and a new draft run for field changes no draft covers (a dropped run)."""
    code = report_status(ctx, fmt="text")
    recover.redraft_if_behind(ctx, ctx.github)
    return code
