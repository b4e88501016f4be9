"""Every fault the server can inject, on every kind of call the release makes: the end state is the same."""

from __future__ import annotations

from typing import Any

import pytest
from zenodo_support import Release, Target, assert_converged, writes

from bot.zenodo.drafts import converge_draft, publish_draft

# (method, path regex, fault kind, fault options): each step's calls, each way they fail.
FAULTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("GET", r"/versions/latest$", "429", {"retry_after": 3}),
    ("GET", r"/versions/latest$", "502", {}),
    ("POST", r"/versions$", "after", {}),  # the draft was made, the answer lost: POST again is idempotent
    ("POST", r"/versions$", "drop", {}),
    ("GET", r"/draft/files$", "delay", {"seconds": 0.05}),
    ("POST", r"/actions/files-import$", "after", {}),  # imported already: importing again would fail
    ("POST", r"/actions/files-import$", "500", {}),
    ("DELETE", r"/draft/files/fields\.json$", "after", {}),
    ("DELETE", r"/draft/files/predictions_dnn_xgb_\d+_fields\.zip$", "drop", {}),
    ("POST", r"/draft/files$", "after", {}),  # declared already: declaring again answers 400
    ("PUT", r"/content$", "drop", {}),
    ("PUT", r"/content$", "after", {}),
    ("PUT", r"/content$", "504", {}),
    ("POST", r"/commit$", "after", {}),
    ("POST", r"/commit$", "502", {}),
    ("PUT", r"/draft$", "after", {}),
    ("PUT", r"/draft$", "500", {}),
    ("POST", r"/pids/doi$", "after", {}),  # reserved already: reserving again answers 400
    ("POST", r"/pids/doi$", "drop", {}),
    # "cut": done and answered, but the connection dies half-way through the answer's body.
    ("POST", r"/versions$", "cut", {}),
    ("POST", r"/actions/files-import$", "cut", {}),
    ("POST", r"/draft/files$", "cut", {}),
    ("POST", r"/commit$", "cut", {}),
    ("PUT", r"/draft$", "cut", {}),
    ("POST", r"/pids/doi$", "cut", {}),
    ("GET", r"/draft/files$", "cut", {}),
]


@pytest.mark.parametrize(("method", "path", "kind", "opts"), FAULTS,
                         ids=[f"{m}-{p.strip('/$')}-{k}" for m, p, k, _ in FAULTS])
def test_release_converges_through_a_fault(
    zenodo: Target, release: Release, method: str, path: str, kind: str, opts: dict[str, Any]
) -> None:
    fault = zenodo.server.faults.add(method, path, kind, **opts)
    client = zenodo.client()

    result = converge_draft(client, release.request())

    assert fault.hits == 1, "the fault was met"
    assert_converged(zenodo, release)
    assert result.calls <= 20 + 2 * len(release.new_files) + 4  # a retry costs a call or a check
    if kind == "429":
        assert opts["retry_after"] in zenodo.slept
    elif kind != "delay":
        assert zenodo.slept, "a failed attempt is retried after a pause"


@pytest.mark.parametrize("kind", ["after", "drop", "502", "cut"])
def test_publish_converges_through_a_fault(zenodo: Target, release: Release, kind: str) -> None:
    result = converge_draft(zenodo.client(), release.request())
    zenodo.server.faults.add("POST", r"/actions/publish$", kind)

    record = publish_draft(zenodo.client(), result.draft_id, expected_files=release.expected,
                           version=release.version, publication_date="2025-03-20")

    assert record.is_published and record.version == release.version
    versions = zenodo.server.published_versions(release.concept_record)
    assert [v["id"] for v in versions][-1] == result.draft_id and len(versions) == 2
    publishes = [p for m, p in writes(zenodo) if p.endswith("/actions/publish")]
    # "after" published on the first try: the check before retrying saw it, so there was no second POST.
    assert len(publishes) == (1 if kind in ("after", "cut") else 2)
