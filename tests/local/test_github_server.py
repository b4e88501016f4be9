"""The bundled GitHub server, driven through PyGithub over real loopback HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from github.GithubRetry import GithubRetry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.local import payloads
from bot.local.github.sample import ACTIONS_TOKEN, PEOPLE, READONLY_TOKEN, token_for
from bot.local.github.state import ACTIONS_BOT, Commit, FileChange, StateError, compose_changes
from bot.local.github_server import GitHubServer

FULL_NAME = "scope-ml/scope-catalog"


def client(server: GitHubServer, token: str | None = ACTIONS_TOKEN, **kwargs):
    auth = Auth.Token(token) if token else None
    # PyGithub spaces requests 0.25 s apart (writes 1 s) by default: needless against a local server.
    return Github(base_url=server.url, auth=auth, retry=kwargs.pop("retry", None), seconds_between_requests=0,
                  seconds_between_writes=0, **kwargs)


def repo_as(server: GitHubServer, login_or_token: str):
    token = login_or_token if login_or_token.startswith("gh") else token_for(login_or_token)
    return client(server, token).get_repo(FULL_NAME)


# ---- repository, auth ------------------------------------------------------------------------------
def test_repository_shape(github_repo, github_server):
    assert github_repo.full_name == FULL_NAME
    assert github_repo.default_branch == "main"
    assert github_repo.owner.login == "scope-ml"
    assert github_repo.html_url.startswith(github_server.url)
    assert github_repo.created_at.tzinfo is not None


def test_unknown_and_missing_tokens_are_bad_credentials(github_server):
    for token in ("not-a-token", None):
        with pytest.raises(BadCredentialsException) as err:
            client(github_server, token).get_repo(FULL_NAME)
        assert err.value.status == 401
        assert err.value.data["message"] == "Bad credentials"
    assert [c[2] for c in github_server.calls] == [401, 401]


def test_other_repository_and_unknown_path_are_not_found(github_server):
    with pytest.raises(UnknownObjectException):
        client(github_server).get_repo("scope-ml/other")
    answer = requests.get(f"{github_server.url}/nothing/here",
                          headers={"Authorization": f"token {ACTIONS_TOKEN}"}, timeout=10)
    assert answer.status_code == 404
    assert answer.json()["message"] == "Not Found" and "documentation_url" in answer.json()


def test_enterprise_prefix_is_accepted(github_server):
    repo = Github(base_url=f"{github_server.url}/api/v3", auth=Auth.Token(ACTIONS_TOKEN), retry=None,
                  seconds_between_requests=0).get_repo(FULL_NAME)
    assert repo.default_branch == "main"


def test_actions_token_cannot_read_user_but_personal_tokens_can(github_server):
    with pytest.raises(GithubException) as err:
        _ = client(github_server).get_user().login
    assert err.value.status == 403
    assert err.value.data["message"] == "Resource not accessible by integration"
    assert client(github_server, token_for("bfhealy")).get_user().login == "bfhealy"
    assert client(github_server).get_user("alice").type == "User"
    assert client(github_server).get_user(ACTIONS_BOT).type == "Bot"


def test_read_only_token_reads_but_every_write_is_refused(github_server):
    repo = repo_as(github_server, READONLY_TOKEN)
    pull = repo.get_pull(1)
    assert pull.title.startswith("Add field 298")
    sha = github_server.sample.root_sha
    writes = [
        lambda: pull.create_issue_comment("hello"),
        lambda: repo.get_commit(sha).create_status("success", context="release-bot"),
        lambda: repo.create_git_ref("refs/tags/x", sha),
        lambda: repo.create_git_release("x", "x", "x"),
    ]
    for write in writes:
        with pytest.raises(GithubException) as err:
            write()
        assert err.value.status == 403
        assert err.value.data["message"] == "Resource not accessible by integration"
    assert github_server.comments(1) == [] and github_server.statuses(sha) == []


def test_users_without_push_access_cannot_tag_or_release(github_server):
    sha = github_server.sample.root_sha
    for login in ("alice", "bob", "tess"):
        with pytest.raises(GithubException) as err:
            repo_as(github_server, login).create_git_ref(f"refs/tags/by-{login}", sha)
        assert err.value.status == 403
    repo_as(github_server, "dwarrick").create_git_ref("refs/tags/by-dwarrick", sha)
    assert github_server.tags()["by-dwarrick"] == sha


# ---- pulls -----------------------------------------------------------------------------------------
def test_pull_request_fields(github_repo, github_server):
    pull = github_repo.get_pull(1)
    sample = github_server.sample
    assert (pull.number, pull.user.login, pull.state, pull.merged) == (1, "alice", "open", False)
    assert [label.name for label in pull.labels] == ["catalog"]
    assert pull.head.sha == sample.pr_head_sha and pull.base.sha == sample.root_sha
    assert pull.head.ref == "field-298" and pull.base.ref == "main"
    assert pull.html_url == f"{github_server.url}/{FULL_NAME}/pull/1"
    assert pull.merge_commit_sha is None and pull.merged_at is None
    assert sorted((f.filename, f.status) for f in pull.get_files()) == [
        ("fields/field_297.csv", "modified"), ("fields/field_298.csv", "added")]
    assert [c.sha for c in pull.get_commits()] == [sample.pr_head_sha]
    issue = github_repo.get_issue(1)
    assert issue.pull_request is not None and [label.name for label in issue.get_labels()] == ["catalog"]


def test_merge_links_commit_to_pull_and_moves_main(github_repo, github_server):
    head = github_server.sample.pr_head_sha
    assert [p.number for p in github_repo.get_commit(head).get_pulls()] == [1]  # open pull, not on main yet
    merge_sha = github_server.merge_pull(1)
    pull = github_repo.get_pull(1)
    assert pull.merged and pull.state == "closed" and pull.merge_commit_sha == merge_sha
    assert github_repo.get_git_ref("heads/main").object.sha == merge_sha
    assert github_repo.get_branch("main").commit.sha == merge_sha
    assert [p.number for p in github_repo.get_commit(merge_sha).get_pulls()] == [1]
    commit = github_repo.get_commit(merge_sha)
    assert commit.parents[0].sha == github_server.sample.root_sha
    assert sorted(f.filename for f in commit.files) == ["fields/field_297.csv", "fields/field_298.csv"]
    with pytest.raises(StateError, match="already merged"):
        github_server.merge_pull(1)


def test_pull_state_filter_and_merged_builder(github_repo, github_server):
    github_server.add_pull(2, "Drop field 296", "bob", files={"fields/field_296.csv": "removed"},
                           merged=True, merge_commit_sha="ab" * 20)
    assert [p.number for p in github_repo.get_pulls(state="open")] == [1]
    assert [p.number for p in github_repo.get_pulls(state="closed")] == [2]
    assert sorted(p.number for p in github_repo.get_pulls(state="all")) == [1, 2]
    assert github_repo.get_pull(2).merge_commit_sha == "ab" * 20
    assert github_server.branch_sha() == "ab" * 20


def test_fork_pull_request_names_the_fork_as_head(github_repo, github_server):
    github_server.add_pull(3, "Field 301 from a fork", "alice", files={"fields/field_301.csv": "added"},
                           fork=True)
    pull = github_repo.get_pull(3)
    assert pull.head.repo.full_name == "alice/scope-catalog" and pull.head.repo.fork
    assert pull.base.repo.full_name == FULL_NAME and not pull.base.repo.fork


def test_malformed_json_is_a_400(github_server):
    answer = requests.post(f"{github_server.url}/repos/{FULL_NAME}/issues/1/comments", data=b"{not json",
                           headers={"Authorization": f"token {ACTIONS_TOKEN}"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["message"] == "Problems parsing JSON"
    assert github_server.comments(1) == []


def test_unknown_pull_is_not_found(github_repo):
    with pytest.raises(UnknownObjectException):
        github_repo.get_pull(99)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(min_value=0, max_value=120), per_page=st.integers(min_value=1, max_value=100))
def test_pull_files_paginate_with_link_headers(github_bare_server, count, per_page):
    server = github_bare_server
    server.add_token("t", ACTIONS_BOT)
    if server.branch_sha() is None:
        server.set_branch("main", server.add_commit(parents=[], files={"README.md": "added"}))
    number = len(server.issues) + 1
    names = [f"fields/field_{i:04d}.csv" for i in range(count)]
    server.add_pull(number, "Many fields", "alice", files=dict.fromkeys(names, "added"))
    before = len(server.calls)
    files = client(server, "t", per_page=per_page, lazy=True).get_repo(FULL_NAME).get_pull(number).get_files()
    assert [f.filename for f in files] == names
    pages = [c for c in server.calls[before:] if c[1].endswith("/files")]
    assert len(pages) == max(1, -(-count // per_page))


# ---- issue comments and reactions -------------------------------------------------------------------
def test_comments_create_list_edit_delete(github_repo, github_server):
    pull = github_repo.get_pull(1)
    mine = pull.create_issue_comment("<!-- release-bot:summary -->\nfirst")
    assert mine.user.login == ACTIONS_BOT and mine.user.type == "Bot"
    theirs = github_server.post_comment_as("alice", 1, "looks good")
    assert [c.id for c in pull.get_issue_comments()] == [mine.id, theirs["id"]]
    created = mine.created_at
    mine.edit("<!-- release-bot:summary -->\nsecond")
    again = github_repo.get_issue(1).get_comment(mine.id)
    assert again.body.endswith("second") and again.updated_at > created
    assert github_server.comments(1)[0]["body"].endswith("second")
    mine.delete()
    assert [c["id"] for c in github_server.comments(1)] == [theirs["id"]]


def test_only_the_author_or_a_writer_may_edit(github_server):
    comment = github_server.post_comment_as("alice", 1, "original")
    for login in ("bob", ACTIONS_BOT):  # read access; the Actions bot never edits others' comments here
        other = repo_as(github_server, login).get_issue(1).get_comment(comment["id"])
        with pytest.raises(GithubException) as err:
            other.edit("hijacked")
        assert err.value.status == 403
    assert github_server.comments(1)[0]["body"] == "original"
    repo_as(github_server, "bfhealy").get_issue(1).get_comment(comment["id"]).edit("tidied by an admin")
    assert github_server.comments(1)[0]["body"] == "tidied by an admin"
    # maintain (and write) access may edit anyone's comment, as on GitHub
    repo_as(github_server, "mcoughlin").get_issue(1).get_comment(comment["id"]).edit("by a maintainer")
    assert github_server.comments(1)[0]["body"] == "by a maintainer"
    edited = github_server.edit_comment_as("alice", comment["id"], "by alice")
    assert edited["body"] == "by alice" and edited["updated_at"] > edited["created_at"]
    with pytest.raises(StateError):
        github_server.edit_comment_as("bob", comment["id"], "no")


def test_graphql_tells_who_edited_a_comment(github_server):
    from bot.github.adapter import GitHubAdapter

    untouched = github_server.post_comment_as(ACTIONS_BOT, 1, "the bot's words")
    comment = github_server.post_comment_as(ACTIONS_BOT, 1, "the bot's words")
    github_server.edit_comment_as("mcoughlin", comment["id"], "a maintainer's words")
    github_server.edit_comment_as("bfhealy", comment["id"], "an admin's words")
    gh = GitHubAdapter(github_server.url, ACTIONS_TOKEN, FULL_NAME, retries=0)
    assert gh.comment_edits(gh.comment(untouched["id"])) == []
    edits = gh.comment_edits(gh.comment(comment["id"]))
    # the creation first (GraphQL's Bot.login "github-actions" given back as REST spells it), then each edit
    assert [e.editor for e in edits] == [ACTIONS_BOT, "mcoughlin", "bfhealy"]
    assert [e.edited_at for e in edits] == sorted(e.edited_at for e in edits)
    raw = requests.post(f"{github_server.url}/graphql", json={"query": "{ viewer { login } }"},
                        headers={"Authorization": f"bearer {READONLY_TOKEN}"}, timeout=10)
    assert raw.status_code == 200 and raw.json()["errors"]  # what it cannot answer is a GraphQL error


def test_comment_bodies_are_validated(github_repo):
    issue = github_repo.get_issue(1)
    for body in ("", "x" * 65537):
        with pytest.raises(GithubException) as err:
            issue.create_comment(body)
        assert err.value.status == 422 and err.value.data["message"] == "Validation Failed"
    assert issue.create_comment("x" * 65536).body == "x" * 65536
    with pytest.raises(GithubException) as err:
        issue.create_comment("é" * 65537)  # characters, not bytes
    assert err.value.data["errors"] == [{"resource": "IssueComment", "code": "unprocessable", "field": "data",
                                         "message": "Body is too long (maximum is 65536 characters)"}]
    fits = issue.create_comment("é" * 65536)
    with pytest.raises(GithubException) as err:
        fits.edit("y" * 65537)  # an edit has the same limit
    assert err.value.status == 422


def test_reactions_new_repeat_and_invalid(github_repo, github_server):
    comment_id = github_server.post_comment_as("bfhealy", 1, "/release publish 123")["id"]
    comment = github_repo.get_issue(1).get_comment(comment_id)
    first = comment.create_reaction("eyes")
    second = comment.create_reaction("eyes")
    assert first.id == second.id and first.user.login == ACTIONS_BOT
    statuses = [c[2] for c in github_server.calls if c[1].endswith("/reactions")]
    assert statuses == [201, 200]
    comment.create_reaction("rocket")
    with pytest.raises(GithubException) as err:
        comment.create_reaction("thumbsup")
    assert err.value.status == 422 and err.value.data["errors"][0]["field"] == "content"
    assert sorted(r.content for r in comment.get_reactions()) == ["eyes", "rocket"]
    assert sorted(r["content"] for r in github_server.reactions(comment_id)) == ["eyes", "rocket"]
    assert github_repo.get_issue(1).get_comment(comment_id).raw_data["reactions"]["total_count"] == 2
    comment.delete_reaction(first.id)
    assert [r["content"] for r in github_server.reactions(comment_id)] == ["rocket"]


# ---- collaborators ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("login", "permission", "role_name"), [
    ("bfhealy", "admin", "admin"),
    ("mcoughlin", "write", "maintain"),  # GitHub reports maintain as write
    ("dwarrick", "write", "write"),
    ("tess", "read", "triage"),  # and triage as read
    ("bob", "read", "read"),
    ("alice", "none", "none"),
])
def test_permission_quirks(github_repo, login, permission, role_name):
    assert github_repo.get_collaborator_permission(login) == permission
    assert github_repo.get_collaborator_role_name(login) == role_name


def test_permission_of_unknown_user_is_not_found_and_roles_can_change(github_repo, github_server):
    with pytest.raises(UnknownObjectException):
        github_repo.get_collaborator_permission("nobody-here")
    github_server.set_permission("alice", "write")
    assert github_repo.get_collaborator_permission("alice") == "write"
    github_server.set_permission("alice", None)
    assert github_repo.get_collaborator_permission("alice") == "none"
    with pytest.raises(StateError, match="unknown role"):
        github_server.set_permission("alice", "owner")
    assert all(github_server.user(login) for login in PEOPLE)  # every sample person is a known user


# ---- statuses --------------------------------------------------------------------------------------
def test_statuses_create_list_and_combine(github_repo, github_server):
    sha = github_server.sample.pr_head_sha
    commit = github_repo.get_commit(sha)
    commit.create_status("pending", context="release-bot/validate", description="checking")
    commit.create_status("failure", context="release-bot/validate", description="2 errors",
                         target_url="https://example.org/run/1")
    commit.create_status("success", context="release-bot/summary")
    listed = list(commit.get_statuses())
    assert [s.state for s in listed] == ["success", "failure", "pending"]  # newest first
    assert listed[1].target_url == "https://example.org/run/1" and listed[1].creator.login == ACTIONS_BOT
    combined = commit.get_combined_status()
    assert combined.state == "failure" and combined.total_count == 2
    assert [s["state"] for s in github_server.statuses(sha)] == ["success", "failure", "pending"]


def test_statuses_are_validated(github_repo, github_server):
    commit = github_repo.get_commit(github_server.sample.root_sha)
    with pytest.raises(GithubException) as err:
        commit.create_status("done")
    assert err.value.status == 422 and err.value.data["errors"][0]["field"] == "state"
    with pytest.raises(GithubException) as err:
        commit.create_status("success", description="x" * 141)
    assert err.value.status == 422
    with pytest.raises(GithubException) as err:
        github_repo.get_commit("0" * 40)
    assert err.value.status == 422


# ---- refs, tags, releases --------------------------------------------------------------------------
def test_tags_lightweight_and_annotated(github_repo, github_server):
    sha = github_server.sample.root_sha
    assert github_repo.get_git_ref("heads/main").object.sha == sha
    ref = github_repo.create_git_ref("refs/tags/catalog-v1.0.1", sha)
    assert ref.object.type == "commit"
    with pytest.raises(GithubException) as err:
        github_repo.create_git_ref("refs/tags/catalog-v1.0.1", sha)
    assert err.value.status == 422 and err.value.data["message"] == "Reference already exists"
    tag = github_repo.create_git_tag("catalog-v1.1.0", "SCoPe catalog v1.1.0", sha, "commit")
    github_repo.create_git_ref("refs/tags/catalog-v1.1.0", tag.sha)
    assert github_repo.get_git_ref("tags/catalog-v1.1.0").object.type == "tag"
    assert github_repo.get_git_tag(tag.sha).object.sha == sha
    assert github_server.tags() == {"catalog-v1.0.0": sha, "catalog-v1.0.1": sha, "catalog-v1.1.0": sha}
    assert {t.name: t.commit.sha for t in github_repo.get_tags()} == github_server.tags()
    assert sorted(r.ref for r in github_repo.get_git_matching_refs("tags/catalog-v1.0")) == [
        "refs/tags/catalog-v1.0.0", "refs/tags/catalog-v1.0.1"]
    with pytest.raises(UnknownObjectException):
        github_repo.get_git_ref("tags/nope")
    with pytest.raises(GithubException) as err:
        github_repo.create_git_ref("refs/tags/bad", "f" * 40)
    assert err.value.status == 422


def test_releases_create_find_and_refuse_duplicates(github_repo, github_server):
    merge_sha = github_server.merge_pull(1)
    release = github_repo.create_git_release("catalog-v1.1.0", "SCoPe catalog v1.1.0", "notes")
    assert github_server.tags()["catalog-v1.1.0"] == merge_sha  # made at the default branch's head
    found = github_repo.get_release("catalog-v1.1.0")
    assert (found.id, found.name, found.body, found.draft) == (
        release.id, "SCoPe catalog v1.1.0", "notes", False)
    with pytest.raises(GithubException) as err:
        github_repo.create_git_release("catalog-v1.1.0", "again", "again")
    assert err.value.status == 422 and err.value.data["errors"][0]["code"] == "already_exists"
    found.update_release("SCoPe catalog v1.1.0", "better notes")
    assert github_repo.get_release(release.id).body == "better notes"
    assert [r.tag_name for r in github_repo.get_releases()] == ["catalog-v1.1.0"]
    assert github_repo.get_latest_release().id == release.id
    assert [r["tag_name"] for r in github_server.releases()] == ["catalog-v1.1.0"]
    with pytest.raises(UnknownObjectException):
        github_repo.get_release("catalog-v9")


def test_draft_release_does_not_tag_until_published(github_repo, github_server):
    draft = github_repo.create_git_release("catalog-v2.0.0", "v2", "draft", draft=True)
    assert "catalog-v2.0.0" not in github_server.tags()
    draft.update_release("v2", "published", draft=False)
    assert github_server.tags()["catalog-v2.0.0"] == github_server.branch_sha()


# ---- compare ---------------------------------------------------------------------------------------
def test_compare_composes_the_commits_in_between(github_repo, github_server):
    root = github_server.sample.root_sha
    a = github_server.add_commit(None, [root], {"fields/field_300.csv": "added",
                                                "fields/field_296.csv": "modified"})
    b = github_server.add_commit(None, [a], {"fields/field_300.csv": "removed",
                                             "fields/field_299.csv": ("renamed", "fields/field_297.csv")})
    github_server.set_branch("main", b)
    cmp = github_repo.compare("catalog-v1.0.0", "main")
    assert (cmp.status, cmp.ahead_by, cmp.behind_by, cmp.total_commits) == ("ahead", 2, 0, 2)
    assert [(f.filename, f.status, f.previous_filename) for f in cmp.files] == [
        ("fields/field_296.csv", "modified", None),
        ("fields/field_299.csv", "renamed", "fields/field_297.csv")]
    assert [c.sha for c in cmp.commits] == [a, b]
    assert github_repo.compare("main", "catalog-v1.0.0").status == "behind"
    assert github_repo.compare(root, root).status == "identical"
    side = github_server.sample.pr_head_sha
    assert github_repo.compare(side, b).status == "diverged"


# One step of a random history: (operation, which existing path, whether to reuse a removed path).
OPS = st.lists(st.tuples(st.sampled_from(["add", "modify", "remove", "rename"]),
                         st.integers(0, 50), st.booleans()), max_size=25)


@settings(max_examples=200, deadline=None)
@given(ops=OPS, base_size=st.integers(0, 5))
def test_composed_changes_equal_the_tree_difference(ops, base_size):
    """Whatever the commits did, the net change equals comparing the trees before and after."""
    base = {f"f{i}": (f"f{i}", 0) for i in range(base_size)}  # path -> (lineage, version)
    tree, commits, removed, fresh = dict(base), [], [], iter(range(1, 10**6))
    for op, pick, reuse in ops:
        paths = sorted(tree)
        if op == "add" or not paths:
            path = removed.pop() if reuse and removed else f"n{next(fresh)}"
            tree[path] = (path + "+", next(fresh))
            change = FileChange(path, "added")
        elif op == "modify":
            path = paths[pick % len(paths)]
            tree[path] = (tree[path][0], next(fresh))
            change = FileChange(path, "modified")
        elif op == "remove":
            path = paths[pick % len(paths)]
            del tree[path]
            removed.append(path)
            change = FileChange(path, "removed")
        else:
            old, path = paths[pick % len(paths)], f"r{next(fresh)}"
            tree[path] = tree.pop(old)
            removed.append(old)
            change = FileChange(path, "renamed", old)
        commits.append(Commit(str(len(commits)), ["p"], [change], "m", None, "n", "e", "d"))
    expected = {}
    lineage_of_base = {lin: path for path, (lin, _) in base.items()}
    for path in sorted(set(base) | set(tree)):
        if path in base and path not in tree:
            expected[path] = ("removed", None)
        elif path in tree and path not in base:
            source = lineage_of_base.get(tree[path][0])
            if source and source not in tree:
                expected[path] = ("renamed", source)
            else:
                expected[path] = ("added", None)
        elif base[path] != tree[path]:
            expected[path] = ("modified", None)
    for status, source in list(expected.values()):
        if status == "renamed":
            expected.pop(source, None)
    got = {c.filename: (c.status, c.previous_filename) for c in compose_changes(commits)}
    assert got == expected


# ---- faults ----------------------------------------------------------------------------------------
def test_fault_kinds_reach_the_client(github_server):
    repo = repo_as(github_server, ACTIONS_BOT)
    github_server.faults.add("GET", r"/pulls/1$", "500")
    github_server.faults.add("GET", r"/pulls/1$", "502")
    github_server.faults.add("GET", r"/pulls/1$", "secondary-rate-limit", retry_after=7)
    github_server.faults.add("GET", r"/pulls/1$", "429", retry_after=3)
    with pytest.raises(GithubException) as err:
        repo.get_pull(1)
    assert err.value.status == 500
    with pytest.raises(GithubException) as err:
        repo.get_pull(1)
    assert err.value.status == 502 and "Bad Gateway" in str(err.value.data)
    with pytest.raises(RateLimitExceededException) as err:
        repo.get_pull(1)
    assert err.value.status == 403 and err.value.headers["retry-after"] == "7"
    with pytest.raises(GithubException) as err:
        repo.get_pull(1)
    assert err.value.status == 429 and err.value.headers["retry-after"] == "3"
    assert repo.get_pull(1).number == 1  # every fault used up
    assert [c[2] for c in github_server.calls if c[1].endswith("/pulls/1")] == [500, 502, 403, 429, 200]


def test_dropped_connection_and_after_fault(github_server):
    repo = repo_as(github_server, ACTIONS_BOT)
    github_server.faults.add("GET", r"/pulls/1$", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        repo.get_pull(1)
    github_server.faults.add("POST", r"/issues/1/comments$", "after", status=502)
    with pytest.raises(GithubException) as err:
        repo.get_issue(1).create_comment("posted, but the answer was lost")
    assert err.value.status == 502
    assert [c["body"] for c in github_server.comments(1)] == ["posted, but the answer was lost"]


def test_retrying_client_gets_through_transient_faults(github_server):
    github_server.faults.add("GET", r"/pulls/1$", "502", times=2)
    github_server.faults.add("GET", r"/pulls/1/files$", "secondary-rate-limit", retry_after=0)
    retry = GithubRetry(total=3, backoff_factor=0, secondary_rate_wait=0)
    repo = client(github_server, retry=retry).get_repo(FULL_NAME)
    pull = repo.get_pull(1)
    assert pull.number == 1 and len(list(pull.get_files())) == 2
    assert [c[2] for c in github_server.calls if "/pulls/1" in c[1]] == [502, 502, 200, 403, 200]
    github_server.faults.add("*", ".", "500", times=0)
    github_server.faults.clear()
    assert repo.get_pull(1).number == 1


def test_unknown_fault_kind_is_refused(github_server):
    with pytest.raises(ValueError, match="unknown fault kind"):
        github_server.faults.add("GET", ".", "teapot")


# ---- builders --------------------------------------------------------------------------------------
def test_builders_refuse_inconsistent_history(github_bare_server):
    server = github_bare_server
    with pytest.raises(StateError, match="parent"):
        server.add_commit("a" * 40, ["b" * 40])
    with pytest.raises(StateError, match="status"):
        server.add_commit("a" * 40, [], {"x": "deleted"})
    with pytest.raises(StateError, match="previous path"):
        server.add_commit("a" * 40, [], {"x": "renamed"})
    with pytest.raises(StateError, match="base_sha"):
        server.add_pull(1, "t", "alice")
    root = server.add_commit(None, [], {"x": "added"})
    server.set_branch("main", root)
    server.add_pull(1, "t", "alice")
    with pytest.raises(StateError, match="already exists"):
        server.add_issue(1, "dup", "bob")


def test_plain_issue_is_not_a_pull(github_bare_server):
    server = github_bare_server
    server.add_token("t", "bob")
    server.add_issue(5, "Field 300 looks off", "bob", labels=["question"])
    issue = client(server, "t", lazy=True).get_repo(FULL_NAME).get_issue(5)
    assert issue.pull_request is None and issue.user.login == "bob"
    assert [label.name for label in issue.labels] == ["question"]


# ---- event payloads --------------------------------------------------------------------------------
def test_pull_request_event_matches_the_server(github_server, tmp_path):
    event = payloads.pull_request_event("synchronize", github_server.pull_payload(1),
                                        github_server.repo_payload(), "alice",
                                        before=github_server.sample.root_sha)
    assert event["number"] == 1 and event["pull_request"]["head"]["sha"] == github_server.sample.pr_head_sha
    assert event["after"] == github_server.sample.pr_head_sha and event["sender"]["login"] == "alice"
    env = payloads.event_env("pull_request", event, api_url=github_server.url, token=READONLY_TOKEN,
                             workdir=tmp_path)
    assert json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text()) == event
    assert env["GITHUB_REF"] == "refs/pull/1/merge" and env["GITHUB_HEAD_REF"] == "field-298"
    assert env["GITHUB_SHA"] == github_server.sample.pr_head_sha and env["GITHUB_REPOSITORY"] == FULL_NAME
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == ""
    # the payload's URLs lead back to the server
    pull = client(github_server).get_repo(FULL_NAME).get_pull(event["number"])
    assert pull.url == event["pull_request"]["url"]
    with pytest.raises(ValueError, match="unknown pull_request action"):
        payloads.pull_request_event("merged", github_server.pull_payload(1), FULL_NAME, "alice")


def test_push_event_lists_the_merged_commits(github_server, tmp_path):
    before = github_server.branch_sha()
    after = github_server.merge_pull(1)
    event = payloads.push_event("refs/heads/main", before, after, github_server.repo_payload(), "bfhealy",
                                github_server.push_commits(before, after))
    assert [c["id"] for c in event["commits"]] == [after] and event["head_commit"]["id"] == after
    assert event["head_commit"]["added"] == ["fields/field_298.csv"]
    assert event["head_commit"]["modified"] == ["fields/field_297.csv"]
    assert event["repository"]["master_branch"] == "main" and event["pusher"]["name"] == "bfhealy"
    env = payloads.event_env("push", event, api_url=github_server.url, token=ACTIONS_TOKEN, workdir=tmp_path)
    assert (env["GITHUB_SHA"], env["GITHUB_REF"]) == (after, "refs/heads/main")
    assert env["GITHUB_ACTOR"] == "bfhealy"
    with pytest.raises(ValueError, match="full ref"):
        payloads.push_event("main", before, after, FULL_NAME, "bfhealy")


def test_issue_comment_event_and_its_environment(github_server, tmp_path):
    comment = github_server.post_comment_as("bfhealy", 1, "/release publish 42")
    event = payloads.issue_comment_event("created", 1, comment["id"], comment["body"], "bfhealy",
                                         repo=github_server.repo_payload(),
                                         issue=github_server.issue_payload(1), comment=comment)
    assert event["issue"]["pull_request"]["url"].endswith("/pulls/1")
    assert event["comment"]["user"]["login"] == "bfhealy"
    assert event["comment"]["body"] == "/release publish 42"
    with pytest.raises(ValueError, match="sha="):
        payloads.event_env("issue_comment", event, api_url=github_server.url, token=ACTIONS_TOKEN,
                           workdir=tmp_path)
    env = payloads.event_env("issue_comment", event, api_url=github_server.url, token=ACTIONS_TOKEN,
                             workdir=tmp_path, sha=github_server.branch_sha())
    assert env["GITHUB_REF"] == "refs/heads/main" and env["GITHUB_EVENT_NAME"] == "issue_comment"
    edited = payloads.issue_comment_event("edited", 7, 99, "new", "eve", is_pull_request=False,
                                          previous_body="old")
    assert "pull_request" not in edited["issue"] and edited["changes"]["body"]["from"] == "old"
    assert edited["repository"]["full_name"] == FULL_NAME


def test_workflow_dispatch_inputs_arrive_as_strings(tmp_path):
    event = payloads.workflow_dispatch_event({"action": "publish", "draft_id": 123, "dry_run": True}, "main",
                                             FULL_NAME, "bfhealy")
    assert event["inputs"] == {"action": "publish", "draft_id": "123", "dry_run": "true"}
    assert event["ref"] == "refs/heads/main"
    env = payloads.event_env("workflow_dispatch", event, api_url="https://api.github.com", token="t",
                             workdir=tmp_path, sha="c" * 40)
    assert env["GITHUB_SERVER_URL"] == "https://github.com" and env["GITHUB_REF_NAME"] == "main"


# ---- the command ------------------------------------------------------------------------------------
def test_serve_github_command_serves_the_sample(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve-github", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = proc.stderr.readline()
        url = first.rsplit(" at ", 1)[1].strip()
        repo = Github(base_url=url, auth=Auth.Token(ACTIONS_TOKEN), retry=None).get_repo(FULL_NAME)
        assert repo.get_pull(1).user.login == "alice"
        rest = "".join(proc.stderr.readline() for _ in range(4))
        assert ACTIONS_TOKEN not in first + rest and "ghp_" not in rest
    finally:
        proc.terminate()
        proc.wait()


# ---- importing a real git history -----------------------------------------------------------------
def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "12+alice@users.noreply.github.com",
           "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.org", "HOME": str(cwd),
           "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_history_imported_from_git(github_bare_server, tmp_path):
    work = tmp_path / "repo"
    (work / "fields").mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main")
    (work / "fields" / "field_296.csv").write_text("a\n1\n")
    (work / "fields" / "field_297.csv").write_text("a\n2\n")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "Initial catalog")
    _git(work, "tag", "-a", "catalog-v1.0.0", "-m", "v1.0.0")
    _git(work, "mv", "fields/field_297.csv", "fields/field_299.csv")
    (work / "fields" / "field_296.csv").write_text("a\n3\n")
    (work / "fields" / "field_300.csv").write_text("a\n4\n")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "Rename 297, rerun 296, add 300")
    head = _git(work, "rev-parse", "HEAD")
    server = github_bare_server
    server.add_token("t", ACTIONS_BOT)
    shas = server.add_commits_from_git(work)
    assert shas[-1] == head and server.branch_sha() == head
    repo = client(server, "t").get_repo(FULL_NAME)
    commit = repo.get_commit(head)
    assert commit.author.login == "alice" and commit.commit.message == "Rename 297, rerun 296, add 300"
    cmp = repo.compare("catalog-v1.0.0", "main")
    assert [(f.filename, f.status, f.previous_filename) for f in cmp.files] == [
        ("fields/field_296.csv", "modified", None),
        ("fields/field_299.csv", "renamed", "fields/field_297.csv"),
        ("fields/field_300.csv", "added", None)]
    assert repo.get_git_ref("tags/catalog-v1.0.0").object.type == "tag"
    with pytest.raises(StateError, match="git repository"):
        server.add_commits_from_git(tmp_path / "missing")


def test_workflow_dispatch_needs_actions_write_a_known_workflow_a_branch_and_declared_inputs(github_server):
    from bot.github.adapter import GitHubAdapter, GitHubError

    github_server.add_workflow("dispatch.yml", {"action": True, "dry_run": False})
    github_server.add_token("ghs_no-actions", ACTIONS_BOT, scopes=frozenset({"contents", "pull-requests"}))
    repo = github_server.repo_payload()["full_name"]

    def adapter(token):
        return GitHubAdapter(github_server.url, token, repo, retries=0)

    with pytest.raises(GitHubError) as err:
        adapter("ghs_no-actions").dispatch_workflow("dispatch.yml", "main", {"action": "draft"})
    assert err.value.status == 403 and "not accessible by integration" in err.value.message
    bot = adapter(ACTIONS_TOKEN)
    cases = [("other.yml", "main", {"action": "draft"}, 404, "Not Found"),
             ("dispatch.yml", "no-such-branch", {"action": "draft"}, 422, "No ref found for: no-such-branch"),
             ("dispatch.yml", "main", {"action": "draft", "x": "1"}, 422, 'Unexpected inputs provided: ["x"]'),
             ("dispatch.yml", "main", {"dry_run": "true"}, 422, "Required input 'action' not provided")]
    for workflow, ref, inputs, status, message in cases:
        with pytest.raises(GitHubError) as err:
            bot.dispatch_workflow(workflow, ref, inputs)
        assert err.value.status == status and message in err.value.message, err.value.message
    assert github_server.dispatches == []
    bot.dispatch_workflow("dispatch.yml", "main", {"action": "draft", "dry_run": "false"})
    assert github_server.dispatches == [{"workflow": "dispatch.yml", "ref": "main", "by": ACTIONS_BOT,
                                         "inputs": {"action": "draft", "dry_run": "false"}}]
    assert [c[2] for c in github_server.calls if c[1].endswith("/dispatches")][-1] == 204
