"""Benchmark: `release-bot validate` on one synthetic field, against per-row jsonschema, pandera and the parser.

    .venv/bin/python bench/validate.py [--rows 1000000] [--sample 5000] [--pandera-rows 200000]

The field (1,000,000 rows, about 530 MB, deterministic: bot.local.sample) is cached under bench/.cache/validate/.
Prints, in one run:
- the engine as a whole `release-bot validate` process (start-up included): rows/s, MB/s, peak RSS;
- plain per-row `jsonschema` on the first --sample rows (the cell -> JSON mapping of the row schema);
- pandera (pandas with the pyarrow engine, the same rules built from the row schema) on --pandera-rows rows;
- pyarrow's `read_csv` alone on the whole file, with type inference and with every column as text (the
  engine's own parse, so the share of time the checks add shows);
and the ratios, against the targets: >= 300,000 rows/s, >= 100x jsonschema, >= 1.5x pandera, RSS < 500 MB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.csv as pcsv

from bot.local.sample import write_field_csv
from bot.validate.rules import INTEGER_TEXT, NUMBER_TEXT, Bound, load_row_schema, row_rules

CACHE = Path(__file__).parent / ".cache" / "validate"
FIELD = 296


def _field_file(rows: int) -> Path:
    path = CACHE / str(rows) / f"field_{FIELD}.csv"
    if not path.exists():
        print(f"generating {rows:,} rows into {path} (cached for next time) ...", file=sys.stderr)
        tmp = path.with_suffix(".tmp")
        write_field_csv(tmp, FIELD, rows)
        tmp.replace(path)
    return path


def _prefix(path: Path, rows: int) -> Path:
    """The header and the first `rows` rows of a cached field, cached beside it."""
    out = path.parent / f"prefix_{rows}" / path.name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as src, out.open("wb") as dst:
            dst.writelines(itertools.islice(src, rows + 1))
    return out


def bench_engine(path: Path) -> dict[str, float]:
    """The whole CLI as a child process; its own peak RSS from wait4."""
    cli = Path(sys.executable).with_name("release-bot")
    start = time.perf_counter()
    child = subprocess.Popen([str(cli), "validate", "--format", "json", str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = child.stdout.read()
    child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(out)
    if child.returncode != 0 or not report["valid"]:
        raise SystemExit(f"validate failed (exit {child.returncode}): {out[:500]!r}")
    if report.get("warning_count"):  # bot.local.sample builds ids with the layout: a warning is a bug
        raise SystemExit(f"validate warned on a sample file: {report['warnings'][:3]!r}")
    rows = report["files"][0]["rows"]
    return {"seconds": seconds, "rows": rows, "rss_mb": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime}


def bench_jsonschema(path: Path, sample: int) -> dict[str, float]:
    """Plain per-row validation, each row mapped to a JSON instance as the row schema describes."""
    rules = row_rules()
    validator = jsonschema.Draft202012Validator(load_row_schema())
    with path.open(encoding="utf-8") as f:
        names = f.readline().rstrip("\n").split(",")
        lines = [line.rstrip("\n") for line in itertools.islice(f, sample)]
    start = time.perf_counter()
    bad = 0
    for line in lines:
        instance = {n: rules[n].to_instance(c) for n, c in zip(names, line.split(","), strict=True)}
        bad += not validator.is_valid(instance)
    seconds = time.perf_counter() - start
    assert bad == 0
    return {"seconds": seconds, "rows": len(lines)}


def bench_pandera(path: Path) -> dict[str, float] | None:
    """pandas (pyarrow engine, every column as text) + a pandera schema of the same rules, read included."""
    try:
        import pandas as pd
        import pandera.pandas as pa
    except ImportError:
        return None
    rules = row_rules()
    columns = {}
    for name, rule in rules.items():
        checks = []
        if rule.type in ("integer", "number"):
            syntax = INTEGER_TEXT if rule.type == "integer" else NUMBER_TEXT
            checks.append(pa.Check.str_matches(f"^{syntax}$"))
            lo, hi = rule.minimum, rule.maximum
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: _in_bounds(pd.to_numeric(s, errors="coerce"), lo, hi)))
        elif rule.vocabulary is not None:
            checks.append(pa.Check.isin(rule.vocabulary))
        elif rule.pattern:
            checks.append(pa.Check.str_matches(rule.pattern))
        columns[name] = pa.Column(str, checks=checks)
    schema = pa.DataFrameSchema(columns, strict=True)
    start = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow", dtype=str, keep_default_na=False)
    schema.validate(frame, lazy=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(frame)}


def _in_bounds(values: Any, lo: Bound | None, hi: Bound | None) -> Any:  # pandas Series in and out
    ok = values.notna() & values.abs().ne(float("inf"))
    if lo is not None:
        ok &= values.gt(lo.value) if lo.exclusive else values.ge(lo.value)
    if hi is not None:
        ok &= values.lt(hi.value) if hi.exclusive else values.le(hi.value)
    return ok


def bench_read_csv(path: Path, as_text: bool = False) -> dict[str, float]:
    """pyarrow's multi-threaded reader: with type inference, or every column as text (the engine's parse)."""
    convert = None
    if as_text:
        with path.open() as fh:
            names = fh.readline().rstrip("\n").split(",")
        convert = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    start = time.perf_counter()
    table = pcsv.read_csv(path, convert_options=convert)
    return {"seconds": time.perf_counter() - start, "rows": table.num_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the field file (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=5_000, help="rows given to per-row jsonschema")
    parser.add_argument("--pandera-rows", type=int, default=200_000, help="rows given to pandera")
    args = parser.parse_args()
    path = _field_file(args.rows)
    mb = path.stat().st_size / 1e6
    print(f"field file: {path} ({args.rows:,} rows, {mb:,.0f} MB), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")

    engine = bench_engine(path)
    schema = bench_jsonschema(path, args.sample)
    pandera = bench_pandera(_prefix(path, min(args.pandera_rows, args.rows)))
    ceiling = bench_read_csv(path)
    parse_only = bench_read_csv(path, as_text=True)

    def rate(r: dict[str, float]) -> float:
        return r["rows"] / r["seconds"]

    print(f"{'':38} {'rows':>11} {'seconds':>8} {'rows/s':>11} {'MB/s':>7}")
    line = "{:38} {:>11,} {:>8.2f} {:>11,.0f} {:>7}"
    print(line.format("release-bot validate (process)", engine["rows"], engine["seconds"], rate(engine),
                      f"{mb / engine['seconds']:.0f}"))
    print(line.format("per-row jsonschema", schema["rows"], schema["seconds"], rate(schema), ""))
    if pandera:
        print(line.format("pandera (pandas, pyarrow engine)", pandera["rows"], pandera["seconds"], rate(pandera), ""))
    print(line.format("pyarrow read_csv alone (typed)", ceiling["rows"], ceiling["seconds"], rate(ceiling),
                      f"{mb / ceiling['seconds']:.0f}"))
    print(line.format("pyarrow read_csv alone (all text)", parse_only["rows"], parse_only["seconds"],
                      rate(parse_only), f"{mb / parse_only['seconds']:.0f}"))
    print()
    checks = [
        ("engine rows/s >= 300,000", rate(engine), rate(engine) >= 300_000),
        ("engine / per-row jsonschema >= 100x", rate(engine) / rate(schema), rate(engine) / rate(schema) >= 100),
    ]
    if pandera:
        checks.append(("engine / pandera >= 1.5x", rate(engine) / rate(pandera), rate(engine) >= 1.5 * rate(pandera)))
    checks += [
        ("engine / read_csv typed", rate(engine) / rate(ceiling), None),
        ("engine / read_csv all text (parse share)", rate(engine) / rate(parse_only), None),
        ("validate peak RSS MB < 500", engine["rss_mb"], engine["rss_mb"] < 500),
        ("validate CPU seconds (user+sys)", engine["cpu"], None),
    ]
    for label, value, ok in checks:
        verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{label:40} {value:>12,.2f}{verdict}")


if __name__ == "__main__":
    main()
