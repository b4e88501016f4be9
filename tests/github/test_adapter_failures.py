"""The GitHub adapter when GitHub fails: retries, no duplicate writes, errors that say what to do."""

from __future__ import annotations

import pytest

from bot.github.adapter import GitHubAdapter, GitHubError
from bot.local.github.sample import READONLY_TOKEN

MARKER = "<!-- release-bot:summary -->"


# -- failures ----------------------------------------------------------------------------------------


def test_server_errors_on_reads_are_retried(adapter, github_server, calls):
    github_server.faults.add("GET", r"/pulls/1$", "502", times=2)
    assert adapter.pull(1).number == 1
    assert [c[2] for c in calls("GET", "/pulls/1")][-3:] == [502, 502, 200]


def test_a_dropped_connection_on_a_read_is_retried(adapter, github_server, calls):
    github_server.faults.add("GET", r"/issues/1/comments$", "drop", times=1)
    assert adapter.comments(1) == []
    assert [c[2] for c in calls("GET", "/issues/1/comments")] == [0, 200]


def test_rate_limits_are_retried_even_for_posts(adapter, github_server):
    github_server.faults.add("POST", r"/issues/1/comments$", "secondary-rate-limit", times=1, retry_after=0)
    github_server.faults.add("GET", r"/pulls/1$", "429", times=1, retry_after=0)
    adapter.reply(1, "after a pause")
    assert adapter.pull(1).number == 1
    assert [c["body"] for c in github_server.comments(1)].count("after a pause") == 1


def test_a_post_that_landed_before_a_502_is_not_repeated(adapter, github_server):
    # The server stores the comment, then answers 502: the adapter finds it instead of posting twice.
    github_server.faults.add("POST", r"/issues/1/comments$", "after", times=1)
    sticky = adapter.upsert_sticky(1, MARKER, "summary")
    github_server.faults.add("POST", r"/issues/1/comments$", "after", times=1)
    reply = adapter.reply(1, "thanks")
    bodies = [c["body"] for c in github_server.comments(1)]
    assert bodies.count(f"{MARKER}\nsummary") == 1 and bodies.count("thanks") == 1
    assert sticky.body == f"{MARKER}\nsummary" and reply.body == "thanks"


def test_a_post_that_failed_is_tried_again(adapter, github_server):
    github_server.faults.add("POST", r"/issues/1/comments$", "500", times=1)
    adapter.reply(1, "second time lucky")
    assert [c["body"] for c in github_server.comments(1)].count("second time lucky") == 1


def test_lasting_failure_becomes_a_github_error(adapter, github_server):
    github_server.faults.add("GET", r"/pulls/1$", "502", times=0)
    with pytest.raises(GitHubError) as err:
        adapter.pull(1)
    assert err.value.status == 502
    assert "read pull request #1" in err.value.message and "<html" not in err.value.message


def test_errors_name_the_call_and_never_show_the_token(github_server):
    token = "ghp_this_token_is_not_known_here"
    bad = GitHubAdapter(github_server.url, token, f"{github_server.owner}/{github_server.repo}")
    with pytest.raises(GitHubError) as err:
        bad.pull(1)
    assert (
        err.value.status == 401 and token not in str(err.value) and "GITHUB_TOKEN" in (err.value.hint or "")
    )
    readonly = GitHubAdapter(github_server.url, READONLY_TOKEN, f"{github_server.owner}/{github_server.repo}")
    with pytest.raises(GitHubError) as err:
        readonly.reply(1, "may I?")
    assert err.value.status == 403 and "permissions" in (err.value.hint or "")
    assert READONLY_TOKEN not in str(err.value)


def test_missing_pull_is_a_404_with_a_hint(adapter):
    with pytest.raises(GitHubError) as err:
        adapter.pull(999)
    assert err.value.status == 404 and "#999" in err.value.message and err.value.hint


def test_repository_name_is_checked():
    with pytest.raises(GitHubError, match="not a repository name"):
        GitHubAdapter("http://127.0.0.1:9", "t", "just-a-name")


def test_a_failing_permission_read_is_an_error_not_no_access(adapter, github_server):
    """Only GitHub's 404 means "no access"; a server error must stop the run, not be read as an answer."""
    github_server.faults.add("GET", r"/collaborators/mcoughlin/permission$", "500", times=0)
    with pytest.raises(GitHubError) as err:
        adapter.permission("mcoughlin")
    assert err.value.status == 500 and "permission of mcoughlin" in err.value.message
    github_server.faults.clear()
    assert adapter.permission("mcoughlin").at_least("maintain")


def test_a_tag_ref_that_landed_before_a_502_is_not_an_error(adapter, github_server, calls):
    sha = github_server.sample.pr_head_sha
    github_server.faults.add("POST", r"/git/refs$", "after", times=1)
    assert adapter.create_tag("catalog-v1.1.0", sha, "v1.1.0") is True
    assert github_server.tags()["catalog-v1.1.0"] == sha
    assert [c[2] for c in calls("POST", "/git/refs")] == [502]  # found, not posted again
    assert adapter.tag_commit("catalog-v1.1.0") == sha and adapter.tag_commit("catalog-v9.9.9") is None


def test_validation_errors_carry_githubs_details(adapter):
    with pytest.raises(GitHubError) as err:
        adapter.reply(1, "x" * 65537)
    assert err.value.status == 422
    assert "Validation Failed (" in err.value.message and "x" * 100 not in err.value.message
