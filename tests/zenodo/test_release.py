"""The release steps end to end against the bundled Zenodo server: converge, rerun, crash, publish."""

from __future__ import annotations

from typing import Any

import pytest
from zenodo_support import (
    TODAY,
    Release,
    Target,
    assert_converged,
    files_of,
    notes_in,
    seed_release,
    the_draft,
    upload_of,
    writes,
)

from bot.errors import Finding
from bot.local.crash import SimulatedCrash, crash_after
from bot.notes.digest import with_footer
from bot.zenodo.client import ZenodoError
from bot.zenodo.drafts import (
    STEPS,
    converge_draft,
    find_pending_draft,
    latest_published,
    publish_draft,
)


def test_converge_builds_the_new_version_draft(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    result = converge_draft(client, release.request())

    draft = assert_converged(zenodo, release)
    assert result.draft_id == draft["id"]
    assert result.doi == draft["pids"]["doi"]["identifier"]
    assert {k: e.md5 for k, e in result.files.items()} == release.expected
    assert sorted(result.uploaded) == sorted(release.new_files)
    assert set(result.imported) == set(release.expected) - set(release.new_files)
    assert result.notes_html == release.notes_html and not result.notes_kept
    assert result.latest_version == "v1.0.0"
    assert result.links and draft["id"] in result.links
    # Calls stay constant per release: about 15 plus the uploads (2 per file: content and commit).
    assert result.calls == client.calls <= 20 + 2 * len(release.new_files)
    assert sum(client.calls_by_step[s] for s in STEPS) == client.calls
    # The other descriptions of the previous version survive the metadata update.
    assert {"description": "<p>Methods: DNN and XGB.</p>", "type": {"id": "methods"}} in (
        draft["metadata"]["additional_descriptions"])


def test_rerun_of_a_finished_draft_only_reads(zenodo: Target, release: Release) -> None:
    first = converge_draft(zenodo.client(), release.request())
    mark = len(zenodo.server.calls)
    again = converge_draft(zenodo.client(), release.request())

    # POST versions is the one write a rerun makes: idempotent, it answers the same draft.
    assert writes(zenodo, mark) == [("POST", f"/api/records/{first.latest_published_id}/versions")]
    assert again.draft_id == first.draft_id and again.doi == first.doi and again.uploaded == []
    assert_converged(zenodo, release)


@pytest.mark.parametrize("step", STEPS)
def test_crash_after_each_step_then_rerun_converges(zenodo: Target, release: Release, step: str) -> None:
    with pytest.raises(SimulatedCrash, match=step), crash_after(f"zenodo:{step}"):
        converge_draft(zenodo.client(), release.request())
    result = converge_draft(zenodo.client(), release.request())

    draft = assert_converged(zenodo, release)
    assert result.draft_id == draft["id"]
    paths = [p for _m, p in writes(zenodo)]
    assert sum(p.endswith("/pids/doi") for p in paths) == 1, "one DOI reserved, once"
    assert sum(p.endswith("/files-import") for p in paths) == 1, "imported once, never deleted and redone"


def test_rerun_finishes_partial_uploads_without_reimporting(zenodo: Target, release: Release) -> None:
    _first, last = list(release.new_files)  # uploaded in this order
    # Every attempt at the last file's content fails: the run dies with the first file uploaded.
    zenodo.server.faults.add("PUT", f"/files/{last}/content$", "drop", times=50)
    with pytest.raises(ZenodoError, match="giving up"):
        converge_draft(zenodo.client(), release.request())
    zenodo.server.faults.clear()
    mark = len(zenodo.server.calls)

    result = converge_draft(zenodo.client(), release.request())

    assert_converged(zenodo, release)
    assert result.uploaded == [last]
    rerun_writes = writes(zenodo, mark)
    assert not any(p.endswith("/files-import") for _m, p in rerun_writes)
    assert not any(m == "DELETE" for m, _p in rerun_writes), "nothing imported was deleted"


def test_draft_with_stray_files_but_no_import_is_rebuilt(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    latest = latest_published(client, release.concept_record)
    draft = client.new_version(latest.id)
    # Someone uploaded one of the new files by hand into an empty new-version draft: import would fail.
    key, data = next(iter(release.new_files.items()))
    client.start_uploads(draft.id, [key])
    upload = upload_of(key, data)
    client.upload_content(draft.id, key, upload.open, upload.size)

    converge_draft(zenodo.client(), release.request())

    assert_converged(zenodo, release)


def test_curator_edit_of_the_notes_is_kept(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    first = converge_draft(client, release.request(notes_html=with_footer("<p>Added field 297.</p>")))
    draft = client.get_draft(first.draft_id)
    body = {k: v for k, v in draft.raw.items() if k not in ("links", "ui")}
    curated = "<p>Added field 297. Reviewed by the SCoPe team.</p>"
    body["metadata"]["additional_descriptions"] = [
        d if d["type"]["id"] != "notes" else {"description": curated, "type": {"id": "notes"}}
        for d in body["metadata"]["additional_descriptions"]
    ]
    client.update_draft(first.draft_id, body)

    again = converge_draft(client, release.request(notes_html=with_footer("<p>Added fields 297, 298.</p>")))

    assert again.notes_kept is True
    assert again.notes_html == curated
    assert notes_in(the_draft(zenodo, release)) == [curated]


def test_unedited_bot_notes_are_replaced_not_appended(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    converge_draft(client, release.request(notes_html=with_footer("<p>Added field 297.</p>")))
    newer = with_footer("<p>Added fields 297 and 298.</p>")
    again = converge_draft(client, release.request(notes_html=newer))

    assert again.notes_kept is False
    assert notes_in(the_draft(zenodo, release)) == [newer]


def test_dry_run_only_reads_and_lists_the_writes(zenodo: Target, release: Release) -> None:
    mark = len(zenodo.server.calls)
    plan = converge_draft(zenodo.client(), release.request(), dry_run=True)

    assert writes(zenodo, mark) == []
    assert zenodo.server.drafts_of(release.concept_record) == []
    methods = [line.split()[0] for line in plan.planned]
    assert plan.planned[0] == f"POST /records/{plan.latest_published_id}/versions"
    assert any(line.endswith("/actions/files-import") for line in plan.planned)
    assert methods.count("DELETE") == 2  # the old zip and the old fields.json
    assert methods.count("PUT") == 1 + len(release.new_files)  # the contents, then the metadata
    assert plan.planned[-1].endswith("/pids/doi")

    # A dry run over a finished draft has nothing left to write.
    converge_draft(zenodo.client(), release.request())
    assert converge_draft(zenodo.client(), release.request(), dry_run=True).planned == []


def test_find_pending_draft(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    assert find_pending_draft(client, release.concept_record) is None
    result = converge_draft(client, release.request())
    pending = find_pending_draft(client, release.concept_record)
    assert pending is not None and pending.id == result.draft_id and pending.version == release.version


def test_already_published_version_is_refused(zenodo: Target, release: Release) -> None:
    with pytest.raises(Finding, match=r"already published version v1\.0\.0"):
        converge_draft(zenodo.client(), release.request(version="v1.0.0"))


def test_empty_upload_is_refused_before_any_call(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    req = release.request(uploads=[upload_of("fields.json", b"")])
    with pytest.raises(Exception, match="0-byte"):
        converge_draft(client, req)
    assert client.calls == 0


# ---- publishing ---------------------------------------------------------------------------------


def publish(zenodo: Target, release: Release, draft_id: str, **kwargs: Any):
    return publish_draft(zenodo.client(), draft_id, expected_files=release.expected, version=release.version,
                         publication_date=kwargs.pop("publication_date", "2025-03-20"), **kwargs)


def test_publish_verifies_and_publishes(zenodo: Target, release: Release) -> None:
    result = converge_draft(zenodo.client(), release.request())
    record = publish(zenodo, release, result.draft_id)

    versions = zenodo.server.published_versions(release.concept_record)
    assert [v["metadata"]["version"] for v in versions] == ["v1.0.0", release.version]
    assert record.id == result.draft_id and record.is_published
    assert record.doi == result.doi and record.version == release.version
    assert record.publication_date == "2025-03-20"
    assert {k: e.md5 for k, e in record.files.items()} == release.expected
    assert zenodo.server.drafts_of(release.concept_record) == []


def test_publish_answer_lost_does_not_publish_twice(zenodo: Target, release: Release) -> None:
    result = converge_draft(zenodo.client(), release.request())
    zenodo.server.faults.add("POST", r"/actions/publish$", "after")
    record = publish(zenodo, release, result.draft_id)

    assert record.is_published
    assert len(zenodo.server.published_versions(release.concept_record)) == 2
    assert [p for m, p in writes(zenodo) if p.endswith("/actions/publish")] == [
        f"/api/records/{result.draft_id}/draft/actions/publish"]
    # And publishing again is a verified no-op.
    again = publish(zenodo, release, result.draft_id)
    assert again.id == record.id
    assert len(zenodo.server.published_versions(release.concept_record)) == 2


def test_publish_refuses_a_draft_that_changed_after_approval(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    result = converge_draft(client, release.request())
    client.delete_draft_file(result.draft_id, "fields.json")

    with pytest.raises(Finding, match=r"fields\.json: missing"):
        publish(zenodo, release, result.draft_id)
    assert len(zenodo.server.published_versions(release.concept_record)) == 1


def test_publish_refuses_a_record_published_with_other_content(zenodo: Target, release: Release) -> None:
    result = converge_draft(zenodo.client(), release.request())
    publish(zenodo, release, result.draft_id)
    other = {**release.expected, "fields.json": "0" * 32}
    with pytest.raises(Finding, match="not the approved release"):
        publish_draft(zenodo.client(), result.draft_id, expected_files=other, version=release.version,
                      publication_date=TODAY)


def test_publish_dry_run_only_reads(zenodo: Target, release: Release) -> None:
    result = converge_draft(zenodo.client(), release.request())
    mark = len(zenodo.server.calls)
    planned: list[str] = []
    draft = publish(zenodo, release, result.draft_id, dry_run=True, planned=planned)

    assert writes(zenodo, mark) == []
    assert not draft.is_published
    assert planned == [f"PUT /records/{result.draft_id}/draft",
                       f"POST /records/{result.draft_id}/draft/actions/publish"]


def test_second_release_replaces_the_renamed_zip(zenodo: Target) -> None:
    """Fields added: the zip's name changes, so the old one must go and the new one come in."""
    release = seed_release(zenodo, old_fields=(296,), new_fields=(296, 297, 423, 487))
    converge_draft(zenodo.client(), release.request())
    draft = assert_converged(zenodo, release)
    assert "predictions_dnn_xgb_1_fields.zip" not in files_of(draft)
    assert "predictions_dnn_xgb_4_fields.zip" in files_of(draft)


def test_progress_bar_goes_to_stderr(
    zenodo: Target, release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    converge_draft(zenodo.client(), release.request(), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert all(key in err for key in release.new_files)
