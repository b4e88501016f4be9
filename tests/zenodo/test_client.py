"""The HTTP client on its own: errors as values, the retry policy, the rate budget, the token kept secret."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zenodo_support import SEED_METADATA, Release, Target, local_server, upload_of

from bot.zenodo.client import ZenodoClient, ZenodoError
from bot.zenodo.drafts import converge_draft, latest_published
from bot.zenodo.retry import RateBudget, RetryPolicy

SECRET = "s3cret-token-value"


def test_wrong_token_is_permission_denied_and_never_shown(
    zenodo: Target, release: Release, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = ZenodoClient(zenodo.base_url, SECRET, sleep=zenodo.slept.append)
    latest = client.latest_record(release.concept_record)  # public reads need no token
    with pytest.raises(ZenodoError) as info:
        client.new_version(latest.id)

    err = info.value
    assert err.status == 403 and "Permission denied" in err.message
    assert "deposit:write" in (err.hint or "")
    assert client.calls_by_step["other"] == client.calls == 3  # redirect + record, then one POST: no retry
    for text in (str(err), repr(err), repr(client), caplog.text, str(err.__cause__), str(err.__context__)):
        assert SECRET not in text


def test_dropped_connections_give_up_without_showing_the_token(tmp_path: Path) -> None:
    with local_server(tmp_path / "z") as zenodo:
        url = zenodo.base_url
    client = ZenodoClient(url, SECRET, sleep=lambda s: None)  # the server is gone: nothing listens
    with pytest.raises(ZenodoError, match="connection failed") as info:
        client.get_record("123")
    assert client.calls == client.policy.max_attempts
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_not_found_is_not_retried(zenodo: Target) -> None:
    client = zenodo.client()
    with pytest.raises(ZenodoError) as info:
        client.get_draft("999999")
    assert info.value.status == 404 and "999999" in str(info.value)
    assert client.calls == 1 and zenodo.slept == []


def test_proxy_html_errors_are_summarised_after_bounded_retries(zenodo: Target, release: Release) -> None:
    zenodo.server.faults.add("GET", r"/versions/latest$", "502", times=100)
    client = zenodo.client(policy=RetryPolicy(max_attempts=4, rng=random.Random(1)))
    with pytest.raises(ZenodoError) as info:
        client.latest_record(release.concept_record)

    err = info.value
    assert err.status == 502 and err.html_summary == "502 Bad Gateway"
    assert "<" not in str(err)  # the proxy's HTML page is summarised, not quoted
    assert client.calls == 4 and len(zenodo.slept) == 3
    assert all(0 < s <= client.policy.max_delay for s in zenodo.slept)


def test_rejected_vocabulary_is_a_400_with_the_field(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    draft = client.new_version(latest_published(client, release.concept_record).id)
    body = {k: v for k, v in draft.raw.items() if k not in ("links", "ui")}
    notes = {"description": "<p>x</p>", "type": {"id": "release-notes"}}  # not in Zenodo's vocabulary
    body["metadata"]["additional_descriptions"] = [notes]
    before = client.calls
    with pytest.raises(ZenodoError) as info:
        client.update_draft(draft.id, body)
    assert info.value.status == 400 and "Not a valid value" in str(info.value)
    assert info.value.fields == ["metadata.additional_descriptions.0.type"]
    assert client.calls == before + 1


def test_a_put_that_drops_fields_fails_naming_them(zenodo: Target, release: Release) -> None:
    """Zenodo saves the draft without the invalid fields and answers 200: the release must stop."""
    with pytest.raises(ZenodoError) as info:
        converge_draft(zenodo.client(), release.request(publication_date="2025-02-30"))
    assert info.value.status == 200
    assert info.value.fields == ["metadata.publication_date"]
    assert "metadata.publication_date" in str(info.value)


def test_429_waits_what_the_server_says(zenodo: Target, release: Release) -> None:
    zenodo.server.faults.add("GET", r"/versions/latest$", "429", times=2, retry_after=7)
    client = zenodo.client()
    record = client.latest_record(release.concept_record)
    assert record.version == "v1.0.0"
    assert zenodo.slept == [7, 7]


def test_rate_budget_pauses_before_running_out(tmp_path: Path) -> None:
    with local_server(tmp_path / "z", rate_limit_per_min=5) as zenodo:
        _concept, record = zenodo.server.seed_concept({"fields.json": b"[296]"}, SEED_METADATA)
        client = zenodo.client()
        for _ in range(4):
            client.get_record(record)
        statuses = [status for _m, _p, status in zenodo.server.calls]
    assert 429 not in statuses
    # Remaining fell to the reserve: the client slept until the window's reset instead of being refused.
    assert len(zenodo.slept) == 1 and 0 < zenodo.slept[0] <= 61  # Reset is rounded up to a second


def test_overwriting_a_committed_file_is_reported_and_repaired(zenodo: Target, release: Release) -> None:
    """Zenodo's trap: content sent to a committed key answers 200 with errors and the file vanishes."""
    client = zenodo.client()
    result = converge_draft(client, release.request())
    key, data = next(iter(release.new_files.items()))
    upload = upload_of(key, data)
    with pytest.raises(ZenodoError, match="File upload transfer failed"):
        client.upload_content(result.draft_id, key, upload.open, upload.size)
    assert key not in client.draft_files(result.draft_id)

    again = converge_draft(client, release.request())
    assert again.uploaded == [key]
    assert {k: e.md5 for k, e in client.draft_files(result.draft_id).items()} == release.expected


