"""Questions to a real git repository: what changed, which release tag, who contributed."""

from __future__ import annotations

import subprocess

import pytest

from bot import gitrepo


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.name", "Ada")
    git(tmp_path, "config", "user.email", "12+ada@users.noreply.github.com")
    (tmp_path / "fields").mkdir()
    (tmp_path / "fields" / "field_1.csv").write_text("a\n")
    (tmp_path / "README.md").write_text("x\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def commit(repo, message, author="Ada <12+ada@users.noreply.github.com>"):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--author", author, "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_changed_files_under_the_fields_folder_only(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "fields" / "field_2.csv").write_text("b\n")
    (repo / "fields" / "field_1.csv").write_text("changed\n")
    (repo / "README.md").write_text("y\n")
    head = commit(repo, "two")
    changes = {c.path: c.status for c in gitrepo.changed_files(repo, base, head, "fields")}
    assert changes == {"fields/field_1.csv": "modified", "fields/field_2.csv": "added"}


def test_renames_and_deletions(repo):
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "mv", "fields/field_1.csv", "fields/field_3.csv")
    head = commit(repo, "rename")
    (change,) = gitrepo.changed_files(repo, base, head, "fields")
    assert (change.status, change.old_path, change.path) == ("renamed", "fields/field_1.csv", "fields/field_3.csv")
    (repo / "fields" / "field_3.csv").unlink()
    after = commit(repo, "delete")
    assert [(c.status, c.path) for c in gitrepo.changed_files(repo, head, after, "fields")] == [
        ("deleted", "fields/field_3.csv")]


def test_first_release_diffs_against_the_empty_tree(repo):
    changes = gitrepo.changed_files(repo, gitrepo.EMPTY_TREE, "HEAD", "fields")
    assert [(c.path, c.status) for c in changes] == [("fields/field_1.csv", "added")]


def test_latest_release_tag_is_the_highest_version(repo):
    assert gitrepo.latest_release_tag(repo, "catalog-") is None
    for tag in ("catalog-v1.2.0", "catalog-v1.10.0", "catalog-v1.9.3", "catalog-junk", "other-v9.0.0"):
        git(repo, "tag", tag)
    tag, sha, version = gitrepo.latest_release_tag(repo, "catalog-")
    assert (tag, version) == ("catalog-v1.10.0", "v1.10.0")
    assert sha == git(repo, "rev-parse", "HEAD")


def test_commit_authors_include_co_authors_and_honour_the_path(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("docs only\n")
    commit(repo, "docs", author="Doc Writer <doc@example.org>")
    (repo / "fields" / "field_2.csv").write_text("b\n")
    commit(repo, "field 2\n\nCo-authored-by: Bob B <34+bob@users.noreply.github.com>",
           author="Carol <56+carol@users.noreply.github.com>")
    people = gitrepo.commit_authors(repo, base, "HEAD", "fields")
    assert people == ["Carol <56+carol@users.noreply.github.com>", "Bob B <34+bob@users.noreply.github.com>"]
    assert "Doc Writer <doc@example.org>" in gitrepo.commit_authors(repo, base, "HEAD")


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-p", "a..b", "HEAD; rm -rf /", "", "a b"])
def test_refs_that_could_be_options_or_ranges_are_refused(repo, ref):
    with pytest.raises(gitrepo.GitError):
        gitrepo.resolve(repo, ref)


def test_export_file_streams_a_blob_and_reports_missing_ones(repo, tmp_path):
    out = gitrepo.export_file(repo, "HEAD", "fields/field_1.csv", tmp_path / "out" / "field_1.csv")
    assert out.read_text() == "a\n"
    with pytest.raises(gitrepo.GitError):
        gitrepo.export_file(repo, "HEAD", "fields/nope.csv", tmp_path / "out" / "nope.csv")
    assert not (tmp_path / "out" / "nope.csv").exists()
