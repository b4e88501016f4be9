"""The change set: which fields a range adds, replaces or removes, and who is credited."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from notes_factories import git, make_repo, pull, sample_stats

from bot.gitrepo import ChangedPath
from bot.notes.changeset import (
    assemble_changeset,
    build_changeset,
    classify_paths,
    credit,
    normalise_class_counts,
)
from bot.scope import CLASSES


def test_git_statuses_map_to_field_changes() -> None:
    changed = [
        ChangedPath("fields/field_296.csv", "modified"),
        ChangedPath("fields/field_423.csv", "added"),
        ChangedPath("fields/field_297.csv", "deleted"),
        ChangedPath("fields/field_298.csv.gz", "added"),  # same field, new encoding: a replacement
        ChangedPath("fields/field_298.csv", "deleted"),
        ChangedPath("fields/field_500.csv", "renamed", "fields/field_499.csv"),  # 499 goes, 500 comes
        ChangedPath("fields/notes.txt", "added"),
        ChangedPath("fields/old/field_1.csv", "added"),  # not directly in the fields folder
        ChangedPath("fields/field_0296.csv", "added"),  # not a field file name
    ]
    got = classify_paths(changed, "fields", [296, 297, 298, 499])
    assert got == {
        296: ("replaced", "fields/field_296.csv"),
        297: ("removed", "fields/field_297.csv"),
        298: ("replaced", "fields/field_298.csv.gz"),
        423: ("added", "fields/field_423.csv"),
        499: ("removed", "fields/field_499.csv"),
        500: ("added", "fields/field_500.csv"),
    }


def test_deleting_a_field_that_was_never_released_changes_nothing() -> None:
    assert classify_paths([ChangedPath("fields/field_5.csv", "deleted")], "fields", [6]) == {}


field_numbers = st.integers(1, 40)


@given(st.sets(field_numbers), st.dictionaries(field_numbers, st.sampled_from(["write", "delete", "gz"])))
def test_fields_after_follow_the_files(before, ops) -> None:
    changed = []
    for f, op in ops.items():
        if op == "write":
            changed.append(ChangedPath(f"fields/field_{f}.csv", "modified" if f in before else "added"))
        elif op == "delete" and f in before:
            changed.append(ChangedPath(f"fields/field_{f}.csv", "deleted"))
        elif op == "gz":
            changed.append(ChangedPath(f"fields/field_{f}.csv.gz", "renamed", f"fields/field_{f}.csv"))
    kinds = classify_paths(changed, "fields/", before)
    cs = assemble_changeset(kinds, merge_commit="a" * 40, fields_before=before)
    written = {f for f, op in ops.items() if op in ("write", "gz")}
    deleted = {f for f, op in ops.items() if op == "delete"}
    assert set(cs.fields_after) == (before | written) - deleted
    assert {c.field for c in cs.of_kind("added")} == written - before
    assert {c.field for c in cs.of_kind("replaced")} == written & before
    assert {c.field for c in cs.of_kind("removed")} == deleted & before


def test_light_curve_totals_and_stats() -> None:
    s296, s423 = sample_stats(296, 30), sample_stats(423, 20)
    cs = assemble_changeset(
        {296: ("replaced", "fields/field_296.csv"), 423: ("added", "fields/field_423.csv"),
         297: ("removed", "fields/field_297.csv")},
        merge_commit="b" * 40, fields_before=[296, 297, 298], stats={296: s296, 423: s423},
        rows_before={296: 100, 297: 50, 298: 7},
    )
    assert cs.light_curves_before == 157
    assert cs.light_curves_after == 157 - 100 - 50 + s296.rows + s423.rows
    by_field = {c.field: c for c in cs.changes}
    assert by_field[296].rows_before == 100 and by_field[296].rows == s296.rows
    assert by_field[296].md5 == s296.md5 and by_field[423].class_counts == s423.class_counts
    assert by_field[297].rows is None and by_field[297].rows_before == 50


def test_unknown_rows_make_totals_unknown_not_wrong() -> None:
    cs = assemble_changeset({423: ("added", None)}, merge_commit="c" * 40, fields_before=[296],
                            rows_before={296: 10})
    assert cs.light_curves_before == 10 and cs.light_curves_after is None
    cs = assemble_changeset({423: ("added", None)}, merge_commit="c" * 40, fields_before=[296])
    assert cs.light_curves_before is None and cs.light_curves_after is None


def test_class_counts_accept_both_shapes() -> None:
    flat = {"rrab_dnn": 4, "rrab_xgb": 2, "yso_xgb": 1, "not_a_class_dnn": 9}
    nested = normalise_class_counts(flat)
    assert nested == normalise_class_counts({"dnn": {"rrab": 4}, "xgb": {"rrab": 2, "yso": 1}})
    assert set(nested["dnn"]) == set(CLASSES) and nested["dnn"]["yso"] == 0
    assert normalise_class_counts(None) is None


def test_credit_by_login_never_by_email() -> None:
    pulls = (pull(1, "a", "bfhealy"), pull(2, "b", "dependabot[bot]"), pull(3, "c", "BFHealy"))
    logins, names = credit(
        pulls,
        ["Brian Healy", "Bob Jones <2002+bobj@users.noreply.github.com>", "Jane <jane@example.org>",
         "github-actions[bot]", "renovate[bot] <bot@example.org>", "bfhealy"],
        ignore=["release-bot"],
    )
    assert logins == ("bfhealy", "bobj")
    assert names == ("Brian Healy", "Jane")
    assert not any("@" in x for x in logins + names)


def test_first_bot_release_uses_the_previous_catalog(tmp_path) -> None:
    # Field 423 arrives in git but was already in the Zenodo catalog: it is a replacement.
    repo = make_repo(tmp_path)
    cs = build_changeset(str(repo), "catalog-v1.0.0", "HEAD", "fields", fields_before=(296, 297, 423, 700),
                         rows_before={296: 40, 297: 30, 423: 11, 700: 5}, previous_version="v3.1.0",
                         pulls=(pull(9, "Update", "bfhealy", ("catalog",)),),
                         repo_url="https://github.com/scope-test/catalog")
    assert [(c.field, c.kind) for c in cs.changes] == [(296, "replaced"), (297, "removed"), (423, "replaced")]
    assert cs.fields_before == (296, 297, 423, 700) and cs.fields_after == (296, 423, 700)
    assert cs.previous_version == "v3.1.0" and cs.light_curves_before == 86
    assert cs.merge_commit == git(repo, "rev-parse", "HEAD").strip()
    assert cs.merge_commit_url.endswith("/commit/" + cs.merge_commit)
    assert cs.labels == ("catalog",) and cs.contributors == ("bfhealy", "alice-s", "bobj")


def test_without_a_previous_catalog_git_at_base_decides(tmp_path) -> None:
    repo = make_repo(tmp_path)
    cs = build_changeset(str(repo), "catalog-v1.0.0", "HEAD", "fields",
                         stats=lambda paths: {f: sample_stats(f, 1) for f in paths})
    assert [(c.field, c.kind, c.path) for c in cs.changes] == [
        (296, "replaced", "fields/field_296.csv"), (297, "removed", "fields/field_297.csv"),
        (423, "added", "fields/field_423.csv")]
    assert cs.fields_before == (296, 297) and cs.fields_after == (296, 423)
    assert cs.changes[0].rows == 1 and cs.changes[1].rows is None  # stats only for new files
