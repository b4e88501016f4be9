"""The GitHub adapter, through PyGithub, against the bundled GitHub-compatible server."""

from __future__ import annotations

import pytest

from bot.github.adapter import GitHubError
from bot.github.models import ChangedFile, Permission
from bot.local.github.state import ACTIONS_BOT, fake_sha
from bot.trailers import co_authors

MARKER = "<!-- release-bot:summary -->"


# -- pull requests -----------------------------------------------------------------------------------


def test_pull_reads_the_pull_request(adapter, github_server):
    pr = adapter.pull(1)
    sample = github_server.sample
    assert (pr.number, pr.author, pr.labels, pr.state, pr.merged) == (1, "alice", ("catalog",), "open", False)
    assert (pr.head_sha, pr.base_sha) == (sample.pr_head_sha, sample.root_sha)
    assert pr.merge_commit_sha is None
    assert "field 298" in pr.body and pr.html_url.endswith("/pull/1")


def test_pulls_for_a_merge_commit_name_the_merged_pull(adapter, github_server):
    merge_sha = github_server.merge_pull(1)
    pulls = adapter.pulls_for_commit(merge_sha)
    assert [p.number for p in pulls] == [1]
    assert pulls[0].merged is True and pulls[0].merge_commit_sha == merge_sha
    assert adapter.branch_head("main") == merge_sha


def test_pull_files_report_status_and_renames(adapter, github_server):
    base = github_server.sample.root_sha
    github_server.add_pull(
        7,
        "Rename a field file",
        "dwarrick",
        base_sha=base,
        files={
            "fields/field_300.csv": ("renamed", "fields/field_299.csv"),
            "fields/field_296.csv": "removed",
        },
    )
    files = {f.path: f for f in adapter.pull_files(7)}
    assert files["fields/field_300.csv"] == ChangedFile(
        "fields/field_300.csv", "renamed", "fields/field_299.csv"
    )
    assert files["fields/field_296.csv"] == ChangedFile("fields/field_296.csv", "removed", None)


def test_commit_authors_include_co_authors_without_duplicates(adapter, github_server):
    base = github_server.sample.root_sha
    first = github_server.add_commit(
        fake_sha("coauth", 1),
        [base],
        {"fields/field_400.csv": "added"},
        author="dwarrick",
        message="Add 400\n\nCo-authored-by: Bob B <123+bob@users.noreply.github.com>\n"
        "Co-authored-by: Ada Lovelace <ada@example.org>",
    )
    second = github_server.add_commit(
        fake_sha("coauth", 2),
        [first],
        {"fields/field_401.csv": "added"},
        author=None,
        author_name="Grace Hopper",
        author_email="grace@example.org",
        message="Add 401\n\nco-authored-by: DWARRICK <dw@example.org>",
    )
    github_server.add_pull(8, "Two fields", "dwarrick", head_sha=second, base_sha=base)
    assert adapter.pull_commit_authors(8) == ["dwarrick", "bob", "Ada Lovelace", "Grace Hopper"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("x\n\nCo-authored-by: A <1+a-b@users.noreply.github.com>", ["a-b"]),
        ("x\n\nCo-Authored-By:   Name Only", ["Name Only"]),
        ("x\n\nCo-authored-by: <only@example.org>", ["only@example.org"]),
        ("x\n\nSigned-off-by: Someone <s@example.org>", []),
        ("Co-authored-by in the middle of a sentence: no", []),
    ],
)
def test_co_author_trailers(message, expected):
    assert co_authors(message) == expected


# -- the sticky comment ------------------------------------------------------------------------------


def test_sticky_is_only_the_bots_own_comment(adapter, github_server):
    forged = github_server.post_comment_as("bob", 1, f"{MARKER}\nI am the summary now")
    assert adapter.find_sticky(1, MARKER) is None  # a pasted marker is not the bot's comment
    mine = adapter.upsert_sticky(1, MARKER, f"{MARKER}\nthe real summary")
    assert mine.author == ACTIONS_BOT and mine.id != forged["id"]
    assert adapter.find_sticky(1, MARKER) == mine
    bobs = [c for c in github_server.comments(1) if c["id"] == forged["id"]]
    assert bobs[0]["body"] == f"{MARKER}\nI am the summary now"  # untouched


def test_upsert_edits_in_place_and_skips_identical_reruns(adapter, github_server, calls):
    first = adapter.upsert_sticky(1, MARKER, "version one")
    assert first.body == f"{MARKER}\nversion one"  # the marker is added when the body lacks it
    second = adapter.upsert_sticky(1, MARKER, f"{MARKER}\nversion two")
    assert second.id == first.id and second.body == f"{MARKER}\nversion two"
    patches = len(calls("PATCH", "/issues/comments/"))
    third = adapter.upsert_sticky(1, MARKER, f"{MARKER}\nversion two")
    assert third.id == first.id
    assert len(calls("PATCH", "/issues/comments/")) == patches  # nothing new: no write
    bots = [c for c in github_server.comments(1) if c["user"]["login"] == ACTIONS_BOT]
    assert len(bots) == 1


