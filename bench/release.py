"""The demo release on a bigger catalog: wall time and API calls per step, bytes uploaded vs catalog size.

Baseline, measured in the same run: what a release costs without the bot's incremental build, i.e.
re-zipping every field's CSV from scratch (what a person does by hand) and uploading the whole result.

    python bench/release.py [--fields 20] [--rows 40000] [--new-rows 60000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld

ROOT = Path(__file__).resolve().parent
FIELDS = (247, 248, 295, 296, 297, 298, 346, 347, 371, 372, 422, 423, 424, 425, 436, 468, 474, 475, 486, 487,
          488, 489, 511, 512, 538, 539, 561, 562, 563, 564)


def _calls(world: LocalWorld) -> tuple[int, int]:
    return len(world.zenodo.calls), len(world.github.calls)


def _uploaded(world: LocalWorld, since: int) -> int:
    total = 0
    for method, path, status in world.zenodo.calls[since:]:
        if method == "PUT" and path.endswith("/content") and status == 200:
            key = path.rsplit("/files/", 1)[1].removesuffix("/content")
            draft = path.split("/records/")[1].split("/")[0]
            total += world.zenodo.record(draft)["files"]["entries"].get(key, {}).get("size", 0)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=20, help="fields in the published catalog")
    parser.add_argument("--rows", type=int, default=40_000, help="rows per published field")
    parser.add_argument("--new-rows", type=int, default=60_000, help="rows of the field the PR adds")
    args = parser.parse_args()
    fields = FIELDS[: args.fields]
    new_field = 1001
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        t = time.perf_counter()
        world = LocalWorld(Path(tmp) / "world", curators=("carol",), seed_fields=fields, seed_rows=args.rows)
        world.start()
        seed_s = time.perf_counter() - t
        try:
            rows = _run(world, new_field, args.new_rows)
        finally:
            world.stop()
        baseline = _baseline(Path(tmp), fields, args.rows, new_field, args.new_rows)
    csv_bytes = len(field_csv_bytes(fields[0], args.rows)) * len(fields)
    print(f"catalog: {len(fields)} fields x {args.rows:,} rows (~{csv_bytes / 1e6:,.0f} MB CSV); "
          f"PR adds field {new_field} ({args.new_rows:,} rows); seeding took {seed_s:.1f} s")
    print(f"{'step':<28}{'seconds':>9}{'Zenodo calls':>14}{'GitHub calls':>14}{'uploaded MB':>13}")
    for name, secs, zc, gc, up in rows:
        print(f"{name:<28}{secs:>9.2f}{zc:>14}{gc:>14}{up / 1e6:>13.1f}")
    total_s = sum(r[1] for r in rows)
    uploaded = sum(r[4] for r in rows)
    print(f"{'bot, whole release':<28}{total_s:>9.2f}{sum(r[2] for r in rows):>14}{sum(r[3] for r in rows):>14}"
          f"{uploaded / 1e6:>13.1f}")
    print(f"{'baseline: re-zip everything':<28}{baseline[0]:>9.2f}{'':>14}{'':>14}{baseline[1] / 1e6:>13.1f}")
    print(f"zip upload: the bot streams the rebuilt zip ({uploaded / 1e6:.1f} MB incl. fields.json) and imports "
          f"the rest; the baseline's zip step alone is {baseline[0] / max(total_s, 1e-9):.2f}x the bot's release")
    return 0


def _run(world: LocalWorld, new_field: int, new_rows: int) -> list[tuple[str, float, int, int, int]]:
    rows = []

    def step(name, action):
        z0, g0 = _calls(world)
        t = time.perf_counter()
        run = action()
        secs = time.perf_counter() - t
        z1, g1 = _calls(world)
        if run.code != 0:
            print(run.stdout[-2000:], run.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{name} failed with exit code {run.code}")
        rows.append((name, secs, z1 - z0, g1 - g0, _uploaded(world, z0)))
        return run

    new_file = {f"fields/field_{new_field}.csv": field_csv_bytes(new_field, new_rows)}
    world.open_pull(1, f"Add field {new_field}", "ada", new_file)
    step("PR check (validate)", lambda: world.pull_request(1))
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    step("merge: build + draft", lambda: world.push(before, after))
    body = world.github.comments(1)[-1]["body"]
    draft = next(line.split()[-1] for line in body.splitlines() if line.startswith("/release publish "))
    step("approve: publish + verify", lambda: world.approve(1, "carol", f"/release publish {draft}"))
    return rows


def _baseline(tmp: Path, fields: tuple[int, ...], rows: int, new_field: int, new_rows: int) -> tuple[float, int]:
    """Zip every field's CSV from scratch, as a manual release does; returns (seconds, zip bytes)."""
    src = tmp / "csv"
    src.mkdir()
    for f in fields:
        (src / f"field_{f}.csv").write_bytes(field_csv_bytes(f, rows, seed=1))
    (src / f"field_{new_field}.csv").write_bytes(field_csv_bytes(new_field, new_rows))
    out = tmp / "baseline.zip"
    t = time.perf_counter()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(src.iterdir()):
            zf.write(path, path.name)
    return time.perf_counter() - t, out.stat().st_size


if __name__ == "__main__":
    sys.exit(main())
