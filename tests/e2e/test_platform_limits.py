"""GitHub's limits on what a run may show: 10 error annotations per step, 1 MiB of job summary, 65,536
characters per comment. A big bad pull request still shows everything somewhere, and nothing crashes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from release_helpers import CONTRIBUTOR, bad_field, bot_comments

from bot.local.github.routes import MAX_BODY

BAD_FILES = 30


def bad_files() -> dict[str, bytes]:
    return {f"fields/field_{600 + n}.csv": bad_field(600 + n) for n in range(BAD_FILES)}


def _report_file(run_dir: Path) -> dict:
    (path,) = run_dir.glob("*/tmp/release-bot/validation-report.json")
    return json.loads(path.read_text())


def test_a_pull_request_with_30_bad_files_gets_10_spread_annotations_a_notice_and_everything_elsewhere(world):
    world.open_pull(1, "Add 30 fields", CONTRIBUTOR, bad_files())
    run = world.pull_request(1)
    assert run.code == 1
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    notices = [line for line in run.stdout.splitlines() if line.startswith("::notice")]
    assert len(errors) == 10
    assert len({re.search(r"file=([^,]+)", line).group(1) for line in errors}) == 10  # one per file
    (notice,) = notices
    assert f"{BAD_FILES} field file(s), {BAD_FILES} invalid: {BAD_FILES * 60:,} error(s)" in notice
    assert "validation-report" in notice and "/actions/runs/" in notice
    # every listed problem is in the summary (within GitHub's 1 MiB) and in the JSON report
    report = _report_file(world.events_dir)
    assert len(report["errors"]) == BAD_FILES * 50 and report["error_count"] == BAD_FILES * 60
    assert len(run.summary.encode()) < 1 << 20
    blocks = run.summary.split("\n### ")[1:]
    assert len(blocks) == BAD_FILES
    for n, block in enumerate(blocks):
        lines = sorted(e["line"] for e in report["errors"] if e["path"] == f"fields/field_{600 + n}.csv")
        shown = [int(m) for m in re.findall(r"^\| (\d+) \| .* \| out-of-range \|", block, re.MULTILINE)]
        assert shown == lines and len(lines) == 50


def test_a_merge_of_30_bad_files_posts_a_comment_that_fits_and_sets_the_status_first(world):
    world.open_pull(1, "Add 30 fields", CONTRIBUTOR, bad_files())
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    run = world.push(before, after)
    assert run.code == 1, run.stderr
    (comment,) = bot_comments(world, 1)
    assert len(comment["body"]) < MAX_BODY
    assert "The release was not drafted" in comment["body"] and "/actions/runs/" in comment["body"]
    assert "field\\_629.csv" in comment["body"]  # every file is named, even when its errors are cut
    statuses = world.github.statuses(after)
    assert statuses[-1]["state"] == "failure" and "/actions/runs/" in statuses[-1]["target_url"]
    assert len(run.summary.encode()) < 1 << 20


def test_when_the_comment_cannot_be_posted_the_status_still_tells(world):
    world.open_pull(1, "Add 30 fields", CONTRIBUTOR, bad_files())
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    world.github.faults.add("POST", r"/issues/1/comments$", "500", times=50)
    run = world.push(before, after)
    assert run.code == 1
    assert world.github.statuses(after)[-1]["state"] == "failure"
