"""``release-bot demo``: a whole release, on this machine, with no token and no network.

It starts the bundled Zenodo- and GitHub-compatible servers, publishes a small v1.0.0 catalog, and then
drives the real event handlers through a contributor's PR (invalid at first, then fixed), the merge, a
refused approval, the curator's approval and the verification of the published version.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import zipfile
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from bot.errors import EXIT_OK, Finding
from bot.local.sample import field_csv_bytes
from bot.local.world import EventRun, LocalWorld, reset_dir
from bot.notes.charts import strip_mermaid
from bot.scope import field_from_member, parse_fields_json
from bot.skymap.draw import SKIP_NOTICE
from bot.skymap.release import SKY_MAP_NAME

CONTRIBUTOR, CURATOR, OUTSIDER = "ada-contributor", "carol", "mallory"


def _broken_field(field: int) -> bytes:
    """A field file with three typical mistakes, to show what the PR check reports."""
    lines = field_csv_bytes(field, 60, seed=7).decode().splitlines(keepends=True)
    cells = lines[5].split(",")
    cells[12] = "1.3"  # a probability above 1
    lines[5] = ",".join(cells)
    cells = lines[9].split(",")
    cells[7] = "999"  # the wrong field number
    lines[9] = ",".join(cells)
    cells = lines[20].split(",")
    cells[4] = ""  # an empty ra
    lines[20] = ",".join(cells)
    return "".join(lines).encode()


def _show_run(console: Console, title: str, run: EventRun, expect: int) -> None:
    status = "[green]passed[/]" if run.code == 0 else "[red]failed[/]"
    console.print(f"  handle-event exit code {run.code} ({status})")
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    if annotations:
        console.print(Panel("\n".join(annotations[:8]), title="annotations on the PR", border_style="yellow"),
                      markup=False)
    if run.code != expect:
        console.print(Panel(run.stderr[-3000:] or run.stdout[-3000:], title="unexpected outcome"), markup=False)
        raise Finding(f"demo step '{title}' ended with exit code {run.code}, expected {expect}")


def _last_comment(world: LocalWorld, number: int) -> str:
    comments = world.github.comments(number)
    return comments[-1]["body"] if comments else ""


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    workdir = Path(args.workdir).resolve()
    reset_dir(workdir)
    console.print(Rule("release-bot demo"))
    console.print(f"state is kept in [bold]{workdir}[/] (servers' data, repositories, event payloads)")
    with LocalWorld(workdir, curators=(CURATOR,), writers=(CURATOR, OUTSIDER), persist_zenodo=True,
                    seed_manifest=True) as world:
        _demo(console, world)
    console.print(Rule("done"))
    return EXIT_OK


def _demo(console: Console, world: LocalWorld) -> None:
    console.print(f"local Zenodo  {world.zenodo.url}  concept record {world.concept_id} (v1.0.0, fields "
                  f"{', '.join(map(str, world.seed_fields))})")
    console.print(f"local GitHub  {world.github.url}  repository {world.github.owner}/{world.github.repo}")

    console.print(Rule("1. a contributor opens a PR adding fields 487 and 488"))
    files = {"fields/field_487.csv": _broken_field(487),
             "fields/field_488.csv.gz": gzip.compress(field_csv_bytes(488, 150, seed=3), mtime=0)}
    world.open_pull(1, "Add fields 487 and 488", CONTRIBUTOR, files)
    _show_run(console, "invalid PR", world.pull_request(1, "opened"), expect=1)

    console.print(Rule("2. the contributor fixes field 487; the check passes"))
    world.push_to_pull(1, {"fields/field_487.csv": field_csv_bytes(487, 180, seed=3)}, "Fix field 487")
    _show_run(console, "fixed PR", world.pull_request(1, "synchronize"), expect=0)

    console.print(Rule("3. the PR is merged: catalog rebuilt, notes drafted, Zenodo draft prepared"))
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    _show_run(console, "merge", world.push(before, after), expect=0)
    summary = _last_comment(world, 1)
    shown = strip_mermaid(summary.split("<details>")[0])  # the summary and the notes' headline
    console.print(Panel(Markdown(shown + "\n\n_(on GitHub the class charts appear here, drawn from Mermaid; the "
                                 "comment goes on with the full class table, the pull requests, the checksums "
                                 "and the approval command)_"),
                        title="summary comment on PR #1"))
    _keep_sky_map(console, world)
    draft_id = next(line.split()[-1] for line in summary.splitlines() if line.startswith("/release publish "))

    console.print(Rule(f"4. {OUTSIDER} (write access, not a curator) tries to approve"))
    _show_run(console, "refused approval", world.approve(1, OUTSIDER, f"/release publish {draft_id}"), expect=1)
    console.print(Panel(_last_comment(world, 1), title="the bot's reply"), markup=False)

    console.print(Rule(f"5. the curator {CURATOR} approves"))
    _show_run(console, "approval", world.approve(1, CURATOR, f"/release publish {draft_id}"), expect=0)
    console.print(Panel(_last_comment(world, 1), title="the bot's reply"), markup=False)

    console.print(Rule("6. verification of the published version"))
    _verify(console, world, draft_id)


def _keep_sky_map(console: Console, world: LocalWorld) -> None:
    """Copy the merge run's sky map into the workdir and say where it is (or that it was skipped)."""
    drawn = sorted(world.events_dir.glob(f"*-push/tmp/release-bot/{SKY_MAP_NAME}"))
    if not drawn:  # the handlers said so in their own (captured) output: say it here, once
        console.print(SKIP_NOTICE, markup=False, soft_wrap=True)
        return
    kept = world.root / SKY_MAP_NAME
    shutil.copyfile(drawn[-1], kept)
    console.print(f"sky map of the release: [bold]{kept}[/]")


def _verify(console: Console, world: LocalWorld, record_id: str) -> None:
    record = world.zenodo.record(record_id)
    entries = record["files"]["entries"]
    table = Table("file", "size", "md5", title=f"record {record_id}: {record['metadata']['version']}, "
                  f"DOI {record['pids']['doi']['identifier']}")
    for key, entry in sorted(entries.items()):
        table.add_row(key, f"{entry['size']:,}", entry["checksum"].removeprefix("md5:"))
    console.print(table)
    zip_key = next(k for k in entries if k.startswith("predictions_dnn_xgb_"))
    zip_path = world.root / "published.zip"
    zip_path.write_bytes(world.zenodo.file_bytes(record_id, zip_key))
    with zipfile.ZipFile(zip_path) as zf:
        bad = zf.testzip()
        members = sorted(f for f in (field_from_member(n) for n in zf.namelist()) if f is not None)
    listed = parse_fields_json(world.zenodo.file_bytes(record_id, "fields.json"))
    md5_ok = all(
        hashlib.md5(world.zenodo.file_bytes(record_id, k)).hexdigest() == e["checksum"].removeprefix("md5:")
        for k, e in entries.items()
    )
    if bad is not None or members != listed or not md5_ok:
        raise Finding(f"verification failed: testzip={bad}, zip fields {members}, fields.json {listed}")
    console.print(f"[green]verified[/]: the zip holds fields {members}, fields.json agrees, checksums match; "
                  f"{len(world.zenodo.published_versions(world.concept_id))} published versions, "
                  f"{world.zenodo.dois_reserved} DOI reserved")
    console.print(f"final DOI: [bold]{record['pids']['doi']['identifier']}[/]")
