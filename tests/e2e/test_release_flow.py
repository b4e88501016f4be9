"""The whole release through `release-bot handle-event`, as the workflows run it, against both servers."""

from __future__ import annotations

import zipfile

from release_helpers import (
    CONTRIBUTOR,
    CURATOR,
    OUTSIDER,
    bot_comments,
    draft_id_of,
    merged_release,
    two_fields,
    zenodo_modes,
)

from bot.local.sample import field_csv_bytes
from bot.scope import parse_fields_json


def test_valid_pull_request_passes_with_a_summary(world):
    world.open_pull(1, "Add fields", CONTRIBUTOR, two_fields())
    run = world.pull_request(1)
    assert run.code == 0, run.stderr
    summary = run.summary.replace("\\_", "_")  # Markdown may escape underscores
    assert "field_487.csv" in summary and "field_488.csv.gz" in summary
    assert "What merging this pull request would release" in run.summary
    assert "::error" not in run.stdout
    assert world.github.comments(1) == []  # the PR check writes nothing remotely


def test_invalid_pull_request_fails_with_annotations_at_file_and_line(world):
    rows = field_csv_bytes(487, 30, seed=3).decode().splitlines(keepends=True)
    cells = rows[4].split(",")
    cells[12] = "1.5"  # line 5 (header is line 1): a probability above 1
    rows[4] = ",".join(cells)
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": "".join(rows).encode()})
    run = world.pull_request(1)
    assert run.code == 1
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert errors, run.stdout
    assert "file=fields/field_487.csv" in errors[0] and "line=5" in errors[0]


def test_stray_file_in_the_fields_folder_is_reported(world):
    world.open_pull(1, "Oops", CONTRIBUTOR, {"fields/field_0487.csv": field_csv_bytes(487, 5)})
    run = world.pull_request(1)
    assert run.code == 1
    assert "field_0487.csv" in run.stdout and "not-a-field-file" in run.stdout


def test_merge_drafts_the_release_and_posts_one_summary(world):
    run, merge_sha = merged_release(world)
    assert run.code == 0, run.stderr + run.stdout
    (summary,) = bot_comments(world, 1)
    body = summary["body"]
    draft_id = draft_id_of(body)
    assert "v1.1.0" in body  # two fields added to v1.0.0: a minor bump
    drafts = world.zenodo.drafts_of(world.concept_id)
    assert [d["id"] for d in drafts] == [draft_id]
    draft = drafts[0]
    assert draft["metadata"]["version"] == "v1.1.0"
    assert draft["pids"]["doi"]["identifier"] in body
    keys = set(draft["files"]["entries"])
    assert keys == {"predictions_dnn_xgb_5_fields.zip", "fields.json", "field_296_100rows.csv",
                    "SCoPe_classification_demo.ipynb"}
    assert parse_fields_json(world.zenodo.file_bytes(draft_id, "fields.json")) == [296, 297, 423, 487, 488]
    statuses = world.github.statuses(merge_sha)
    assert statuses and statuses[-1]["state"] == "pending"


def test_rerunning_the_merge_edits_the_summary_and_keeps_one_draft_and_doi(world):
    run, merge_sha = merged_release(world)
    assert run.code == 0
    first = bot_comments(world, 1)
    before = world.git("rev-parse", "main~1")
    again = world.push(before, merge_sha)
    assert again.code == 0, again.stderr
    second = bot_comments(world, 1)
    assert [c["id"] for c in second] == [c["id"] for c in first]
    assert draft_id_of(second[0]["body"]) == draft_id_of(first[0]["body"])
    assert len(world.zenodo.drafts_of(world.concept_id)) == 1
    assert world.zenodo.dois_reserved == 1


