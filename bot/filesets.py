"""Comparing two sets of files by name and md5: the one diff the draft, publish and approval checks share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FileSetDiff:
    missing: list[str]  # expected but absent
    unexpected: list[str]  # present but not expected
    changed: list[str]  # present with another md5

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.changed)


def normal_md5(value: str) -> str:
    """An md5 as hex, whether or not it carries InvenioRDM's ``md5:`` prefix."""
    value = value.strip().lower()
    return value.removeprefix("md5:")


def diff_files(expected: Mapping[str, str], present: Mapping[str, str]) -> FileSetDiff:
    """key -> md5 maps compared (``md5:`` prefixes ignored); empty (falsy) when they agree."""
    want = {k: normal_md5(v) for k, v in expected.items()}
    have = {k: normal_md5(v) for k, v in present.items()}
    return FileSetDiff(
        missing=sorted(want.keys() - have.keys()),
        unexpected=sorted(have.keys() - want.keys()),
        changed=sorted(k for k in want.keys() & have.keys() if want[k] != have[k]),
    )
