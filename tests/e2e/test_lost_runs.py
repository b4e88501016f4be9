"""Runs GitHub drops from the release queue (a newly queued job cancels the pending one), and how the bot
recovers by itself: every case ends in a drafted release or a reply, never in silence."""

from __future__ import annotations

from pathlib import Path

import yaml
from actions_expr import evaluate
from release_helpers import CONTRIBUTOR, CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release, two_fields

from bot.github.summary import SUMMARY_MARKER, parse_state
from bot.local.sample import field_csv_bytes

APPROVE_YML = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "approve.yml"


def _summary(world, number):
    return next(c for c in bot_comments(world, number) if SUMMARY_MARKER in c["body"])


def _open_and_merge(world, number, files):
    world.open_pull(number, f"Add fields (PR {number})", CONTRIBUTOR, files)
    return world.merge(number)


def test_a_draft_run_dropped_from_the_queue_is_redone_by_the_run_before_it(world):
    """PR 2 merges while PR 1's draft runs; PR 2's run waits, and a curator's comment replaces it."""
    before = world.git("rev-parse", "main")
    first = _open_and_merge(world, 1, two_fields())
    second = _open_and_merge(world, 2, {"fields/field_500.csv": field_csv_bytes(500, 40, seed=9)})
    run = world.push(before, first)  # PR 1's run; PR 2's run never happens
    assert run.code == 0, run.stderr
    assert [d["inputs"]["action"] for d in world.github.dispatches] == ["draft"]
    assert "with changes to the field files while this run was drafting" in run.stdout
    (redraft,) = world.run_dispatches()
    assert redraft.code == 0, redraft.stderr
    state = parse_state(_summary(world, 2)["body"])
    assert state is not None and state.commit_sha == second and state.prs == (1, 2)
    assert world.github.dispatches == []  # the redraft saw nothing newer: no endless chain


def test_an_approval_of_a_stale_summary_is_refused_and_a_new_draft_run_started(world):
    before = world.git("rev-parse", "main")
    first = _open_and_merge(world, 1, two_fields())
    assert world.push(before, first).code == 0
    world.github.dispatches.clear()
    _open_and_merge(world, 2, {"fields/field_500.csv": field_csv_bytes(500, 40, seed=9)})  # its run is dropped
    old_id = draft_id_of(_summary(world, 1)["body"])
    runs = world.approve_workflow(1, CURATOR, f"/release publish {old_id}")
    assert runs["publish"].code == 1 and runs["publish"].outputs == {"replied": "true"}
    assert "unprocessed" not in runs  # the refusal was the reply
    assert "stale" in bot_comments(world, 1)[-1]["body"]
    (redraft,) = world.run_dispatches()
    assert redraft.code == 0, redraft.stderr
    new_id = draft_id_of(_summary(world, 2)["body"])
    published = world.approve_workflow(2, CURATOR, f"/release publish {new_id}")
    assert published["publish"].code == 0, published["publish"].stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 2


def test_the_weekly_check_redrafts_a_pending_draft_behind_the_default_branch(world):
    run, _ = merged_release(world)
    assert run.code == 0
    world.github.dispatches.clear()
    _open_and_merge(world, 2, {"fields/field_500.csv": field_csv_bytes(500, 40, seed=9)})  # its run is lost
    weekly = world.schedule()
    assert [d["inputs"] for d in world.github.dispatches] == [{"action": "draft", "dry_run": "false"}]
    assert "was built from" in weekly.stdout
    assert world.run_dispatches()[0].code == 0
    assert parse_state(_summary(world, 2)["body"]).prs == (1, 2)
    world.schedule()
    assert world.github.dispatches == []  # up to date now: nothing more to start


def test_the_weekly_check_drafts_field_changes_that_have_no_draft_at_all(world):
    before = world.git("rev-parse", "main")
    _open_and_merge(world, 1, two_fields())  # the merge's run never ran
    world.schedule()
    assert [d["inputs"]["action"] for d in world.github.dispatches] == ["draft"]
    world.run_dispatches()
    assert draft_id_of(_summary(world, 1)["body"])
    assert before != world.git("rev-parse", "main")


