"""Benchmark: `release-bot validate` against the parser it is built on and against honest peers, same file, same run.

    .venv/bin/python bench/validate.py [--rows 1000000] [--rounds 3] [--jsonschema-rows 5000]

The field (1,000,000 rows, about 530 MB, deterministic: bot.local.sample) is cached under bench/.cache/validate/.
Every contender runs in a fresh child process, on the same whole file, once per round; the rounds interleave
the contenders (so a burst of load elsewhere hits them all alike) and each keeps its best round:
- the engine: the whole `release-bot validate` process, start-up included, and its peak RSS;
- pyarrow `read_csv` with every column as text (the engine's own parse) and with type inference: the call
  alone, imports excluded;
- pandera: `pandas.read_csv(engine="pyarrow")` and one `DataFrameSchema` written from the row schema the
  way a pandera user would (typed columns, `in_range`/`isin`/`gt` checks, lazy), read and validation timed;
- per-row `jsonschema` (each row mapped to a JSON instance as the row schema describes) on --jsonschema-rows
  rows taken evenly across the same file (the whole file would take hours).
Then the ratios against the targets (engine >= 0.8x the all-text parse, >= 2x pandera, RSS < 500 MB) and the
machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.local.sample import write_field_csv

CACHE = Path(__file__).parent / ".cache" / "validate"
FIELD = 296
TARGET_PARSE = 0.8  # engine / pyarrow all-text read_csv
TARGET_PANDERA = 2.0  # engine / pandera
TARGET_RSS_MB = 500


def _field_file(rows: int) -> Path:
    path = CACHE / str(rows) / f"field_{FIELD}.csv"
    if not path.exists():
        print(f"generating {rows:,} rows into {path} (cached for next time) ...", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_field_csv(tmp, FIELD, rows)
        tmp.replace(path)
    return path


# -- the peers, each run in a child process: `bench/validate.py --peer NAME PATH` prints its figures ----------
def _peer_read_csv(path: Path, *, as_text: bool) -> int:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    convert = None
    if as_text:
        with path.open(encoding="utf-8") as fh:
            names = fh.readline().rstrip("\n").split(",")
        convert = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    return int(pcsv.read_csv(path, convert_options=convert).num_rows)


def pandera_schema() -> Any:
    """The DataFrameSchema a pandera user writes from bot/schemas/row.schema.json."""
    import pandera.pandas as pa

    from bot.validate.rules import row_rules

    scores = [round(i / 100, 2) for i in range(101)]  # two decimals, 0 to 1
    columns = {}
    for name, rule in row_rules().items():
        if rule.type == "string":  # the probability columns
            columns[name] = pa.Column(float, pa.Check.isin(scores))
            continue
        checks = []
        lo, hi = rule.minimum, rule.maximum
        if lo is not None and hi is not None and rule.type == "integer" and hi.value - lo.value < 8:
            checks.append(pa.Check.isin(list(range(int(lo.value), int(hi.value) + 1))))
        elif lo is not None and hi is not None:
            checks.append(pa.Check.in_range(lo.value, hi.value, include_min=not lo.exclusive,
                                            include_max=not hi.exclusive))
        elif lo is not None:
            checks.append(pa.Check.gt(lo.value) if lo.exclusive else pa.Check.ge(lo.value))
        columns[name] = pa.Column(int if rule.type == "integer" else float, checks)
    return pa.DataFrameSchema(columns, strict=True)


def _peer_pandera(path: Path) -> int:
    import pandas as pd

    schema = pandera_schema()
    start = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow")
    schema.validate(frame, lazy=True)
    _peer_pandera.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
    return len(frame)


def _peer_jsonschema(path: Path, rows: int) -> int:
    import jsonschema

    from bot.validate.rules import load_row_schema, row_rules

    rules = row_rules()
    validator = jsonschema.Draft202012Validator(load_row_schema())
    total = path.stat().st_size
    with path.open("rb") as fh:
        names = fh.readline().decode().rstrip("\n").split(",")
        step = max(1, total // rows)
        lines = []
        for k in range(rows):  # rows spread evenly over the file
            fh.seek(min(total - 1, len(names) + k * step))
            fh.readline()
            line = fh.readline().decode().rstrip("\n")
            if line:
                lines.append(line)
    start = time.perf_counter()
    bad = 0
    for line in lines:
        instance = {n: rules[n].to_instance(c) for n, c in zip(names, line.split(","), strict=True)}
        bad += not validator.is_valid(instance)
    _peer_jsonschema.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
    if bad:
        raise SystemExit(f"per-row jsonschema found {bad} invalid rows in a valid sample")
    return len(lines)


def run_peer(name: str, path: Path, rows: int) -> None:
    start = time.perf_counter()
    if name == "text":
        count = _peer_read_csv(path, as_text=True)
    elif name == "typed":
        count = _peer_read_csv(path, as_text=False)
    elif name == "pandera":
        count = _peer_pandera(path)
        start = time.perf_counter() - _peer_pandera.seconds  # type: ignore[attr-defined]
    elif name == "jsonschema":
        count = _peer_jsonschema(path, rows)
        start = time.perf_counter() - _peer_jsonschema.seconds  # type: ignore[attr-defined]
    else:
        raise SystemExit(f"unknown peer {name!r}")
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": count}))


# -- the parent: runs each contender as a child, reads its figures and its peak RSS -------------------------
def _child(argv: list[str]) -> tuple[bytes, float, float, float]:
    """(stdout, wall seconds, peak RSS MB, CPU seconds) of one child process, reaped with wait4 for its rusage."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
        if child.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv[:4])} failed (exit {child.returncode}): {err.read()[-800:]!r}")
    return out, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def bench_engine(path: Path) -> dict[str, float]:
    cli = Path(sys.executable).with_name("release-bot")
    out, seconds, rss, cpu = _child([str(cli), "validate", "--format", "json", str(path)])
    report = json.loads(out)
    if not report["valid"]:
        raise SystemExit(f"validate found the sample invalid: {out[:500]!r}")
    if report.get("warning_count"):  # bot.local.sample builds ids with the layout: a warning is a bug
        raise SystemExit(f"validate warned on a sample file: {report['warnings'][:3]!r}")
    return {"seconds": seconds, "rows": report["files"][0]["rows"], "rss_mb": rss, "cpu": cpu}


