"""Helpers of the end-to-end tests: scripted PRs, merges and what the bot said."""

from __future__ import annotations

import gzip
import re

import pytest

from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld

CURATOR, OUTSIDER, CONTRIBUTOR = "carol", "mallory", "ada-contributor"


def one_field(field: int, rows: int = 40) -> dict[str, bytes]:
    return {f"fields/field_{field}.csv": field_csv_bytes(field, rows, seed=5)}


def two_fields() -> dict[str, bytes]:
    return {
        "fields/field_487.csv": field_csv_bytes(487, 80, seed=3),
        "fields/field_488.csv.gz": gzip.compress(field_csv_bytes(488, 60, seed=4), mtime=0),
    }


def merged_release(world: LocalWorld, number: int = 1, files: dict[str, bytes] | None = None,
                   author: str = CONTRIBUTOR, **run_options):
    """Open a PR with ``files``, merge it and run the push workflow; returns (push run, merge sha)."""
    world.open_pull(number, f"Add fields (PR {number})", author, files or two_fields())
    before = world.git("rev-parse", "main")
    after = world.merge(number)
    return world.push(before, after, **run_options), after


def draft_id_of(comment_body: str) -> str:
    m = re.search(r"^/release publish (\d+)$", comment_body, re.MULTILINE)
    assert m, comment_body
    return m.group(1)


def bot_comments(world: LocalWorld, number: int) -> list[dict]:
    return [c for c in world.github.comments(number) if c["user"]["login"] == "github-actions[bot]"]


# How the bundled Zenodo serves file content (the e2e ``world`` fixture's parameter). The suite runs as
# zenodo.org does (API content ignores Range, the record page's link honours it); the tests marked
# ``zenodo_modes`` run again on sites without the record page, whose API honours Range (``--api-range``)
# or ignores it (the previous zip is then read front to back).
ZENODO_MODES: dict[str, dict[str, bool]] = {
    "zenodo.org": {},
    "api-range": {"api_range": True, "record_pages": False},
    "api-no-range": {"record_pages": False},
}
zenodo_modes = pytest.mark.parametrize("world", list(ZENODO_MODES), indirect=True)


def bad_field(field: int, rows: int = 60) -> bytes:
    """A field file whose every row has a probability above 1 (column 13): one error per row."""
    lines = field_csv_bytes(field, rows, seed=field).decode().splitlines(keepends=True)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[12] = "1.5"
        out.append(",".join(cells))
    return "".join(out).encode()
