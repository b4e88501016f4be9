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
    with pytest.raises(gitrepo.GitError, match="not a git revision the bot accepts"):  # before git runs
        gitrepo.resolve(repo, ref)
    with pytest.raises(gitrepo.GitError, match="not a git revision the bot accepts"):
        gitrepo.changed_files(repo, ref, "HEAD", "fields")


def test_merges_ancestry_and_first_parent_history(repo):
    root = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", "pr")
    (repo / "fields" / "field_2.csv").write_text("b\n")
    side = commit(repo, "add field 2")
    git(repo, "switch", "-q", "main")
    (repo / "README.md").write_text("docs\n")
    docs = commit(repo, "docs")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr")
    merge = git(repo, "rev-parse", "HEAD")
    assert gitrepo.is_merge(repo, merge) and not gitrepo.is_merge(repo, side) and not gitrepo.is_merge(repo, root)
    assert gitrepo.is_ancestor(repo, root, merge) and gitrepo.is_ancestor(repo, side, merge)
    assert not gitrepo.is_ancestor(repo, merge, root) and not gitrepo.is_ancestor(repo, side, docs)
    # main's own commits only (not the pull request's), newest first; a path keeps those touching it
    assert gitrepo.first_parent_commits(repo, root, "HEAD") == [merge, docs]
    assert gitrepo.first_parent_commits(repo, root, "HEAD", "fields") == [merge]
    assert gitrepo.first_parent_commits(repo, None, "HEAD", limit=2) == [merge, docs]
    assert gitrepo.first_parent_commits(repo, None, "HEAD") == [merge, docs, root]


def test_show_file_and_working_tree_status(repo):
    assert gitrepo.show_file(repo, "HEAD", "README.md") == b"x\n"
    with pytest.raises(gitrepo.GitError, match="does not exist at HEAD"):
        gitrepo.show_file(repo, "HEAD", "nope.md")
    assert gitrepo.status_porcelain(repo, ["fields"]) == ""
    (repo / "fields" / "field_1.csv").write_text("edited\n")
    (repo / "README.md").write_text("edited too\n")
    assert gitrepo.status_porcelain(repo, ["fields"]).split() == ["M", "fields/field_1.csv"]


def test_a_failing_git_command_names_itself_and_hints_at_history(repo):
    with pytest.raises(gitrepo.GitError) as err:
        gitrepo.changed_files(repo, "0" * 40, "HEAD", "fields")
    assert "git diff failed" in str(err.value) and "fetch-depth: 0" in (err.value.hint or "")


def test_export_blob_streams_the_committed_bytes_whatever_gitattributes_say(repo, tmp_path):
    (repo / ".gitattributes").write_text("*.csv text eol=crlf ident\n")
    (repo / "fields" / "field_2.csv").write_bytes(b"$Id$\nb\n")
    commit(repo, "attributes")
    entry = gitrepo.tree_entry(repo, "HEAD", "fields/field_2.csv")
    assert entry is not None and entry.kind == "blob" and entry.mode == "100644" and entry.size == 7
    out = gitrepo.export_blob(repo, entry.oid, tmp_path / "out" / "field_2.csv")
    assert out.read_bytes() == b"$Id$\nb\n"  # no CRLF, no expanded $Id$
    assert gitrepo.read_blob(repo, entry.oid, 4) == b"$Id$"
    assert gitrepo.tree_entry(repo, "HEAD", "fields/nope.csv") is None
    assert gitrepo.tree_entry(repo, "HEAD", "fields") is not None  # a tree, named as such
    with pytest.raises(gitrepo.GitError):
        gitrepo.export_blob(repo, "0" * 40, tmp_path / "out" / "nope.csv")
    assert not (tmp_path / "out" / "nope.csv").exists()
