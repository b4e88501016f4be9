"""A curator's approval comment: check who and what, publish the draft, tell everyone the DOI.

The comment is hostile input: it is only ever parsed by ``parse_approval``, and what is published is the
draft the bot's own summary describes, checked against Zenodo, never anything the comment says.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.github.adapter import GitHubAdapter
from bot.github.approval import Approval, Refusal, authorize, parse_approval
from bot.github.models import PendingRelease
from bot.github.summary import (
    SUMMARY_MARKER,
    extract_notes,
    parse_state,
    published_marker,
    render_doi_comment,
    render_published,
    render_refusal,
)
from bot.release.context import RunContext, crash_point
from bot.zenodo import release as zenodo_release
from bot.zenodo.models import Record

STATUS_CONTEXT = "release-bot/catalog"
# The steps after an approval, in order; a test crashes the run after each and checks a rerun finishes.
PUBLISH_STEPS: tuple[str, ...] = ("publish", "tag", "release", "status", "announce")


@dataclass(frozen=True)
class ApprovalComment:
    pr_number: int
    comment_id: int
    body: str
    commenter: str
    action: str  # "created" or "edited"


@dataclass
class ApprovalOutcome:
    kind: str  # "ignored", "refused" or "published"
    refusal: Refusal | None = None
    record: Record | None = None
    state: PendingRelease | None = None


def _fields_changed(ctx: RunContext, gh: GitHubAdapter, since: str, head: str) -> bool:
    if since == head:
        return False
    prefix = ctx.config.catalog.fields_dir.rstrip("/") + "/"
    return any(
        f.path.startswith(prefix) or (f.previous_path or "").startswith(prefix)
        for f in gh.changed_files_between(since, head)
    )


def _refuse(gh: GitHubAdapter, comment: ApprovalComment, refusal: Refusal) -> ApprovalOutcome:
    gh.reply(comment.pr_number, render_refusal(refusal))
    gh.react(comment.comment_id, "confused")
    return ApprovalOutcome("refused", refusal=refusal)


def handle_approval(ctx: RunContext, gh: GitHubAdapter, comment: ApprovalComment) -> ApprovalOutcome:
    """Act on one PR comment; most comments are not approvals and are ignored without a word."""
    cfg = ctx.config
    request = parse_approval(comment.body, cfg.approval.command)
    if request is None:
        return ApprovalOutcome("ignored")
    gh.react(comment.comment_id, "eyes")
    if isinstance(request, Refusal):
        return _refuse(gh, comment, request)

    sticky = gh.find_sticky(comment.pr_number, SUMMARY_MARKER)
    pending = parse_state(sticky.body) if sticky else None
    pull = gh.pull(comment.pr_number)
    permission = gh.permission(comment.commenter)
    main_head = gh.branch_head(gh.default_branch())
    fields_changed = pending is not None and _fields_changed(ctx, gh, pending.commit_sha, main_head)

    draft_files: dict[str, str] | None = None
    published = False
    if pending is not None:
        client = ctx.zenodo()
        draft = client.find_draft(pending.draft_id)
        if draft is not None and not draft.is_published:
            draft_files = {k: f.md5 or "" for k, f in client.draft_files(pending.draft_id).items()}
        else:
            record = client.find_record(pending.draft_id)
            published = record is not None and record.is_published
            if published and record is not None:
                draft_files = {k: f.md5 or "" for k, f in client.record_files(record.id).items()}
        # Published but not yet announced: a run that died after publishing; finish its work.
        if published and gh.find_sticky(comment.pr_number, published_marker(pending.version)) is None:
            published = False

    verdict = authorize(
        request,
        commenter=comment.commenter,
        permission=permission,
        pr_author=pull.author,
        curators=cfg.approval.curators,
        min_permission=cfg.approval.min_permission,
        allow_author=cfg.approval.allow_author,
        pending=pending,
        action=comment.action,
        main_head_sha=main_head,
        fields_changed_since_summary=fields_changed,
        draft_files=draft_files,
        draft_published=published,
    )
    if isinstance(verdict, Refusal):
        return _refuse(gh, comment, verdict)
    assert pending is not None and sticky is not None
    record = publish(ctx, gh, verdict, pending, notes=extract_notes(sticky.body) or "",
                     approving_pr=comment.pr_number)
    gh.reply(comment.pr_number, render_published(verdict.version, record.doi or verdict.doi,
                                                 record.html_url or "", _concept_doi(record)))
    gh.react(comment.comment_id, "rocket")
    return ApprovalOutcome("published", record=record, state=pending)


def _concept_doi(record: Record) -> str | None:
    parent = (record.raw.get("parent") or {}).get("pids", {}).get("doi", {})
    return parent.get("identifier")


def publish(
    ctx: RunContext, gh: GitHubAdapter, approval: Approval, pending: PendingRelease, notes: str,
    approving_pr: int | None = None,
) -> Record:
    """Publish the approved draft, then tag, release, set the status and post the DOI on every PR.

    Each step is idempotent, so a run that died half-way is finished by the next approval run.
    """
    client = ctx.zenodo()
    record = zenodo_release.publish_draft(
        client,
        approval.draft_id,
        expected_files=pending.checksums(),
        version=approval.version,
        publication_date=ctx.today,
    )
    crash_point(ctx, "publish")
    doi = record.doi or approval.doi
    concept_doi = _concept_doi(record)
    tag = f"{ctx.config.github.tag_prefix}{approval.version}"
    gh.create_tag(tag, approval.commit_sha, f"SCoPe catalog {approval.version} ({doi})")
    crash_point(ctx, "tag")
    badge = f"[![DOI](https://zenodo.org/badge/DOI/{doi}.svg)](https://doi.org/{doi})"
    gh.create_or_update_release(tag, f"SCoPe catalog {approval.version}", f"{badge}\n\n{notes}")
    crash_point(ctx, "release")
    gh.set_status(approval.commit_sha, "success", STATUS_CONTEXT, f"published {approval.version}: {doi}",
                  record.html_url)
    crash_point(ctx, "status")
    # The approving PR's announcement goes last: its presence marks the whole release as done.
    for number in sorted(approval.prs, key=lambda n: n == approving_pr):
        gh.upsert_sticky(number, published_marker(approval.version),
                         render_doi_comment(approval.version, doi, concept_doi, approval.prs))
    crash_point(ctx, "announce")
    return record
