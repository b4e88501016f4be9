"""Fixtures for the GitHub tests: an adapter on the bundled server, and a look at the calls it made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.github.adapter import GitHubAdapter
from bot.local.github.sample import ACTIONS_TOKEN


@pytest.fixture
def adapter(github_server) -> GitHubAdapter:
    """The adapter as the Actions bot, on the seeded sample repository (retrying at once: the server is here)."""
    return GitHubAdapter(github_server.url, ACTIONS_TOKEN, f"{github_server.owner}/{github_server.repo}",
                         backoff=0.0)


@pytest.fixture
def calls(github_server) -> Callable[[str, str], list[tuple[str, str, int]]]:
    """``calls("GET", "/pulls/1")``: the requests the server saw, as (method, path, status)."""

    def matching(method: str, fragment: str) -> list[tuple[str, str, int]]:
        return [c for c in github_server.calls if c[0] == method and fragment in c[1]]

    return matching
