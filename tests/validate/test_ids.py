"""The bounded-memory _id uniqueness check agrees with a plain Python set, in memory or spilled."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.validate.ids import NO_ID, IdRegistry


def _brute(ids: list[int]) -> list[tuple[int, int, int]]:
    first: dict[int, int] = {}
    out = []
    for row, value in enumerate(ids):
        if value == NO_ID:
            continue
        if value in first:
            out.append((row, value, first[value]))
        else:
            first[value] = row
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.integers(-3, 40), st.just(2**63 - 1), st.just(int(NO_ID))), max_size=30),
             max_size=6),
    st.integers(1, 60),
    st.integers(1, 10),
)
def test_repeats_match_a_set(batches: list[list[int]], memory_rows: int, limit: int) -> None:
    registry = IdRegistry(memory_rows=memory_rows, partitions=5)
    for batch in batches:
        registry.add(np.array(batch, dtype=np.int64))
    found, count = registry.duplicates(limit)
    want = _brute([v for b in batches for v in b])
    assert count == len(want)
    assert found == want[:limit]


def test_past_its_memory_limit_the_registry_spills_to_partition_files_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    registry = IdRegistry(memory_rows=100, partitions=8)
    registry.add(np.arange(10**13, 10**13 + 100, dtype=np.int64))
    assert list(tmp_path.iterdir()) == []  # at the limit: still in memory
    registry.add(np.array([10**13 + 5, NO_ID, 7], dtype=np.int64))
    (spill,) = tmp_path.glob("release-bot-ids-*")
    parts = sorted(spill.glob("*.bin"))
    sizes = [p.stat().st_size for p in parts]
    assert sum(sizes) == 102 * 16  # (id, row) pairs of every valid id, NO_ID left out
    assert len(parts) > 1 and max(sizes) < sum(sizes) // 2  # spread over partitions: memory stays bounded
    registry.add(np.array([7], dtype=np.int64))  # after spilling, rows go straight to disk
    assert registry.duplicates(10) == ([(100, 10**13 + 5, 5), (103, 7, 102)], 2)
    assert list(tmp_path.iterdir()) == []  # the spill is removed once read
