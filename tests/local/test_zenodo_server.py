"""The bundled Zenodo-compatible server, driven over real HTTP with requests as the bot's client drives it."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zenodo_fixtures import INVENIORDM_ACCEPT, ZENODO_TEST_TOKEN, SeededZenodo

from bot.local.zenodo.metadata import check_metadata, valid_edtf_date
from bot.local.zenodo_server import ZenodoServer
from bot.scope import FIELDS_JSON, catalog_zip_name

TODAY = "2031-02-03"


def _md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


@pytest.fixture
def s(zenodo_session: requests.Session) -> requests.Session:
    return zenodo_session


@pytest.fixture
def z(zenodo_seeded: SeededZenodo) -> SeededZenodo:
    return zenodo_seeded


def new_draft(s: requests.Session, z: SeededZenodo) -> str:
    r = s.post(f"{z.url}/records/{z.record_id}/versions")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def add_file(s: requests.Session, url: str, draft: str, key: str, data: bytes) -> dict:
    assert s.post(f"{url}/records/{draft}/draft/files", json=[{"key": key}]).status_code == 201
    put = s.put(f"{url}/records/{draft}/draft/files/{key}/content", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200, put.text
    commit = s.post(f"{url}/records/{draft}/draft/files/{key}/commit")
    assert commit.status_code == 200, commit.text
    return commit.json()


def draft_keys(s: requests.Session, url: str, draft: str) -> list[str]:
    r = s.get(f"{url}/records/{draft}/draft/files")
    assert r.status_code == 200
    return [e["key"] for e in r.json()["entries"]]


def ready_to_publish(s: requests.Session, z: SeededZenodo, version: str = "v1.1.0") -> str:
    draft = new_draft(s, z)
    assert s.post(f"{z.url}/records/{draft}/draft/actions/files-import").status_code == 201
    body = s.get(f"{z.url}/records/{draft}/draft").json()
    body["metadata"]["version"] = version
    assert s.put(f"{z.url}/records/{draft}/draft", json=body).status_code == 200
    return draft


# -- versions and records --------------------------------------------------------------------------------
def test_latest_redirects_from_the_concept_and_from_any_version(s, z):
    for rid in (z.concept_id, z.record_id):
        r = s.get(f"{z.url}/records/{rid}/versions/latest", allow_redirects=False)
        assert r.status_code == 302
        assert r.headers["Location"] == f"{z.url}/records/{z.record_id}"
    draft = ready_to_publish(s, z)
    assert s.post(f"{z.url}/records/{draft}/draft/actions/publish").status_code == 202
    for rid in (z.concept_id, z.record_id, draft):
        r = s.get(f"{z.url}/records/{rid}/versions/latest")
        assert r.status_code == 200 and r.json()["id"] == draft
        assert r.json()["metadata"]["version"] == "v1.1.0"
    versions = s.get(f"{z.url}/records/{z.record_id}/versions").json()["hits"]
    assert [h["id"] for h in versions["hits"]] == [draft, z.record_id] and versions["total"] == 2
    assert [h["versions"]["is_latest"] for h in versions["hits"]] == [True, False]


def test_published_record_shape(s, z):
    rec = s.get(f"{z.url}/records/{z.record_id}").json()
    assert rec["is_published"] is True and rec["is_draft"] is False and rec["status"] == "published"
    assert rec["pids"]["doi"] == {"identifier": f"10.5281/zenodo.{z.record_id}", "provider": "datacite",
                                  "client": "datacite"}
    assert rec["parent"]["id"] == z.concept_id
    assert rec["parent"]["pids"]["doi"]["identifier"] == f"10.5281/zenodo.{z.concept_id}"
    assert rec["versions"] == {"index": 1, "is_latest": True, "is_latest_draft": False}
    assert rec["metadata"]["version"] == "v1.0.0"
    entries = rec["files"]["entries"]
    assert rec["files"]["enabled"] is True
    assert set(entries) == {catalog_zip_name(3), FIELDS_JSON, "field_296_100rows.csv",
                            "SCoPe_classification_demo.ipynb"}
    fields = entries[FIELDS_JSON]
    assert fields["checksum"] == _md5(b"[296, 297, 487]") and fields["status"] == "completed"
    assert requests.get(fields["links"]["content"]).content == b"[296, 297, 487]"
    for name in ("self", "latest", "files", "versions"):
        assert rec["links"][name].startswith(z.url + "/records/")


def test_a_concept_id_resolves_and_a_draft_is_not_a_record(s, z):
    r = s.get(f"{z.url}/records/{z.concept_id}")
    assert r.status_code == 200 and r.json()["id"] == z.record_id
    draft = new_draft(s, z)
    r = s.get(f"{z.url}/records/{draft}")
    assert r.status_code == 404 and r.json()["status"] == 404


def test_new_version_copies_metadata_without_version_and_is_idempotent(tmp_path):
    with ZenodoServer(data_dir=tmp_path, tokens={"t"}, today=lambda: TODAY) as server:
        concept, record = server.seed_concept({"a.txt": b"abc"}, {
            "title": "A catalog", "publication_date": "2020-01-01", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "personal", "family_name": "Doe"}}]})
        h = {"Authorization": "Bearer t", "Accept": INVENIORDM_ACCEPT}
        first = requests.post(f"{server.url}/records/{record}/versions", headers=h)
        again = requests.post(f"{server.url}/records/{record}/versions", headers=h)
        assert first.status_code == again.status_code == 201
        draft = first.json()
        assert again.json()["id"] == draft["id"] != record
        assert "version" not in draft["metadata"]
        assert draft["metadata"]["publication_date"] == TODAY
        assert draft["metadata"]["title"] == "A catalog"
        assert draft["files"]["entries"] == {} and draft["is_draft"] and draft["pids"] == {}
        assert draft["status"] == "new_version_draft" and draft["versions"]["index"] == 2
        assert len(server.drafts_of(concept)) == 1


def test_new_version_needs_a_published_version_id(s, z):
    assert s.post(f"{z.url}/records/{z.concept_id}/versions").status_code == 404
    draft = new_draft(s, z)
    assert s.post(f"{z.url}/records/{draft}/versions").status_code == 404
    assert s.post(f"{z.url}/records/999999/versions").status_code == 404


# -- auth ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_missing_or_wrong_token_is_403_permission_denied(z, headers):
    headers = {**headers, "Accept": INVENIORDM_ACCEPT}
    for method, path in [("POST", f"/records/{z.record_id}/versions"),
                         ("GET", f"/records/{z.record_id}/draft"),
                         ("PUT", f"/records/{z.record_id}/draft"), ("DELETE", "/records/1/draft/files")]:
        r = requests.request(method, z.url + path, headers=headers)
        assert r.status_code == 403
        assert r.json() == {"status": 403, "message": "Permission denied."}
    assert requests.get(f"{z.url}/records/{z.record_id}", headers=headers).status_code == 200


def test_drafts_are_visible_only_with_a_token(s, z):
    draft = new_draft(s, z)
    assert requests.get(f"{z.url}/records/{draft}/draft").status_code == 403
    assert s.get(f"{z.url}/records/{draft}/draft").json()["id"] == draft
    assert requests.get(f"{z.url}/records/{draft}/draft/files").status_code == 403


# -- files -----------------------------------------------------------------------------------------------
def test_files_import_copies_the_previous_files_once(s, z):
    draft = new_draft(s, z)
    r = s.post(f"{z.url}/records/{draft}/draft/actions/files-import")
    assert r.status_code == 201
    previous = s.get(f"{z.url}/records/{z.record_id}").json()["files"]["entries"]
    imported = {e["key"]: e for e in r.json()["entries"]}
    assert set(imported) == set(previous)
    assert all(imported[k]["checksum"] == previous[k]["checksum"] for k in previous)
    assert all(e["status"] == "completed" for e in imported.values())
    again = s.post(f"{z.url}/records/{draft}/draft/actions/files-import")
    assert again.status_code == 400 and "already holds files" in again.json()["message"]
    assert len(draft_keys(s, z.url, draft)) == len(previous)
    one_key = next(iter(previous))
    assert s.delete(f"{z.url}/records/{draft}/draft/files/{one_key}").status_code == 204
    assert s.post(f"{z.url}/records/{draft}/draft/actions/files-import").status_code == 400
    for key in draft_keys(s, z.url, draft):  # one key at a time: the rows really go
        assert s.delete(f"{z.url}/records/{draft}/draft/files/{key}").status_code == 204
    assert draft_keys(s, z.url, draft) == []
    assert s.post(f"{z.url}/records/{draft}/draft/actions/files-import").status_code == 201
    # The published version kept its files: deleting draft entries never touches shared blobs.
    assert requests.get(previous[FIELDS_JSON]["links"]["content"], headers={"Accept": "*/*"}).content == (
        b"[296, 297, 487]")


def test_deleting_all_draft_files_at_once_leaves_rows_that_a_new_import_collides_with(s, z):
    draft = new_draft(s, z)
    assert s.post(f"{z.url}/records/{draft}/draft/actions/files-import").status_code == 201
    assert s.delete(f"{z.url}/records/{draft}/draft/files").status_code == 204
    assert draft_keys(s, z.url, draft) == []  # the listing looks empty...
    r = s.post(f"{z.url}/records/{draft}/draft/actions/files-import")
    assert r.status_code == 500  # ...but the soft-deleted rows clash with the same keys imported again


def test_files_import_copies_default_preview_and_order_and_a_stale_put_resets_them(s, z, tmp_path):
    with ZenodoServer(data_dir=tmp_path, tokens={"t"}) as server, requests.Session() as t:
        t.headers.update({"Authorization": "Bearer t", "Accept": f"{INVENIORDM_ACCEPT}, application/json;q=0.5"})
        _, record = server.seed_concept({"a.csv": b"a", "b.ipynb": b"{}"}, {
            "title": "Preview", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]}, default_preview="b.ipynb")
        before_import = t.post(f"{server.url}/records/{record}/versions").json()
        assert before_import["files"]["default_preview"] is None and before_import["files"]["entries"] == {}
        draft = before_import["id"]
        listing = t.post(f"{server.url}/records/{draft}/draft/actions/files-import").json()
        assert listing["default_preview"] == "b.ipynb" and listing["order"] == ["a.csv", "b.ipynb"]
        after_import = t.get(f"{server.url}/records/{draft}/draft").json()
        assert after_import["files"]["default_preview"] == "b.ipynb"
        stale = {k: v for k, v in before_import.items() if k not in ("links", "ui")}
        saved = t.put(f"{server.url}/records/{draft}/draft", json=stale).json()
        assert saved["files"]["default_preview"] is None and saved["files"]["order"] == []


def test_community_checks_report_on_save_and_only_errors_block_publishing(s, z):
    z.server.add_community_check("metadata.subjects", "Add a subject.", severity="info", community="c1")
    draft = ready_to_publish(s, z)
    saved = s.get(f"{z.url}/records/{draft}/draft").json()
    body = {k: v for k, v in saved.items() if k not in ("links", "ui")}
    errors = s.put(f"{z.url}/records/{draft}/draft", json=body).json()["errors"]
    assert errors == [{"field": "metadata.subjects", "messages": ["Add a subject."], "severity": "info",
                       "context": {"community": "c1"}}]
    z.server.add_community_check("metadata.title", "Titles start with SCoPe.", severity="error")
    refused = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert refused.status_code == 400
    assert [e["severity"] for e in refused.json()["errors"]] == ["error"]
    z.server.state.community_checks = [c for c in z.server.state.community_checks if c["severity"] != "error"]
    assert s.post(f"{z.url}/records/{draft}/draft/actions/publish").status_code == 202


def test_upload_commit_download_in_a_draft(s, z):
    draft = new_draft(s, z)
    data = os.urandom(70_000)
    r = s.post(f"{z.url}/records/{draft}/draft/files", json=[{"key": "new.bin"}])
    assert r.status_code == 201 and r.json()["entries"][0]["status"] == "pending"
    assert s.post(f"{z.url}/records/{draft}/draft/files", json=[{"key": "new.bin"}]).status_code == 400
    # A streamed (chunked) body, as a client uploading from a generator sends it.
    put = s.put(f"{z.url}/records/{draft}/draft/files/new.bin/content",
                data=(data[i:i + 9000] for i in range(0, len(data), 9000)),
                headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200 and put.json()["size"] == len(data)
    commit = s.post(f"{z.url}/records/{draft}/draft/files/new.bin/commit")
    assert commit.status_code == 200
    assert commit.json()["checksum"] == _md5(data) and commit.json()["status"] == "completed"
    got = s.get(f"{z.url}/records/{draft}/draft/files/new.bin/content",
                headers={"Accept": "*/*"})
    assert got.status_code == 200 and got.content == data
    assert s.get(f"{z.url}/records/{draft}/draft/files/new.bin").json()["size"] == len(data)
    assert s.delete(f"{z.url}/records/{draft}/draft/files/new.bin").status_code == 204
    assert s.get(f"{z.url}/records/{draft}/draft/files/new.bin").status_code == 404
    assert s.delete(f"{z.url}/records/{draft}/draft/files/new.bin").status_code == 404


def test_zero_byte_files_are_rejected_at_commit(s, z):
    draft = new_draft(s, z)
    s.post(f"{z.url}/records/{draft}/draft/files", json=[{"key": "empty.txt"}])
    assert s.post(f"{z.url}/records/{draft}/draft/files/empty.txt/commit").status_code == 400  # no content
    assert s.put(f"{z.url}/records/{draft}/draft/files/empty.txt/content", data=b"").status_code == 200
    r = s.post(f"{z.url}/records/{draft}/draft/files/empty.txt/commit")
    assert r.status_code == 400 and "empty" in r.json()["message"]


@pytest.mark.parametrize("origin", ["committed", "imported"])
def test_a_second_put_to_a_finished_key_fails_and_loses_the_file(s, z, origin):
    draft = new_draft(s, z)
    if origin == "imported":
        s.post(f"{z.url}/records/{draft}/draft/actions/files-import")
    else:
        add_file(s, z.url, draft, FIELDS_JSON, b"[1]")
    r = s.put(f"{z.url}/records/{draft}/draft/files/{FIELDS_JSON}/content", data=b"[296, 297]",
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    assert r.json()["errors"] == "File upload transfer failed."
    assert FIELDS_JSON not in draft_keys(s, z.url, draft)
    # The next request on the same connection still works (the body was consumed).
    assert s.get(f"{z.url}/records/{draft}/draft").status_code == 200


def test_an_upload_cut_off_mid_body_removes_the_file(s, z):
    draft = new_draft(s, z)
    s.post(f"{z.url}/records/{draft}/draft/files", json=[{"key": "big.bin"}])
    head = (f"PUT /api/records/{draft}/draft/files/big.bin/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {ZENODO_TEST_TOKEN}\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 100000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", z.server.port)) as sock:
        sock.sendall(head.encode() + b"x" * 30_000)
        sock.shutdown(socket.SHUT_WR)  # the client dies half-way
        while sock.recv(65536):  # the server answers (or not) and closes once it has cleaned up
            pass
    assert "big.bin" not in draft_keys(s, z.url, draft)
    assert not list((z.server.data_dir / "blobs").glob(".upload-*"))


def test_per_file_and_per_record_limits(tmp_path):
    with ZenodoServer(data_dir=tmp_path, tokens={"t"}, max_file_bytes=1000, max_record_bytes=1500,
                      max_files=3) as server:
        _, record = server.seed_concept({"a.txt": b"a" * 10}, {
            "title": "Limits", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        with requests.Session() as s:
            s.headers["Authorization"] = "Bearer t"
            draft = s.post(f"{server.url}/records/{record}/versions").json()["id"]
            s.post(f"{server.url}/records/{draft}/draft/files", json=[{"key": "big"}])
            r = s.put(f"{server.url}/records/{draft}/draft/files/big/content", data=b"x" * 1001)
            assert r.status_code == 400 and "limit" in r.json()["message"]
            add_file(s, server.url, draft, "one", b"x" * 900)
            s.post(f"{server.url}/records/{draft}/draft/files", json=[{"key": "two"}])
            r = s.put(f"{server.url}/records/{draft}/draft/files/two/content", data=b"x" * 900)
            assert r.status_code == 400 and "quota" in r.json()["message"]
            assert draft_keys(s, server.url, draft) == ["one"]
            r = s.post(f"{server.url}/records/{draft}/draft/files", json=[{"key": k} for k in "bcd"])
            assert r.status_code == 400 and "at most 3" in r.json()["message"]


# -- draft metadata --------------------------------------------------------------------------------------
def test_put_drops_invalid_fields_and_reports_them(s, z):
    draft = ready_to_publish(s, z)
    body = s.get(f"{z.url}/records/{draft}/draft").json()
    body["metadata"]["title"] = "ab"
    body["metadata"]["publication_date"] = "2024-13-01"
    r = s.put(f"{z.url}/records/{draft}/draft", json=body)
    assert r.status_code == 200
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"metadata.title", "metadata.publication_date"}
    saved = s.get(f"{z.url}/records/{draft}/draft").json()["metadata"]
    assert "title" not in saved and "publication_date" not in saved and saved["version"] == "v1.1.0"
    publish = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert publish.status_code == 400
    problems = {e["field"]: e["messages"] for e in publish.json()["errors"]}
    assert problems["metadata.title"] == ["Missing data for required field."]
    assert "metadata.publication_date" in problems


def test_an_unknown_vocabulary_id_rejects_the_whole_put(s, z):
    draft = new_draft(s, z)
    body = s.get(f"{z.url}/records/{draft}/draft").json()
    body["metadata"]["version"] = "v9.9.9"
    notes = {"description": "<p>notes</p>", "type": {"id": "release-notes"}}
    body["metadata"]["additional_descriptions"] = [notes]
    r = s.put(f"{z.url}/records/{draft}/draft", json=body)
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "metadata.additional_descriptions.0.type",
                                   "messages": ["Not a valid value."]}]
    assert "version" not in s.get(f"{z.url}/records/{draft}/draft").json()["metadata"]  # nothing saved
    body["metadata"]["additional_descriptions"][0]["type"] = {"id": "notes"}
    r = s.put(f"{z.url}/records/{draft}/draft", json=body)
    assert r.status_code == 200 and "errors" not in r.json()
    assert r.json()["metadata"]["additional_descriptions"][0]["type"] == {"id": "notes"}


def test_read_only_keys_are_ignored_and_empty_pids_detach_the_doi(s, z):
    draft = new_draft(s, z)
    doi = s.post(f"{z.url}/records/{draft}/draft/pids/doi").json()["pids"]["doi"]["identifier"]
    body = s.get(f"{z.url}/records/{draft}/draft").json()
    body.update(id="1", links={"self": "x"}, ui={"a": 1}, is_published=True, revision_id=99)
    r = s.put(f"{z.url}/records/{draft}/draft", json=body)
    assert r.status_code == 200
    assert r.json()["id"] == draft and r.json()["is_published"] is False
    assert r.json()["pids"]["doi"]["identifier"] == doi
    body.pop("pids")
    assert s.put(f"{z.url}/records/{draft}/draft", json=body).json()["pids"]["doi"]["identifier"] == doi
    body["pids"] = {}
    assert s.put(f"{z.url}/records/{draft}/draft", json=body).json()["pids"] == {}


def test_reserving_a_doi_twice_is_400_and_counted_once(s, z):
    draft = new_draft(s, z)
    r = s.post(f"{z.url}/records/{draft}/draft/pids/doi")
    assert r.status_code == 201
    assert r.json()["pids"]["doi"]["identifier"] == f"10.5281/zenodo.{draft}"
    assert s.post(f"{z.url}/records/{draft}/draft/pids/doi").status_code == 400
    kept = s.get(f"{z.url}/records/{draft}/draft").json()["pids"]["doi"]["identifier"]
    assert kept == f"10.5281/zenodo.{draft}"
    assert z.server.dois_reserved == 1


# -- publish ---------------------------------------------------------------------------------------------
def test_publish_makes_the_draft_the_latest_version(s, z):
    draft = ready_to_publish(s, z)
    s.post(f"{z.url}/records/{draft}/draft/pids/doi")
    r = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert r.status_code == 202
    rec = r.json()
    assert rec["is_published"]
    assert rec["versions"] == {"index": 2, "is_latest": True, "is_latest_draft": False}
    assert rec["pids"]["doi"]["identifier"] == f"10.5281/zenodo.{draft}"
    assert [v["id"] for v in z.server.published_versions(z.concept_id)] == [z.record_id, draft]
    assert z.server.drafts_of(z.concept_id) == []
    assert s.get(f"{z.url}/records/{draft}/draft").status_code == 404
    assert s.post(f"{z.url}/records/{draft}/draft/actions/publish").status_code == 404
    assert s.get(f"{z.url}/records/{z.record_id}").json()["versions"]["is_latest"] is False


def test_publish_refuses_uncommitted_files_and_empty_drafts(s, z):
    draft = ready_to_publish(s, z)
    s.post(f"{z.url}/records/{draft}/draft/files", json=[{"key": "late.txt"}])
    r = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["files.entries.late.txt"]
    s.delete(f"{z.url}/records/{draft}/draft/files")
    r = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "files.enabled"
    assert z.server.published_versions(z.concept_id)[-1]["id"] == z.record_id


def test_discarding_a_draft_lets_a_new_one_start(s, z):
    draft = ready_to_publish(s, z)
    assert s.delete(f"{z.url}/records/{draft}/draft").status_code == 204
    assert s.get(f"{z.url}/records/{draft}/draft").status_code == 404
    again = new_draft(s, z)
    assert again != draft and [d["id"] for d in z.server.drafts_of(z.concept_id)] == [again]


def test_a_whole_new_record_can_be_created_and_published(s, zenodo_server):
    url = zenodo_server.url
    r = s.post(f"{url}/records", json={"metadata": {"title": "Fresh", "resource_type": {"id": "dataset"},
                                                    "publication_date": "2024-01-01"}})
    assert r.status_code == 201 and r.json()["status"] == "draft"
    draft = r.json()["id"]
    add_file(s, url, draft, "x.txt", b"x")
    refused = s.post(f"{url}/records/{draft}/draft/actions/publish")
    assert refused.json()["errors"][0]["field"] == "metadata.creators"
    body = s.get(f"{url}/records/{draft}/draft").json()
    doe = {"type": "personal", "family_name": "Doe", "given_name": "J"}
    body["metadata"]["creators"] = [{"person_or_org": doe}]
    saved = s.put(f"{url}/records/{draft}/draft", json=body).json()
    assert saved["metadata"]["creators"][0]["person_or_org"]["name"] == "Doe, J"
    assert s.post(f"{url}/records/{draft}/draft/actions/publish").status_code == 202
    concept = r.json()["parent"]["id"]
    assert s.get(f"{url}/records/{concept}/versions/latest").json()["id"] == draft


# -- content negotiation ---------------------------------------------------------------------------------
def test_without_the_inveniordm_accept_header_answers_are_legacy_and_lose_errors(z):
    h = {"Authorization": f"Bearer {ZENODO_TEST_TOKEN}"}
    rec = requests.get(f"{z.url}/records/{z.record_id}", headers=h).json()
    assert rec["conceptrecid"] == z.concept_id and rec["doi"] == f"10.5281/zenodo.{z.record_id}"
    assert isinstance(rec["files"], list) and "pids" not in rec
    draft = requests.post(f"{z.url}/records/{z.record_id}/versions", headers=h).json()
    body = {"metadata": {"title": "x"}}
    r = requests.put(f"{z.url}/records/{draft['id']}/draft", headers=h, json=body)
    assert r.status_code == 200 and "errors" not in r.json()  # the problem is silently lost
    r = requests.post(f"{z.url}/records/{draft['id']}/draft/actions/publish", headers=h)
    assert r.status_code == 400 and "errors" not in r.json() and r.json()["status"] == 400


@pytest.mark.parametrize(
    ("accept", "status"),
    [(INVENIORDM_ACCEPT, 406), ("application/octet-stream", 406), ("application/*", 406), ("", 200),
     ("*/*", 200), ("application/octet-stream, */*;q=0.1", 200), ("application/json", 200)],
)
def test_published_file_content_is_negotiated_like_every_route(s, z, accept, status):
    # flask-resources negotiates every route: a file's content offers application/json by name, and the
    # bytes go to whoever accepts that or */* (or sends no Accept).
    url = f"{z.url}/records/{z.record_id}/files/{FIELDS_JSON}/content"
    r = s.get(url, headers={"Accept": accept})
    assert r.status_code == status, r.text
    if status == 200:
        assert r.content == b"[296, 297, 487]"
    else:
        assert r.json() == {"status": 406, "message": "Invalid 'Accept' header. Expected one of: application/json"}
    listing = s.get(f"{z.url}/records/{z.record_id}/files", headers={"Accept": accept})
    assert listing.status_code == status
    assert s.get(f"{z.url}/records/{z.record_id}", headers={"Accept": "application/octet-stream"}).status_code == 406


# -- Range downloads -------------------------------------------------------------------------------------
RANGED_DATA = bytes(range(256)) * 40 + b"tail"


@pytest.fixture(scope="module")
def range_server() -> Iterator[tuple[ZenodoServer, str]]:
    with ZenodoServer(tokens={"t"}) as server:
        _, record = server.seed_concept({"blob.bin": RANGED_DATA}, {
            "title": "Ranges", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        yield server, record


def page_url(server: ZenodoServer, record: str) -> str:
    """The record page's file link: outside /api, as zenodo.org shows it under "Download"."""
    return f"{server.url.removesuffix('/api')}/records/{record}/files/blob.bin?download=1"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 10_500), length=st.integers(1, 3000))
