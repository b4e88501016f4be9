"""SCoPe's published rows validate clean, plain or with every cell quoted, with the statistics csv computes."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.scope import CLASS_COLUMNS, POSITIVE_THRESHOLD
from bot.validate.engine import validate_file

SCOPE = Path(__file__).parent.parent / "data" / "scope"


def _expected(data: bytes) -> dict[str, object]:
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    counts: dict[str, dict[str, int]] = {"dnn": {}, "xgb": {}}
    for column in CLASS_COLUMNS:
        klass, model = column.rsplit("_", 1)
        counts[model][klass] = sum(float(r[column]) >= POSITIVE_THRESHOLD for r in rows)
    ra = [float(r["ra"]) for r in rows]
    dec = [float(r["dec"]) for r in rows]
    return {"rows": len(rows), "counts": counts, "sky": (min(ra), max(ra), min(dec), max(dec)),
            "md5": hashlib.md5(data).hexdigest()}


@pytest.mark.parametrize("name", ["field_296_100rows.csv", "field_296_100rows_v1.csv"])
@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
def test_scope_published_rows_validate_clean(name: str, quoting: int, tmp_path: Path) -> None:
    data = (SCOPE / name).read_bytes()
    if quoting != csv.QUOTE_MINIMAL:  # the same rows as a writer that quotes every cell writes them
        out = io.StringIO()
        csv.writer(out, quoting=quoting, lineterminator="\n").writerows(csv.reader(io.StringIO(data.decode())))
        data = out.getvalue().encode()
    path = tmp_path / "field_296.csv"
    path.write_bytes(data)
    report = validate_file(path)
    assert report.valid, report.errors
    assert report.warnings == []
    want = _expected(data)
    s = report.stats
    assert (s.rows, s.md5, s.class_counts) == (want["rows"], want["md5"], want["counts"])
    assert (s.ra_min, s.ra_max, s.dec_min, s.dec_max) == want["sky"]
    assert s.rows == 100


def test_validating_a_file_loads_neither_pandas_nor_the_release_flow(tmp_path: Path) -> None:
    """pyarrow imports pandas whenever it converts a Python value and pandas is installed; validation never
    needs it (nor git, PyGithub and the release flow), and start-up is part of every PR check's time."""
    path = tmp_path / "field_296.csv"
    path.write_bytes((SCOPE / "field_296_100rows.csv").read_bytes())
    code = ("import sys; from pathlib import Path; from bot.validate.engine import validate_file; "
            f"assert validate_file(Path({str(path)!r})).valid; "
            "from bot.validate import command; "
            "print(sorted(m for m in ('pandas', 'github', 'bot.flow.pr_check') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
