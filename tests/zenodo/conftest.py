"""Fixtures for the Zenodo client tests: the bundled server (or Zenodo's sandbox) and release inputs.

``zenodo`` is the local server. With ``ZENODO_SANDBOX_TOKEN`` and ``ZENODO_SANDBOX_RECORD`` set, the tests
that take ``target`` also run against https://sandbox.zenodo.org/api; otherwise that variant is skipped
with the reason shown.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from zenodo_support import (
    SANDBOX_URL,
    Release,
    Target,
    local_server,
    new_catalog,
    seed_release,
)

from bot.zenodo.drafts import latest_published


@pytest.fixture
def zenodo(tmp_path: Path) -> Iterator[Target]:
    """The bundled Zenodo-compatible server on a free loopback port."""
    with local_server(tmp_path / "zenodo") as target:
        yield target


@pytest.fixture
def release(zenodo: Target) -> Release:
    return seed_release(zenodo)


@pytest.fixture(params=["local", "sandbox"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Target, Release]]:
    """The same release against the local server, or Zenodo's sandbox when credentials are given."""
    if request.param == "local":
        with local_server(tmp_path / "zenodo") as local:
            yield local, seed_release(local)
        return
    token = os.environ.get("ZENODO_SANDBOX_TOKEN")
    record = os.environ.get("ZENODO_SANDBOX_RECORD")
    if not token or not record:
        pytest.skip("sandbox run needs ZENODO_SANDBOX_TOKEN and ZENODO_SANDBOX_RECORD (a published record)")
    sandbox = Target(SANDBOX_URL, token, None)
    latest = latest_published(sandbox.client(), record)
    previous = {k: e.md5 or "" for k, e in latest.files.items()}
    # A version the record has not used yet: each sandbox run makes a new one.
    version = f"v{dt.datetime.now(dt.UTC):%Y.%m%d.%H%M%S}"
    yield sandbox, Release(record, previous, new_catalog((296, 297, 423), seed=os.getpid()),
                           version=version, publication_date=dt.date.today().isoformat())
