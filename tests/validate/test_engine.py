"""The engine end to end on files: the bad-file corpus, statistics, gzip, batches, line numbers, limits."""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import io
import json
import os
from pathlib import Path

import pytest

import bot.validate.engine as engine
import bot.validate.stream as stream
from bot.config import ValidationSettings
from bot.scope import CLASS_COLUMNS, POSITIVE_THRESHOLD
from bot.validate.engine import validate_file, validate_paths

BAD_DIR = Path(__file__).parent.parent / "data" / "bad"

MANIFEST = json.loads((BAD_DIR / "manifest.json").read_text())


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_bad_files", BAD_DIR.parent / "make_bad_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_is_what_its_script_writes(tmp_path: Path) -> None:
    manifest = _load_maker().write(tmp_path)
    assert manifest == MANIFEST
    for name in manifest:
        assert (tmp_path / name).read_bytes() == (BAD_DIR / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_bad_file_reports_its_rule_where_it_is_broken(name: str) -> None:
    want = MANIFEST[name]
    report = validate_file(BAD_DIR / name, display_path=name)
    codes = sorted({p.code for p in report.errors})
    assert codes == want["codes"]
    assert report.valid is (not want["codes"])
    if report.errors:
        first = report.errors[0]
        assert (first.line, first.column, first.code) == (want["line"], want["column"], want["code"])
        if "col" in want:
            assert first.col == want["col"]
        assert all(p.path == name and p.message for p in report.errors)
    if "later" in want:
        later = want["later"]
        assert (later["line"], later["column"], later["code"]) in {(p.line, p.column, p.code) for p in report.errors}
    assert all(p.severity == "error" for p in report.errors)
    assert sorted({p.code for p in report.warnings}) == want["warnings"]
    assert report.warning_count == len(report.warnings)
    assert all(p.severity == "warning" and p.path == name and p.message for p in report.warnings)
    if report.warnings:
        first = report.warnings[0]
        assert (first.line, first.column, first.code) == tuple(want["warning"][k] for k in ("line", "column", "code"))


def test_the_corpus_folder_reports_every_file_and_never_stops_early() -> None:
    report = validate_paths([BAD_DIR / n.split("/")[0] for n in sorted(MANIFEST)], display_root=BAD_DIR)
    assert [f.path for f in report.files] == sorted(MANIFEST)
    assert sum(not f.valid for f in report.files) == sum(1 for m in MANIFEST.values() if m["codes"])
    assert not report.valid


# -- a valid file and its statistics ------------------------------------------------------------------
def _independent_stats(data: bytes) -> dict:
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    counts = {m: {} for m in ("dnn", "xgb")}
    for column in CLASS_COLUMNS:
        klass, model = column.rsplit("_", 1)
        counts[model][klass] = sum(float(r[column]) >= POSITIVE_THRESHOLD for r in rows)
    ra = [float(r["ra"]) for r in rows]
    dec = [float(r["dec"]) for r in rows]
    return {"rows": len(rows), "class_counts": counts, "ra": (min(ra), max(ra)), "dec": (min(dec), max(dec)),
            "md5": hashlib.md5(data).hexdigest(), "size": len(data)}


@pytest.mark.parametrize("gz", [False, True])
def test_a_valid_field_gives_the_statistics_the_notes_need(make_field, gz: bool) -> None:
    path = make_field(296, 300, gz=gz)
    report = validate_file(path)
    assert report.valid and report.errors == [] and report.error_count == 0
    assert report.warnings == [] and report.warning_count == 0
    assert report.field == 296 and report.rows == 300
    data = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    want = _independent_stats(data)
    s = report.stats
    assert (s.rows, s.md5, s.size) == (want["rows"], want["md5"], want["size"])
    assert s.class_counts == want["class_counts"]
    assert (s.ra_min, s.ra_max, s.dec_min, s.dec_max) == (*want["ra"], *want["dec"])
    assert sum(s.class_counts["dnn"].values()) > 0


def test_crlf_files_and_any_class_order_are_valid(make_field, tmp_path: Path) -> None:
    reordered = make_field(297, 40, ending=b"\r\n", edit=lambda lines: _reverse_classes(lines))
    assert validate_file(reordered).valid
    data = reordered.read_bytes()
    assert validate_file(reordered).stats.md5 == hashlib.md5(data).hexdigest()


def _reverse_classes(lines: list[bytes]) -> list[bytes]:
    out = []
    for line in lines:
        cells = line.split(b",")
        out.append(b",".join(cells[:11] + cells[11:][::-1]))
    return out


def test_a_final_line_without_newline_is_read(make_field) -> None:
    path = make_field(296, 5)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    report = validate_file(path)
    assert report.valid and report.rows == 5


# -- many batches: row offsets map back to physical lines ---------------------------------------------
def test_line_numbers_stay_physical_across_batches_refused_and_blank_lines(make_field, set_cell, monkeypatch) -> None:
    monkeypatch.setattr(stream, "MAX_RECORD", 1 << 12)
    monkeypatch.setattr(stream, "CHUNK_SIZE", 1 << 16)  # ~120 rows a chunk

    def edit(lines: list[bytes]) -> list[bytes]:
        for line in (50, 400, 777, 1201):
            set_cell(lines, line, "quad", b"9")
        lines[299] = lines[299] + b",0.5"  # line 300: one cell too many
        lines.insert(599, b"")  # a blank line 600 (the lines below move down by one)
        lines[1000] = lines[1000].rsplit(b",", 1)[0]  # line 1001: one cell short
        return lines

    path = make_field(296, 1500, edit=edit)
    report = validate_file(path)
    assert path.read_bytes().count(b"\n") == 1502
    got = [(p.line, p.column, p.code) for p in report.errors]
    assert got == [
        (50, "quad", "out-of-range"), (300, None, "wrong-cell-count"), (400, "quad", "out-of-range"),
        (600, None, "blank-line"), (778, "quad", "out-of-range"), (1001, None, "wrong-cell-count"),
        (1202, "quad", "out-of-range"),
    ]
    assert report.rows == 1500


def test_refused_lines_whose_commas_cancel_out_are_still_located(make_field, set_cell) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        lines[9] = lines[9] + b",0.1"  # line 10: 100 cells
        lines[10] = lines[10].rsplit(b",", 1)[0]  # line 11: 98 cells: the block's comma count is right
        set_cell(lines, 15, "ccd", b"99")
        return lines

    report = validate_file(make_field(296, 30, edit=edit))
    assert [(p.line, p.code) for p in report.errors] == [
        (10, "wrong-cell-count"), (11, "wrong-cell-count"), (15, "out-of-range")]


def test_a_line_longer_than_the_record_limit_is_an_error_with_its_line(make_field, set_cell, monkeypatch) -> None:
    monkeypatch.setattr(stream, "MAX_RECORD", 1 << 12)
    path = make_field(296, 12, edit=lambda lines: set_cell(lines, 3, "period", b"1" * 9000))
    report = validate_file(path)
    assert [(p.line, p.code) for p in report.errors] == [(3, "line-too-long")]
    assert report.stats is None


# -- limits ---------------------------------------------------------------------------------------------
def test_errors_stop_being_listed_after_the_limit_but_are_all_counted(make_field, set_cell) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        for line in range(2, 202):
            set_cell(lines, line, "ccd", b"0")
            set_cell(lines, line, "vnv_xgb", b"0.123")
        return lines

    report = validate_file(make_field(296, 250, edit=edit), settings=ValidationSettings(max_errors_per_file=7))
    assert report.error_count == 400 and len(report.errors) == 7 and report.truncated
    assert [p.line for p in report.errors] == [2, 2, 3, 3, 4, 4, 5]
    assert report.to_json()["error_count"] == 400


def test_duplicate_ids_name_the_first_line(make_field) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        first = lines[2].split(b",")[0]
        for i in (20, 40):
            cells = lines[i].split(b",")
            cells[0] = first
            lines[i] = b",".join(cells)
        return lines

    report = validate_file(make_field(296, 60, edit=edit))
    assert [(p.line, p.code) for p in report.errors] == [(21, "duplicate-id"), (41, "duplicate-id")]
    assert all("line 3" in p.message for p in report.errors)


def test_max_file_bytes_refuses_big_plain_and_gzip_files(make_field) -> None:
    limits = ValidationSettings(max_file_bytes=10_000)
    for gz in (False, True):
        report = validate_file(make_field(296, 100, gz=gz), settings=limits)
        assert [p.code for p in report.errors] == ["gzip-bomb" if gz else "too-large"]
        assert report.stats is None


def test_a_gzip_ratio_limit_is_configurable(make_field) -> None:
    strict = ValidationSettings(max_gzip_ratio=2)
    small = make_field(296, 100, gz=True)
    assert len(gzip.decompress(small.read_bytes())) < 2 * (1 << 16)  # under ratio x 64 KiB: never judged
    assert validate_file(small, settings=strict).valid
    big = make_field(297, 3000, gz=True)
    assert len(gzip.decompress(big.read_bytes())) > 2 * big.stat().st_size
    assert validate_file(big).valid
    assert [p.code for p in validate_file(big, settings=strict).errors] == ["gzip-bomb"]


def test_concatenated_gzip_members_are_one_file(make_field) -> None:
    path = make_field(296, 50)
    data = path.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    gz = path.with_name("field_296.csv.gz")
    gz.write_bytes(gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0))
    report = validate_file(gz)
    assert report.valid and report.rows == 50 and report.stats.md5 == hashlib.md5(data).hexdigest()


