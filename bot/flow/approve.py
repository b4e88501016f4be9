"""The approval stage: who may publish which draft, decided from sources an editor cannot change.

Three ways to approve, one set of checks and one publish path (``publish.publish_release``):
- a curator's ``/release publish <draft-id>`` comment (``issue_comment``);
- the dispatch workflow's ``publish`` action, checked as if its sender had commented;
- ``release-bot publish --draft ID`` by a maintainer holding the Zenodo token (the draft's checks only).

A comment is hostile input: it is only ever parsed by ``parse_approval``, and what is published is the
draft the bot's own summary describes, checked against Zenodo and git, never anything the comment says.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from datetime import datetime

from bot import gitrepo
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
from bot.flow.context import RunContext, context_from_args
from bot.flow.draft import merged_pulls
from bot.flow.pictures import attach_sky_map
from bot.flow.plan import open_published_catalog, release_base
from bot.flow.publish import concept_doi, publish_release
from bot.flow.redraft import request_redraft
from bot.flow.router import Payload, Router, dispatch_input
from bot.github.adapter import GitHubAdapter, GitHubError
from bot.github.approval import (
    WHAT_CHECKS,
    WHO_CHECKS,
    Approval,
    ApprovalFacts,
    ApprovalRequest,
    Refusal,
    authorize,
    check_summary,
    parse_approval,
)
from bot.github.markdown import code_span
from bot.github.models import PendingRelease, Permission
from bot.github.summary import (
    STATE_OPEN,
    SUMMARY_MARKER,
    SealedSummary,
    SealError,
    extract_notes,
    open_summary,
    published_marker,
    render_published,
    render_refusal,
)
from bot.integrity import content_digest, state_key
from bot.zenodo import drafts
from bot.zenodo.models import Record

router = Router()
COMPARE_FILE_LIMIT = 300  # GitHub's compare lists at most this many files


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


# -- deciding ---------------------------------------------------------------------------------------


def _fields_changed(ctx: RunContext, gh: GitHubAdapter, since: str, head: str) -> bool:
    """Did the default branch change the field files after the summarised commit?"""
    if since == head:
        return False
    fields_dir = ctx.config.catalog.fields_dir
    try:  # the job checks out the default branch with its history: git answers exactly
        return bool(gitrepo.changed_files(ctx.repo_dir, since, head, fields_dir))
    except gitrepo.GitError:
        pass
    prefix = fields_dir.rstrip("/") + "/"
    files = gh.changed_files_between(since, head)
    if len(files) >= COMPARE_FILE_LIMIT:
        return True  # the list may be cut short: assume the worst
    return any(f.path.startswith(prefix) or (f.previous_path or "").startswith(prefix) for f in files)


@dataclass(frozen=True)
class DraftNow:
    """The draft as Zenodo holds it now."""

    files: dict[str, str] | None  # key -> md5; None when the draft could not be found
    published: bool
    content: str  # integrity.content_digest of the draft now
    problems: list[str]


def _draft_now(ctx: RunContext, pending: PendingRelease) -> DraftNow:
    client = ctx.zenodo
    problems: list[str] = []
    if pending.concept_record != ctx.config.zenodo.record:
        problems.append(f"the summary names record {pending.concept_record}, the configuration "
                        f"{ctx.config.zenodo.record}")
    latest = client.latest_record(ctx.config.zenodo.record)
    draft = client.find_draft(pending.draft_id)
    record: Record
    if draft is not None and not draft.is_published:
        record = draft
        entries = client.draft_files(pending.draft_id)
    else:
        found = client.find_record(pending.draft_id)
        if found is None:
            return DraftNow(None, False, "", problems)
        record = found
        entries = client.record_files(found.id)
    files = {k: f.md5 or "" for k, f in entries.items()}
    if latest.concept_id and record.concept_id and record.concept_id != latest.concept_id:
        problems.append(f"draft {pending.draft_id} is not a version of record {ctx.config.zenodo.record}")
    if record.doi and pending.doi and record.doi != pending.doi:
        problems.append(f"the draft's DOI is {record.doi}, the summary's {pending.doi}")
    return DraftNow(files, record.is_published, content_digest(record.raw, files), problems)


@dataclass(frozen=True)
class SummarySeen:
    """The summary an approval answers, as GitHub shows it now."""

    sealed: SealedSummary | None
    problem: str | None  # why its seal does not check
    body: str = ""
    updated_at: datetime | None = None


def read_summary(gh: GitHubAdapter, number: int, key: bytes) -> SummarySeen:
    sticky = gh.find_sticky(number, SUMMARY_MARKER)
    if sticky is None:
        return SummarySeen(None, None)
    if STATE_OPEN not in sticky.body:
        return SummarySeen(None, None, sticky.body, sticky.updated_at)  # superseded or withdrawn: no state
    try:
        return SummarySeen(open_summary(sticky.body, key, number), None, sticky.body, sticky.updated_at)
    except SealError as exc:
        return SummarySeen(None, str(exc), sticky.body, sticky.updated_at)


def decide(
    ctx: RunContext,
    gh: GitHubAdapter,
    request: ApprovalRequest,
    *,
    approver: str,
    action: str,
    pr_number: int,
    summary: SummarySeen,
    approved_at: datetime | None,
    pr_author: str,
    announced: bool,
    who_checks: bool = True,
) -> Approval | Refusal:
    """Every check an approval must pass, cheapest first: who is asking, then the bot's sealed summary
    (GitHub only: a wrong draft id costs no Zenodo call), then Zenodo and git.

    ``who_checks=False`` leaves out the checks on the person (a maintainer holding the Zenodo token).
    """
    cfg = ctx.config
    is_curator = who_checks and approver.casefold() in {c.casefold() for c in cfg.approval.curators}
    pending = summary.sealed.state if summary.sealed else None
    facts = ApprovalFacts(
        commenter=approver, permission=gh.permission(approver) if is_curator else Permission("none", "none"),
        pr_author=pr_author, curators=cfg.approval.curators, min_permission=cfg.approval.min_permission,
        allow_author=cfg.approval.allow_author, pending=pending, action=action,
    )
    checks = WHO_CHECKS + WHAT_CHECKS if who_checks else WHAT_CHECKS
    who = next((r for check in WHO_CHECKS if who_checks and (r := check(request, facts)) is not None), None)
    if who is not None:
        return who
    refusal = check_summary(request, pr_number=pr_number, pending=pending, seal_problem=summary.problem,
                            intact=summary.sealed.intact if summary.sealed else False,
                            approved_at=approved_at, summary_updated_at=summary.updated_at)
    if refusal is not None or pending is None:
        return refusal or authorize(request, facts, checks)
    facts, problems = _what_is_pending(ctx, gh, facts, pending, announced)
    verdict = authorize(request, facts, checks)
    if isinstance(verdict, Refusal):
        return verdict
    if problems:
        return Refusal(
            "the summary no longer matches the repository and Zenodo (" + "; ".join(problems) + "). "
            "Rerun the release workflow to rebuild the draft and its summary, then approve the new one.",
            "tampered",
        )
    return verdict


def _what_is_pending(
    ctx: RunContext, gh: GitHubAdapter, facts: ApprovalFacts, pending: PendingRelease, announced: bool
) -> tuple[ApprovalFacts, list[str]]:
    """The facts about the pending release (git, GitHub, Zenodo), and what contradicts the summary."""
    authors = [gh.pull(n).author for n in pending.prs]
    main_head = gh.branch_head(gh.default_branch())
    now = _draft_now(ctx, pending)
    problems = list(now.problems)
    if not now.published and now.content != pending.content_digest:
        problems.append(f"the draft's metadata or files changed on Zenodo since the summary (content "
                        f"{now.content}, summary {pending.content_digest})")
    # Once Zenodo has published the draft, later merges cannot make it stale: only the announcing is left.
    fields_changed = not now.published and _fields_changed(ctx, gh, pending.commit_sha, main_head)
    try:
        on_main = gitrepo.is_ancestor(ctx.repo_dir, pending.commit_sha, main_head)
    except gitrepo.GitError:  # not in the checkout: ask GitHub (an unknown commit is not on main either)
        try:
            on_main = gh.is_ancestor(pending.commit_sha, main_head)
        except GitHubError:
            on_main = False
    if not on_main:
        problems.append(f"the summarised commit {pending.commit_sha[:12]} is not on the default branch")
    facts = replace(
        facts, other_authors=authors, main_head_sha=main_head, fields_changed_since_summary=fields_changed,
        draft_files=now.files,
        # Published but not yet announced: a run that died after publishing; this approval finishes it.
        draft_published=now.published and announced,
    )
    return facts, problems


# -- the comment handler ----------------------------------------------------------------------------


def _refuse(gh: GitHubAdapter, comment: ApprovalComment, refusal: Refusal) -> ApprovalOutcome:
    gh.reply(comment.pr_number, render_refusal(refusal))
    gh.react(comment.comment_id, "confused")
    return ApprovalOutcome("refused", refusal=refusal)


def judge(
    ctx: RunContext, gh: GitHubAdapter, comment: ApprovalComment, request: ApprovalRequest
) -> tuple[Approval | Refusal, PendingRelease | None, SummarySeen]:
    """The verdict on a well-formed approval comment: the bot's sealed summary on its PR, checked against
    GitHub, Zenodo and git."""
    summary = read_summary(gh, comment.pr_number, state_key(ctx.zenodo_token))
    pending = summary.sealed.state if summary.sealed else None
    announced = pending is not None and gh.find_sticky(
        comment.pr_number, published_marker(pending.version)) is not None
    verdict = decide(ctx, gh, request, approver=comment.commenter, action=comment.action,
                     pr_number=comment.pr_number, summary=summary,
                     approved_at=gh.comment(comment.comment_id).created_at,
                     pr_author=gh.pull(comment.pr_number).author, announced=announced)
    return verdict, pending, summary


def handle_approval(ctx: RunContext, gh: GitHubAdapter, comment: ApprovalComment) -> ApprovalOutcome:
    """Act on one PR comment; most comments are not approvals and are ignored without a word.

    A re-run of the same event (GITHUB_RUN_ATTEMPT > 1) goes through every check again: the comment's
    creation time, read from GitHub, must still be later than the summary's last update.
    """
    cfg = ctx.config
    if comment.commenter.casefold() == cfg.github.bot_login.casefold():
        return ApprovalOutcome("ignored")  # the bot's own comments quote the command
    request = parse_approval(comment.body, cfg.approval.command)
    if request is None:
        return ApprovalOutcome("ignored")
    gh.react(comment.comment_id, "eyes")
    if isinstance(request, Refusal):
        return _refuse(gh, comment, request)
    verdict, pending, summary = judge(ctx, gh, comment, request)
    if isinstance(verdict, Refusal):
        return _refuse(gh, comment, verdict)
    assert pending is not None
    record = publish_release(ctx, gh, verdict, pending, notes=extract_notes(summary.body) or "",
                             approving_pr=comment.pr_number)
    sky_map = attach_sky_map(ctx, gh, verdict.version, record)
    gh.reply(comment.pr_number, render_published(verdict.version, record.doi or verdict.doi,
                                                 record.html_url or "", concept_doi(record), sky_map))
    gh.react(comment.comment_id, "rocket")
    return ApprovalOutcome("published", record=record, state=pending)


# -- a publish started by hand (workflow_dispatch) --------------------------------------------------


def find_summary(ctx: RunContext, gh: GitHubAdapter, draft_id: str) -> tuple[int, SummarySeen] | None:
    """The PR whose sealed bot summary describes ``draft_id`` (among those merged since the last release)."""
    latest = drafts.latest_published(ctx.zenodo, ctx.config.zenodo.record)
    with open_published_catalog(ctx, latest) as previous:
        since = release_base(ctx, latest, previous)
    key = state_key(ctx.zenodo_token)
    for pull in reversed(merged_pulls(ctx, gh, since, "HEAD")):
        seen = read_summary(gh, pull.number, key)
        if seen.sealed is not None and seen.sealed.state.draft_id == draft_id:
            return pull.number, seen
    return None


def publish_dispatched(ctx: RunContext, draft_id: str, sender: str) -> int:
    """Publish from the dispatch workflow: the sender must pass every check a curator's comment does."""
    return _publish_by_hand(ctx, draft_id, sender, who_checks=True)