def test_comment_reply_and_reactions(adapter, github_server):
    posted = github_server.post_comment_as("mcoughlin", 1, "/release publish 42")
    comment = adapter.comment(posted["id"])
    assert (comment.author, comment.body) == ("mcoughlin", "/release publish 42")
    assert comment.created_at is not None
    adapter.react(comment.id, "eyes")
    adapter.react(comment.id, "eyes")  # GitHub keeps one per user and content
    adapter.react(comment.id, "rocket")
    assert sorted(r["content"] for r in github_server.reactions(comment.id)) == ["eyes", "rocket"]
    reply = adapter.reply(1, "Published.")
    assert reply.author == ACTIONS_BOT and [c.body for c in adapter.comments(1)][-1] == "Published."
    with pytest.raises(GitHubError, match="not a GitHub reaction"):
        adapter.react(comment.id, "party")


# -- people ------------------------------------------------------------------------------------------


PERMISSIONS = [
    ("bfhealy", "admin", "admin", True),
    ("mcoughlin", "write", "maintain", True),  # GitHub reports maintain as "write"; role_name is exact
    ("dwarrick", "write", "write", True),
    ("tess", "read", "triage", False),
    ("bob", "read", "read", False),
    ("alice", "none", "none", False),  # not a collaborator
    ("nobody-at-all", "none", "none", False),  # unknown to GitHub: 404, read as no access
]


def test_permission_quirks(adapter):
    for login, permission, role, writes in PERMISSIONS:  # one server for all: each start costs a restart
        got = adapter.permission(login)
        assert got == Permission(permission, role), login
        assert got.at_least("write") is writes, login
        assert got.at_least("maintain") is (role in ("maintain", "admin")), login


# -- statuses, branches, compare ---------------------------------------------------------------------


def test_status_is_set_and_long_descriptions_are_cut(adapter, github_server):
    sha = github_server.sample.root_sha
    adapter.set_status(
        sha, "pending", "release-bot/publish", "x" * 500, target_url="https://example.org/run/1"
    )
    adapter.set_status(sha, "success", "release-bot/publish", "published v1.1.0")
    statuses = github_server.statuses(sha)
    assert sorted(s["state"] for s in statuses) == ["pending", "success"]
    cut = next(s for s in statuses if s["state"] == "pending")
    assert len(cut["description"]) == 140 and cut["target_url"] == "https://example.org/run/1"
    with pytest.raises(GitHubError, match="not a commit status state"):
        adapter.set_status(sha, "done", "release-bot", "no")


def test_default_branch_and_compare(adapter, github_server):
    sample = github_server.sample
    assert adapter.default_branch() == "main"
    assert adapter.branch_head("main") == sample.root_sha
    changed = adapter.changed_files_between(sample.root_sha, sample.pr_head_sha)
    assert {(f.path, f.status) for f in changed} == {
        ("fields/field_298.csv", "added"),
        ("fields/field_297.csv", "modified"),
    }
    with pytest.raises(GitHubError) as err:
        adapter.branch_head("no-such-branch")
    assert err.value.status == 404 and err.value.hint


# -- tags and releases -------------------------------------------------------------------------------


def test_tags_are_idempotent_and_never_moved(adapter, github_server):
    sample = github_server.sample
    assert adapter.create_tag("catalog-v1.1.0", sample.pr_head_sha, "SCoPe catalog v1.1.0") is True
    assert adapter.create_tag("catalog-v1.1.0", sample.pr_head_sha, "SCoPe catalog v1.1.0") is False
    assert github_server.tags()["catalog-v1.1.0"] == sample.pr_head_sha
    assert adapter.create_tag(sample.release_tag, sample.root_sha, "again") is False  # seeded annotated tag
    with pytest.raises(GitHubError, match="already points at") as err:
        adapter.create_tag(sample.release_tag, sample.pr_head_sha, "moved?")
    assert err.value.hint
    assert github_server.tags()[sample.release_tag] == sample.root_sha


def test_release_is_created_once_and_updated_in_place(adapter, github_server, calls):
    sample = github_server.sample
    adapter.create_tag("catalog-v1.1.0", sample.pr_head_sha, "v1.1.0")
    url = adapter.create_or_update_release("catalog-v1.1.0", "SCoPe catalog v1.1.0", "first notes")
    again = adapter.create_or_update_release("catalog-v1.1.0", "SCoPe catalog v1.1.0", "better notes")
    assert url == again and url.endswith("/releases/tag/catalog-v1.1.0")
    mine = [r for r in github_server.releases() if r["tag_name"] == "catalog-v1.1.0"]
    assert len(mine) == 1 and mine[0]["body"] == "better notes"
    patches = len(calls("PATCH", "/releases/"))
    adapter.create_or_update_release("catalog-v1.1.0", "SCoPe catalog v1.1.0", "better notes")
    assert len(calls("PATCH", "/releases/")) == patches