# -- paths ----------------------------------------------------------------------------------------------
def test_symlinks_are_refused_not_followed(make_field, tmp_path: Path) -> None:
    real = make_field(296, 5)
    link = tmp_path / "links" / "field_297.csv"
    link.parent.mkdir()
    os.symlink(real, link)
    folder_link = tmp_path / "folder_link"
    os.symlink(tmp_path / "links", folder_link)
    report = validate_paths([link, tmp_path / "links", folder_link], display_root=tmp_path)
    assert [(f.path, [p.code for p in f.errors]) for f in report.files] == [
        ("links/field_297.csv", ["symlink"]), ("links/field_297.csv", ["symlink"]), ("folder_link", ["symlink"])]


def test_a_folder_is_every_file_inside_it(make_field, tmp_path: Path) -> None:
    folder = tmp_path / "fields"
    make_field(296, 5, folder=folder)
    make_field(297, 5, folder=folder, gz=True)
    (folder / "README.md").write_text("hello\n")
    (folder / "nested").mkdir()
    report = validate_paths([folder], display_root=tmp_path)
    assert [(f.path, f.valid) for f in report.files] == [
        ("fields/README.md", False), ("fields/field_296.csv", True), ("fields/field_297.csv.gz", True),
        ("fields/nested", False)]
    assert {p.code for f in report.files for p in f.errors} == {"not-a-field-file"}


