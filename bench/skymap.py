"""What the sky map costs the merge run: the push handler with and without the picture, same world, same run.

The merge run is started as the workflow starts it (a fresh ``release-bot handle-event`` process), on the
bench catalog of bench/release.py (20 published fields x 40,000 rows; the PR adds a 60,000-row field),
with a manifest carrying every field's footprint so the map draws all of them. "Without" makes matplotlib
unimportable in the child process (the bot then skips the picture), so the two differ only by the map.
After one warm-up run the draft exists and each rerun converges (validate, build, check Zenodo); the
runs alternate, best of N each. Prints the load average: other work on the machine inflates both.
The map is drawn by a low-priority child process started with the run (bot/skymap/job.py), so its cost
shows as CPU more than as wall time.

    python bench/skymap.py [--fields 20] [--rows 40000] [--new-rows 60000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bot.local.blockers import without_matplotlib
from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld

sys.path.insert(0, str(Path(__file__).resolve().parent))
from release import FIELDS  # the same catalog as bench/release.py


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _push(world: LocalWorld, before: str, after: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run's process) of one merge run."""
    t, c = time.perf_counter(), _cpu()
    run = world.push(before, after, in_process=False, extra_env=env)
    secs, cpu = time.perf_counter() - t, _cpu() - c
    if run.code != 0:
        raise SystemExit(f"the merge run failed ({run.code}): {run.stderr[-2000:]}")
    return secs, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=20)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--new-rows", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fields = FIELDS[: args.fields]
    with tempfile.TemporaryDirectory(prefix="bench-skymap-") as tmp:
        blocker = without_matplotlib(Path(tmp) / "blocker")
        without = {"PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
        # Eleven merge runs in a minute or two pass the bundled Zenodo's 100 requests a minute: a run would then
        # wait for the limit's reset, which measures the limit, not the map.
        with LocalWorld(Path(tmp) / "world", curators=("carol",), seed_fields=fields, seed_rows=args.rows,
                        seed_manifest=True, zenodo_options={"rate_limit_per_min": 100_000}) as world:
            world.open_pull(1, "Add field 1001", "ada", {"fields/field_1001.csv": field_csv_bytes(1001, args.new_rows)})
            before = world.git("rev-parse", "main")
            after = world.merge(1)
            first, _ = _push(world, before, after, {})
            timings: dict[str, list[tuple[float, float]]] = {"with the map": [], "without": []}
            for _ in range(args.repeat):
                timings["with the map"].append(_push(world, before, after, {}))
                timings["without"].append(_push(world, before, after, without))
            drawn = sorted(world.events_dir.glob("*-push/tmp/release-bot/sky-map.png"))
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); catalog {len(fields)} fields x "
          f"{args.rows:,} rows + field 1001 ({args.new_rows:,} rows); map drawn: {bool(drawn)}")
    print(f"first merge run (drafts and uploads): {first:.2f} s")
    for i, what in enumerate(("wall", "CPU")):
        best = {k: min(v[i] for v in values) for k, values in timings.items()}
        for name, values in timings.items():
            print(f"merge rerun {what:<4} {name:<14} best of {args.repeat}: {best[name]:6.2f} s   "
                  f"(all: {', '.join(f'{v[i]:.2f}' for v in values)})")
        added = best["with the map"] - best["without"]
        print(f"  the map adds {added:+.2f} s {what}: {added / best['without']:+.1%} of the rerun"
              + (f", {added / first:+.1%} of the first merge run" if what == "wall" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