def publish_by_hand(ctx: RunContext, draft_id: str) -> int:
    """Publish from the command line: a maintainer holding the Zenodo token (who could publish on Zenodo's
    page anyway), so only the checks on what is published apply; then the same publish path as a curator's
    approval: publish, tag, GitHub release, status and the DOI on every pull request."""
    return _publish_by_hand(ctx, draft_id, "", who_checks=False)


def _publish_by_hand(ctx: RunContext, draft_id: str, sender: str, *, who_checks: bool) -> int:
    gh = ctx.github
    found = find_summary(ctx, gh, draft_id)
    if found is None:
        ctx.console.print(f"refused: no summary of the bot describes draft {draft_id}; approve a release on "
                          "its pull request, or run the draft action first")
        return EXIT_FINDING
    number, summary = found
    assert summary.sealed is not None
    pending = summary.sealed.state
    announced = gh.find_sticky(number, published_marker(pending.version)) is not None
    # No comment to date here: the person acts on the summary as it is now.
    verdict = decide(ctx, gh, ApprovalRequest(draft_id), approver=sender, action="created", pr_number=number,
                     summary=summary, approved_at=None, pr_author=gh.pull(number).author,
                     announced=announced, who_checks=who_checks)
    if isinstance(verdict, Refusal):
        ctx.console.print(f"refused ({verdict.code}): {verdict.reason}")
        ctx.write_summary(f"Publishing draft {code_span(draft_id)} was refused: {verdict.reason}")
        return EXIT_FINDING
    record = publish_release(ctx, gh, verdict, pending, notes=extract_notes(summary.body) or "",
                             approving_pr=number)
    if not ctx.dry_run:
        attach_sky_map(ctx, gh, verdict.version, record)
        ctx.console.print(f"published {record.version}: DOI {record.doi}")
        ctx.write_summary(f"Published **{record.version}**: DOI `{record.doi}`")
    return EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    if not args.draft.isdigit():
        raise UsageError(f"--draft {args.draft!r} is not a Zenodo record id", hint="digits only")
    ctx = context_from_args(args, dry_run=args.dry_run)
    return publish_by_hand(ctx, args.draft)


