"""The bot's seal on its summaries, the digest of a draft's content, and the checks built on them."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UsageError
from bot.github.approval import ApprovalRequest, check_summary, untrusted_editors
from bot.github.models import CommentEdit, DraftFile, PendingRelease
from bot.github.summary import SealError, open_summary, render_summary, seal_summary
from bot.integrity import content_digest, state_key

KEY = state_key("zenodo-token-for-tests")
STATE = PendingRelease(
    draft_id="1234567", version="v1.2.0", doi="10.5281/zenodo.1234567", concept_record="8410825",
    commit_sha="c0ffee" + "0" * 34, files={"fields.json": DraftFile("b" * 32, 420, "replaced")}, prs=(12, 15),
    notes_digest="0" * 16, content_digest="d" * 24,
)
BODY = seal_summary(render_summary(STATE, "### Notes\n\nTwo fields added."), KEY, 15)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_sealed_summary_opens_intact_for_its_own_pr_and_key():
    sealed = open_summary(BODY, KEY, 15)
    assert sealed.intact and sealed.state == STATE
    with pytest.raises(SealError, match="another pull request"):
        open_summary(BODY, KEY, 12)
    with pytest.raises(SealError, match="not written by the bot"):
        open_summary(BODY, state_key("another-token"), 15)


@pytest.mark.parametrize("old, new", [
    ('"prs":[12,15]', '"prs":[15]'),
    ('"commit":"c0ffee', '"commit":"beef00'),
    ('"pr":15', '"pr":16'),
    ('"content":"ddd', '"content":"eee'),
])
def test_any_edit_of_the_state_breaks_the_seal(old, new):
    assert old in BODY
    with pytest.raises(SealError):
        open_summary(BODY.replace(old, new, 1), KEY, 15)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(BODY) - 1), st.characters(codec="utf-8"))
def test_any_edit_outside_the_state_shows(position, char):
    edited = BODY[:position] + char + BODY[position + 1 :]
    if edited == BODY:
        return
    with contextlib.suppress(SealError):  # an edit of the state block or the markers is refused outright
        assert not open_summary(edited, KEY, 15).intact


def test_the_key_needs_the_zenodo_token():
    with pytest.raises(UsageError):
        state_key(None)
    assert state_key(" tok ") == state_key("tok") != state_key("tok2")


def test_the_content_digest_covers_what_is_published_and_nothing_the_publish_step_sets():
    record = {"metadata": {"title": "T", "version": "v1", "publication_date": "2026-01-01",
                           "additional_descriptions": [{"description": "<p>n</p>", "type": {"id": "notes"}}]},
              "access": {"record": "public", "files": "public"}, "pids": {}}
    files = {"fields.json": "md5:" + "a" * 32}
    digest = content_digest(record, files)
    assert content_digest(record, {"fields.json": "A" * 32}) == digest
    dated = {**record, "metadata": {**record["metadata"], "publication_date": "2026-02-02"}}
    assert content_digest(dated, files) == digest
    for change in ({"title": "T2"}, {"creators": [{"name": "x"}]}, {"version": "v2"},
                   {"additional_descriptions": [{"description": "<p>evil</p>", "type": {"id": "notes"}}]}):
        assert content_digest({**record, "metadata": {**record["metadata"], **change}}, files) != digest
    assert content_digest({**record, "access": {"record": "restricted"}}, files) != digest
    assert content_digest(record, {**files, "extra.bin": "c" * 32}) != digest


def _check(**kw):
    args = {"pr_number": 15, "pending": STATE, "seal_problem": None, "intact": True,
            "approved_at": NOW, "summary_updated_at": NOW - timedelta(minutes=5)}
    args.update(kw)
    return check_summary(ApprovalRequest(kw.pop("draft_id", "1234567")), **args)


def test_check_summary_refuses_in_order_and_passes_a_clean_approval():
    assert _check() is None
    assert _check(seal_problem="forged").code == "tampered"
    assert _check(pending=None).code == "no-pending"
    assert _check(intact=False).code == "summary-edited"
    assert _check(summary_updated_at=NOW).code == "approval-outdated"
    assert _check(summary_updated_at=NOW + timedelta(seconds=1)).code == "approval-outdated"
    assert _check(approved_at=None, summary_updated_at=NOW) is None  # a dispatch has no comment to date
    assert check_summary(ApprovalRequest("7"), pr_number=15, pending=STATE, seal_problem=None, intact=True,
                         approved_at=NOW, summary_updated_at=None).code == "approval-outdated"
    assert check_summary(ApprovalRequest("7"), pr_number=15, pending=STATE, seal_problem=None, intact=True,
                         approved_at=None, summary_updated_at=None).code == "wrong-draft"
    assert _check(pr_number=3).code == "not-in-release"
    assert _check(pending=replace(STATE, content_digest="")).code == "no-content-digest"


def test_untrusted_editors_are_those_after_the_bots_last_write_who_are_not_curators():
    bot = "github-actions[bot]"
    edits = [CommentEdit(bot, "1"), CommentEdit("mallory", "2"), CommentEdit(bot, "3"), CommentEdit("carol", "4")]
    assert untrusted_editors(edits, bot, ["Carol"]) == []
    assert untrusted_editors([*edits, CommentEdit("mallory", "5")], bot, ["carol"]) == ["mallory"]
    assert untrusted_editors([*edits, CommentEdit(None, "5")], bot, ["carol"]) == ["a deleted account"]
    assert untrusted_editors([], bot, ["carol"]) == []