def test_an_approval_cancelled_by_a_push_gets_a_reply_and_the_next_draft_can_be_approved(world):
    merged_release(world)
    draft_id = draft_id_of(_summary(world, 1)["body"])
    runs = world.approve_workflow(1, CURATOR, f"/release publish {draft_id}", publish="cancelled")
    assert runs["filter"].outputs == {"approve": "true", "draft_id": draft_id}
    assert runs["unprocessed"].code == 0
    reply = bot_comments(world, 1)[-1]["body"]
    assert f"could not process this approval of draft `{draft_id}`" in reply and "cancelled" in reply
    assert len(world.zenodo.published_versions(world.concept_id)) == 1  # nothing was published
    # the push that took the queue drafts; its summary can be approved
    before = world.git("rev-parse", "main")
    after = _open_and_merge(world, 2, {"fields/field_500.csv": field_csv_bytes(500, 40, seed=9)})
    assert world.push(before, after).code == 0
    new_id = draft_id_of(_summary(world, 2)["body"])
    assert world.approve_workflow(2, CURATOR, f"/release publish {new_id}")["publish"].code == 0
    assert len(world.zenodo.published_versions(world.concept_id)) == 2


def test_a_publishing_job_that_fails_without_replying_gets_a_reply_from_the_last_job(world):
    merged_release(world)
    draft_id = draft_id_of(_summary(world, 1)["body"])
    world.zenodo.faults.add("POST", r"/actions/publish$", "500", times=100)
    runs = world.approve_workflow(1, CURATOR, f"/release publish {draft_id}")
    assert runs["publish"].code != 0 and runs["publish"].outputs.get("replied") != "true"
    reply = bot_comments(world, 1)[-1]["body"]
    assert "ended without an answer (`failure`" in reply and "/actions/runs/" in reply
    world.zenodo.faults.clear()
    assert world.approve_workflow(1, CURATOR, f"/release publish {draft_id}")["publish"].code == 0


def test_a_malformed_comment_after_a_good_one_never_reaches_the_release_queue(world):
    merged_release(world)
    draft_id = draft_id_of(_summary(world, 1)["body"])
    good_id = world.comment(1, CURATOR, f"/release publish {draft_id}")
    for login, body in ((CURATOR, f"/release publish {draft_id} please"), (OUTSIDER, f"/release publish {draft_id}"),
                        (CURATOR, "/release publish"), (CONTRIBUTOR, "thanks! /release soon")):
        runs = world.approve_workflow(1, login, body)
        assert runs["filter"].outputs["approve"] == "false" and set(runs) == {"filter"}, body
    replies = [c["body"] for c in bot_comments(world, 1)[1:]]
    assert [r.split("refusal `")[1].split("`")[0] for r in replies] == ["extra-text", "not-curator",
                                                                        "missing-draft-id"]
    # the good approval's publishing job was never replaced: it runs and publishes
    run = world.issue_comment(1, good_id, f"/release publish {draft_id}", CURATOR)
    assert run.code == 0, run.stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 2


def test_a_private_organisation_member_with_write_access_can_approve(world):
    merged_release(world)
    world.github.private_members.add(CURATOR)
    draft_id = draft_id_of(_summary(world, 1)["body"])
    comment_id = world.comment(1, CURATOR, f"/release publish {draft_id}")
    payload = world.github.comment_payload(comment_id)
    assert payload["author_association"] == "NONE"  # not MEMBER, not COLLABORATOR: what GitHub sends
    job = yaml.safe_load(APPROVE_YML.read_text())["jobs"]["filter"]
    event = {"issue": world.github.issue_payload(1), "comment": payload}
    assert evaluate(job["if"], {"github": {"event": event}}) is True
    old_filter = ("github.event.issue.pull_request && startsWith(github.event.comment.body, '/release publish') "
                  "&& contains(fromJSON('[\"OWNER\", \"MEMBER\", \"COLLABORATOR\"]'), "
                  "github.event.comment.author_association)")
    assert evaluate(old_filter, {"github": {"event": event}}) is False  # what skipped them before
    runs = world.approve_workflow(1, CURATOR, f"/release publish {draft_id}")
    assert runs["filter"].outputs["approve"] == "true"  # decided by the permission API
    assert runs["publish"].code == 0, runs["publish"].stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 2
