"""Write the corpus of bad field files, one per rule, and its manifest (tests/data/bad/manifest.json).

Each file starts from the same small synthetic field (bot.local.sample) and breaks exactly one rule, so the
manifest can say which problem comes first (line, column, code) and which codes the file must raise.
Warnings (which never make a file invalid) are listed apart: the warning codes a file must raise and,
where it raises any, the first warning's place.
Deterministic: run it again and nothing changes. ``python tests/data/make_bad_files.py [OUT_DIR]``.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from pathlib import Path

from bot.local.sample import field_csv_bytes

FIELD = 296
ROWS = 12
HERE = Path(__file__).parent / "bad"


def _lines() -> list[bytes]:
    return field_csv_bytes(FIELD, ROWS).split(b"\n")[:-1]  # header + rows, without line endings


def _csv(lines: list[bytes], ending: bytes = b"\n") -> bytes:
    return ending.join(lines) + ending


def _set(line: int, column: str, value: bytes) -> bytes:
    """The sample with one cell replaced (line numbers are physical: header = 1)."""
    lines = _lines()
    names = lines[0].split(b",")
    cells = lines[line - 1].split(b",")
    cells[names.index(column.encode())] = value
    lines[line - 1] = b",".join(cells)
    return _csv(lines)


def _header(edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    lines = _lines()
    lines[0] = b",".join(edit(lines[0].split(b",")))
    return _csv(lines)


def _swap_columns(a: str, b: str) -> bytes:
    lines = _lines()
    names = lines[0].split(b",")
    i, j = names.index(a.encode()), names.index(b.encode())
    out = []
    for line in lines:
        cells = line.split(b",")
        cells[i], cells[j] = cells[j], cells[i]
        out.append(b",".join(cells))
    return _csv(out)


def _duplicate_id() -> bytes:
    lines = _lines()
    first = lines[1].split(b",")[0]
    cells = lines[7].split(b",")
    cells[0] = first
    lines[7] = b",".join(cells)
    return _csv(lines)


def _id_layout() -> bytes:
    """Two ids off the layout: line 6's filter digit is wrong (9), line 9's id is far too short."""
    lines = _lines()
    for line, edit in ((6, lambda i: i[:7] + b"9" + i[8:]), (9, lambda i: b"42")):
        cells = lines[line - 1].split(b",")
        cells[0] = edit(cells[0])
        lines[line - 1] = b",".join(cells)
    return _csv(lines)


def _drop_cell(line: int) -> bytes:
    lines = _lines()
    lines[line - 1] = lines[line - 1].rsplit(b",", 1)[0]
    return _csv(lines)


def _blank_line_then(line: int, after: Callable[[list[bytes]], None]) -> bytes:
    lines = _lines()
    after(lines)
    lines.insert(line - 1, b"")
    return _csv(lines)


def _ccd_zero_on(index: int) -> Callable[[list[bytes]], None]:
    def edit(lines: list[bytes]) -> None:
        cells = lines[index].split(b",")
        cells[8] = b"0"
        lines[index] = b",".join(cells)
    return edit


def _wrong_count_then_error() -> bytes:
    lines = _lines()
    lines[3] = lines[3].rsplit(b",", 1)[0]  # line 4: one cell short
    cells = lines[6].split(b",")
    cells[8] = b"0"  # line 7: ccd 0, located after the refused line
    lines[6] = b",".join(cells)
    return _csv(lines)


def _lone_cr(line: int) -> bytes:
    lines = _lines()
    body = _csv(lines[: line - 1]) + lines[line - 1] + b"\r" + _csv(lines[line:])
    return body


def _mixed(line: int) -> bytes:
    lines = _lines()
    return _csv(lines[: line - 1]) + lines[line - 1] + b"\r\n" + _csv(lines[line:])


def _col(line: int, column: str, lines: list[bytes] | None = None) -> int:
    """1-based character position of a cell of the unedited sample (cells before it, each with its comma)."""
    lines = lines or _lines()
    cells = lines[line - 1].split(b",")
    k = lines[0].split(b",").index(column.encode())
    return sum(len(c) + 1 for c in cells[:k]) + 1


def _quote_all() -> bytes:
    """Every cell in double quotes, the header too (what csv.QUOTE_ALL writes): the same values, so valid."""
    return _csv([b",".join(b'"' + c + b'"' for c in line.split(b",")) for line in _lines()])


def _quoted(line: int, column: str, value: bytes, also: tuple[int, str, bytes] | None = None) -> bytes:
    """The sample with one cell replaced by ``value`` (quoted by the caller), and optionally a second cell."""
    lines = _lines()
    names = lines[0].split(b",")
    for at, name, text in ((line, column, value), *([also] if also else [])):
        cells = lines[at - 1].split(b",")
        cells[names.index(name.encode())] = text
        lines[at - 1] = b",".join(cells)
    return _csv(lines)


def _bomb() -> bytes:
    header = _lines()[0] + b"\n"
    return gzip.compress(header + b"0" * (8 << 20), mtime=0)


# name -> (bytes, first problem (line, column, code), every code the file must raise)
CASES: dict[str, tuple[bytes, tuple[int | None, str | None, str], set[str]]] = {
    "empty_cell/field_296.csv": (_set(4, "ra", b""), (4, "ra", "empty-cell"), {"empty-cell"}),
    "out_of_range/field_296.csv": (_set(5, "ccd", b"17"), (5, "ccd", "out-of-range"), {"out-of-range"}),
    "three_decimals/field_296.csv": (
        _set(6, "vnv_dnn", b"0.071"), (6, "vnv_dnn", "too-many-decimals"), {"too-many-decimals"}),
    "score_above_one/field_296.csv": (_set(3, "rrlyr_xgb", b"1.5"), (3, "rrlyr_xgb", "out-of-range"), {"out-of-range"}),
    "score_exponent/field_296.csv": (_set(3, "e_dnn", b"7e-2"), (3, "e_dnn", "bad-format"), {"bad-format"}),
    # RFC 4180: a quoted cell is its unquoted value; a quoted line feed keeps the lines after it physical.
    "quoted_cells_ok/field_296.csv": (
        _quoted(2, "agn_dnn", b'"0.5"', (3, "ra", b'"70.7386"')), (None, None, ""), set()),
    "quote_all_ok/field_296.csv": (_quote_all(), (None, None, ""), set()),
    "quoted_comma/field_296.csv": (_quoted(4, "ra", b'"12,5"'), (4, "ra", "not-a-number"), {"not-a-number"}),
    "quoted_newline/field_296.csv": (
        _quoted(3, "period", b'"12\n5"', (6, "ccd", b"0")), (3, "period", "not-a-number"),
        {"not-a-number", "out-of-range"}),
    "doubled_quote/field_296.csv": (
        _quoted(5, "quad", b'"1""2"', (8, "filter", b"7")), (5, "quad", "not-an-integer"),
        {"not-an-integer", "out-of-range"}),
    "stray_quote/field_296.csv": (
        _quoted(4, "dec", b'1"2', (9, "ccd", b"0")), (4, "dec", "not-a-number"), {"not-a-number", "out-of-range"}),
    "unterminated_quote/field_296.csv": (
        _quoted(7, "period", b'"12.5'), (7, None, "unterminated-quote"), {"unterminated-quote"}),
    "period_text/field_296.csv": (_set(7, "period", b"abc"), (7, "period", "not-a-number"), {"not-a-number"}),
    "period_zero/field_296.csv": (_set(7, "period", b"0"), (7, "period", "out-of-range"), {"out-of-range"}),
    "ra_nan/field_296.csv": (_set(3, "ra", b"nan"), (3, "ra", "not-a-number"), {"not-a-number"}),
    "ra_360/field_296.csv": (_set(3, "ra", b"360"), (3, "ra", "out-of-range"), {"out-of-range"}),
    "dec_plus/field_296.csv": (_set(9, "dec", b"+12.5"), (9, "dec", "not-a-number"), {"not-a-number"}),
    "quad_float/field_296.csv": (_set(2, "quad", b"2.0"), (2, "quad", "not-an-integer"), {"not-an-integer"}),
    "negative_id/field_296.csv": (_set(10, "_id", b"-5"), (10, "_id", "out-of-range"), {"out-of-range"}),
    "gaia_overflow/field_296.csv": (
        _set(4, "Gaia_EDR3___id", b"9223372036854775808"), (4, "Gaia_EDR3___id", "out-of-range"), {"out-of-range"}),
    "filter_leading_zero/field_296.csv": (
        _set(4, "filter", b"02"), (4, "filter", "not-an-integer"), {"not-an-integer"}),
    "field_mismatch/field_296.csv": (_set(3, "field", b"297"), (3, "field", "field-mismatch"), {"field-mismatch"}),
    "duplicate_id/field_296.csv": (_duplicate_id(), (8, "_id", "duplicate-id"), {"duplicate-id"}),
    "id_layout/field_296.csv": (_id_layout(), (None, None, ""), set()),
    "no_header/field_296.csv": (_csv(_lines()[1:]), (1, None, "bad-header"), {"bad-header"}),
    "unknown_column/field_296.csv": (
        _header(lambda n: [b"vnv_cnn" if x == b"vnv_dnn" else x for x in n]),
        (1, "vnv_cnn", "unknown-column"), {"unknown-column", "missing-column"}),
    "duplicate_column/field_296.csv": (
        _header(lambda n: [b"pnp_xgb" if x == b"vnv_xgb" else x for x in n]),
        (1, "pnp_xgb", "duplicate-column"), {"duplicate-column", "missing-column"}),
    "column_order/field_296.csv": (_swap_columns("ra", "dec"), (1, None, "column-order"), {"column-order"}),
    "class_order_ok/field_296.csv": (_swap_columns("vnv_dnn", "yso_xgb"), (None, None, ""), set()),
    "lfs_pointer/field_296.csv": (
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 189000000\n",
        (1, None, "lfs-pointer"), {"lfs-pointer"}),
    "gzip_bomb/field_296.csv.gz": (_bomb(), (None, None, "gzip-bomb"), {"gzip-bomb"}),
    "gzip_truncated/field_296.csv.gz": (
        gzip.compress(field_csv_bytes(FIELD, 200), mtime=0)[:-40], (None, None, "gzip-corrupt"), {"gzip-corrupt"}),
    "gzip_not_gzip/field_296.csv.gz": (field_csv_bytes(FIELD, 3), (None, None, "gzip-corrupt"), {"gzip-corrupt"}),
    "gzipped_csv/field_296.csv": (gzip.compress(field_csv_bytes(FIELD, 3), mtime=0), (None, None, "gzipped-csv"),
                                  {"gzipped-csv"}),
    "not_utf8/field_296.csv": (_set(4, "ra", b"12\xff5"), (4, None, "not-utf8"), {"not-utf8", "not-a-number"}),
    "bom/field_296.csv": (b"\xef\xbb\xbf" + field_csv_bytes(FIELD, 3), (1, None, "bom"), {"bom"}),
    "lone_cr/field_296.csv": (_lone_cr(3), (3, None, "bad-line-ending"), {"bad-line-ending", "wrong-cell-count"}),
    "mixed_endings/field_296.csv": (_mixed(5), (5, None, "mixed-line-endings"), {"mixed-line-endings"}),
    "wrong_cell_count/field_296.csv": (
        _wrong_count_then_error(), (4, None, "wrong-cell-count"), {"wrong-cell-count", "out-of-range"}),
    "blank_line/field_296.csv": (
        _blank_line_then(5, _ccd_zero_on(6)), (5, None, "blank-line"), {"blank-line", "out-of-range"}),
    "no_rows/field_296.csv": (_lines()[0] + b"\n", (1, None, "no-rows"), {"no-rows"}),
    "empty_file/field_296.csv": (b"", (None, None, "empty-file"), {"empty-file"}),
    "zero_padded/field_0296.csv": (field_csv_bytes(FIELD, 3), (None, None, "bad-file-name"), {"bad-file-name"}),
    "not_ztf_field/field_900.csv": (field_csv_bytes(900, 3), (None, None, "bad-field-number"), {"bad-field-number"}),
    "stray_file/notes.txt": (b"some notes\n", (None, None, "not-a-field-file"), {"not-a-field-file"}),
}
# Warnings: name -> (first warning (line, column, code), every warning code the file must raise); a file
# not named here raises none.
WARNINGS: dict[str, tuple[tuple[int, str, str], set[str]]] = {
    "id_layout/field_296.csv": ((6, "_id", "id-layout"), {"id-layout"}),
    # line 8 repeats line 2's id, which encodes line 2's ccd and quad, not line 8's
    "duplicate_id/field_296.csv": ((8, "_id", "id-layout"), {"id-layout"}),
}
# Where the blank line or refused line sits before a later error, that error's line proves the mapping.
# (The quoted line feed makes line 6 of the sample line 7 of the file.)
LATER = {
    "quoted_newline/field_296.csv": (7, "ccd", "out-of-range"),
    "doubled_quote/field_296.csv": (8, "filter", "out-of-range"),
    "stray_quote/field_296.csv": (9, "ccd", "out-of-range"),
    "wrong_cell_count/field_296.csv": (7, "ccd", "out-of-range"),
    "blank_line/field_296.csv": (8, "ccd", "out-of-range"),
}


# The first problem's 1-based character position in its line, where the case is about getting it right.
COLS = {
    "quoted_comma/field_296.csv": _col(4, "ra"),
    "quoted_newline/field_296.csv": _col(3, "period"),
    "doubled_quote/field_296.csv": _col(5, "quad"),
    "stray_quote/field_296.csv": _col(4, "dec"),
    "unterminated_quote/field_296.csv": _col(7, "period"),
}


def write(out: Path = HERE) -> dict[str, dict[str, object]]:
    manifest: dict[str, dict[str, object]] = {}
    for name, (data, (line, column, code), codes) in CASES.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        manifest[name] = {"line": line, "column": column, "code": code, "codes": sorted(codes)}
        first, warnings = WARNINGS.get(name, (None, set()))
        manifest[name]["warnings"] = sorted(warnings)
        if first is not None:
            manifest[name]["warning"] = {"line": first[0], "column": first[1], "code": first[2]}
        if name in COLS:
            manifest[name]["col"] = COLS[name]
        if name in LATER:
            later = LATER[name]
            manifest[name]["later"] = {"line": later[0], "column": later[1], "code": later[2]}
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    target = out / "manifest.json"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return manifest


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
