"""The draft stage: after a merge, gather the merged PRs, prepare the Zenodo draft, post the summary.

Runs on a push to the default branch, from the dispatch workflow's ``draft`` action and as
``release-bot draft``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import gitrepo, steps
from bot.errors import EXIT_FINDING, EXIT_OK
from bot.flow.context import RunContext, context_from_args
from bot.flow.plan import (
    InvalidFields,
    NothingToRelease,
    PreparedRelease,
    ReleasePlan,
    apply_release,
    plan_release,
    prepare_release,
)
from bot.flow.redraft import follow_default_branch
from bot.flow.router import Payload, Router
from bot.github import checkreport
from bot.github.adapter import GitHubAdapter
from bot.github.approval import untrusted_editors
from bot.github.comments import COMMENT_BUDGET, failed_merge_comment, fit_comment
from bot.github.markdown import code_span
from bot.github.models import STATUS_CONTEXT, CommentInfo, PendingRelease, PullInfo
from bot.github.summary import (
    NOTES_END,
    SUMMARY_MARKER,
    SealedSummary,
    SealError,
    open_summary,
    render_summary,
    render_superseded,
    seal_summary,
)
from bot.integrity import state_key
from bot.notes.digest import text_digest
from bot.notes.edits import kept_edits_note, notes_in_comment
from bot.skymap.release import sky_map_summary
from bot.zenodo import drafts

router = Router()
MAX_PULLS = 100


def merged_pulls(ctx: RunContext, gh: GitHubAdapter, since: str | None, head: str) -> list[PullInfo]:
    """The merged PRs whose commits touched the fields in ``since..head``, oldest first."""
    commits = gitrepo.first_parent_commits(
        ctx.repo_dir, since, head, path=ctx.config.catalog.fields_dir, limit=MAX_PULLS
    )
    found: dict[int, PullInfo] = {}
    for sha in commits:
        for pull in gh.pulls_for_commit(sha):
            if pull.merged:
                found.setdefault(pull.number, pull)
    return sorted(found.values(), key=lambda p: p.number)


def summaries(
    gh: GitHubAdapter, pulls: Iterable[PullInfo], key: bytes
) -> Iterator[tuple[PullInfo, CommentInfo, SealedSummary]]:
    """(pull, comment, sealed state) of each of these PRs whose bot summary carries the bot's seal for it.

    A summary whose seal does not check (edited state, copied from another PR) counts as no summary.
    """
    for pull in pulls:
        sticky = gh.find_sticky(pull.number, SUMMARY_MARKER)
        if sticky is None:
            continue
        try:
            yield pull, sticky, open_summary(sticky.body, key, pull.number)
        except SealError as exc:
            print(f"warning: the summary on #{pull.number} is not trusted: {exc}")


def _previous_summary(
    ctx: RunContext, gh: GitHubAdapter, pulls: list[PullInfo], key: bytes
) -> tuple[tuple[str, PendingRelease] | None, list[str]]:
    """The bot's newest summary among these PRs (its notes may carry a curator's edits), and the people
    whose edits of its notes are not kept because they are not curators (the summary is then ignored)."""
    found = list(summaries(gh, pulls, key))
    if not found:
        return None, []
    _, sticky, sealed = max(found, key=lambda item: item[0].number)
    notes = notes_in_comment(sticky.body)
    if notes is None or not sealed.state.notes_digest or text_digest(notes) == sealed.state.notes_digest:
        return (sticky.body, sealed.state), []  # the notes are the bot's own text
    cfg = ctx.config
    untrusted = untrusted_editors(gh.comment_edits(sticky), cfg.github.bot_login, cfg.approval.curators)
    if untrusted:
        print(f"warning: the notes on #{sticky.id} were edited by {', '.join(untrusted)} (not curators): "
              "the bot's notes are used instead")
        return None, untrusted
    return (sticky.body, sealed.state), []


def withdraw_pending(ctx: RunContext, gh: GitHubAdapter, pulls: list[PullInfo]) -> None:
    """The field changes since the last release were undone: discard the bot's pending draft, if any,
    and say so on the summaries that offered it for approval (no orphan draft, nothing left to approve)."""
    if ctx.dry_run:
        return
    client = ctx.zenodo
    pending = drafts.find_pending_draft(client, ctx.config.zenodo.record)
    if pending is None:
        return
    key = state_key(ctx.zenodo_token)
    offered = [(pull, sealed.state) for pull, _, sealed in summaries(gh, pulls, key)
               if sealed.state.draft_id == pending.id]
    if not offered:
        return  # not a draft the bot described: someone else's work, left alone
    client.discard_draft(pending.id)
    for pull, state in offered:
        gh.upsert_sticky(pull.number, SUMMARY_MARKER, "\n".join([
            SUMMARY_MARKER,
            "### Catalog release withdrawn",
            "",
            f"The default branch no longer changes any field file since the last release, so the draft of "
            f"`{state.version}` (`{state.draft_id}`) was discarded on Zenodo; its reserved DOI is never "
            "registered. There is nothing to approve.",
            "",
        ]))
    print(f"discarded the pending draft {pending.id}: nothing left to release")


def summary_body(ctx: RunContext, prepared: PreparedRelease, not_kept: Iterable[str] = (), *,
                 for_comment: bool = False) -> str:
    """The summary: whole for the job summary; ``for_comment``, without what would not fit in a comment."""
    body = render_summary(
        prepared.state,
        prepared.notes_markdown,
        command=ctx.config.approval.command,
        draft_url=prepared.draft.links or "",
        previous_version=prepared.previous_version,
    )
    extra = []
    if prepared.notes_kept:
        # The bot's draft beside a curator's notes is as long as the notes: where it would push the comment
        # over GitHub's limit, fit_comment would cut the curator's notes instead, so it is left to the run.
        shown = kept_edits_note(prepared.bot_notes_markdown)
        if for_comment and len(body) + len(shown) > COMMENT_BUDGET:
            shown = kept_edits_note(None, ctx.run_url)
        extra.append(shown)
    if not_kept:
        extra.append(f"_Edits of the notes by {', '.join(code_span(n) for n in not_kept)} were not kept: "
                     "only curators' edits reach Zenodo._")
    if prepared.draft.notes_kept:
        extra.append("_The notes on the Zenodo draft were edited by hand and were kept as they are; "
                     "the notes above are the bot's draft._")
    if extra:
        body = body.replace(NOTES_END, NOTES_END + "\n\n" + "\n\n".join(extra), 1)
    return body


def draft_for_push(ctx: RunContext, head: str) -> int:
    """Prepare the release draft for a merge to the default branch and tell the PRs about it."""
    gh = ctx.github
    head = gitrepo.resolve(ctx.repo_dir, head)

    key = state_key(ctx.zenodo_token)
    not_kept: list[str] = []

    def gather(since: str | None) -> tuple[list[PullInfo], tuple[str, PendingRelease] | None]:
        pulls = merged_pulls(ctx, gh, since, head)
        previous, untrusted = _previous_summary(ctx, gh, pulls, key)
        not_kept.extend(untrusted)
        return pulls, previous

    def newest_of(pulls: list[PullInfo]) -> PullInfo | None:
        return next((p for p in pulls if p.merge_commit_sha == head), pulls[-1] if pulls else None)

    try:
        prepared = prepare_release(ctx, head=head, gather=gather)
    except NothingToRelease as exc:
        print(exc.message)
        ctx.write_summary(f"Nothing to release: {exc.message}")
        withdraw_pending(ctx, gh, exc.pulls)
        return EXIT_OK
    except InvalidFields as exc:
        newest = newest_of(exc.pulls)
        heading = ("### The release was not drafted\n\nThe merged field files do not validate; fix them in a new "
                   "pull request.")
        checkreport.emit(exc.report, print_line=print, write_summary=ctx.write_summary,
                         report_path=ctx.workdir / checkreport.REPORT_FILE, run_url=ctx.run_url, heading=heading)
        if newest is not None and not ctx.dry_run:
            # The status first: a comment that cannot be posted must not hide the result.
            gh.set_status(head, "failure", STATUS_CONTEXT, "field files do not validate", ctx.run_url)
            gh.upsert_sticky(newest.number, SUMMARY_MARKER,
                             SUMMARY_MARKER + "\n" + failed_merge_comment(exc.report, heading, ctx.run_url))
        return EXIT_FINDING
    pulls = prepared.pulls
    newest = newest_of(pulls)
    body = summary_body(ctx, prepared, not_kept)
    ctx.write_summary(body)
    ctx.write_summary(f"Previous catalog zip read by {prepared.build.previous_read}.")
    ctx.write_summary(sky_map_summary(prepared.sky_map, ctx.run_url) if ctx.config.pictures.draw_sky_map else "")
    if ctx.dry_run:
        print(body)
        return EXIT_OK
    # The status first: a comment that cannot be posted must not hide that the draft exists.
    gh.set_status(head, "pending", STATUS_CONTEXT,
                  f"{prepared.version} drafted; awaiting curator approval", prepared.draft.links)
    if newest is not None:
        # Sealed last, over the comment exactly as posted: any later edit shows.
        comment = fit_comment(summary_body(ctx, prepared, not_kept, for_comment=True), ctx.run_url)
        gh.upsert_sticky(newest.number, SUMMARY_MARKER, seal_summary(comment, key, newest.number))
        for pull in pulls:
            if pull.number != newest.number:
                gh.upsert_sticky(pull.number, SUMMARY_MARKER, render_superseded(newest.html_url))
    steps.finished("summary")
    print(f"drafted {prepared.version}: Zenodo draft {prepared.draft.draft_id}, DOI {prepared.draft.doi} "
          f"({prepared.draft.calls} Zenodo API calls; uploaded {', '.join(prepared.draft.uploaded) or 'nothing'}; "
          f"previous zip read by {prepared.build.previous_read})")
    return EXIT_OK


def run_draft(args: argparse.Namespace) -> int:
    """``release-bot draft``: plan the next release and bring Zenodo to its draft; ``--dry-run`` shows
    the plan and stops before the first write."""
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="release-bot-"))
    ctx = context_from_args(args, dry_run=args.dry_run, workdir=workdir)
    try:
        plan = plan_release(ctx, head=args.head, base=args.base, progress=True)
    except NothingToRelease as exc:
        ctx.console.print(exc.message)
        return EXIT_OK
    if ctx.dry_run:
        Console(highlight=False).print(*render_plan(plan))
        return EXIT_OK
    prepared = apply_release(ctx, plan, progress=True)
    d = prepared.draft
    ctx.console.print(f"drafted {prepared.version} (was {prepared.previous_version}): draft {d.draft_id}, "
                      f"DOI {d.doi}")
    ctx.console.print(f"Zenodo calls: {d.calls}; uploaded {', '.join(d.uploaded) or 'nothing'}; "
                      f"imported {', '.join(d.imported) or 'nothing'}")
    print(prepared.notes_markdown)
    return EXIT_OK


def render_plan(plan: ReleasePlan) -> list[RenderableType]:
    """The release plan as a reader wants it: what version, which files, what Zenodo will be asked."""
    draft = plan.draft
    head = Table.grid(padding=(0, 2))
    head.add_row("version", f"{plan.version} (after {plan.latest.version}, record {plan.latest.id})")
    head.add_row("commit", plan.head)
    head.add_row("draft", draft.draft_id or "a new version of the concept record")
    head.add_row("DOI", draft.doi or "reserved when the draft is made")
    head.add_row("notes", "a curator's edit, kept" if plan.notes_kept or draft.notes_kept else "the bot's")
    files = Table("file", "action", "size", "md5", title="files of the draft", title_justify="left")
    sizes = {u.key: u.size for u in draft.upload} | {k: e.size or 0 for k, e in plan.latest.files.items()}
    uploading = {u.key for u in draft.upload}
    for key, md5 in sorted(draft.expected.items()):
        action = "upload" if key in uploading else ("carry over" if key in draft.kept else "already there")
        files.add_row(Text(key), action, f"{sizes.get(key, 0):,}", md5)
    for key in draft.remove:
        files.add_row(Text(key), "remove", "", "")
    calls = draft.writes()
    writes = Text("\n".join(calls) if calls else "none: the draft already holds this release")
    return [Panel(head, title="release plan (dry run: nothing was written)"), files,
            Panel(writes, title=f"Zenodo write calls ({len(calls)})"), Markdown(plan.notes_markdown)]


@router.register("push")
def on_push(ctx: RunContext, payload: Payload) -> int:
    default = (payload.get("repository") or {}).get("default_branch", "main")
    if payload.get("ref") != f"refs/heads/{default}":
        print(f"push to {payload.get('ref')!r} is not the default branch: nothing to release")
        return EXIT_OK
    head = gitrepo.resolve(ctx.repo_dir, payload.get("after") or "HEAD")
    code = draft_for_push(ctx, head=head)
    follow_default_branch(ctx, head)  # a push run queued meanwhile may have been dropped
    return code


@router.register("workflow_dispatch", action="draft")
def on_dispatch_draft(ctx: RunContext, payload: Payload) -> int:
    head = gitrepo.resolve(ctx.repo_dir, "HEAD")
    code = draft_for_push(ctx, head=head)
    follow_default_branch(ctx, head)
    return code
