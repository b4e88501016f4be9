"""Version bump rules: from the last published version and the kinds of change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notes_factories import changeset, make_repo, pull

from bot.cli import main
from bot.config import VersioningSettings
from bot.errors import Finding, UsageError
from bot.notes.changeset import assemble_changeset
from bot.notes.version import next_version
from bot.versions import LEVELS, parse_version

DEFAULT = VersioningSettings()


def changes_of(kinds: dict[int, str], labels: tuple[str, ...] = ()):
    before = [f for f, k in kinds.items() if k != "added"]
    return assemble_changeset(
        {f: (k, None) for f, k in kinds.items()}, merge_commit="0" * 40, fields_before=before,
        pulls=(pull(1, "t", "alice", labels),),
    )


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ({296: "added"}, "v1.3.0"),
        ({296: "replaced"}, "v1.2.5"),
        ({296: "replaced", 297: "replaced"}, "v1.2.5"),
        ({296: "removed"}, "v1.3.0"),
        ({296: "added", 297: "replaced"}, "v1.3.0"),
    ],
)
def test_default_rules(kinds, expected) -> None:
    assert next_version("v1.2.4", changes_of(kinds), DEFAULT) == expected


def test_major_label_wins_and_is_configurable() -> None:
    assert next_version("v1.2.4", changes_of({296: "replaced"}, ("release:major",)), DEFAULT) == "v2.0.0"
    custom = VersioningSettings(major_label="breaking")
    assert next_version("v1.2.4", changes_of({296: "replaced"}, ("release:major",)), custom) == "v1.2.5"
    assert next_version("v1.2.4", changes_of({296: "replaced"}, ("breaking",)), custom) == "v2.0.0"


def test_removal_level_comes_from_config() -> None:
    removal = changes_of({296: "removed"})
    assert next_version("v1.2.4", removal, VersioningSettings(removed="major")) == "v2.0.0"
    assert next_version("v1.2.4", removal, VersioningSettings(removed="patch")) == "v1.2.5"


def test_first_release_is_v1() -> None:
    assert next_version(None, changes_of({296: "added"}), DEFAULT) == "v1.0.0"


@pytest.mark.parametrize(("text", "parts"), [("v1.2.0", (1, 2, 0)), ("1.2.0", (1, 2, 0)), ("v1.2", (1, 2, 0)),
                                              ("V10.0.3", (10, 0, 3)), (" v2.1.7 ", (2, 1, 7))])
def test_accepted_forms(text, parts) -> None:
    assert parse_version(text) == parts


@pytest.mark.parametrize("text", ["", "latest", "v1", "1.2.3.4", "v1.2.0-rc1", "version 1.2", "v-1.2.0"])
def test_unparsable_previous_version_says_what_to_fix(text) -> None:
    with pytest.raises(UsageError) as err:
        next_version(text or "x", changes_of({296: "added"}), DEFAULT)
    assert "vX.Y.Z" in str(err.value) and err.value.hint and "v1.2.0" in err.value.hint


def test_nothing_changed_is_a_finding() -> None:
    with pytest.raises(Finding, match="nothing to release"):
        next_version("v1.0.0", changes_of({}), DEFAULT)


def test_two_merges_before_one_approval_give_one_bump() -> None:
    # The draft after the second merge covers both: it is computed from the published version.
    first = changeset(added=(296,))
    both = changeset(added=(296, 297))
    assert next_version("v1.2.0", first, DEFAULT) == next_version("v1.2.0", both, DEFAULT) == "v1.3.0"


versions = st.tuples(*(st.integers(0, 10_000),) * 3)
kind_sets = st.dictionaries(st.integers(1, 881), st.sampled_from(["added", "replaced", "removed"]),
                            min_size=1)
levels = st.sampled_from(LEVELS)


@given(versions, kind_sets, st.booleans(), levels, levels, levels)
def test_bump_properties(prev, kinds, major, added, replaced, removed) -> None:
    settings = VersioningSettings(added=added, replaced=replaced, removed=removed)
    got = parse_version(next_version("v{}.{}.{}".format(*prev), changes_of(kinds, ("release:major",) * major),
                                     settings))
    assert got > prev  # always a step up
    wanted = "major" if major else max((getattr(settings, k) for k in kinds.values()), key=LEVELS.index)
    i = LEVELS.index(wanted)  # 0 patch, 1 minor, 2 major
    expected = [(prev[0] + 1, 0, 0), (prev[0], prev[1] + 1, 0), (prev[0], prev[1], prev[2] + 1)][2 - i]
    assert got == expected


def test_cli_rejects_a_bad_previous_version(tmp_path, capsys) -> None:
    repo = make_repo(tmp_path)
    code = main(["--config", str(repo / "release-config.yaml"), "notes", "--repo", str(repo),
                 "--base", "catalog-v1.0.0", "--previous-version", "one-point-two"])
    assert code == 2
    err = capsys.readouterr().err
    assert "one-point-two" in err and "vX.Y.Z" in err and "hint:" in err
