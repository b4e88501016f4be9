"""The demo release on a bigger catalog: wall time and API calls per step, bytes downloaded and uploaded.

The release runs once per way a Zenodo site serves file content: as zenodo.org (the record page's link
answers byte ranges, the API's content ignores Range), and as a site without the record page whose API
ignores Range (the previous zip is then read front to back). For each, the merge's bytes downloaded from
Zenodo (counted by the server, as sent) and uploaded to it are printed next to the minimum: the carried
bytes of the previous zip once, and the new zip plus fields.json.

Baseline, measured in the same run: what a release costs without the bot's incremental build, i.e.
re-zipping every field's CSV from scratch (what a person does by hand) and uploading the whole result.

    python bench/release.py [--fields 20] [--rows 40000] [--new-rows 60000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bot.catalog.previous import open_previous
from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld

MODES = {  # name -> the bundled server's options
    "zenodo.org (record page, ranges)": {},
    "API only, Range ignored": {"record_pages": False},
}

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
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        for mode, options in MODES.items():
            results[mode] = _release(Path(tmp) / f"world-{len(results)}", fields, args.rows, new_field,
                                     args.new_rows, options)
        baseline = _baseline(Path(tmp), fields, args.rows, new_field, args.new_rows)
    csv_bytes = len(field_csv_bytes(fields[0], args.rows)) * len(fields)
    first = next(iter(results.values()))
    print(f"catalog: {len(fields)} fields x {args.rows:,} rows (~{csv_bytes / 1e6:,.0f} MB CSV); "
          f"PR adds field {new_field} ({args.new_rows:,} rows); load average {os.getloadavg()[0]:.1f}")
    print(f"{'step (zenodo.org mode)':<28}{'seconds':>9}{'Zenodo calls':>14}{'GitHub calls':>14}{'uploaded MB':>13}")
    for name, secs, zc, gc, up in first["rows"]:
        print(f"{name:<28}{secs:>9.2f}{zc:>14}{gc:>14}{up / 1e6:>13.1f}")
    total_s = sum(r[1] for r in first["rows"])
    print(f"{'bot, whole release':<28}{total_s:>9.2f}{sum(r[2] for r in first['rows']):>14}"
          f"{sum(r[3] for r in first['rows']):>14}{sum(r[4] for r in first['rows']) / 1e6:>13.1f}")
    print(f"{'baseline: re-zip everything':<28}{baseline[0]:>9.2f}{'':>14}{'':>14}{baseline[1] / 1e6:>13.1f}")
    print("merge (build + draft), bytes per release:")
    for mode, r in results.items():
        print(f"  {mode:<34} downloaded {r['down']:>12,} B = {r['down'] / r['carried']:.3f}x the carried "
              f"{r['carried']:,} B (previous zip {r['old_zip']:,} B); uploaded {r['up']:>12,} B = "
              f"{r['up'] / r['new']:.3f}x the new files {r['new']:,} B; merge {r['secs']:.2f} s")
    return 0


def _release(root: Path, fields: tuple[int, ...], rows: int, new_field: int, new_rows: int,
             options: dict[str, bool]) -> dict:
    world = LocalWorld(root, curators=("carol",), seed_fields=fields, seed_rows=rows, zenodo_options=options)
    world.start()
    try:
        entries = world.zenodo.record(world.first_record_id)["files"]["entries"]
        old_key = next(k for k in entries if k.startswith("predictions_"))
        old_zip = root / "previous.zip"
        old_zip.write_bytes(world.zenodo.file_bytes(world.first_record_id, old_key))
        with open_previous(old_zip) as previous:  # every member is carried: the PR adds a field
            carried = sum(previous.region_ends[e.index] - e.header_offset for e in previous.directory.entries)
        rows_out, traffic = _run(world, new_field, new_rows)
        draft = next(iter(world.zenodo.drafts_of(world.concept_id)), None) or \
            world.zenodo.published_versions(world.concept_id)[-1]
        new_entries = draft["files"]["entries"]
        new = sum(e["size"] for k, e in new_entries.items() if k.startswith("predictions_") or k == "fields.json")
    finally:
        world.stop()
    down = sum(sent for m, p, status, _got, sent in traffic if m == "GET" and status in (200, 206)
               and (p.endswith("/content") or (not p.startswith("/api/") and "/files/" in p)))
    up = sum(got for m, p, _status, got, _sent in traffic if m == "PUT" and p.endswith("/content"))
    merge_secs = next(r[1] for r in rows_out if r[0].startswith("merge"))
    return {"rows": rows_out, "carried": carried, "old_zip": old_zip.stat().st_size, "down": down, "up": up,
            "new": new, "secs": merge_secs}


def _run(world: LocalWorld, new_field: int, new_rows: int) -> tuple[list[tuple[str, float, int, int, int]], list]:
    """The PR check, the merge and the approval; returns the per-step rows and the merge's Zenodo traffic."""
    rows = []
    merge_traffic: list = []

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
    mark = len(world.zenodo.traffic)
    step("merge: build + draft", lambda: world.push(before, after))
    merge_traffic.extend(world.zenodo.traffic[mark:])
    body = world.github.comments(1)[-1]["body"]
    draft = next(line.split()[-1] for line in body.splitlines() if line.startswith("/release publish "))
    step("approve: publish + verify", lambda: world.approve(1, "carol", f"/release publish {draft}"))
    return rows, merge_traffic


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
