"""Publishing an approved release: the one path every approval takes (a curator's comment, the dispatch
workflow, the command line).

Each step is idempotent, so a run that died half-way is finished by the next approval run. The tag is
checked first: a version whose tag already names another commit is never published.
"""

from __future__ import annotations

from bot import steps
from bot.errors import Finding
from bot.flow.context import RunContext
from bot.github.adapter import GitHubAdapter
from bot.github.approval import Approval
from bot.github.models import STATUS_CONTEXT, PendingRelease
from bot.github.summary import published_marker, render_doi_comment
from bot.zenodo import drafts
from bot.zenodo.models import Record

# The steps after an approval, in order; a test crashes the run after each and checks a rerun finishes.
PUBLISH_STEPS: tuple[str, ...] = ("publish", "tag", "release", "status", "announce")


def concept_doi(record: Record) -> str | None:
    parent = (record.raw.get("parent") or {}).get("pids", {}).get("doi", {})
    identifier = parent.get("identifier")
    return str(identifier) if identifier else None


def publish_release(
    ctx: RunContext, gh: GitHubAdapter, approval: Approval, pending: PendingRelease, notes: str,
    approving_pr: int | None = None,
) -> Record:
    """Publish the approved draft, then tag, release, set the status and post the DOI on every PR."""
    tag = f"{ctx.config.github.tag_prefix}{approval.version}"
    tagged = gh.tag_commit(tag)
    if tagged is not None and tagged != approval.commit_sha:
        raise Finding(
            f"tag {tag} already points at {tagged[:12]}, not at the release's commit {approval.commit_sha[:12]}",
            hint="delete the stray tag if it was made by mistake, then approve again; nothing was published",
        )
    record = drafts.publish_draft(
        ctx.zenodo,
        approval.draft_id,
        expected_files=pending.checksums(),
        version=approval.version,
        publication_date=ctx.today,
        dry_run=ctx.dry_run,
        # what the curator approved: checked against the draft right before Zenodo publishes it
        expected_content=pending.content_digest or None,
    )
    if ctx.dry_run:  # verified and listed the Zenodo writes; name the GitHub ones and stop
        ctx.console.print(f"dry run (GitHub): tag {tag} at {approval.commit_sha[:12]}, release {tag}, status "
                          f"on {approval.commit_sha[:12]}, the DOI on PR(s) {', '.join(map(str, approval.prs))}",
                          markup=False)
        return record
    steps.finished("publish")
    doi = record.doi or approval.doi
    gh.create_tag(tag, approval.commit_sha, f"SCoPe catalog {approval.version} ({doi})")
    steps.finished("tag")
    badge = f"[![DOI](https://zenodo.org/badge/DOI/{doi}.svg)](https://doi.org/{doi})"
    gh.create_or_update_release(tag, f"SCoPe catalog {approval.version}", f"{badge}\n\n{notes}")
    steps.finished("release")
    gh.set_status(approval.commit_sha, "success", STATUS_CONTEXT, f"published {approval.version}: {doi}",
                  record.html_url)
    steps.finished("status")
    # The approving PR's announcement goes last: its presence marks the whole release as done.
    for number in sorted(approval.prs, key=lambda n: n == approving_pr):
        gh.upsert_sticky(number, published_marker(approval.version),
                         render_doi_comment(approval.version, doi, concept_doi(record), approval.prs))
    steps.finished("announce")
    return record
