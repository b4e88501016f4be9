"""The draft plan alone: ``plan_for`` decides from what Zenodo holds, with no call (pure)."""

from __future__ import annotations

import io

from fakes import record

from bot.notes.digest import with_footer
from bot.zenodo.drafts import DraftRequest, UploadFile, plan_for
from bot.zenodo.models import Draft

OLD_ZIP, NEW_ZIP = "predictions_dnn_xgb_3_fields.zip", "predictions_dnn_xgb_4_fields.zip"
LATEST = record("7", "v1.0.0", {OLD_ZIP: "a" * 32, "fields.json": "b" * 32, "notebook.ipynb": "c" * 32},
                published=True, doi="10.5281/zenodo.7")


def _request(notes: str = "<p>Added field 490.</p>") -> DraftRequest:
    uploads = [UploadFile(NEW_ZIP, 100, "d" * 32, lambda: io.BytesIO(b"")),
               UploadFile("fields.json", 20, "e" * 32, lambda: io.BytesIO(b""))]
    return DraftRequest("8410825", uploads, lambda k: k in (OLD_ZIP, "fields.json"), "v1.1.0",
                        with_footer(notes), "2026-01-02")


def _draft(files: dict[str, str], notes: str | None = None, doi: str | None = "10.5281/zenodo.9") -> Draft:
    draft = record("9", "v1.1.0", files, published=False, doi=doi, date="2026-01-02")
    if notes is not None:
        draft.metadata["additional_descriptions"] = [{"description": notes, "type": {"id": "notes"}}]
        draft = Draft.from_json({**draft.raw, "metadata": draft.metadata})
    assert isinstance(draft, Draft)
    return draft


def test_a_first_run_plans_every_write() -> None:
    plan = plan_for(LATEST, _request(), None, {})
    assert plan.draft_id is None and plan.import_files and not plan.clear_files
    assert plan.remove == ("fields.json", OLD_ZIP)  # replaced; the notebook is carried over
    assert [u.key for u in plan.upload] == [NEW_ZIP, "fields.json"] and plan.reserve_doi and plan.update_metadata
    assert plan.kept == {"notebook.ipynb": "c" * 32}
    assert plan.writes()[0] == "POST /records/7/versions" and plan.writes()[-1].endswith("/pids/doi")


def test_a_converged_draft_plans_nothing() -> None:
    request = _request()
    files = {"notebook.ipynb": "c" * 32, NEW_ZIP: "d" * 32, "fields.json": "e" * 32}
    plan = plan_for(LATEST, request, _draft(files, notes=request.notes_html), _draft(files).files)
    assert plan.writes() == [] and plan.doi == "10.5281/zenodo.9"


def test_a_committed_upload_with_other_bytes_is_removed_and_sent_again() -> None:
    files = {"notebook.ipynb": "c" * 32, NEW_ZIP: "0" * 32, "fields.json": "e" * 32}
    plan = plan_for(LATEST, _request(), _draft(files), _draft(files).files)
    assert not plan.import_files and plan.remove == (NEW_ZIP,) and [u.key for u in plan.upload] == [NEW_ZIP]
    assert plan.declare == (NEW_ZIP,) and not plan.reserve_doi


def test_a_curators_file_is_kept_and_a_curators_notes_too() -> None:
    files = {"notebook.ipynb": "c" * 32, NEW_ZIP: "d" * 32, "fields.json": "e" * 32, "extra.pdf": "f" * 32}
    plan = plan_for(LATEST, _request(), _draft(files, notes="<p>Written by a curator.</p>"), _draft(files).files)
    assert "extra.pdf" not in plan.remove  # not ours: the verification after uploading names it
    assert plan.notes_kept and plan.notes_html == "<p>Written by a curator.</p>"


def test_a_draft_missing_the_imported_files_is_cleared_and_imported_again() -> None:
    files = {NEW_ZIP: "d" * 32}
    plan = plan_for(LATEST, _request(), _draft(files), _draft(files).files)
    assert plan.clear_files and plan.import_files
    draft = "/records/9/draft"
    assert plan.writes()[:2] == [f"DELETE {draft}/files/{NEW_ZIP}", f"POST {draft}/actions/files-import"]
