"""Runs GitHub drops, and how the bot recovers from them by itself.

A concurrency group holds one running and one pending job; a newly queued job cancels the pending one,
even with ``cancel-in-progress: false`` (docs.github.com, "Control the concurrency of workflows and jobs").
All catalog writers share the group ``release-catalog``, so any of them can be lost:

- a merge's draft run, replaced by an approval: each draft run looks at the default branch again when it
  ends (``redraft``), and the weekly check here looks for a pending draft behind it; either starts a new
  draft run through ``workflow_dispatch``;
- an approval, replaced by a push's draft run: the approval workflow's last job replies when its
  publishing job did not (cancelled or failed);
- a valid approval, replaced by a later malformed comment: the cheap filter job runs outside the group and
  lets only a well-formed command from a permitted curator queue a publishing job.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import gitrepo
from bot.errors import EXIT_OK, Finding
from bot.flow.context import RunContext
from bot.flow.draft import merged_pulls, summaries
from bot.flow.plan import open_published_catalog, release_base
from bot.flow.redraft import request_redraft
from bot.flow.router import Payload
from bot.github.adapter import GitHubAdapter
from bot.github.approval import WHO_CHECKS, ApprovalFacts, ApprovalRequest, Refusal, parse_approval
from bot.github.markdown import code_span, link
from bot.github.models import Permission
from bot.github.summary import render_refusal
from bot.integrity import state_key
from bot.zenodo import drafts


def _summary_commit(ctx: RunContext, gh: GitHubAdapter, since: str | None, draft_id: str) -> str | None:
    """The commit the newest bot summary describing ``draft_id`` was built from (None when none does)."""
    pulls = reversed(merged_pulls(ctx, gh, since, "HEAD"))
    sealed = (s.state for _, _, s in summaries(gh, pulls, state_key(ctx.zenodo_token)))
    return next((state.commit_sha for state in sealed if state.draft_id == draft_id), None)


def redraft_if_behind(ctx: RunContext, gh: GitHubAdapter) -> str | None:
    """The weekly check: field changes since the last release that no draft covers get a new draft run.

    Since the last release (Zenodo's latest version, as drafting decides it) the default branch changed
    field files, and either no draft is pending, or no summary describes the pending one, or its summary
    was built from a commit the field files have changed since. Returns why a draft run was started.
    """
    fields_dir = ctx.config.catalog.fields_dir
    client = ctx.zenodo
    latest = drafts.latest_published(client, ctx.config.zenodo.record)
    try:
        with open_published_catalog(ctx, latest) as previous:
            since = release_base(ctx, latest, previous)
    except Finding as exc:  # the status report above says what drifted; a draft would fail the same way
        print(f"no redraft check: {exc.message}")
        return None
    if not gitrepo.first_parent_commits(ctx.repo_dir, since, "HEAD", path=fields_dir, limit=1):
        return None
    pending = drafts.find_pending_draft(client, ctx.config.zenodo.record)
    commit = _summary_commit(ctx, gh, since, pending.id) if pending is not None else None
    if pending is None:
        reason = "the field files changed since the last release and no draft is pending"
    elif commit is None:
        reason = f"the pending draft {pending.id} is described by no summary of the bot"
    else:
        try:
            behind = bool(gitrepo.changed_files(ctx.repo_dir, commit, "HEAD", fields_dir))
        except gitrepo.GitError:
            behind = True  # the summarised commit is not in this history: rebuild from what is
        if not behind:
            return None
        reason = (f"the pending draft {pending.id} was built from {commit[:12]} and the default branch has "
                  "changed field files since")
    request_redraft(ctx, gh, reason)
    return reason


# -- the approval workflow's cheap first job and its last one ----------------------------------------


@dataclass(frozen=True)
class Comment:
    pr_number: int
    comment_id: int
    body: str
    commenter: str
    action: str


def _reply_no(gh: GitHubAdapter, comment: Comment, refusal: Refusal) -> None:
    gh.reply(comment.pr_number, render_refusal(refusal))
    gh.react(comment.comment_id, "confused")


def filter_approval(ctx: RunContext, gh: GitHubAdapter, comment: Comment) -> ApprovalRequest | None:
    """Outside the release queue: is this a well-formed command from a curator with the permission?

    Only then may a publishing job be queued (which could replace a pending one). Everything else gets
    its answer here: silence for ordinary comments, a reply for a malformed or unpermitted command.
    Who may approve is asked of the permission API, never ``author_association``: members of a private
    organisation membership arrive as CONTRIBUTOR.
    """
    cfg = ctx.config
    if comment.action != "created" or comment.commenter.casefold() == cfg.github.bot_login.casefold():
        return None
    request = parse_approval(comment.body, cfg.approval.command)
    if request is None:
        return None
    gh.react(comment.comment_id, "eyes")
    if isinstance(request, Refusal):
        _reply_no(gh, comment, request)
        return None
    is_curator = comment.commenter.casefold() in {c.casefold() for c in cfg.approval.curators}
    permission = gh.permission(comment.commenter) if is_curator else Permission("none", "none")
    facts = ApprovalFacts(
        commenter=comment.commenter, permission=permission, pr_author=gh.pull(comment.pr_number).author,
        curators=cfg.approval.curators, min_permission=cfg.approval.min_permission,
        allow_author=cfg.approval.allow_author, pending=None, action=comment.action,
    )
    for check in WHO_CHECKS:  # who is asking; what is pending is the publishing job's to check
        refusal = check(request, facts)
        if refusal is not None:
            _reply_no(gh, comment, refusal)
            return None
    return request


def reply_unprocessed(ctx: RunContext, gh: GitHubAdapter, comment: Comment, result: str) -> bool:
    """The publishing job ended without replying (``result``: cancelled, failure, ...): tell the curator."""
    request = parse_approval(comment.body, ctx.config.approval.command)
    if not isinstance(request, ApprovalRequest):
        return False
    draft = code_span(request.draft_id)
    run = link("this run", ctx.run_url) if ctx.run_url else "the approve workflow's run"
    command = f"`{ctx.config.approval.command} <draft-id>`"
    if result == "cancelled":
        text = (f"I could not process this approval of draft {draft}: its publishing job was cancelled before it "
                "finished. GitHub keeps one waiting job per queue, and a newer run (usually the rebuild after a new "
                "merge) took its place. Once the summary comment shows the current draft, please comment "
                f"{command} again.")
    else:
        text = (f"The publishing job for draft {draft} ended without an answer ({code_span(result or 'unknown')}; "
                f"see {run}). Please comment {command} again: every step resumes where it stopped, and nothing "
                "is published twice.")
    gh.reply(comment.pr_number, text + "\n\n<sub>release-bot · approval not processed</sub>\n")
    gh.react(comment.comment_id, "confused")
    return True


# -- the handlers of those two jobs ------------------------------------------------------------------


def _comment(payload: Payload) -> Comment | None:
    issue, comment = payload.get("issue") or {}, payload.get("comment") or {}
    if not issue.get("pull_request"):
        return None  # approvals live on pull requests only
    return Comment(int(issue["number"]), int(comment["id"]), str(comment.get("body") or ""),
                   str((comment.get("user") or {}).get("login") or ""), str(payload.get("action") or ""))


def on_approval_filter(ctx: RunContext, payload: Payload) -> int:
    """``release-bot approve-filter``: the step outputs ``approve`` (true/false) and ``draft_id``."""
    comment = _comment(payload)
    request = filter_approval(ctx, ctx.github, comment) if comment is not None else None
    ctx.set_output("approve", "true" if request is not None else "false")
    ctx.set_output("draft_id", request.draft_id if request is not None else "")
    print("a curator's approval: queued for publishing" if request else "not an approval to publish")
    return EXIT_OK


def on_unprocessed(ctx: RunContext, payload: Payload, result: str) -> int:
    """``release-bot approve-unprocessed --result R``: reply for a publishing job that did not."""
    comment = _comment(payload)
    if comment is not None:
        reply_unprocessed(ctx, ctx.github, comment, result)
    return EXIT_OK
