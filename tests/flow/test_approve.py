"""The approval stage's rules, as ``bot.flow.approve.judge`` applies them: a comment on the bundled GitHub
server, read and checked with GitHub's real answers, the draft's files from a recording Zenodo fake."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import RecordingZenodo, record

from bot.config import parse_config
from bot.flow.approve import ApprovalComment, judge
from bot.flow.context import RunContext
from bot.github.adapter import GitHubAdapter
from bot.github.approval import Approval, Refusal, parse_approval
from bot.github.models import DraftFile, PendingRelease
from bot.github.summary import SUMMARY_MARKER, render_refusal, render_summary, seal_summary
from bot.integrity import content_digest, state_key
from bot.local.github.sample import ACTIONS_TOKEN
from bot.local.github.state import fake_sha

COMMAND = "/release publish"
CURATORS = ("bfhealy", "mcoughlin", "tess", "alice")
FILES = {"fields.json": DraftFile("e" * 32, 20, "replaced")}
TOKEN = "zenodo-token-for-the-seal"
CONFIG = (Path(__file__).resolve().parents[2] / "release-config.yaml").read_text().replace(
    "    - bfhealy\n    - mcoughlin\n", "".join(f"    - {c}\n" for c in CURATORS))


@pytest.fixture
def adapter(github_server) -> GitHubAdapter:
    return GitHubAdapter(github_server.url, ACTIONS_TOKEN, f"{github_server.owner}/{github_server.repo}")


@pytest.fixture
def ctx(adapter, tmp_path) -> RunContext:
    """A run whose checkout knows none of the server's commits (git questions go to GitHub's API)."""
    latest = record("8410825", "v1.0.0", {"fields.json": "0" * 32}, published=True)
    draft = record("5150", "v1.1.0", {"fields.json": "e" * 32}, published=False, doi="10.5281/zenodo.5150")
    zenodo = RecordingZenodo(latest, {"5150": draft})
    config = parse_config(CONFIG)
    assert tuple(config.approval.curators) == CURATORS
    return RunContext(config, tmp_path, tmp_path, github_client=adapter, zenodo_client=zenodo, zenodo_token=TOKEN)


def _decide(ctx: RunContext, adapter: GitHubAdapter, pr: int, comment_id: int) -> Approval | Refusal:
    """Read the comment from GitHub; a malformed one is refused by the parser, a clean one judged."""
    comment = adapter.comment(comment_id)
    request = parse_approval(comment.body, COMMAND)
    assert request is not None, "every comment in these tests is addressed to the bot"
    if isinstance(request, Refusal):
        return request
    verdict, _, _ = judge(ctx, adapter, ApprovalComment(pr, comment_id, comment.body, comment.author, "created"),
                          request)
    return verdict


def test_who_may_approve_is_asked_of_github(ctx, adapter, github_server):
    merge = github_server.merge_pull(1)
    state = PendingRelease(
        draft_id="5150",
        version="v1.1.0",
        doi="10.5281/zenodo.5150",
        concept_record="8410825",
        commit_sha=merge,
        files=FILES,
        prs=(1,),
        content_digest=content_digest(ctx.zenodo.drafts["5150"].raw, {"fields.json": "e" * 32}),
    )
    adapter.upsert_sticky(1, SUMMARY_MARKER, seal_summary(render_summary(state, "notes"), state_key(TOKEN), 1))

    def comment(login: str, body: str = f"{COMMAND} 5150") -> int:
        return github_server.post_comment_as(login, 1, body)["id"]

    # tess is listed as a curator but only has triage access: GitHub's answer decides
    assert _decide(ctx, adapter, 1, comment("tess")).code == "no-permission"
    # alice is listed too, but is not a collaborator...
    assert _decide(ctx, adapter, 1, comment("alice")).code == "no-permission"
    # ...and once she has write access, she still wrote pull request #1: GitHub names her its author
    github_server.set_permission("alice", "write")
    assert _decide(ctx, adapter, 1, comment("alice")).code == "own-pr"
    # a wrong draft id, and hostile text, are refused with a reply that quotes nothing
    assert _decide(ctx, adapter, 1, comment("mcoughlin", f"{COMMAND} 5151")).code == "wrong-draft"
    hostile = _decide(ctx, adapter, 1, comment("mcoughlin", f"{COMMAND} 5150 @everyone <img src=x>"))
    assert hostile.code == "extra-text"
    assert "@everyone" not in render_refusal(hostile) and "<img" not in render_refusal(hostile)
    # a maintainer (reported by GitHub as "write", role maintain) is accepted
    ok = _decide(ctx, adapter, 1, comment("mcoughlin"))
    assert isinstance(ok, Approval) and ok.curator == "mcoughlin" and ok.commit_sha == merge

    # a new push touching the field files makes the same approval stale...
    newer = github_server.add_commit(fake_sha("after", 1), [merge], {"fields/field_500.csv": "added"})
    github_server.set_branch("main", newer)
    assert _decide(ctx, adapter, 1, comment("mcoughlin")).code == "stale"
    # ...but a push that leaves them alone does not
    github_server.set_branch("main", merge)
    docs = github_server.add_commit(fake_sha("after", 2), [merge], {"README.md": "modified"})
    github_server.set_branch("main", docs)
    assert isinstance(_decide(ctx, adapter, 1, comment("mcoughlin")), Approval)
