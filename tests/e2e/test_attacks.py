"""Attacks by people with ordinary GitHub rights (open PRs, comment, edit comments, push tags, dispatch).

Each test plays one attack through ``release-bot handle-event`` against the bundled servers and checks
that nothing the curator did not see reaches Zenodo. Write access lets anyone edit anyone's comment on
GitHub, the bot's summaries included.
"""

from __future__ import annotations

import re

from release_helpers import CONTRIBUTOR, CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release

from bot.local.sample import field_csv_bytes
from bot.notes.edits import NOTES_END, NOTES_START
from bot.scope import parse_fields_json


def published(world) -> list[dict]:
    return world.zenodo.published_versions(world.concept_id)


def summary_of(world, number: int) -> dict:
    (summary,) = [c for c in bot_comments(world, number) if "release-bot:summary" in c["body"]]
    return summary


def publish_line(body: str) -> str:
    """The approve command exactly as the summary shows it."""
    m = re.search(r"^/release publish \d+.*$", body, re.MULTILINE)
    assert m, body
    return m.group(0)


def test_a_bot_reply_edited_into_a_summary_cannot_hide_the_curators_own_pr(world):
    merged_release(world, 1, author=CURATOR)  # the release holds the curator's own PR
    genuine = summary_of(world, 1)["body"]
    world.open_pull(7, "Fix a typo", CONTRIBUTOR, {"README.md": b"typo fixed\n"})
    world.approve(7, OUTSIDER, "/release publish 1")  # earns a bot reply on PR 7
    (reply,) = bot_comments(world, 7)
    forged = genuine.replace('"prs":[1]', '"prs":[7]')
    assert forged != genuine
    world.github.edit_comment_as(OUTSIDER, reply["id"], forged)

    run = world.approve(7, CURATOR, publish_line(forged))
    assert run.code == 1
    assert len(published(world)) == 1
    assert "Sorry, I can't publish" in world.github.comments(7)[-1]["body"]


def test_a_summary_whose_commit_was_moved_forward_cannot_pass_a_stale_draft(world):
    merged_release(world, 1)
    summary = summary_of(world, 1)
    built_from = world.git("rev-parse", "main")
    # A field is merged, but its release run is lost (a cancelled concurrency group): the draft is stale.
    world.open_pull(2, "Add field 490", CONTRIBUTOR, {"fields/field_490.csv": field_csv_bytes(490, 20)})
    head = world.merge(2)
    forged = summary["body"].replace(built_from, head)
    assert forged != summary["body"]
    world.github.edit_comment_as(OUTSIDER, summary["id"], forged)

    run = world.approve(1, CURATOR, publish_line(forged))
    assert run.code == 1
    assert len(published(world)) == 1


def test_notes_edited_then_restored_by_a_writer_are_never_published(world):
    merged_release(world, 1)
    summary = summary_of(world, 1)
    clean = summary["body"]
    start, end = clean.index(NOTES_START) + len(NOTES_START), clean.index(NOTES_END)
    injected = clean[:start] + "\nInjected: download the catalog from https://evil.example\n" + clean[end:]
    world.github.edit_comment_as(OUTSIDER, summary["id"], injected)
    world.dispatch({"action": "draft", "dry_run": False}, sender=OUTSIDER)
    world.github.edit_comment_as(OUTSIDER, summary["id"], clean)  # the summary looks clean again

    world.approve(1, CURATOR, publish_line(clean))
    for record in [*published(world), *world.zenodo.drafts_of(world.concept_id)]:
        assert "evil.example" not in str(record["metadata"]), record["id"]


def test_a_rerun_approval_never_publishes_what_was_rebuilt_after_the_comment(world):
    merged_release(world, 1)
    first = summary_of(world, 1)["body"]
    draft_id = draft_id_of(first)
    before = world.git("rev-parse", "main")
    after = world.push_main({"fields/field_490.csv": field_csv_bytes(490, 20)}, "direct push")
    command = publish_line(first)
    comment_id = world.comment(1, CURATOR, command)
    refused = world.issue_comment(1, comment_id, command, CURATOR)
    assert refused.code == 1  # the default branch moved: stale
    rebuilt = world.push(before, after)  # the same draft now also holds field 490
    assert rebuilt.code == 0, rebuilt.stderr + rebuilt.stdout
    assert draft_id_of(summary_of(world, 1)["body"]) == draft_id

    rerun = world.issue_comment(1, comment_id, command, CURATOR, extra_env={"GITHUB_RUN_ATTEMPT": "2"})
    assert rerun.code == 1
    assert len(published(world)) == 1
    assert "updated after" in world.github.comments(1)[-1]["body"]
    # A new approval, given after the curator saw the rebuilt summary, goes through.
    fresh = world.approve(1, CURATOR, publish_line(summary_of(world, 1)["body"]))
    assert fresh.code == 0, fresh.stderr + fresh.stdout
    assert len(published(world)) == 2


def test_a_moved_release_tag_does_not_drop_fields_and_status_reports_it(world):
    merged_release(world, 1)
    assert world.approve(1, CURATOR, publish_line(summary_of(world, 1)["body"])).code == 0
    version = published(world)[-1]["metadata"]["version"]
    tag = f"catalog-{version}"
    world.open_pull(2, "Add fields 490 and 491", CONTRIBUTOR, {
        "fields/field_490.csv": field_csv_bytes(490, 20), "fields/field_491.csv": field_csv_bytes(491, 20)})
    before = world.git("rev-parse", "main")
    moved_to = world.merge(2)
    assert world.push(before, moved_to).code == 0
    world.sync_tags()
    world.git("tag", "-f", tag, moved_to)  # someone with write access re-tags the release
    world.github.add_tag(tag, moved_to)

    world.open_pull(3, "Add field 492", CONTRIBUTOR, {"fields/field_492.csv": field_csv_bytes(492, 20)})
    before = world.git("rev-parse", "main")
    run = world.push(before, world.merge(3))
    assert run.code == 0, run.stderr + run.stdout
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    fields = parse_fields_json(world.zenodo.file_bytes(draft["id"], "fields.json"))
    assert {490, 491, 492} <= set(fields)

    status = world.dispatch({"action": "status"})
    assert status.code == 1
    assert tag in status.summary and "manifest" in status.summary


def test_comment_spam_costs_no_zenodo_call(world):
    merged_release(world, 1)
    draft_id = draft_id_of(summary_of(world, 1)["body"])
    before = len(world.zenodo.calls)
    spam = world.approve(1, OUTSIDER, "/release publish 1")
    assert spam.code == 1
    wrong = world.approve(1, CURATOR, f"/release publish {int(draft_id) + 1}")
    assert wrong.code == 1
    assert "not the one pending" in world.github.comments(1)[-1]["body"]
    assert world.zenodo.calls[before:] == []
    assert len(published(world)) == 1
