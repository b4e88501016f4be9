"""Benchmark: a full catalog build against an incremental one (+1 field) on a synthetic 40-field catalog.

    .venv/bin/python bench/build.py [--scale 1.0] [--fields 40] [--check-equal]

Field sizes are drawn lognormal (a few big fields, many small ones, as in SCoPe III), scaled so the
catalog holds about 400 MB of CSV at --scale 1 (the real one is ~100 GB: use --scale on a machine with
room). Generated inputs are cached under bench/.cache/build/. Prints, side by side: the full build
(compress every field, write the zip), the incremental build (carry 40 members, compress 1), the same
incremental build streamed with and without CRC verification, bytes read and written, and peak extra disk.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bot.catalog.build import NewField, build_catalog, open_previous
from bot.local.sample import write_field_csv

BYTES_PER_ROW = 496  # SCOPE.md: about 496 bytes a row
CACHE = Path(__file__).parent / ".cache" / "build"
REAL_FIELDS = [
    247,
    248,
    295,
    296,
    297,
    298,
    346,
    347,
    371,
    372,
    422,
    423,
    424,
    425,
    436,
    468,
    474,
    475,
    486,
    487,
    488,
    489,
    511,
    512,
    538,
    539,
    561,
    562,
    563,
    564,
    612,
    613,
    636,
    637,
    654,
    674,
    681,
    682,
    683,
    684,
    698,
    699,
    700,
    701,
    716,
    717,
    718,
    719,
    724,
    725,
]


def _rows_per_field(n_fields: int, total_bytes: float) -> list[int]:
    rng = random.Random(42)
    draws = [rng.lognormvariate(0.0, 1.0) for _ in range(n_fields)]
    scale = total_bytes / BYTES_PER_ROW / sum(draws)
    return [max(100, int(d * scale)) for d in draws]


def _inputs(n_fields: int, scale: float) -> tuple[dict[int, Path], Path]:
    """The catalog's field files and one extra (new) field of median size, cached between runs."""
    folder = CACHE / f"fields-{n_fields}-x{scale:g}"
    spec_path = folder / "spec.json"
    fields = REAL_FIELDS[:n_fields] if n_fields <= len(REAL_FIELDS) else list(range(1, n_fields + 1))
    rows = _rows_per_field(n_fields, 400e6 * scale)
    spec = {"fields": fields, "rows": rows, "new": [1001, sorted(rows)[len(rows) // 2]]}
    if not (spec_path.is_file() and json.loads(spec_path.read_text()) == spec):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        t0 = time.perf_counter()
        for f, r in zip(fields, rows, strict=True):
            write_field_csv(folder / f"field_{f}.csv", f, r)
        write_field_csv(folder / "new" / "field_1001.csv", 1001, spec["new"][1])
        spec_path.write_text(json.dumps(spec))
        print(f"generated inputs in {time.perf_counter() - t0:.1f} s -> {folder}", file=sys.stderr)
    return {f: folder / f"field_{f}.csv" for f in fields}, folder / "new" / "field_1001.csv"


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="catalog size: 1.0 = about 400 MB of CSV")
    ap.add_argument("--fields", type=int, default=40)
    ap.add_argument("--level", type=int, default=6, help="deflate level (config catalog.compression_level)")
    ap.add_argument(
        "--check-equal",
        action="store_true",
        help="also build the final catalog from scratch and compare md5s (another full build)",
    )
    args = ap.parse_args(argv)

    pool, new_path = _inputs(args.fields, args.scale)
    csv_total = sum(p.stat().st_size for p in pool.values())
    sizes = sorted(p.stat().st_size for p in pool.values())
    print(
        f"catalog: {len(pool)} fields, {_mb(csv_total)} of CSV (smallest {_mb(sizes[0])}, median "
        f"{_mb(sizes[len(sizes) // 2])}, largest {_mb(sizes[-1])}); new field {_mb(new_path.stat().st_size)}"
    )

    with tempfile.TemporaryDirectory(dir=CACHE) as tmp_name:
        tmp = Path(tmp_name)
        # Full build: every field compressed, then the zip written.
        t0 = time.perf_counter()
        full = build_catalog(
            None,
            [NewField(f, p) for f, p in pool.items()],
            workdir=tmp / "full",
            compression_level=args.level,
        )
        full_extra = _dir_bytes(tmp / "full")
        prev = tmp / full.zip_name
        full.write_to(prev)
        t_full = time.perf_counter() - t0
        full.cleanup()

        # Incremental build: the previous zip plus one field, written to disk (md5 while writing).
        t0 = time.perf_counter()
        with open_previous(prev) as previous:
            inc = build_catalog(
                previous, [NewField(1001, new_path)], workdir=tmp / "inc", compression_level=args.level
            )
            inc_extra = _dir_bytes(tmp / "inc")
            out = tmp / "out.zip"
            inc.write_to(out)
            t_inc = time.perf_counter() - t0
            inc_read = previous.source.bytes_read

            # The upload path without local disk: md5 pass + streaming pass, with and without CRC checks.
            timings = {}
            for verify in (True, False):
                b = build_catalog(
                    previous,
                    [NewField(1001, new_path)],
                    workdir=tmp / f"s{verify}",
                    compression_level=args.level,
                    verify=verify,
                )
                t1 = time.perf_counter()
                _ = b.md5
                t_md5 = time.perf_counter() - t1
                t1 = time.perf_counter()
                with b.stream() as s:
                    while s.read(1 << 20):
                        pass
                timings[verify] = (t_md5, time.perf_counter() - t1)
                b.cleanup()
        equal = None
        if args.check_equal:
            pool2 = {**pool, 1001: new_path}
            again = build_catalog(
                None,
                [NewField(f, p) for f, p in pool2.items()],
                workdir=tmp / "again",
                compression_level=args.level,
            )
            equal = again.md5 == inc.md5 == hashlib.md5(out.read_bytes()).hexdigest()
            again.cleanup()
        inc.cleanup()

    carried = inc.carried_bytes
    rows = [
        (
            "full build (40 fields -> zip on disk)",
            f"{t_full:8.2f} s",
            f"read {_mb(csv_total)} CSV",
            f"wrote {_mb(full.size)}",
            f"extra disk {_mb(full_extra)}",
        ),
        (
            "incremental (+1 field -> zip on disk)",
            f"{t_inc:8.2f} s",
            f"read {_mb(inc_read + new_path.stat().st_size)}",
            f"wrote {_mb(inc.size)}",
            f"extra disk {_mb(inc_extra)}",
        ),
    ]
    for verify, (t_md5, t_stream) in timings.items():
        label = "stream, CRC verified" if verify else "stream, no CRC check"
        rows.append(
            (
                f"incremental {label}",
                f"{t_md5 + t_stream:8.2f} s",
                f"md5 pass {t_md5:.2f} s",
                f"stream {t_stream:.2f} s",
                f"{carried / 1e6 / max(t_stream, 1e-9):,.0f} MB/s carried",
            )
        )
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  " + "  ".join(r[1:]))
    print(f"speed-up incremental vs full: {t_full / t_inc:.1f}x (target >= 10x)")
    # Only the md5 pass inflates (the stream is proven identical by its md5), so compare those.
    verify_cost = timings[True][0] - timings[False][0]
    print(
        f"CRC verification: +{verify_cost:.2f} s, once per build, over {_mb(carried)} carried "
        f"({carried / 1e6 / max(timings[True][0], 1e-9):,.0f} MB/s compressed through inflate + md5)"
    )
    print(f"speed-up without the CRC check: {t_full / max(t_inc - verify_cost, 1e-9):.1f}x")
    if equal is not None:
        print(f"full build of the final catalog has the same md5 as the incremental one: {equal}")
    return 0 if equal in (None, True) else 1


if __name__ == "__main__":
    sys.exit(main())
