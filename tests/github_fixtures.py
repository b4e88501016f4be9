"""Pytest fixtures for the bundled GitHub-compatible server (imported by tests/conftest.py).

``github_server`` is a started server seeded with the sample repository of bot/local/github/sample.py:
tokens for the Actions bot (write and read-only) and for curators and contributors, a v1.0.0 tag and
release commit on main, and alice's open pull request #1. ``github_server.sample`` names what is there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github
from github.Repository import Repository

from bot.local.github.sample import ACTIONS_TOKEN, seed_sample
from bot.local.github_server import GitHubServer

__all__ = ["github_bare_server", "github_repo", "github_server"]


@pytest.fixture
def github_server() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        seed_sample(server)
        yield server


@pytest.fixture
def github_bare_server() -> Iterator[GitHubServer]:
    """A started server with an empty repository and no tokens: declare everything yourself."""
    with GitHubServer() as server:
        yield server


@pytest.fixture
def github_repo(github_server: GitHubServer) -> Repository:
    """The sample repository through PyGithub, as the Actions bot (write token)."""
    # PyGithub spaces requests 0.25 s apart (writes 1 s) by default: needless against a local server.
    gh = Github(base_url=github_server.url, auth=Auth.Token(ACTIONS_TOKEN), retry=None,
                seconds_between_requests=0, seconds_between_writes=0)
    return gh.get_repo(f"{github_server.owner}/{github_server.repo}")
