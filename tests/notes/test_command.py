"""``release-bot notes`` end to end on a real temporary git repository."""

from __future__ import annotations

import json

import pytest
from notes_factories import git, make_repo

from bot.cli import main
from bot.notes.digest import is_unedited_bot_notes


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """One repository for the module: the tests only read it."""
    return make_repo(tmp_path_factory.mktemp("notes-cli"))


def run_notes(repo, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["--config", str(repo / "release-config.yaml"), "notes", "--repo", str(repo),
                 "--base", "catalog-v1.0.0", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_notes_of_a_range(repo, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773446400")  # 2026-03-14
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "scope-test/catalog")
    code, out, err = run_notes(repo, capsys, "--format", "json")
    assert code == 0, err
    notes = json.loads(out)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert notes["version"] == "v1.1.0" and notes["previous_version"] == "v1.0.0"  # from the tag
    assert notes["date"] == "2026-03-14"
    assert [f["field"] for f in notes["added"]] == [423]
    assert [f["field"] for f in notes["replaced"]] == [296]
    assert [f["field"] for f in notes["removed"]] == [297]
    assert (notes["fields_before"], notes["fields_after"]) == (2, 2)
    assert notes["merge_commit"] == head
    assert notes["merge_commit_url"] == f"https://github.com/scope-test/catalog/commit/{head}"
    assert notes["files"][0]["key"] == "predictions_dnn_xgb_2_fields.zip"
    # Commit authors and co-authors are credited by login (from their noreply address), never by address.
    assert notes["contributors"] == ["alice-s", "bobj"] and notes["other_authors"] == []
    assert "noreply" not in out and "Alice Smith" not in out
    rows = {f["field"]: f["rows"] for f in notes["added"] + notes["replaced"]}
    assert rows == {423: 25, 296: 45}  # measured by the validation engine on the files at HEAD


def test_markdown_and_html_notes(repo, capsys) -> None:
    code, md, err = run_notes(repo, capsys, "--previous-version", "v2.3.4")
    assert code == 0, err
    assert md.startswith("### Catalog v2.4.0 (")
    assert "field 423" in md and "**Removed** (1): field 297" in md and "since v2.3.4" in md
    code, page, err = run_notes(repo, capsys, "--format", "html")
    assert code == 0, err
    assert page.startswith("<h3>Catalog v1.1.0 (") and is_unedited_bot_notes(page)


def test_config_is_found_at_the_repository_root(repo, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no release-config.yaml here
    code = main(["notes", "--repo", str(repo), "--base", "catalog-v1.0.0", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["version"] == "v1.1.0"


def test_an_empty_range_is_a_finding(repo, capsys) -> None:
    code, out, err = run_notes(repo, capsys, "--head", "catalog-v1.0.0")
    assert code == 1 and out == ""
    assert "nothing to release" in err and "hint:" in err


def test_an_unknown_base_is_a_usage_error(repo, capsys) -> None:
    code = main(["--config", str(repo / "release-config.yaml"), "notes", "--repo", str(repo),
                 "--base", "catalog-v9.9.9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--base catalog-v9.9.9: not a commit in" in err and "tag --list 'catalog-*'" in err