def test_validation_never_writes_the_file(make_field, set_cell) -> None:
    path = make_field(296, 30, edit=lambda lines: set_cell(lines, 4, "ra", b"x"))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    validate_file(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_the_id_check_spills_to_disk_with_the_same_findings(make_field, monkeypatch) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        for target, source in ((150, 3), (151, 3), (290, 120)):
            cells = lines[target].split(b",")
            cells[0] = lines[source].split(b",")[0]
            lines[target] = b",".join(cells)
        return lines

    path = make_field(296, 300, edit=edit)
    in_memory = validate_file(path)
    monkeypatch.setattr(engine, "ID_MEMORY_ROWS", 40)
    monkeypatch.setattr(stream, "MAX_RECORD", 1 << 12)
    monkeypatch.setattr(stream, "CHUNK_SIZE", 1 << 14)
    spilled = validate_file(path)
    assert in_memory.errors == spilled.errors
    assert [(p.line, p.code) for p in spilled.errors] == [(151, "duplicate-id"), (152, "duplicate-id"),
                                                          (291, "duplicate-id")]
    assert "line 4" in spilled.errors[1].message and "line 121" in spilled.errors[2].message


def test_a_crlf_file_with_lf_lines_and_a_header_that_is_not_utf8(make_field, tmp_path: Path) -> None:
    path = make_field(296, 8, ending=b"\r\n")
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    lines[4] = lines[4] + b"\n" + lines[5]  # line 5 ends in LF alone
    del lines[5]
    path.write_bytes(b"\r\n".join(lines))
    report = validate_file(path)
    assert [(p.line, p.code) for p in report.errors] == [(5, "mixed-line-endings")]
    header = make_field(297, 3, name="field_297.csv", edit=lambda ls: [ls[0] + b",\xe9t\xe9", *ls[1:]])
    codes = [(p.line, p.code) for p in validate_file(header).errors]
    assert (1, "not-utf8") in codes and (1, "unknown-column") in codes


# -- RFC 4180 quoting across chunks ---------------------------------------------------------------------
def test_quoted_line_feeds_keep_every_later_line_physical_across_chunks(make_field, set_cell, monkeypatch) -> None:
    monkeypatch.setattr(stream, "MAX_RECORD", 1 << 12)
    monkeypatch.setattr(stream, "CHUNK_SIZE", 1 << 14)  # ~30 rows a chunk

    def edit(lines: list[bytes]) -> list[bytes]:
        set_cell(lines, 40, "period", b'"3\n\n4"')  # a cell spanning three lines: rows after it move down 2
        set_cell(lines, 41, "ra", b'"1,5"')
        ccd = lines[89].split(b",")[lines[0].split(b",").index(b"ccd")]
        set_cell(lines, 90, "ccd", b'"' + ccd + b'"')  # quoted and valid
        set_cell(lines, 120, "quad", b"9")
        lines[150] = lines[150] + b',"x\ny"'  # line 151 (+2): one cell too many, spanning two lines (+3 after)
        set_cell(lines, 200, "dec", b'"1""0"')
        first = lines[5].split(b",")[0]
        cells = lines[250].split(b",")
        cells[0] = first  # line 251 repeats line 6's _id
        lines[250] = b",".join(cells)
        return lines

    path = make_field(296, 300, edit=edit)
    report = validate_file(path)
    got = [(p.line, p.column, p.code) for p in report.errors]
    assert got == [
        (40, "period", "not-a-number"), (43, "ra", "not-a-number"), (122, "quad", "out-of-range"),
        (153, None, "wrong-cell-count"), (203, "dec", "not-a-number"), (254, "_id", "duplicate-id"),
    ]
    assert "line 6" in report.errors[-1].message
    lines = path.read_bytes().split(b"\n")
    for p in report.errors[:2]:  # each col points at the cell's opening quote
        assert lines[p.line - 1][p.col - 1:p.col] == b'"'
    assert report.rows == 300
    assert [w.line for w in report.warnings] == [254]  # the repeated _id encodes line 6's ccd and quad


def test_a_quote_left_open_is_an_error_at_the_quote(make_field, set_cell, monkeypatch) -> None:
    monkeypatch.setattr(stream, "MAX_RECORD", 1 << 12)
    monkeypatch.setattr(stream, "CHUNK_SIZE", 1 << 14)
    path = make_field(296, 200, edit=lambda lines: set_cell(lines, 30, "period", b'"12.5'))
    report = validate_file(path)
    assert [(p.line, p.code) for p in report.errors] == [(30, "unterminated-quote")]
    cells = path.read_bytes().split(b"\n")[29]
    assert cells[report.errors[0].col - 1:].startswith(b'"12.5')
    assert report.stats is None


def test_crlf_files_with_quotes_are_read_as_pandas_reads_them(make_field, set_cell) -> None:
    path = make_field(296, 20, ending=b"\r\n", edit=lambda lines: set_cell(lines, 5, "ra", b'"12.5"'))
    report = validate_file(path)
    assert report.valid and report.rows == 20
    spanning = make_field(297, 20, ending=b"\r\n", edit=lambda lines: set_cell(lines, 5, "ra", b'"1\r\n2"'))
    report = validate_file(spanning)
    assert [(p.line, p.column, p.code) for p in report.errors] == [(5, "ra", "not-a-number")]
