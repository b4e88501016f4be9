"""A curator's edits to the notes, in the summary comment or on Zenodo, survive a rebuild."""

from __future__ import annotations

import requests
from release_helpers import (
    CONTRIBUTOR,
    CURATOR,
    OUTSIDER,
    bot_comments,
    draft_id_of,
    merged_release,
    one_field,
    two_fields,
)

from bot.local.github.routes import MAX_BODY
from bot.local.world import ZENODO_TOKEN
from bot.notes.edits import NOTES_END, NOTES_START


def test_notes_edited_in_the_summary_survive_the_next_merge(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    (summary,) = bot_comments(world, 1)
    body = summary["body"]
    start, end = body.index(NOTES_START) + len(NOTES_START), body.index(NOTES_END)
    edited = body[:start] + "\nCurated notes: field 487 is the bulge field.\n" + body[end:]
    world.github.edit_comment_as(CURATOR, summary["id"], edited)

    run, _ = merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]})
    assert run.code == 0, run.stderr + run.stdout
    newest = bot_comments(world, 2)[0]["body"]
    notes = newest[newest.index(NOTES_START):newest.index(NOTES_END)]
    assert "Curated notes: field 487 is the bulge field." in notes
    assert "Curator edits kept" in newest


def test_notes_edited_on_the_zenodo_draft_are_kept_and_reported(world):
    _, merge_sha = merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {ZENODO_TOKEN}",
                            "Accept": "application/vnd.inveniordm.v1+json"})
    url = f"{world.zenodo.url}/records/{draft_id}/draft"
    draft = session.get(url).json()
    draft["metadata"]["additional_descriptions"] = [
        {"description": "<p>Hand-written notes by the curator.</p>", "type": {"id": "notes"}}]
    body = {k: v for k, v in draft.items() if k not in ("links", "ui")}
    assert session.put(url, json=body).status_code == 200

    rerun = world.push(world.git("rev-parse", "main~1"), merge_sha)
    assert rerun.code == 0, rerun.stderr + rerun.stdout
    notes = world.zenodo.record(draft_id)["metadata"]["additional_descriptions"]
    assert [n["description"] for n in notes if n["type"]["id"] == "notes"] == [
        "<p>Hand-written notes by the curator.</p>"]
    assert "edited by hand and were kept" in bot_comments(world, 1)[0]["body"]


def test_bot_notes_are_refreshed_when_nobody_edited_them(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    first = world.zenodo.drafts_of(world.concept_id)[0]
    run, _ = merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]})
    assert run.code == 0
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    assert draft["id"] == first["id"]
    (notes,) = [n["description"] for n in draft["metadata"]["additional_descriptions"]
                if n["type"]["id"] == "notes"]
    assert "488" in notes and "Drafted by release-bot" in notes


def test_notes_edited_in_the_summary_are_the_ones_zenodo_publishes(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    (summary,) = bot_comments(world, 1)
    body = summary["body"]
    start, end = body.index(NOTES_START) + len(NOTES_START), body.index(NOTES_END)
    curated = "\n**Curated:** field 487 <script>alert(1)</script> is the bulge field.\n"
    world.github.edit_comment_as(CURATOR, summary["id"], body[:start] + curated + body[end:])
    run, _ = merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]})
    assert run.code == 0, run.stderr + run.stdout
    draft = world.zenodo.drafts_of(world.concept_id)[0]
    (notes,) = [n["description"] for n in draft["metadata"]["additional_descriptions"]
                if n["type"]["id"] == "notes"]
    assert "<strong>Curated:</strong> field 487" in notes
    assert "<script>" not in notes
    assert "Drafted by release-bot" in notes


def test_notes_edited_by_a_writer_who_is_not_a_curator_are_not_kept(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    (summary,) = bot_comments(world, 1)
    body = summary["body"]
    start, end = body.index(NOTES_START) + len(NOTES_START), body.index(NOTES_END)
    world.github.edit_comment_as(OUTSIDER, summary["id"], body[:start] + "\nNot curated at all.\n" + body[end:])
    run, _ = merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]})
    assert run.code == 0, run.stderr + run.stdout
    newest = bot_comments(world, 2)[0]["body"]
    assert "Not curated at all." not in newest
    assert f"Edits of the notes by `{OUTSIDER}` were not kept" in newest
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    assert "Not curated" not in str(draft["metadata"])


def _notes_on_zenodo(world, draft_id: str) -> str:
    (notes,) = [n["description"] for n in world.zenodo.record(draft_id)["metadata"]["additional_descriptions"]
                if n["type"]["id"] == "notes"]
    return notes


# 1,100 co-authors make notes longer than a comment may be (65,536 characters); the last one credited is
# in the tail a cut drops.
NAMES = [f"Survey Astronomer Number {n:04d} of the Periodic Variable Star Team" for n in range(1100)]
TRAILERS = "\n".join(f"Co-authored-by: {name} <a{n}@x.org>" for n, name in enumerate(NAMES))


def test_notes_cut_to_fit_the_comment_are_not_taken_for_a_curator_edit_on_the_rebuild(world):
    names, trailers = NAMES, TRAILERS
    world.open_pull(1, "Add fields (PR 1)", CONTRIBUTOR, one_field(487))
    before = world.git("rev-parse", "main")
    world.merge(1)
    merge_sha = world.push_main(one_field(488), f"Add field 488\n\n{trailers}")
    assert world.push(before, merge_sha).code == 0
    (summary,) = bot_comments(world, 1)
    assert names[-1] not in summary["body"] and len(summary["body"]) < MAX_BODY
    draft_id = draft_id_of(summary["body"])
    assert names[-1] in _notes_on_zenodo(world, draft_id)

    rerun = world.push(before, merge_sha)  # a rebuild, with no human edit in between
    assert rerun.code == 0, rerun.stderr + rerun.stdout
    (summary,) = bot_comments(world, 1)
    assert "Curator edits kept" not in summary["body"]
    assert names[-1] in _notes_on_zenodo(world, draft_id)  # Zenodo has the bot's whole notes, not the cut
    assert "Files and md5 checksums" in _notes_on_zenodo(world, draft_id)


def test_curator_notes_stay_whole_when_the_bot_draft_beside_them_is_too_long_for_the_comment(world):
    merged_release(world, 1, one_field(487))
    (summary,) = bot_comments(world, 1)
    body = summary["body"]
    start, end = body.index(NOTES_START) + len(NOTES_START), body.index(NOTES_END)
    world.github.edit_comment_as(CURATOR, summary["id"], body[:start] + "\nCurated: field 487.\n" + body[end:])

    world.open_pull(2, "Add fields (PR 2)", CONTRIBUTOR, one_field(488))
    before = world.git("rev-parse", "main")
    world.merge(2)
    run = world.push(before, world.push_main(one_field(489), f"Add field 489\n\n{TRAILERS}"))
    assert run.code == 0, run.stderr + run.stdout
    newest = bot_comments(world, 2)[0]["body"]
    assert len(newest) < MAX_BODY and "Curator edits kept" in newest and NAMES[-1] not in newest
    start, end = newest.index(NOTES_START) + len(NOTES_START), newest.index(NOTES_END)
    assert newest[start:end].strip() == "Curated: field 487."
    assert NAMES[-1] in run.summary  # the bot's draft, whole, in the run's job summary
