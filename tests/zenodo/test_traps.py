"""ZENODO.md "More traps", each against the bundled server: the bot must handle every one of them."""

from __future__ import annotations

import logging

import pytest
from zenodo_support import Release, Target, assert_converged, the_draft, upload_of

from bot.config import parse_config
from bot.flow.context import RunContext
from bot.zenodo.client import ZenodoError
from bot.zenodo.drafts import converge_draft, latest_published, publish_draft
from bot.zenodo.retry import RetryPolicy


def test_a_stray_draft_is_emptied_one_key_at_a_time(zenodo: Target, release: Release) -> None:
    # A draft holding files but not the previous version's set (a curator's experiment, a broken run):
    # files-import refuses a non-empty draft, so the bot empties it first.
    client = zenodo.client()
    draft = client.new_version(latest_published(client, release.concept_record).id)
    client.start_uploads(draft.id, ["scratch.txt"])
    mark = len(zenodo.server.calls)
    converge_draft(zenodo.client(), release.request())
    assert_converged(zenodo, release)
    deletes = [p for m, p, _ in zenodo.server.calls[mark:] if m == "DELETE"]
    # Never DELETE .../draft/files (all at once): its soft-deleted rows make a new import collide (500).
    assert deletes and all("/draft/files/" in p for p in deletes)


def test_community_check_notices_pass_and_errors_stop_the_draft(
    zenodo: Target, release: Release, caplog: pytest.LogCaptureFixture
) -> None:
    zenodo.server.add_community_check("metadata.subjects", "Consider adding subjects.", severity="info")
    caplog.set_level(logging.WARNING, logger="bot.zenodo")
    converge_draft(zenodo.client(), release.request())
    assert_converged(zenodo, release)  # an "info" entry in the answer's errors is not a failure
    assert "Consider adding subjects" in caplog.text and "ztf-scope" in caplog.text

    zenodo.server.add_community_check("metadata.title", "Titles must name the survey.", severity="error",
                                      community="ztf")
    with pytest.raises(ZenodoError, match=r"Titles must name the survey\. \(community ztf\)"):
        converge_draft(zenodo.client(), release.request(publication_date="2030-01-01"))  # saves again


def test_the_draft_put_keeps_what_files_import_copied(zenodo: Target, release: Release) -> None:
    converge_draft(zenodo.client(), release.request())
    draft = the_draft(zenodo, release)
    # The PUT that set the version and notes was built from the draft as it is after the import, so it
    # did not send back the empty default_preview and order of the draft as first created.
    assert draft["files"]["default_preview"] == "SCoPe_classification_demo.ipynb"
    published = zenodo.server.published_versions(release.concept_record)[-1]
    # The imported order, less the files this release deleted (uploads come after, unordered).
    kept = [k for k in published["files"]["order"] if k in draft["files"]["entries"] and k not in release.new_files]
    assert draft["files"]["order"] == kept and len(kept) == 5


def test_an_hour_long_rate_limit_stops_the_run_with_when_to_rerun(zenodo: Target, release: Release) -> None:
    zenodo.server.faults.add("POST", r"/versions$", "429", retry_after=3600)
    client = zenodo.client(policy=RetryPolicy(rate_wait_budget=300))
    with pytest.raises(ZenodoError, match=r"rate limit") as info:
        converge_draft(client, release.request())
    assert "rerun after" in (info.value.hint or "") and "UTC" in (info.value.hint or "")
    assert zenodo.slept == []  # it did not wait, and did not spin: one refused request
    assert [s for m, p, s in zenodo.server.calls if m == "POST"] == [429]


def test_a_rate_limit_within_the_budget_is_waited_out_once(zenodo: Target, release: Release) -> None:
    zenodo.server.faults.add("POST", r"/versions$", "429", retry_after=90)
    zenodo.server.faults.add("POST", r"/draft/files$", "429", retry_after=200)
    client = zenodo.client(policy=RetryPolicy(rate_wait_budget=300))
    converge_draft(client, release.request())
    assert_converged(zenodo, release)
    assert zenodo.slept == [90.0, 200.0]  # exactly what was asked, within the run's budget of 300 s
    zenodo.server.faults.add("POST", r"/actions/publish$", "429", retry_after=60)
    with pytest.raises(ZenodoError, match="rate limit"):  # 290 s spent: 60 more would pass the budget
        publish_draft(client, the_draft(zenodo, release)["id"], expected_files=release.expected,
                      version=release.version, publication_date="2030-01-01")


def test_the_upload_is_hashed_on_the_way_and_checked_against_the_commit(zenodo: Target, release: Release) -> None:
    key, data = next((k, v) for k, v in release.new_files.items() if k.endswith(".zip"))
    passes: list[str] = []

    def hash_pass() -> str:
        passes.append(key)
        return upload_of(key, data).md5 or ""

    blind = upload_of(key, data)
    blind = type(blind)(blind.key, blind.size, None, blind.open, hash_pass=hash_pass)
    uploads = [blind if u.key == key else u for u in release.request().uploads]
    result = converge_draft(zenodo.client(), release.request(uploads=uploads))
    assert passes == []  # the md5 came from the upload itself: no separate reading pass
    assert result.files[key].md5 == release.expected[key]
    again = converge_draft(zenodo.client(), release.request(uploads=uploads))
    assert passes == [key]  # a rerun recognises the committed file by one hashing pass, uploads nothing
    assert again.uploaded == []


def test_one_client_per_run_shares_one_waiting_budget_set_in_the_config(tmp_path) -> None:
    text = ("catalog: {fields_dir: fields}\nzenodo: {api_url: 'https://zenodo.org/api', record: '8410825', "
            "rate_limit_wait: 120}\napproval: {command: /release publish, curators: [carol]}\n")
    ctx = RunContext(config=parse_config(text, "release-config.yaml"), repo_dir=tmp_path,
                     workdir=tmp_path, zenodo_token="token")
    assert ctx.zenodo is ctx.zenodo  # every stage of the run draws on the same client and budget
    assert ctx.zenodo.policy.rate_wait_budget == 120
