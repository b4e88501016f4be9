"""Approval comments: the parser (hostile input) and the checks on who may publish what."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.github.approval import Approval, ApprovalFacts, ApprovalRequest, Refusal, authorize, parse_approval
from bot.github.models import DraftFile, PendingRelease, Permission

COMMAND = "/release publish"
MAIN = "a" * 40
NEWER = "b" * 40
CURATORS = ("bfhealy", "mcoughlin", "dwarrick", "bob")
FILES = {
    "predictions_dnn_xgb_3_fields.zip": DraftFile("0" * 32, 1000, "added"),
    "fields.json": DraftFile("1" * 32, 17, "replaced"),
}
PENDING = PendingRelease(
    draft_id="4242",
    version="v1.1.0",
    doi="10.5281/zenodo.4242",
    concept_record="8410825",
    commit_sha=MAIN,
    files=FILES,
    prs=(1,),
)
EXACT = re.compile(r"/release publish [0-9]{1,20}[ \t]*(\r?\n.*)?", re.DOTALL)


# -- the parser --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "draft_id"),
    [
        ("/release publish 4242", "4242"),
        ("/release publish 4242  \r\nThanks, looks good!", "4242"),  # only the first line counts
        ("/release publish 1\n", "1"),
    ],
)
def test_clean_approvals_are_read(body, draft_id):
    assert parse_approval(body, COMMAND) == ApprovalRequest(draft_id)


@pytest.mark.parametrize(
    "body",
    [
        "LGTM",
        "",
        "thanks!\nwill publish tomorrow",
        "/release publisher 12",
        "/release publish123",
        "/release",
        "/releases publish 12",
        "please /release publish 12 when ready",
    ],
)
def test_other_comments_are_not_addressed_to_the_bot(body):
    assert parse_approval(body, COMMAND) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("/release publish 123; rm -rf /", "extra-text"),
        ("/release publish 123 && curl evil", "extra-text"),
        ("/release publish 123 please", "extra-text"),
        ("/release publish abc", "bad-draft-id"),
        ("/release publish -1", "bad-draft-id"),
        ("/release publish $(id)", "bad-draft-id"),
        ("/release publish `123`", "bad-draft-id"),
        ("/release publish", "missing-draft-id"),
        ("/release publish   ", "missing-draft-id"),
        ("/Release Publish 123", "malformed"),
        (" /release publish 123", "malformed"),
        ("/release  publish 123", "malformed"),
        ("/release publish\t123", "hidden-characters"),
        ("/release publish 123\u200b", "hidden-characters"),  # zero-width space
        ("\u200b/release publish 123", "hidden-characters"),
        ("/release publish \u202e321", "hidden-characters"),  # right-to-left override
        ("/rеlease publish 123", "hidden-characters"),  # Cyrillic е
        ("/release publish １２３", "hidden-characters"),  # full-width digits
        ("/release publish ١٢٣", "hidden-characters"),  # Arabic-Indic digits
        ("```\n/release publish 123\n```", "not-first-line"),
        ("> /release publish 123", "malformed"),
        ("I agree.\n> /release publish 123", "not-first-line"),
        ("`/release publish 123`", "malformed"),
        ("/release publish 123" + "\nblah" * 1000, "too-long"),
    ],
)
def test_hostile_or_sloppy_commands_are_refused_with_a_reason(body, code):
    got = parse_approval(body, COMMAND)
    assert isinstance(got, Refusal), body
    assert got.code == code
    assert "/release publish" in got.reason  # says what to type instead
    assert (
        "rm -rf" not in got.reason and "curl" not in got.reason and "$(" not in got.reason
    )  # quotes nothing


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
@example("/release publish 0")
@example("/release publish 4242 \n\u202e")
def test_nothing_but_the_exact_command_and_a_number_is_accepted(body):
    got = parse_approval(body, COMMAND)
    if isinstance(got, ApprovalRequest):
        assert EXACT.fullmatch(body), body
        assert got.draft_id.isascii() and got.draft_id.isdigit()
        assert body.startswith(f"{COMMAND} {got.draft_id}")


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.text(max_size=5),
    sep=st.text(alphabet=" \t\u00a0\u200b\u3000", min_size=1, max_size=3),
    draft=st.text(alphabet=st.characters(categories=("Nd", "No", "Cf", "Zs")), min_size=1, max_size=8),
    suffix=st.text(max_size=12),
)
def test_near_misses_are_never_accepted(prefix, sep, draft, suffix):
    body = f"{prefix}/release publish{sep}{draft}{suffix}"
    got = parse_approval(body, COMMAND)
    if isinstance(got, ApprovalRequest):
        assert EXACT.fullmatch(body), body


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**20 - 1), st.sampled_from(["", "\n", "\r\nthanks", "  \nok"]))
def test_every_clean_command_is_accepted(number, tail):
    assert parse_approval(f"{COMMAND} {number}{tail}", COMMAND) == ApprovalRequest(str(number))


# -- the checks --------------------------------------------------------------------------------------


def _check(**overrides) -> Approval | Refusal:
    args = dict(
        commenter="mcoughlin",
        permission=Permission("write", "maintain"),
        pr_author="alice",
        curators=CURATORS,
        min_permission="write",
        allow_author=False,
        pending=PENDING,
        action="created",
        main_head_sha=MAIN,
        fields_changed_since_summary=False,
        draft_files={k: f"md5:{f.md5}" for k, f in FILES.items()},
        draft_published=False,
    )
    request = overrides.pop("request", ApprovalRequest("4242"))
    args.update(overrides)
    return authorize(request, ApprovalFacts(**args))


def test_a_valid_approval_is_accepted():
    got = _check()
    assert got == Approval(
        draft_id="4242",
        version="v1.1.0",
        doi="10.5281/zenodo.4242",
        commit_sha=MAIN,
        curator="mcoughlin",
        prs=(1,),
    )


def test_main_moving_without_field_changes_does_not_block():
    assert isinstance(_check(main_head_sha=NEWER, fields_changed_since_summary=False), Approval)


@pytest.mark.parametrize(
    ("overrides", "code", "says"),
    [
        ({"commenter": "alice", "permission": Permission("none", "none")}, "not-curator", "curators list"),
        ({"commenter": "stranger", "permission": Permission("read", "read")}, "not-curator", "curators list"),
        ({"commenter": "bob", "permission": Permission("read", "read")}, "no-permission", "`read` access"),
        (
            {"commenter": "bob", "permission": Permission("read", "triage")},
            "no-permission",
            "`triage` access",
        ),
        ({"commenter": "mcoughlin", "pr_author": "MCoughlin"}, "own-pr", "author"),
        (
            {"commenter": "dwarrick", "permission": Permission("write", "write"), "pr_author": "DWarrick"},
            "own-pr",
            "own release",
        ),
        ({"request": ApprovalRequest("4243")}, "wrong-draft", "4242"),
        ({"main_head_sha": NEWER, "fields_changed_since_summary": True}, "stale", "updated summary"),
        ({"action": "edited"}, "edited", "Edited comments".lower()),
        ({"draft_published": True}, "already-published", "already published as `10.5281/zenodo.4242`"),
        ({"pending": None}, "no-pending", "no release waiting"),
        ({"draft_files": None}, "draft-unreadable", "could not be read"),
        ({"draft_files": {"fields.json": "1" * 32}}, "files-changed", "missing"),
        (
            {"draft_files": {**{k: f.md5 for k, f in FILES.items()}, "fields.json": "f" * 32}},
            "files-changed",
            "changed `fields.json`",
        ),
        (
            {"draft_files": {**{k: f.md5 for k, f in FILES.items()}, "extra.bin": "2" * 32}},
            "files-changed",
            "unexpected `extra.bin`",
        ),
        (
            {
                "min_permission": "maintain",
                "commenter": "dwarrick",
                "permission": Permission("write", "write"),
            },
            "no-permission",
            "`maintain` or more",
        ),
    ],
)
def test_refusals_name_the_reason(overrides, code, says):
    got = _check(**overrides)
    assert isinstance(got, Refusal), got
    assert got.code == code
    assert says.lower() in got.reason.lower()
    assert "@" not in got.reason  # mentions nobody


def test_the_author_may_approve_when_the_config_allows_it():
    assert isinstance(_check(pr_author="mcoughlin", allow_author=True), Approval)


def test_maintain_and_admin_pass_a_maintain_threshold():
    assert isinstance(_check(min_permission="maintain"), Approval)  # mcoughlin: "write" + role maintain
    admin = _check(commenter="bfhealy", permission=Permission("admin", "admin"), min_permission="admin")
    assert isinstance(admin, Approval)


def test_checksums_compare_without_prefix_or_case():
    files = {k: f"MD5:{f.md5.upper()}" for k, f in FILES.items()}
    assert isinstance(_check(draft_files=files), Approval)


def test_hostile_file_keys_are_neutralised_in_the_reason():
    evil = "x`@team <img src=x onerror=alert(1)>"
    got = _check(draft_files={**{k: f.md5 for k, f in FILES.items()}, evil: "3" * 32})
    assert isinstance(got, Refusal)
    assert "`` x`@team <img src=x onerror=alert(1)> ``" in got.reason  # inside a code span that holds


@pytest.mark.parametrize("other_authors", [("alice", "mcoughlin"), ("MCOUGHLIN",), ("bob", "McCoughlin", "mcoughlin")])
def test_an_author_of_any_pull_request_in_the_release_may_not_approve_it(other_authors):
    """A release gathers several merged pull requests: writing any one of them rules a curator out."""
    got = _check(pr_author="alice", other_authors=other_authors)
    assert isinstance(got, Refusal) and got.code == "own-pr"
    assert isinstance(_check(pr_author="alice", other_authors=other_authors, allow_author=True), Approval)


def test_authors_of_other_pull_requests_do_not_block_a_curator_who_wrote_none():
    assert isinstance(_check(pr_author="alice", other_authors=("bob", "dwarrick", "mcoughlin-bot")), Approval)


def test_a_replayed_approval_after_publishing_says_so_even_when_main_has_moved():
    """Once published, the right id and files are refused, and the reason is the publish, not staleness."""
    got = _check(draft_published=True, main_head_sha=NEWER, fields_changed_since_summary=True)
    assert isinstance(got, Refusal) and got.code == "already-published"


def test_unknown_permission_threshold_is_a_programming_error():
    with pytest.raises(ValueError):
        _check(min_permission="owner")
