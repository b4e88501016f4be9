"""The previous zip read over HTTP Range requests from a real local server, and the upload stream."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import requests

from bot.catalog.build import NewField, build_catalog, open_previous
from bot.catalog.errors import SourceError

from .conftest import Served

# Retries without sleeping; a small tail so that these small zips are not held whole by the first read.
FAST = {"backoff": 0.0, "tail_size": 512, "keep_tail": 512}


def _publish(
    served: Served, field_pool: dict[int, Path], tmp_path: Path, fields: list[int]
) -> tuple[str, bytes]:
    first = build_catalog(None, [NewField(f, field_pool[f]) for f in fields], workdir=tmp_path / "w0")
    path = tmp_path / first.zip_name
    first.write_to(path)
    served.files[first.zip_name] = path.read_bytes()
    return first.zip_name, path.read_bytes()


def _local_equivalent(zip_bytes: bytes, new: list[NewField], tmp_path: Path) -> bytes:
    path = tmp_path / "local-copy.zip"
    path.write_bytes(zip_bytes)
    with open_previous(path) as previous:
        build = build_catalog(previous, new, workdir=tmp_path / "wl")
        return build.stream().read()


def test_build_from_a_url_matches_a_build_from_the_file(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    http_server.token = "s3cret"
    key, blob = _publish(http_server, field_pool, tmp_path, [296, 297, 423, 487])
    new = [NewField(1001, field_pool[1001])]
    with open_previous(http_server.url(key), token="s3cret", **FAST) as previous:
        assert previous.fields == [296, 297, 423, 487]
        assert previous.file_name == key
        build = build_catalog(previous, new, workdir=tmp_path / "w")
        data = build.stream().read()
        assert build.md5_known and build.md5 == hashlib.md5(data).hexdigest()  # hashed on the way out
        # The tail, the rest of the directories and manifest, and the four carried members (contiguous) in
        # one range read: one pass, no hashing pass before it.
        assert previous.source.requests == 3
        assert previous.source.mode == "ranges" and "byte ranges" in build.previous_read
        assert previous.source.bytes_read < len(blob) + 512  # nothing read twice but the small tail
    assert data == _local_equivalent(blob, new, tmp_path)
    api_calls = [h for m, p, h in http_server.log if p.startswith("/api/")]
    assert api_calls and all(h.get("Authorization") == "Bearer s3cret" for h in api_calls)
    # The redirect leaves the host: the token must not follow it to the storage.
    assert http_server.storage_requests() and not any(
        "Authorization" in h for h in http_server.storage_requests()
    )


def test_requests_per_pass_stay_constant(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _blob = _publish(http_server, field_pool, tmp_path, [247, 296, 297, 423, 487, 539, 881])
    with open_previous(http_server.url(key), **FAST) as previous:
        build = build_catalog(previous, [NewField(1897, field_pool[1897])], workdir=tmp_path / "w")
        before, read_before = previous.source.requests, previous.source.bytes_read
        build.stream().read()  # one pass: one range read of the 7 carried members
        assert previous.source.requests - before == 1
        assert build.carried_bytes <= previous.source.bytes_read - read_before <= build.carried_bytes + 7 * 64


def test_no_token_no_authorization_header(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    with open_previous(http_server.url(key), **FAST) as previous:
        assert previous.fields == [296]
    assert not any("Authorization" in h for _m, _p, h in http_server.log)


def test_dropped_range_reads_are_resumed(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, blob = _publish(http_server, field_pool, tmp_path, [296, 297, 423])
    new = [NewField(881, field_pool[881])]
    with open_previous(http_server.url(key), **FAST) as previous:
        build = build_catalog(previous, new, workdir=tmp_path / "w")
        http_server.drop_next = 2  # the next two responses are cut half-way
        data = build.stream().read()
    assert http_server.drop_next == 0
    assert data == _local_equivalent(blob, new, tmp_path)


def test_a_server_that_keeps_failing_is_reported(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    http_server.status = 503
    with pytest.raises(SourceError, match=r"after 3 attempts") as err:
        open_previous(http_server.url(key), retries=2, **FAST)
    assert "rerun" in (err.value.hint or "")
    assert len(http_server.log) == 3


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda s: setattr(s, "token", "needed"), "HTTP 403"),
        (lambda s: s.files.clear(), "HTTP 404"),
    ],
)
def test_unusable_servers_give_a_clear_error(
    http_server: Served,
    field_pool: dict[int, Path],
    tmp_path: Path,
    setup,
    message: str,
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    setup(http_server)
    with pytest.raises(SourceError, match=message) as err:
        open_previous(http_server.url(key), **FAST)
    assert err.value.hint and "content" in str(err.value)  # names the URL


def test_stream_uploads_with_a_content_length(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296, 297])
    with open_previous(http_server.url(key), **FAST) as previous:
        build = build_catalog(previous, [NewField(423, field_pool[423])], workdir=tmp_path / "w")
        stream = build.stream()
        resp = requests.put(f"{http_server.base}/upload/{build.zip_name}", data=stream, timeout=30)
    assert resp.status_code == 200
    headers, body = http_server.uploads[f"/upload/{build.zip_name}"]
    assert headers["Content-Length"] == str(build.size) and "Transfer-Encoding" not in headers
    assert hashlib.md5(body).hexdigest() == build.md5 == resp.text


SECRET = "s3cret-token-value"


def test_a_token_with_a_trailing_newline_works_and_a_broken_one_is_never_shown(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    http_server.token = SECRET
    with open_previous(http_server.url(key), token=SECRET + "\n", **FAST) as previous:
        assert previous.fields == [296]
    sent = len(http_server.log)
    for bad in (f"{SECRET}\nmore", f"{SECRET} x", f"\x00{SECRET}"):
        with pytest.raises(SourceError) as err:
            open_previous(http_server.url(key), token=bad, retries=1, **FAST)
        assert SECRET not in str(err.value) and SECRET not in repr(err.value)
        assert "token" in str(err.value)
    assert len(http_server.log) == sent  # refused before anything was sent


def test_retry_after_as_an_http_date_is_honoured(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.catalog.sources as sources

    slept: list[float] = []
    monkeypatch.setattr(sources.time, "sleep", slept.append)
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    http_server.status, http_server.status_times = 503, 2
    http_server.retry_after = "Fri, 01 Jan 2100 00:00:00 GMT"  # far away: capped
    with open_previous(http_server.url(key), **FAST) as previous:
        assert previous.fields == [296]
    assert slept == [60.0, 60.0]
    http_server.status, http_server.status_times = 503, 1
    http_server.retry_after = "Thu, 01 Jan 2015 00:00:00 GMT"  # already past: no wait
    slept.clear()
    with open_previous(http_server.url(key), backoff=5.0) as previous:
        assert previous.fields == [296]
    assert slept == [0.0]


def test_a_server_ignoring_range_is_read_front_to_back_with_the_same_result(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path, make_field
) -> None:
    key, blob = _publish(http_server, field_pool, tmp_path, [247, 296, 297, 423, 487])
    http_server.ignore_range = True  # zenodo.org's API content URL: 200 and the whole file to any Range
    new = [NewField(539, field_pool[539]), NewField(297, make_field(297, rows=44))]  # added, replaced
    # Keep just the manifest and the directory from the first read (the default keeps 8 MiB).
    keep = len(blob) - zipfile.ZipFile(io.BytesIO(blob)).getinfo("MANIFEST.json").header_offset
    with open_previous(http_server.url(key), backoff=0.0, tail_size=512, keep_tail=keep) as previous:
        assert previous.fields == [247, 296, 297, 423, 487]
        assert previous.source.mode == "front-to-back" and previous.source.passes == 1
        assert previous.source.bytes_read == len(blob)  # the directories came out of one whole read
        build = build_catalog(previous, new, workdir=tmp_path / "w")
        data = build.stream().read()
        # The carried members came out of a second read, front to back, stopped where the tail held begins.
        assert previous.source.passes == 2 and previous.source.requests == 2
        assert previous.source.bytes_read <= len(blob) + (len(blob) - keep)
        assert "front to back" in build.previous_read
    assert data == _local_equivalent(blob, new, tmp_path)


def test_front_to_back_reads_resume_after_a_cut(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, blob = _publish(http_server, field_pool, tmp_path, [296, 297, 423])
    http_server.ignore_range = True
    new = [NewField(881, field_pool[881])]
    keep = len(blob) - zipfile.ZipFile(io.BytesIO(blob)).getinfo("MANIFEST.json").header_offset
    with open_previous(http_server.url(key), backoff=0.0, tail_size=512, keep_tail=keep) as previous:
        build = build_catalog(previous, new, workdir=tmp_path / "w")
        http_server.drop_next = 1  # the whole-file answer of the carrying pass is cut half-way
        data = build.stream().read()
        assert previous.source.passes == 3  # the cut pass was started again and skipped to where it stopped
    assert http_server.drop_next == 0
    assert data == _local_equivalent(blob, new, tmp_path)


def test_file_content_is_asked_for_with_a_wildcard_accept(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path
) -> None:
    key, _ = _publish(http_server, field_pool, tmp_path, [296])
    with open_previous(http_server.url(key), **FAST) as previous:
        assert previous.fields == [296]
    # flask-resources answers 406 to "application/octet-stream" on Zenodo's file endpoints.
    assert {h.get("Accept") for _m, _p, h in http_server.log} == {"*/*"}
