"""Approval on the GitHub side: a comment on the server, read, parsed and checked with real answers."""

from __future__ import annotations

from bot.github.adapter import GitHubAdapter
from bot.github.approval import Approval, ApprovalFacts, Refusal, authorize, parse_approval
from bot.github.models import DraftFile
from bot.github.summary import SUMMARY_MARKER, SummaryState, parse_state, render_refusal, render_summary
from bot.local.github.state import fake_sha

COMMAND = "/release publish"
CURATORS = ("bfhealy", "mcoughlin", "tess", "alice")
FILES = {"fields.json": DraftFile("e" * 32, 20, "replaced")}


def _decide(
    adapter: GitHubAdapter, pr: int, comment_id: int, *, fields_dir: str = "fields/"
) -> Approval | Refusal:
    """What a handler does: read the comment and the world, then let ``authorize`` decide."""
    comment = adapter.comment(comment_id)
    request = parse_approval(comment.body, COMMAND)
    assert request is not None, "every comment in these tests is addressed to the bot"
    if isinstance(request, Refusal):
        return request
    sticky = adapter.find_sticky(pr, SUMMARY_MARKER)
    pending = parse_state(sticky.body) if sticky else None
    head = adapter.branch_head(adapter.default_branch())
    changed = pending is not None and any(
        f.path.startswith(fields_dir) for f in adapter.changed_files_between(pending.commit_sha, head)
    )
    return authorize(request, ApprovalFacts(
        commenter=comment.author,
        permission=adapter.permission(comment.author),
        pr_author=adapter.pull(pr).author,
        curators=CURATORS,
        min_permission="write",
        allow_author=False,
        pending=pending,
        action="created",
        main_head_sha=head,
        fields_changed_since_summary=changed,
        draft_files={"fields.json": "md5:" + "e" * 32},
        draft_published=False,
    ))


def test_who_may_approve_is_asked_of_github(adapter, github_server):
    merge = github_server.merge_pull(1)
    state = SummaryState(
        draft_id="5150",
        version="v1.1.0",
        doi="10.5281/zenodo.5150",
        concept_record="8410825",
        commit_sha=merge,
        files=FILES,
        prs=(1,),
    )
    adapter.upsert_sticky(1, SUMMARY_MARKER, render_summary(state, "notes"))

    def comment(login: str, body: str = f"{COMMAND} 5150") -> int:
        return github_server.post_comment_as(login, 1, body)["id"]

    # tess is listed as a curator but only has triage access: GitHub's answer decides
    assert _decide(adapter, 1, comment("tess")).code == "no-permission"
    # alice is listed too, but is not a collaborator...
    assert _decide(adapter, 1, comment("alice")).code == "no-permission"
    # ...and once she has write access, she still wrote pull request #1: GitHub names her its author
    github_server.set_permission("alice", "write")
    assert _decide(adapter, 1, comment("alice")).code == "own-pr"
    # a wrong draft id, and hostile text, are refused with a reply that quotes nothing
    assert _decide(adapter, 1, comment("mcoughlin", f"{COMMAND} 5151")).code == "wrong-draft"
    hostile = _decide(adapter, 1, comment("mcoughlin", f"{COMMAND} 5150 @everyone <img src=x>"))
    assert hostile.code == "extra-text"
    assert "@everyone" not in render_refusal(hostile) and "<img" not in render_refusal(hostile)
    # a maintainer (reported by GitHub as "write", role maintain) is accepted
    ok = _decide(adapter, 1, comment("mcoughlin"))
    assert isinstance(ok, Approval) and ok.curator == "mcoughlin" and ok.commit_sha == merge

    # a new push touching the field files makes the same approval stale...
    newer = github_server.add_commit(fake_sha("after", 1), [merge], {"fields/field_500.csv": "added"})
    github_server.set_branch("main", newer)
    assert _decide(adapter, 1, comment("mcoughlin")).code == "stale"
    # ...but a push that leaves them alone does not
    github_server.set_branch("main", merge)
    docs = github_server.add_commit(fake_sha("after", 2), [merge], {"README.md": "modified"})
    github_server.set_branch("main", docs)
    assert isinstance(_decide(adapter, 1, comment("mcoughlin")), Approval)