def bench_peer(name: str, path: Path, rows: int) -> dict[str, float]:
    out, _, rss, cpu = _child([sys.executable, __file__, "--peer", name, "--jsonschema-rows", str(rows), str(path)])
    figures = json.loads(out)
    return {"seconds": figures["seconds"], "rows": figures["rows"], "rss_mb": rss, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the field file (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each contender keeps its best (default 3)")
    parser.add_argument("--jsonschema-rows", type=int, default=5_000, help="rows given to per-row jsonschema")
    parser.add_argument("--only", default="engine,text,typed,pandera,jsonschema",
                        help="comma-separated contenders to run (default: all)")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run_peer(args.peer, args.path, args.jsonschema_rows)
        return
    path = _field_file(args.rows)
    mb = path.stat().st_size / 1e6
    load_before = os.getloadavg()
    print(f"field file: {path} ({args.rows:,} rows, {mb:,.0f} MB), {os.cpu_count()} CPUs, "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)

    wanted = args.only.split(",")
    runners: dict[str, Callable[[], dict[str, float]]] = {
        "engine": lambda: bench_engine(path),
        "text": lambda: bench_peer("text", path, args.jsonschema_rows),
        "typed": lambda: bench_peer("typed", path, args.jsonschema_rows),
        "pandera": lambda: bench_peer("pandera", path, args.jsonschema_rows),
        "jsonschema": lambda: bench_peer("jsonschema", path, args.jsonschema_rows),
    }
    best: dict[str, dict[str, float]] = {}
    for round_ in range(1, args.rounds + 1):
        for name in (n for n in runners if n in wanted):
            if name == "jsonschema" and round_ > 1:
                continue  # minutes per round, and nowhere near the others: once is enough
            got = runners[name]()
            print(f"  round {round_} {name:10} {got['seconds']:7.2f} s  load {os.getloadavg()[0]:.2f}", flush=True)
            if name not in best or got["seconds"] < best[name]["seconds"]:
                best[name] = got
    _report(best, mb, load_before)


def _report(best: dict[str, dict[str, float]], mb: float, load_before: tuple[float, float, float]) -> None:
    def rate(name: str) -> float:
        return best[name]["rows"] / best[name]["seconds"]

    labels = {
        "engine": "release-bot validate (whole process)",
        "text": "pyarrow read_csv, all text",
        "typed": "pyarrow read_csv, typed",
        "pandera": "pandera (pyarrow engine)",
        "jsonschema": "per-row jsonschema (sampled rows)",
    }
    print()
    print(f"{'best of rounds':38} {'rows':>11} {'seconds':>8} {'rows/s':>11} {'MB/s':>6} {'CPU s':>6} {'RSS MB':>7}")
    for name, label in labels.items():
        if name in best:
            r = best[name]
            speed = f"{mb * r['rows'] / best['engine']['rows'] / r['seconds']:.0f}" if "engine" in best else ""
            print(f"{label:38} {r['rows']:>11,.0f} {r['seconds']:>8.2f} {rate(name):>11,.0f} {speed:>6} "
                  f"{r['cpu']:>6.1f} {r['rss_mb']:>7.0f}")
    print()
    checks: list[tuple[str, float, bool | None]] = []
    if "engine" in best:
        targets = (("text", "all-text read_csv", TARGET_PARSE), ("pandera", "pandera", TARGET_PANDERA))
        for name, label, target in targets:
            if name in best:
                ratio = rate("engine") / rate(name)
                checks.append((f"engine / {label} >= {target}", ratio, ratio >= target))
        for name, label in (("typed", "typed read_csv"), ("jsonschema", "per-row jsonschema")):
            if name in best:
                checks.append((f"engine / {label}", rate("engine") / rate(name), None))
        checks.append((f"engine peak RSS MB < {TARGET_RSS_MB}", best["engine"]["rss_mb"],
                       best["engine"]["rss_mb"] < TARGET_RSS_MB))
    for label, value, ok in checks:
        verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{label:40} {value:>10,.2f}{verdict}")
    after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} "
          f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
