"""Benchmark: one release against the bundled Zenodo server, counted call by call.

    .venv/bin/python bench/zenodo.py [--rows 20000] [--fields 3] [--crash-after STEP]

Seeds a concept shaped like SCoPe's record (7 files: the catalog zip, fields.json, a sample CSV, the
notebook, two model zips, the training set), then converges a new-version draft that replaces the zip
(one field more, so a new name) and fields.json, and publishes it. Prints the calls per step and in total
against the goal (at most 20 plus one upload per changed file, whatever the catalog's size), the bytes
uploaded against the bytes imported, and the seconds. ``--crash-after`` first kills a run after that step
and then reruns, to show what a rerun costs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bot.local.crash import SimulatedCrash, crash_after
from bot.local.sample import write_field_csv
from bot.local.zenodo_server import ZenodoServer
from bot.scope import FIELDS_JSON, catalog_zip_name, dump_fields_json, is_catalog_zip_name
from bot.zenodo.client import ZenodoClient
from bot.zenodo.drafts import STEPS, DraftRequest, UploadFile, converge_draft, publish_draft

TOKEN = "bench-token"
FIELDS = [296, 297, 423, 487, 488, 539, 436, 881]
METADATA = {
    "title": "SCoPe ZTF source classification catalog (benchmark)",
    "resource_type": {"id": "dataset"},
    "creators": [{"person_or_org": {"type": "organizational", "name": "SCoPe collaboration"}}],
    "additional_descriptions": [{"description": "<p>First release.</p>", "type": {"id": "notes"}}],
}


def build_zip(out: Path, fields: list[int], rows: int, work: Path) -> Path:
    """A catalog zip written member by member from CSV files on disk (never whole in memory)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for field in fields:
            csv = write_field_csv(work / f"field_{field}.csv", field, rows)
            zf.write(csv, csv.name)
            csv.unlink()
    return out


def seed_files(work: Path, fields: list[int], rows: int) -> dict[str, Path]:
    small = {
        "field_296_100rows.csv": write_field_csv(work / "s.csv", 296, 100).read_bytes(),
        "SCoPe_classification_demo.ipynb": b'{"cells": [], "nbformat": 4, "nbformat_minor": 5}',
        "trained_dnn_models.zip": b"dnn" * 200_000,
        "trained_xgb_models.zip": b"xgb" * 200_000,
        "training_set.parquet": b"PAR1" + bytes(500_000) + b"PAR1",
        FIELDS_JSON: dump_fields_json(fields),
    }
    files = {catalog_zip_name(len(fields)): build_zip(work / "old.zip", fields, rows, work)}
    for key, data in small.items():
        (work / key).write_bytes(data)
        files[key] = work / key
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="rows per field (default 20000, ~10 MB CSV)")
    parser.add_argument("--fields", type=int, default=3, help="fields in the previous version (default 3)")
    parser.add_argument("--crash-after", choices=STEPS, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-zenodo-") as tmp:
        work = Path(tmp)
        old_fields = FIELDS[: args.fields]
        new_fields = FIELDS[: args.fields + 1]
        t0 = time.perf_counter()
        previous = seed_files(work, old_fields, args.rows)
        new_zip = build_zip(work / catalog_zip_name(len(new_fields)), new_fields, args.rows, work)
        (work / "new-fields.json").write_bytes(dump_fields_json(new_fields))
        uploads = [UploadFile.from_path(new_zip), UploadFile.from_path(work / "new-fields.json", FIELDS_JSON)]
        prepare_s = time.perf_counter() - t0

        with ZenodoServer(data_dir=work / "zenodo", tokens=(TOKEN,)) as server:
            concept, _ = server.seed_concept(previous, METADATA, version="v1.0.0")
            req = DraftRequest(
                concept_record=concept, uploads=uploads,
                replaces=lambda k: is_catalog_zip_name(k) or k == FIELDS_JSON,
                version="v1.1.0", notes_html=f"<p>Added field {new_fields[-1]}.</p>",
                publication_date=time.strftime("%Y-%m-%d"),
            )
            rows: list[tuple[str, int, float]] = []
            if args.crash_after:
                crashed = ZenodoClient(server.url, TOKEN)
                t = time.perf_counter()
                with contextlib.suppress(SimulatedCrash), crash_after(f"zenodo:{args.crash_after}"):
                    converge_draft(crashed, req)
                label = f"crashed run (after {args.crash_after})"
                rows.append((label, crashed.calls, time.perf_counter() - t))

            client = ZenodoClient(server.url, TOKEN)
            t = time.perf_counter()
            result = converge_draft(client, req)
            draft_s = time.perf_counter() - t
            draft_calls = dict(client.calls_by_step)
            t = time.perf_counter()
            expected = {k: e.md5 or "" for k, e in result.files.items()}
            publish_draft(client, result.draft_id, expected_files=expected, version=req.version,
                          publication_date=req.publication_date)
            publish_s = time.perf_counter() - t
            baseline = upload_everything(server, previous, uploads)

    uploaded = sum(u.size for u in uploads if u.key in result.uploaded)
    imported = sum(result.files[k].size or 0 for k in result.imported)
    print(f"inputs: previous version {len(previous)} files, {len(old_fields)} fields x {args.rows} rows; "
          f"prepared in {prepare_s:.1f} s")
    for name, calls, secs in rows:
        print(f"  {name:<28} {calls:>4} calls  {secs:6.2f} s")
    print("converge_draft calls per step:")
    for step in STEPS:
        print(f"  {step:<28} {draft_calls.get(step, 0):>4}")
    goal = 20 + len(uploads)
    print(f"  {'total':<28} {result.calls:>4}   (goal: at most {goal} = 20 + one upload per changed file;"
          f" each upload is 2 calls: content + commit)")
    print("publish_draft calls per step:")
    for step, n in client.calls_by_step.items():
        if step not in STEPS:
            print(f"  {step:<28} {n:>4}")
    print(f"  {'total':<28} {client.calls - result.calls:>4}")
    print(f"bytes uploaded {uploaded:,} ({', '.join(result.uploaded)}) vs imported {imported:,} "
          f"({len(result.imported)} files, no bytes sent)")
    print(f"seconds: draft {draft_s:.2f}, publish {publish_s:.2f}; "
          f"upload rate {uploaded / max(draft_s, 1e-9) / 1e6:.0f} MB/s on loopback")
    b_calls, b_bytes, b_secs = baseline
    print(f"baseline, same run (new version, every file uploaded, no import): {b_calls} calls, "
          f"{b_bytes:,} bytes uploaded, {b_secs:.2f} s -> the bot sends {uploaded / b_bytes:.0%} of the bytes "
          f"in {result.calls} calls")
    return 0


def upload_everything(server: ZenodoServer, previous: dict[str, Path], uploads: list[UploadFile]
                      ) -> tuple[int, int, float]:
    """The release without files-import: every file of the new version is uploaded again."""
    concept, _ = server.seed_concept(previous, METADATA, version="v1.0.0")
    client = ZenodoClient(server.url, TOKEN)
    start = time.perf_counter()
    draft = client.new_version(client.latest_record(concept).id)
    files = [UploadFile.from_path(path, key) for key, path in previous.items()
             if not (is_catalog_zip_name(key) or key == FIELDS_JSON)] + uploads
    client.start_uploads(draft.id, [f.key for f in files])
    for f in files:
        client.upload_content(draft.id, f.key, f.open, f.size)
        client.commit_file(draft.id, f.key)
    return client.calls, sum(f.size for f in files), time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