def test_streamed_upload_reports_progress_and_uses_content_length(zenodo: Target, release: Release) -> None:
    client = zenodo.client()
    draft = client.new_version(latest_published(client, release.concept_record).id)
    data = bytes(range(256)) * 1000
    upload = upload_of("big.bin", data)
    seen: list[int] = []
    client.start_uploads(draft.id, ["big.bin"])
    client.upload_content(draft.id, "big.bin", upload.open, upload.size, on_read=seen.append)
    entry = client.commit_file(draft.id, "big.bin")
    assert sum(seen) == len(data) and len(seen) > 1  # read in pieces, never as one blob
    assert entry.md5 == upload.md5 and entry.size == len(data)
    assert zenodo.server.file_bytes(draft.id, "big.bin") == data


def test_sandbox_or_local_release_converges_and_reruns(target: tuple[Target, Release]) -> None:
    zenodo, release = target
    client = zenodo.client()
    first = converge_draft(client, release.request())
    again = converge_draft(zenodo.client(), release.request())
    assert again.draft_id == first.draft_id and again.doi == first.doi and first.doi
    assert again.uploaded == []
    assert {k: e.md5 for k, e in again.files.items()} == release.expected
    assert again.version == release.version


# ---- the policy's rules, over many cases ---------------------------------------------------------


@given(attempt=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_backoff_is_jittered_and_bounded(attempt: int, seed: int) -> None:
    policy = RetryPolicy(rng=random.Random(seed))
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.backoff(attempt) <= ceiling


@given(seconds=st.integers(0, 10_000), now=st.floats(1.6e9, 2e9), as_epoch=st.booleans())
def test_rate_wait_reads_delta_or_epoch_reset(seconds: int, now: float, as_epoch: bool) -> None:
    policy = RetryPolicy()
    value = now + seconds if as_epoch else seconds
    wait = policy.rate_wait({"X-RateLimit-Reset": str(int(value))}, now)
    assert wait == pytest.approx(seconds, abs=1.0)  # in full: the client decides whether it can afford it
    # Retry-After wins over the reset time.
    assert policy.rate_wait({"Retry-After": "2", "X-RateLimit-Reset": str(int(value))}, now) == 2


@given(remaining=st.integers(0, 200), reset_in=st.integers(1, 60))
def test_budget_pauses_only_near_the_end(remaining: int, reset_in: int) -> None:
    budget = RateBudget(now=lambda: 1_700_000_000.0)
    reset = str(1_700_000_000 + reset_in)
    budget.observe({"X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": reset})
    pause = budget.pause()
    assert pause == (reset_in if remaining <= budget.reserve else 0)
    assert budget.pause() == 0  # one pause per observed window


# ---- found in review: dates, odd tokens, answers cut off -----------------------------------------


def test_429_retry_after_as_an_http_date_is_honoured(zenodo: Target, release: Release) -> None:
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    zenodo.server.faults.add("GET", r"/versions/latest$", "429",
                             retry_after=email.utils.format_datetime(when, usegmt=True))
    client = zenodo.client(now=lambda: when.timestamp() - 42)
    assert client.latest_record(release.concept_record).version == "v1.0.0"
    assert zenodo.slept == [pytest.approx(42)]


def test_retry_after_dates_in_the_past_or_unreadable() -> None:
    policy = RetryPolicy()
    now = dt.datetime(2030, 1, 2, tzinfo=dt.UTC).timestamp()
    assert policy.rate_wait({"Retry-After": "Tue, 01 Jan 2030 00:00:00 GMT"}, now) == 0
    assert policy.rate_wait({"Retry-After": "Wed, 02 Jan 2030 00:00:09 GMT"}, now) == 9
    assert policy.rate_wait({"Retry-After": "soon"}, now) == 1.0


def test_a_token_with_a_trailing_newline_works_and_a_broken_one_is_never_shown(
    zenodo: Target, release: Release
) -> None:
    # Secrets pasted from a file often end in a newline; requests would refuse the header and quote it.
    client = ZenodoClient(zenodo.base_url, zenodo.token + "\n", sleep=zenodo.slept.append)
    latest = client.latest_record(release.concept_record)
    assert client.new_version(latest.id).id
    for bad in (f"{SECRET}\nmore", f"{SECRET} x", f"\x00{SECRET}"):
        with pytest.raises(ZenodoError) as info:
            ZenodoClient(zenodo.base_url, bad)
        assert SECRET not in str(info.value) and SECRET not in repr(info.value)
        assert "ZENODO_TOKEN" in str(info.value) or "token" in str(info.value)


def test_an_answer_cut_off_mid_body_is_a_lost_answer(zenodo: Target, release: Release) -> None:
    """The server did the work, then the connection died half-way through the answer's body."""
    client = zenodo.client()
    latest = client.latest_record(release.concept_record)
    zenodo.server.faults.add("POST", r"/versions$", "cut")
    draft = client.new_version(latest.id)
    assert draft.id and zenodo.slept  # retried after a pause, not a raw requests exception
    assert len(zenodo.server.drafts_of(release.concept_record)) == 1


def test_download_reads_small_files_and_refuses_big_ones_without_holding_them(zenodo, release):
    client = zenodo.client()
    latest = client.latest_record(release.concept_record)
    data = client.download(latest.id, "fields.json")
    assert hashlib.md5(data).hexdigest() == release.previous["fields.json"]
    zip_key = next(k for k in release.previous if k.endswith(".zip"))
    with pytest.raises(ZenodoError) as info:
        client.download(latest.id, zip_key, max_bytes=100)
    assert "larger than 100 bytes" in str(info.value)