def test_curator_approval_publishes_and_reports_everywhere(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    refused = world.approve(1, OUTSIDER, f"/release publish {draft_id}")
    assert refused.code == 1
    assert "not on the curators list" in world.github.comments(1)[-1]["body"]
    assert len(world.zenodo.published_versions(world.concept_id)) == 1

    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 0, run.stderr + run.stdout
    versions = world.zenodo.published_versions(world.concept_id)
    assert [v["metadata"]["version"] for v in versions] == ["v1.0.0", "v1.1.0"]
    doi = versions[-1]["pids"]["doi"]["identifier"]
    assert world.github.tags().keys() >= {"catalog-v1.1.0"}
    (release,) = world.github.releases()
    assert release["tag_name"] == "catalog-v1.1.0" and doi in release["body"]
    bodies = [c["body"] for c in world.github.comments(1)]
    assert any(doi in b and "Published" in b for b in bodies)
    assert any("release-bot:published" in b for b in bodies)
    # the published zip is whole and agrees with fields.json
    zpath = world.root / "check.zip"
    zpath.write_bytes(world.zenodo.file_bytes(draft_id, "predictions_dnn_xgb_5_fields.zip"))
    with zipfile.ZipFile(zpath) as zf:
        assert zf.testzip() is None
        names = sorted(n for n in zf.namelist() if n.endswith(".csv"))
    assert names == [f"field_{n}.csv" for n in (296, 297, 423, 487, 488)]

    replay = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert replay.code == 1
    assert "already published" in world.github.comments(1)[-1]["body"]
    assert len(world.zenodo.published_versions(world.concept_id)) == 2


# Every way of reading Zenodo's files: two merges and an approval read the published zip (see test_zenodo_modes.py).
@zenodo_modes
def test_next_release_builds_on_the_published_one(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    assert world.approve(1, CURATOR, f"/release publish {draft_id}").code == 0
    # a second PR replaces field 487 only: a patch release on top of v1.1.0
    run, _ = merged_release(world, 2, {"fields/field_487.csv": field_csv_bytes(487, 90, seed=9)})
    assert run.code == 0, run.stderr + run.stdout
    body = bot_comments(world, 2)[0]["body"]
    assert "v1.1.1" in body
    second = draft_id_of(body)
    assert second != draft_id
    assert parse_fields_json(world.zenodo.file_bytes(second, "fields.json")) == [296, 297, 423, 487, 488]


def test_the_workflow_command_line_runs_as_a_separate_process(world):
    """Exactly what a workflow step runs: `release-bot handle-event` with the event in the environment."""
    world.open_pull(1, "Add fields", CONTRIBUTOR, two_fields())
    check = world.pull_request(1, in_process=False)
    assert check.code == 0, check.stderr
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    push = world.push(before, after, in_process=False)
    assert push.code == 0, push.stderr
    assert "drafted v1.1.0" in push.stdout
    assert len(bot_comments(world, 1)) == 1


def test_a_merge_without_field_changes_has_nothing_to_release(world):
    world.open_pull(1, "Docs", CONTRIBUTOR, {"README.md": b"About the catalog\n"})
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    run = world.push(before, after)
    assert run.code == 0, run.stderr
    assert "nothing to release" in run.stdout
    assert world.zenodo.drafts_of(world.concept_id) == []
    assert bot_comments(world, 1) == []


def test_reverting_the_fields_withdraws_the_pending_draft(world):
    run, _ = merged_release(world, 1, {"fields/field_487.csv": field_csv_bytes(487, 20)})
    assert run.code == 0
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    # a second PR deletes the only field the release added: nothing is left to release
    world.open_pull(2, "Revert field 487", CONTRIBUTOR, {"fields/field_487.csv": None})
    before = world.git("rev-parse", "main")
    after = world.merge(2)
    revert = world.push(before, after)
    assert revert.code == 0, revert.stderr + revert.stdout
    assert world.zenodo.drafts_of(world.concept_id) == []
    summary = bot_comments(world, 1)[0]["body"]
    assert "withdrawn" in summary and "/release publish" not in summary
    refused = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert refused.code == 1
    assert len(world.zenodo.published_versions(world.concept_id)) == 1


def test_a_second_merge_replacing_the_same_field_updates_the_same_draft(world):
    merged_release(world, 1, {"fields/field_487.csv": field_csv_bytes(487, 20)})
    first = draft_id_of(bot_comments(world, 1)[0]["body"])
    zip_key = "predictions_dnn_xgb_4_fields.zip"
    old_md5 = world.zenodo.drafts_of(world.concept_id)[0]["files"]["entries"][zip_key]["checksum"]
    run, _ = merged_release(world, 2, {"fields/field_487.csv": field_csv_bytes(487, 25, seed=5)})
    assert run.code == 0, run.stderr + run.stdout
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    assert draft["id"] == first  # same name, new bytes: replaced in place, no second draft
    assert draft["files"]["entries"][zip_key]["checksum"] != old_md5
    assert world.zenodo.dois_reserved == 1
