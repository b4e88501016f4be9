"""``release-bot validate`` through the CLI: exit codes, the three formats, and the pull_request mode."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.cli import main

CONFIG = """\
catalog:
  fields_dir: fields
zenodo:
  api_url: https://zenodo.org/api
  record: "8410825"
approval:
  command: /release publish
  curators: [bfhealy]
validation:
  max_errors_per_file: 3
"""


@pytest.fixture(autouse=True)
def _no_github_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _bad_ccd(set_cell, *lines: int):
    def edit(rows: list[bytes]) -> list[bytes]:
        for line in lines:
            set_cell(rows, line, "ccd", b"17")
        return rows
    return edit


def test_exit_codes_valid_invalid_and_usage(make_field, set_cell, capsys) -> None:
    good = make_field(296, 10)
    bad = make_field(297, 10, edit=_bad_ccd(set_cell, 3))
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "field_297.csv" in out and "out-of-range" in out and "1 of 2 file(s) invalid" in out
    assert main(["validate"]) == 2
    assert "no PATH given" in capsys.readouterr().err
    assert main(["validate", "missing/field_1.csv"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_json_is_exactly_one_object_with_files_and_errors(make_field, set_cell, capsys, tmp_path: Path) -> None:
    make_field(297, 10, edit=_bad_ccd(set_cell, 3, 5), folder=tmp_path / "fields")
    (tmp_path / "fields" / "notes.md").write_text("x")
    assert main(["validate", "--format", "json", "fields"]) == 1
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert out.strip().count("\n") == 0
    assert [(f["path"], f["rows"], f["valid"]) for f in doc["files"]] == [
        ("fields/field_297.csv", 10, False), ("fields/notes.md", 0, False)]
    assert [(e["path"], e["line"], e["column"], e["code"]) for e in doc["errors"]] == [
        ("fields/field_297.csv", 3, "ccd", "out-of-range"), ("fields/field_297.csv", 5, "ccd", "out-of-range"),
        ("fields/notes.md", None, None, "not-a-field-file")]
    assert doc["files"][0]["stats"]["md5"]


def test_the_config_limits_apply_and_a_broken_config_is_a_usage_error(make_field, set_cell, capsys, tmp_path) -> None:
    make_field(297, 10, edit=_bad_ccd(set_cell, 2, 3, 4, 5, 6), folder=tmp_path / "fields")
    (tmp_path / "release-config.yaml").write_text(CONFIG)
    assert main(["validate", "--format", "json", "fields"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["errors"]) == 3 and doc["files"][0]["error_count"] == 5
    (tmp_path / "broken.yaml").write_text("catalog: [\n")
    assert main(["--config", "broken.yaml", "validate", "fields"]) == 2


def test_github_format_annotates_and_appends_the_job_summary(make_field, set_cell, capsys, tmp_path, monkeypatch):
    make_field(297, 10, edit=_bad_ccd(set_cell, 4), folder=tmp_path / "fields")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["validate", "--format", "github", "fields"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("::error file=fields/field_297.csv,line=4,col=")
    assert ",title=out-of-range::ccd: " in out[0]
    text = summary.read_text()
    assert text.startswith("earlier step\n## Field file validation")
    assert "| fields/field\\_297.csv | 10 | **invalid** | 1 |" in text


# -- pull_request mode: a real git repository ---------------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_a_pull_request_run_validates_the_files_it_adds_or_modifies(
    make_field, set_cell, capsys, tmp_path, monkeypatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    (repo / "release-config.yaml").write_text(CONFIG)
    make_field(296, 10, folder=repo / "fields")
    make_field(298, 10, folder=repo / "fields", edit=_bad_ccd(set_cell, 2))  # bad, but untouched by the PR
    make_field(299, 10, folder=repo / "fields")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    make_field(296, 12, folder=repo / "fields")  # modified, valid
    make_field(297, 10, folder=repo / "fields", edit=_bad_ccd(set_cell, 6))  # added, invalid
    (repo / "fields" / "field_299.csv").unlink()  # deleted: nothing to validate
    (repo / "docs.md").write_text("outside the fields folder")  # refused: a data PR carries only data
    make_field(300, 5, folder=repo / "fields" / "sub")  # added in a subfolder: the build would miss it
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "head")
    head = _git(repo, "rev-parse", "HEAD")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    assert main(["validate", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["path"], f["valid"]) for f in doc["files"]] == [
        ("fields/field_296.csv", True), ("fields/field_297.csv", False), ("docs.md", False),
        ("fields/sub/field_300.csv", False)]
    assert [(e["path"], e["line"], e["code"]) for e in doc["errors"]] == [
        ("fields/field_297.csv", 6, "out-of-range"), ("docs.md", None, "mixed-change"),
        ("fields/sub/field_300.csv", None, "not-a-field-file")]


def test_a_pull_request_that_only_deletes_field_files_validates_nothing_and_passes(
    make_field, capsys, tmp_path, monkeypatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    (repo / "release-config.yaml").write_text(CONFIG)
    make_field(296, 5, folder=repo / "fields")
    make_field(297, 5, folder=repo / "fields")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "fields" / "field_297.csv").unlink()
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "drop 297")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": base}, "head": {"sha": _git(repo, "rev-parse",
                                                                                              "HEAD")}}}))
    summary = tmp_path / "summary.md"
    for name, value in (("GITHUB_EVENT_NAME", "pull_request"), ("GITHUB_EVENT_PATH", str(event)),
                        ("GITHUB_WORKSPACE", str(repo)), ("GITHUB_STEP_SUMMARY", str(summary))):
        monkeypatch.setenv(name, value)
    assert main(["validate"]) == 0
    assert "no field files to validate" in capsys.readouterr().out
    assert main(["validate", "--format", "github"]) == 0
    assert capsys.readouterr().out == "0 file(s) checked, 0 invalid, 0 error(s), 0 warning(s)\n"
    assert summary.read_text() == "## Field file validation\n\nNo field files to validate.\n"
    assert main(["validate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == [] and doc["valid"] is True


def test_a_pull_request_run_needs_its_event_payload(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "absent.json"))
    assert main(["validate"]) == 2
    assert "pull_request event payload" in capsys.readouterr().err
