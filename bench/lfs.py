"""Bytes fetched from Git LFS per run, against the size of fields/ and against a checkout with ``lfs: true``.

A repository whose fields/ holds N LFS fields (the published catalog), served by the bundled GitHub server's
LFS batch API; the real git-lfs client does the fetching. For each run (a PR check, then the merge) it
prints the objects and bytes the bot fetched, the minimum (the changed files' own sizes), and what
actions/checkout with ``lfs: true`` fetches for the same commit: it runs ``git lfs fetch origin <ref>``
(actions/checkout src/git-source-provider.ts), i.e. every LFS object of the commit, measured here by
running exactly that against the same server.

    python bench/lfs.py [--fields 40] [--rows 300] [--changed 1 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.lfs import LfsAccess
from bot.local.sample import field_csv_bytes
from bot.local.world import ACTIONS_TOKEN, OWNER, REPO, LocalWorld


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def _checkout_lfs_true(world: LocalWorld, commit: str) -> tuple[int, int]:
    """(objects, bytes) that `git lfs fetch origin <commit>` (checkout's lfs: true) downloads, store emptied
    first and after."""
    store = world.workspace / ".git" / "lfs" / "objects"
    _empty(store)
    before = len(world.github.lfs.downloads)
    access = LfsAccess.for_repository(world.github.url, f"{OWNER}/{REPO}", ACTIONS_TOKEN)
    subprocess.run(["git", "-C", str(world.workspace), "lfs", "fetch", "origin", commit],
                   env=access.git_env(os.environ), capture_output=True, check=True)
    fetched = world.github.lfs.downloads[before:]
    _empty(store)
    return len(fetched), sum(n for _, n in fetched)


def _empty(store: Path) -> None:
    for path in store.rglob("*"):
        if path.is_file():
            path.unlink()


def _raw_on_disk(world: LocalWorld) -> int:
    """Field bytes the run holds outside the checkout (whose files are pointers): scratch and LFS store."""
    files = [*world.events_dir.rglob("field_*.csv*"), *(world.workspace / ".git" / "lfs" / "objects").rglob("*")]
    return sum(p.stat().st_size for p in files if p.is_file())


def _measure(world: LocalWorld, label: str, run, minimum: int, commit: str) -> None:
    before = len(world.github.lfs.downloads)
    peak = [0]
    objects = world.github.lfs.objects
    world.github.lfs.on_download = lambda oid: peak.__setitem__(0, max(peak[0], _raw_on_disk(world)
                                                                        + len(objects[oid])))
    result = run()
    world.github.lfs.on_download = None
    if result.code != 0:
        raise SystemExit(f"{label}: the run failed\n{result.stdout}\n{result.stderr}")
    fetched = world.github.lfs.downloads[before:]
    got = sum(n for _, n in fetched)
    peer_objects, peer_bytes = _checkout_lfs_true(world, commit)
    largest = max((n for _, n in fetched), default=0)
    print(f"{label:<20} bot fetched {len(fetched):>2} object(s), {_mb(got):>9} (minimum {_mb(minimum)}); "
          f"lfs: true fetches {peer_objects} objects, {_mb(peer_bytes)} ({peer_bytes / max(got, 1):.0f}x); "
          f"peak field bytes on disk {_mb(peak[0])} (largest changed file {_mb(largest)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=40)
    parser.add_argument("--rows", type=int, default=300, help="rows per field file")
    parser.add_argument("--changed", type=int, nargs="+", default=[1, 3], help="fields changed per PR")
    args = parser.parse_args(argv)
    catalog = tuple(range(300, 300 + args.fields))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp, LocalWorld(Path(tmp) / "world", seed_fields=catalog,
                                                        seed_rows=args.rows, lfs=True) as world:
        world.push_main({f"fields/field_{f}.csv": field_csv_bytes(f, args.rows, seed=1) for f in catalog},
                        "The published catalog")
        world.git("tag", "catalog-v1.0.0", "main")
        total = sum(len(v) for v in world.github.lfs.objects.values())
        print(f"fields/: {len(world.github.lfs.objects)} LFS objects, {_mb(total)}")
        for number, count in enumerate(args.changed, start=1):
            files = {f"fields/field_{f}.csv": field_csv_bytes(f, args.rows, seed=number + 1)
                     for f in catalog[:count]}  # replaced fields
            minimum = sum(len(v) for v in files.values())
            world.open_pull(number, f"Replace {count} field(s)", "ada-contributor", files)
            merge_ref = world.merge_ref(number)
            _measure(world, f"PR check, {count} changed", lambda n=number: world.pull_request(n), minimum, merge_ref)
            before = world.git("rev-parse", "main")
            after = world.merge(number)
            _measure(world, f"merge, {count} changed", lambda b=before, a=after: world.push(b, a), minimum, after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
