"""Fixtures for the bundled Zenodo-compatible server (wired into tests/conftest.py).

``zenodo_server``: a started ZenodoServer (state under tmp_path, a generous rate limit so tests are never
throttled unless they ask to be), stopped afterwards. ``zenodo_seeded``: the same with a published v1.0.0
of a small sample catalog. ``zenodo_session``: a requests session sending the token and the InvenioRDM
Accept header, the way the bot's client should.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.local.zenodo.demo import demo_files, demo_metadata
from bot.local.zenodo_server import ZenodoServer

__all__ = ["INVENIORDM_ACCEPT", "ZENODO_TEST_TOKEN", "SeededZenodo", "zenodo_seeded", "zenodo_server",
           "zenodo_session", "zenodo_token"]

ZENODO_TEST_TOKEN = "test-zenodo-token"
INVENIORDM_ACCEPT = "application/vnd.inveniordm.v1+json"


@dataclass(frozen=True)
class SeededZenodo:
    server: ZenodoServer
    url: str
    token: str
    concept_id: str
    record_id: str  # the published v1.0.0


@pytest.fixture
def zenodo_server(tmp_path: Path) -> Iterator[ZenodoServer]:
    with ZenodoServer(data_dir=tmp_path / "zenodo-state", tokens={ZENODO_TEST_TOKEN},
                      rate_limit_per_min=100_000) as server:
        yield server


@pytest.fixture
def zenodo_token() -> str:
    return ZENODO_TEST_TOKEN


@pytest.fixture
def zenodo_seeded(zenodo_server: ZenodoServer) -> SeededZenodo:
    concept_id, record_id = zenodo_server.seed_concept(demo_files(), demo_metadata())
    return SeededZenodo(zenodo_server, zenodo_server.url, ZENODO_TEST_TOKEN, concept_id, record_id)


@pytest.fixture
def zenodo_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        # Records answer in the InvenioRDM shape; file routes offer only application/json (else 406).
        session.headers.update({"Authorization": f"Bearer {ZENODO_TEST_TOKEN}",
                                "Accept": f"{INVENIORDM_ACCEPT}, application/json;q=0.9",
                                "User-Agent": "release-bot-tests"})
        yield session
