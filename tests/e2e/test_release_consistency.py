"""Zenodo decides what the last release is; git tags and summaries never override it."""

from __future__ import annotations

from release_helpers import CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release, two_fields

from bot.local.sample import field_csv_bytes


def test_a_stray_tag_with_no_zenodo_version_stops_the_draft(world):
    main = world.git("rev-parse", "main")
    world.github.add_tag("catalog-v1.1.0", main)
    run, _ = merged_release(world)
    assert run.code == 1
    assert "no tag catalog-v1.0.0" in run.stderr and "catalog-v1.1.0" in run.stderr
    assert world.zenodo.drafts_of(world.concept_id) == []


def test_a_tag_on_another_commit_blocks_publishing_before_zenodo(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    world.github.add_tag("catalog-v1.1.0", world.git("rev-parse", "main~1"))
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code != 0
    assert "already points at" in run.stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 1


def test_a_merge_after_an_unfinished_publish_builds_on_the_published_version(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    died = world.approve(1, CURATOR, f"/release publish {draft_id}",
                         crash_after="publish")
    assert died.code != 0
    assert "catalog-v1.1.0" not in world.github.tags()
    run, _ = merged_release(world, 2, {"fields/field_500.csv": field_csv_bytes(500, 30)}, author="bob")
    assert run.code == 0, run.stderr + run.stdout
    newest = bot_comments(world, 2)[0]["body"]
    assert "v1.2.0" in newest and "field 500" in newest
    assert "Replaced" not in newest  # 487 was released in v1.1.0, not replaced now
    assert draft_id_of(bot_comments(world, 1)[0]["body"]) == draft_id  # PR 1's summary left alone
    finish = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert finish.code == 0, finish.stderr + finish.stdout
    assert "catalog-v1.1.0" in world.github.tags()


def test_a_curator_may_not_approve_a_release_holding_their_own_pr(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]}, author=CURATOR)
    merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]}, author="bob")
    draft_id = draft_id_of(bot_comments(world, 2)[0]["body"])
    run = world.approve(2, CURATOR, f"/release publish {draft_id}")
    assert run.code == 1
    assert "own release" in world.github.comments(2)[-1]["body"]
    assert len(world.zenodo.published_versions(world.concept_id)) == 1


def test_strangers_cost_no_zenodo_call(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    before = len(world.zenodo.calls)
    run = world.approve(1, "random-stranger", f"/release publish {draft_id}")
    assert run.code == 1
    assert len(world.zenodo.calls) == before
    run = world.approve(1, OUTSIDER, f"/release publish {draft_id}")
    assert len(world.zenodo.calls) == before


def test_the_bots_own_comments_are_ignored(world):
    merged_release(world)
    body = bot_comments(world, 1)[0]["body"]
    comment_id = world.comment(1, "github-actions[bot]", f"/release publish {draft_id_of(body)}")
    run = world.issue_comment(1, comment_id, f"/release publish {draft_id_of(body)}", "github-actions[bot]")
    assert run.code == 0
    assert len(bot_comments(world, 1)) == 2  # the summary and the comment above: no reply
    assert world.github.reactions(comment_id) == []


def test_a_tampered_summary_state_is_refused(world):
    world.github.set_permission("ada", "admin")
    merged_release(world)
    summary = bot_comments(world, 1)[0]
    draft_id = draft_id_of(summary["body"])
    forged = summary["body"].replace('"concept_record":"', '"concept_record":"9', 1)
    world.github.edit_comment_as("ada", summary["id"], forged)
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 1
    assert "cannot be trusted" in world.github.comments(1)[-1]["body"]
    assert len(world.zenodo.published_versions(world.concept_id)) == 1
