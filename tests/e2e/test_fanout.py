"""A big pull request's check fanned out as a matrix of jobs (plan, one job per group, gather), with GitHub
Actions as the engine: the gathered report is the single job's report, and a missing group fails it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from release_helpers import CONTRIBUTOR, bad_field

from bot.flow.fanout import MAX_GROUPS, group_files
from bot.local.sample import field_csv_bytes


def _small_groups(world, files: int = 2) -> None:
    """A maintainer's configuration change on the default branch: at most ``files`` field files per job."""
    config = yaml.safe_load(world.config_text())
    config["validation"] = {"group_files": files}
    world.push_main({"release-config.yaml": yaml.safe_dump(config, sort_keys=False).encode()}, "Smaller groups")


def _mixed_files() -> dict[str, bytes]:
    files = {f"fields/field_{n}.csv": field_csv_bytes(n, 30, seed=n) for n in (701, 703, 705)}
    files |= {f"fields/field_{n}.csv": bad_field(n, 20) for n in (702, 704)}
    files["fields/notes.txt"] = b"not a field"
    return files


def _json_report(run) -> dict:
    return json.loads((Path(run.outputs_dir) / "tmp" / "release-bot" / "validation-report.json").read_text())


def test_a_pr_above_the_threshold_is_checked_by_a_matrix_and_gathers_the_single_jobs_report(world):
    _small_groups(world, 2)
    world.open_pull(1, "Add five fields", CONTRIBUTOR, _mixed_files())
    jobs = world.pull_request_matrix(1)
    groups = json.loads(jobs["plan"].outputs["groups"])
    assert [g["paths"] for g in groups] == [["fields/field_701.csv", "fields/field_702.csv"],
                                            ["fields/field_703.csv", "fields/field_704.csv"],
                                            ["fields/field_705.csv"]]
    assert [g["index"] for g in groups] == [0, 1, 2] and all(g["bytes"] > 0 for g in groups)
    assert all(run.code == 0 and "::error" not in run.stdout for run in jobs["groups"])  # only the gather speaks
    gathered = jobs["report"]
    single = world.pull_request(1)
    assert (gathered.code, single.code) == (1, 1)
    assert _json_report(gathered) == _json_report(single)
    assert gathered.stdout.splitlines() == [line for line in single.stdout.splitlines() if line.startswith("::")]
    assert gathered.summary == single.summary
    assert len([line for line in gathered.stdout.splitlines() if line.startswith("::error")]) <= 10


def test_a_valid_big_pr_gathers_to_a_passing_check_with_the_preview(world):
    _small_groups(world, 1)
    world.open_pull(1, "Add three fields", CONTRIBUTOR,
                    {f"fields/field_{n}.csv": field_csv_bytes(n, 30, seed=n) for n in (701, 703, 705)})
    jobs = world.pull_request_matrix(1)
    assert len(json.loads(jobs["plan"].outputs["groups"])) == 3
    assert jobs["report"].code == 0, jobs["report"].stderr
    assert "What merging this pull request would release" in jobs["report"].summary
    assert jobs["report"].summary == world.pull_request(1).summary


def test_a_group_whose_job_left_no_report_fails_the_check(world):
    _small_groups(world, 1)
    world.open_pull(1, "Add three fields", CONTRIBUTOR,
                    {f"fields/field_{n}.csv": field_csv_bytes(n, 30, seed=n) for n in (701, 703, 705)})
    jobs = world.pull_request_matrix(1, drop_groups=(1,))
    assert jobs["report"].code == 1
    report = _json_report(jobs["report"])
    assert [(e["path"], e["code"]) for e in report["errors"]] == [("fields/field_703.csv", "not-checked")]


def test_a_small_pr_is_one_group(world):
    world.open_pull(1, "Add a field", CONTRIBUTOR, {"fields/field_701.csv": field_csv_bytes(701, 30, seed=1)})
    jobs = world.pull_request_matrix(1)
    assert [g["paths"] for g in json.loads(jobs["plan"].outputs["groups"])] == [["fields/field_701.csv"]]
    assert jobs["report"].code == 0


def test_groups_by_count_and_bytes_in_order_a_big_file_alone_never_more_than_the_matrix_takes():
    sized = [("a", 5), ("b", 5), ("c", 20), ("d", 1), ("e", 1), ("f", 1)]
    assert [g.paths for g in group_files(sized, max_files=2, max_bytes=10)] == [
        ("a", "b"), ("c",), ("d", "e"), ("f",)]
    assert [g.size for g in group_files(sized, max_files=10, max_bytes=100)] == [33]
    assert group_files([], 10, 10)[0].paths == ()
    many = group_files([(str(i), 1) for i in range(1000)], max_files=1, max_bytes=10)
    assert len(many) <= MAX_GROUPS and [p for g in many for p in g.paths] == [str(i) for i in range(1000)]
