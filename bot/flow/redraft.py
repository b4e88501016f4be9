"""A new draft run through ``workflow_dispatch``: how a draft dropped from the release queue is redone.

A concurrency group holds one running and one pending job, and a newly queued job cancels the pending one
(docs.github.com, "Control the concurrency of workflows and jobs"), so a merge's draft run can be lost.
``workflow_dispatch`` is the one event a run's GITHUB_TOKEN may start another run with (docs.github.com,
"Triggering a workflow from a workflow"; the job needs ``actions: write``).
"""

from __future__ import annotations

from bot.flow.context import RunContext
from bot.github.adapter import GitHubAdapter, GitHubError

DRAFT_WORKFLOW = "dispatch.yml"  # its "draft" action rebuilds the draft from the default branch
COMPARE_FILE_LIMIT = 300  # GitHub's compare lists at most this many files


def request_redraft(ctx: RunContext, gh: GitHubAdapter, reason: str) -> bool:
    """Start the dispatch workflow's draft action on the default branch; say why in the log and summary."""
    if ctx.dry_run:
        print(f"dry run: would start a new draft run ({reason})")
        return False
    branch = gh.default_branch()
    try:
        gh.dispatch_workflow(DRAFT_WORKFLOW, branch, {"action": "draft", "dry_run": "false"})
    except GitHubError as exc:
        print(f"::warning title=No new draft run::{reason}; starting one failed: {exc.message}")
        ctx.write_summary(f"**A new draft is needed** ({reason}), but starting the `{DRAFT_WORKFLOW}` draft run "
                          f"failed: {exc.message}. Run it by hand (Actions → dispatch → draft).")
        return False
    print(f"started a new draft run on {branch}: {reason}")
    ctx.write_summary(f"Started a new draft run ({DRAFT_WORKFLOW}, action draft) on `{branch}`: {reason}.")
    return True


def _fields_changed(ctx: RunContext, gh: GitHubAdapter, old: str, new: str) -> bool:
    prefix = ctx.config.catalog.fields_dir.strip("/") + "/"
    files = gh.changed_files_between(old, new)
    if len(files) >= COMPARE_FILE_LIMIT:
        return True  # the list may be cut short: assume the worst
    return any(f.path.startswith(prefix) or (f.previous_path or "").startswith(prefix) for f in files)


def follow_default_branch(ctx: RunContext, built: str) -> bool:
    """At the end of a draft run: did the default branch gain field changes meanwhile? Then draft again.

    The push run of those changes may have been dropped from the queue, and nothing else would notice.
    """
    if ctx.dry_run:
        return False
    gh = ctx.github
    head = gh.branch_head(gh.default_branch())
    if head == built or not _fields_changed(ctx, gh, built, head):
        return False
    return request_redraft(ctx, gh, f"the default branch moved from {built[:12]} to {head[:12]} with changes to "
                                    "the field files while this run was drafting")