# -- the events this stage handles -------------------------------------------------------------------


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")  # refused, with a word: edited comments never count
def on_issue_comment(ctx: RunContext, payload: Payload) -> int:
    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    if not issue.get("pull_request"):
        return EXIT_OK  # approvals live on pull requests only
    outcome = handle_approval(
        ctx,
        ctx.github,
        ApprovalComment(
            pr_number=int(issue["number"]),
            comment_id=int(comment["id"]),
            body=str(comment.get("body") or ""),
            commenter=str((comment.get("user") or {}).get("login") or ""),
            action=str(payload.get("action") or ""),
        ),
    )
    if outcome.kind in ("refused", "published"):
        ctx.set_output("replied", "true")  # the approve workflow's last job replies only when this did not
    if outcome.kind == "refused" and outcome.refusal is not None:
        print(f"approval refused ({outcome.refusal.code})", file=sys.stderr)
        if outcome.refusal.code == "stale":  # the push run that would redraft may have been dropped
            request_redraft(ctx, ctx.github, "an approval found the default branch ahead of the summary")
        return EXIT_FINDING
    if outcome.kind == "published" and outcome.record is not None:
        version = outcome.state.version if outcome.state else ""
        print(f"published {version}: {outcome.record.doi}")
        ctx.write_summary(f"Published **{version}**: DOI `{outcome.record.doi}`")
    return EXIT_OK


@router.register("workflow_dispatch", action="publish")
def on_dispatch_publish(ctx: RunContext, payload: Payload) -> int:
    draft_id = dispatch_input(payload, "draft_id")
    if not draft_id.isdigit():
        raise UsageError(f"draft_id {draft_id!r} is not a Zenodo record id", hint="digits only")
    sender = str((payload.get("sender") or {}).get("login") or "")
    return publish_dispatched(ctx, draft_id, sender)