def test_the_record_page_link_returns_exactly_the_slice(range_server, start, length):
    url, data = page_url(*range_server), RANGED_DATA
    r = requests.get(url, headers={"Range": f"bytes={start}-{start + length - 1}"})
    if start >= len(data):
        assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
        return
    assert r.status_code == 206
    assert r.content == data[start:start + length]
    end = min(start + length, len(data)) - 1
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"


def test_the_record_page_link_serves_suffix_open_and_absent_ranges_to_anyone(range_server):
    url, data = page_url(*range_server), RANGED_DATA
    # Not negotiated (a plain page view): any Accept, no token.
    assert requests.get(url, headers={"Range": "bytes=-4", "Accept": "application/octet-stream"}).content == b"tail"
    r = requests.get(url, headers={"Range": "bytes=10000-"})
    assert r.status_code == 206 and r.content == data[10000:]
    r = requests.get(url)
    assert r.status_code == 200 and r.content == data and r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Disposition"].startswith("attachment")
    head = requests.head(url)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))
    server, _record = range_server
    assert requests.get(f"{server.url.removesuffix('/api')}/records/99/files/blob.bin").status_code == 404


def test_api_file_content_ignores_range_unless_the_instance_allows_it(range_server, tmp_path):
    server, record = range_server
    api = f"{server.url}/records/{record}/files/blob.bin/content"
    r = requests.get(api, headers={"Range": "bytes=-4"})
    assert r.status_code == 200 and r.content == RANGED_DATA  # the whole file, as zenodo.org answers
    assert "Accept-Ranges" not in r.headers and "Content-Range" not in r.headers
    with ZenodoServer(tokens={"t"}, api_range=True) as ranged:
        _, rid = ranged.seed_concept({"blob.bin": RANGED_DATA}, {
            "title": "Ranges", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        r = requests.get(f"{ranged.url}/records/{rid}/files/blob.bin/content", headers={"Range": "bytes=-4"})
        assert r.status_code == 206 and r.content == b"tail" and r.headers["Accept-Ranges"] == "bytes"


def test_api_routes_live_under_api_only(range_server):
    server, record = range_server
    site = server.url.removesuffix("/api")
    assert requests.get(f"{site}/records/{record}/files/blob.bin/content").status_code == 404
    assert requests.get(f"{site}/records/{record}").status_code == 404


# -- rate limits -----------------------------------------------------------------------------------------
def test_rate_limit_headers_and_429(tmp_path):
    limited = ZenodoServer(data_dir=tmp_path, tokens={"t"}, rate_limit_per_min=3)
    with limited as server, requests.Session() as s:
        s.headers["Authorization"] = "Bearer t"
        answers = [s.get(f"{server.url}/records/1") for _ in range(4)]
        assert [r.status_code for r in answers] == [404, 404, 404, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
        assert all(r.headers["X-RateLimit-Limit"] == "3" for r in answers)
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert int(answers[-1].headers["X-RateLimit-Reset"]) >= int(answers[0].headers["X-RateLimit-Reset"])
        # Keyed on the client (user agent and address), not the token: another token from the same
        # client is refused too, another user agent is not.
        same_client = requests.get(f"{server.url}/records/1", headers={
            "Authorization": "Bearer other", "User-Agent": s.headers["User-Agent"]})
        assert same_client.status_code == 429
        other = requests.get(f"{server.url}/records/1", headers={"User-Agent": "another-client/1.0"})
        assert other.status_code == 404


def test_an_hourly_limit_asks_for_up_to_an_hour(tmp_path):
    with ZenodoServer(data_dir=tmp_path, tokens={"t"}, rate_limit_per_min=100, rate_limit_per_hour=2) as server:
        answers = [requests.get(f"{server.url}/records/1") for _ in range(3)]
    assert [r.status_code for r in answers] == [404, 404, 429]
    assert 3000 < int(answers[-1].headers["Retry-After"]) <= 3600


# -- faults ----------------------------------------------------------------------------------------------
def test_fault_429_and_500_answer_json_then_the_request_goes_through(s, z):
    z.server.faults.add("POST", r"/versions$", "429", retry_after=7)
    z.server.faults.add("POST", r"/versions$", "500")
    r = s.post(f"{z.url}/records/{z.record_id}/versions")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    r = s.post(f"{z.url}/records/{z.record_id}/versions")
    assert r.status_code == 500 and r.json()["status"] == 500
    assert z.server.drafts_of(z.concept_id) == []  # nothing was done
    assert s.post(f"{z.url}/records/{z.record_id}/versions").status_code == 201


@pytest.mark.parametrize("kind", ["502", "504"])
def test_proxy_faults_answer_html_and_count_down(s, z, kind):
    z.server.faults.add("GET", r"/versions/latest$", kind, times=2)
    for _ in range(2):
        r = s.get(f"{z.url}/records/{z.concept_id}/versions/latest")
        assert r.status_code == int(kind) and r.headers["Content-Type"] == "text/html"
        assert r.text.lstrip().startswith("<html>")
        with pytest.raises(ValueError):
            r.json()
    assert s.get(f"{z.url}/records/{z.concept_id}/versions/latest").status_code == 200


def test_drop_closes_the_connection_before_doing_the_work(s, z):
    z.server.faults.add("POST", r"/versions$", "drop")
    with pytest.raises(requests.ConnectionError):
        s.post(f"{z.url}/records/{z.record_id}/versions")
    assert z.server.drafts_of(z.concept_id) == []
    assert ("POST", f"/api/records/{z.record_id}/versions", 0) in z.server.calls
    assert s.post(f"{z.url}/records/{z.record_id}/versions").status_code == 201


def test_after_fault_publishes_but_answers_504(s, z):
    draft = ready_to_publish(s, z)
    z.server.faults.add("POST", r"/draft/actions/publish$", "after")
    r = s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert r.status_code == 504 and "html" in r.headers["Content-Type"]
    assert s.get(f"{z.url}/records/{draft}").json()["is_published"] is True  # it did publish
    # With a JSON status the work is done too: the upload landed although the answer says 500.
    draft2 = new_draft(s, z)
    s.post(f"{z.url}/records/{draft2}/draft/files", json=[{"key": "x.bin"}])
    z.server.faults.add("PUT", r"/content$", "after", status=500)
    r = s.put(f"{z.url}/records/{draft2}/draft/files/x.bin/content", data=b"payload")
    assert r.status_code == 500 and r.json()["status"] == 500
    assert s.get(f"{z.url}/records/{draft2}/draft/files/x.bin").json()["checksum"] == _md5(b"payload")


def test_cut_fault_does_the_work_and_breaks_off_the_answer(s, z):
    draft = ready_to_publish(s, z)
    z.server.faults.add("POST", r"/draft/actions/publish$", "cut")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert s.get(f"{z.url}/records/{draft}").json()["is_published"] is True  # it did publish
    # A file download is cut too: half the promised bytes, then the connection closes.
    key = next(iter(s.get(f"{z.url}/records/{draft}/files").json()["entries"]))["key"]
    z.server.faults.add("GET", r"/content$", "cut")
    octets = {"Accept": "*/*"}
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        s.get(f"{z.url}/records/{draft}/files/{key}/content", headers=octets)
    whole = s.get(f"{z.url}/records/{draft}/files/{key}/content", headers=octets)
    assert whole.status_code == 200 and len(whole.content) > 1


def test_delay_proceeds_and_clear_removes_faults(s, z):
    z.server.faults.add("GET", r"/records/\d+$", "delay", seconds=0.01)
    assert s.get(f"{z.url}/records/{z.record_id}").status_code == 200
    z.server.faults.add("*", r".", "500", times=5)
    z.server.faults.clear()
    assert s.get(f"{z.url}/records/{z.record_id}").status_code == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        z.server.faults.add("GET", ".", "teapot")


def test_control_endpoint_adds_lists_and_clears_faults(s, z):
    control = z.url.removesuffix("/api") + "/_control"
    r = requests.post(f"{control}/faults", json={"method": "GET", "path": "/versions/latest$", "kind": "502"})
    assert r.status_code == 201
    assert [f["kind"] for f in requests.get(f"{control}/faults").json()] == ["502"]
    assert s.get(f"{z.url}/records/{z.concept_id}/versions/latest").status_code == 502
    assert requests.get(f"{control}/faults").json() == []
    requests.post(f"{control}/faults", json={"method": "GET", "path": ".", "kind": "500", "times": 3})
    assert requests.delete(f"{control}/faults").status_code == 204
    assert s.get(f"{z.url}/records/{z.concept_id}/versions/latest").status_code == 200
    bad = requests.post(f"{control}/faults", json={"method": "GET", "path": ".", "kind": "nope"})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["message"]
    state = requests.get(f"{control}/state").json()
    assert state["concepts"][z.concept_id]["versions"] == [z.record_id]


# -- errors ----------------------------------------------------------------------------------------------
def test_unknown_paths_and_methods_answer_json(s, z):
    r = s.get(f"{z.url}/nothing/here")
    assert r.status_code == 404 and r.json()["status"] == 404
    r = s.patch(f"{z.url}/records/{z.record_id}/versions")
    assert r.status_code == 405 and r.json()["status"] == 405 and "GET" in r.headers["Allow"]
    r = s.put(f"{z.url}/records/{z.record_id}/draft", data=b"{not json")
    assert r.status_code == 400 and "JSON" in r.json()["message"]


# -- persistence and the command line --------------------------------------------------------------------
def test_state_and_files_survive_a_restart(tmp_path):
    h = {"Authorization": "Bearer t", "Accept": f"{INVENIORDM_ACCEPT}, application/json;q=0.5"}
    source = tmp_path / "source.txt"
    source.write_bytes(b"first")
    with ZenodoServer(data_dir=tmp_path / "state", tokens={"t"}) as server:
        concept, record = server.seed_concept({"a.txt": source}, {
            "title": "Kept", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        with requests.Session() as s:
            s.headers.update(h)
            draft = s.post(f"{server.url}/records/{record}/versions").json()["id"]
            add_file(s, server.url, draft, "b.txt", b"second")
            s.post(f"{server.url}/records/{draft}/draft/pids/doi")
    assert json.loads((tmp_path / "state" / "state.json").read_text())["concepts"][concept]["draft"] == draft
    with ZenodoServer(data_dir=tmp_path / "state", tokens={"t"}) as server, requests.Session() as s:
        s.headers.update(h)
        assert s.post(f"{server.url}/records/{record}/versions").json()["id"] == draft
        assert s.get(f"{server.url}/records/{draft}/draft/files/b.txt/content").content == b"second"
        assert s.get(f"{server.url}/records/{record}/files/a.txt/content",
                     headers={"Accept": "*/*"}).content == b"first"
        assert server.dois_reserved == 1
        fresh = s.post(f"{server.url}/records", json={"metadata": {"title": "New one"}}).json()["id"]
        assert int(fresh) > int(draft)


def test_cli_serves_the_demo_catalog_and_is_steerable(tmp_path):
    env = {**os.environ, "ZENODO_TOKEN": "cli-token", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve-zenodo", "--port", "0",
                             "--data", str(tmp_path), "--seed-demo"],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parent)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        url = lines[0].split(" at ")[1].strip()
        assert "Range ignored" in lines[1]  # zenodo.org's behaviour unless --api-range
        concept = next(line for line in lines if "demo concept record: " in line).split(": ")[1].split()[0]
        assert "cli-token" not in "".join(lines)
        latest = requests.get(f"{url}/records/{concept}/versions/latest",
                              headers={"Accept": INVENIORDM_ACCEPT}).json()
        assert latest["metadata"]["version"] == "v1.0.0"
        assert set(latest["files"]["entries"]) >= {catalog_zip_name(3), FIELDS_JSON, "field_296_100rows.csv"}
        r = requests.post(f"{url}/records/{latest['id']}/versions",
                          headers={"Authorization": "Bearer cli-token"})
        assert r.status_code == 201
    finally:
        proc.terminate()
        proc.wait()


# -- metadata rules (no server needed) -------------------------------------------------------------------
@given(st.text(max_size=8))
def test_titles_are_kept_exactly_when_long_enough(title):
    checked = check_metadata({"title": title})
    assert ("title" in checked.kept) == (len(title.strip()) >= 3)
    assert ("title" in checked.kept) != any(e.field == "metadata.title" for e in checked.dropped)


@given(st.dates(), st.sampled_from(["%Y", "%Y-%m", "%Y-%m-%d"]))
def test_real_dates_are_valid_edtf(day, fmt):
    assert valid_edtf_date(day.strftime(fmt)) == (day.year >= 1000)


@pytest.mark.parametrize("value", ["2024-02-30", "2024-13", "24-01-01", "2024/01/01", "", 2024, None])
def test_impossible_dates_are_not_valid(value):
    assert not valid_edtf_date(value)


# -- connections, concurrency, storage -------------------------------------------------------------------
def test_keep_alive_serves_many_requests_on_one_connection(z):
    conn = http.client.HTTPConnection("127.0.0.1", z.server.port)
    try:
        for _ in range(3):
            conn.request("GET", f"/api/records/{z.record_id}", headers={"Accept": INVENIORDM_ACCEPT})
            answer = conn.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["id"] == z.record_id
        first_socket = conn.sock
        conn.request("GET", f"/api/records/{z.record_id}/versions")
        conn.getresponse().read()
        assert conn.sock is first_socket
    finally:
        conn.close()


def test_stop_ends_kept_alive_connections(tmp_path):
    server = ZenodoServer(data_dir=tmp_path)
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    conn.request("GET", "/api/records")
    assert conn.getresponse().read()
    server.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("GET", "/api/records")
        conn.getresponse()
    conn.close()


def test_concurrent_new_version_calls_make_one_draft(s, z):
    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(lambda _: requests.post(f"{z.url}/records/{z.record_id}/versions",
                                                   headers=s.headers).json()["id"], range(12)))
    assert len(ids) == 1
    assert [d["id"] for d in z.server.drafts_of(z.concept_id)] == list(ids)


def test_an_oversized_declared_upload_is_refused_without_reading_it(tmp_path):
    with ZenodoServer(data_dir=tmp_path, tokens={"t"}, max_file_bytes=1000) as server:
        _, record = server.seed_concept({"a.txt": b"a"}, {
            "title": "Big", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        h = {"Authorization": "Bearer t"}
        draft = requests.post(f"{server.url}/records/{record}/versions", headers=h).json()["id"]
        requests.post(f"{server.url}/records/{draft}/draft/files", headers=h, json=[{"key": "huge.bin"}])
        head = (f"PUT /api/records/{draft}/draft/files/huge.bin/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer t\r\nContent-Length: 50000000000\r\n\r\n")
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head.encode() + b"x" * 5000)
            answer = b""
            while piece := sock.recv(65536):
                answer += piece
        assert answer.startswith(b"HTTP/1.1 400") and b"Connection: close" in answer
        listing = requests.get(f"{server.url}/records/{draft}/draft/files", headers=h).json()
        assert listing["entries"] == []


def test_blobs_are_shared_by_imports_and_removed_when_unreferenced(s, z):
    blobs = z.server.data_dir / "blobs"
    before = {p.name for p in blobs.iterdir()}
    draft = new_draft(s, z)
    s.post(f"{z.url}/records/{draft}/draft/actions/files-import")
    add_file(s, z.url, draft, "extra.bin", b"only in the draft")
    assert len({p.name for p in blobs.iterdir()} - before) == 1  # imports add no copies
    assert s.delete(f"{z.url}/records/{draft}/draft").status_code == 204
    assert {p.name for p in blobs.iterdir()} == before  # the draft's own blob went, shared ones stay


def test_doi_status_goes_from_reserved_to_registered(s, z):
    draft = ready_to_publish(s, z)
    assert z.server.doi_status(draft) is None
    s.post(f"{z.url}/records/{draft}/draft/pids/doi")
    assert z.server.doi_status(draft) == "reserved"
    s.post(f"{z.url}/records/{draft}/draft/actions/publish")
    assert z.server.doi_status(draft) == "registered"
