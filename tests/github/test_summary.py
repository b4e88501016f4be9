"""The sticky summary: what it shows, its state block, and why nobody else can forge it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.github.adapter import GitHubAdapter
from bot.github.approval import Refusal, parse_approval
from bot.github.markdown import code_span
from bot.github.models import DraftFile, PendingRelease
from bot.github.summary import (
    NOTES_END,
    NOTES_START,
    SUMMARY_MARKER,
    extract_notes,
    parse_state,
    published_marker,
    render_doi_comment,
    render_published,
    render_refusal,
    render_summary,
    render_superseded,
    state_block,
)
from bot.local.github.sample import ACTIONS_TOKEN
from bot.scope import FIELDS_JSON, catalog_zip_name

SHA = "c0ffee" + "0" * 34
STATE = PendingRelease(
    draft_id="1234567",
    version="v1.2.0",
    doi="10.5281/zenodo.1234567",
    concept_record="8410825",
    commit_sha=SHA,
    files={
        catalog_zip_name(78): DraftFile("a" * 32, 20_100_000_000, "added"),
        FIELDS_JSON: DraftFile("b" * 32, 420, "replaced"),
        "trained_dnn_models.zip": DraftFile("c" * 32, 3_500_000, "carried"),
    },
    prs=(12, 15),
    notes_digest="0123456789abcdef",
    removed=(catalog_zip_name(77),),
)
NOTES = "## What changed\n- field 298 added (#12)\n- field 297 replaced (#15)"


def test_summary_shows_what_a_curator_needs():
    body = render_summary(
        STATE,
        NOTES,
        draft_url="https://zenodo.org/uploads/1234567",
        previous_version="v1.1.0",
        concept_doi="10.5281/zenodo.8410825",
    )
    assert body.startswith(SUMMARY_MARKER)
    assert "`v1.2.0`" in body and "(was `v1.1.0`)" in body
    assert "[10.5281/zenodo.1234567](https://doi.org/10.5281/zenodo.1234567)" in body
    assert "[`1234567`](https://zenodo.org/uploads/1234567)" in body
    assert "1 added, 1 replaced, 1 carried, 1 removed" in body
    assert f"| `{catalog_zip_name(78)}` | added | 20.1 GB | `{'a' * 32}` |" in body
    assert f"| `{FIELDS_JSON}` | replaced | 420 bytes | `{'b' * 32}` |" in body
    assert f"| `{catalog_zip_name(77)}` | removed |" in body
    assert "#12, #15" in body and "gathers 2 merged pull requests" in body
    assert "\n/release publish 1234567\n" in body
    assert f"{NOTES_START}\n{NOTES}\n{NOTES_END}" in body
    assert extract_notes(body) == NOTES


def test_the_command_in_the_summary_is_one_the_parser_accepts():
    body = render_summary(STATE, NOTES, command="/release publish")
    line = next(ln for ln in body.splitlines() if ln.startswith("/release publish"))
    assert parse_approval(line, "/release publish").draft_id == STATE.draft_id


def test_state_round_trips_through_the_comment():
    assert parse_state(render_summary(STATE, NOTES)) == STATE


_texty = st.text(max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    version=_texty,
    doi=_texty,
    notes=st.text(max_size=200),
    keys=st.lists(st.text(min_size=1, max_size=30), max_size=4, unique=True),
    sizes=st.lists(st.integers(min_value=0, max_value=10**13), min_size=4, max_size=4),
)
def test_any_state_round_trips_and_nothing_escapes_the_state_comment(version, doi, notes, keys, sizes):
    state = PendingRelease(
        draft_id="99",
        version=version,
        doi=doi,
        concept_record="1",
        commit_sha=SHA,
        files={k: DraftFile("d" * 32, s, "added") for k, s in zip(keys, sizes, strict=False)},
        prs=(3,),
    )
    body = render_summary(state, notes)
    assert parse_state(body) == state
    block = state_block(state)
    assert block.count("-->") == 1 and "<" not in block[4:] and ">" not in block[:-3]


def test_state_is_not_read_from_anything_but_a_single_block():
    body = render_summary(STATE, NOTES)
    assert parse_state(body.replace(SUMMARY_MARKER, "")) is None  # not a summary
    assert parse_state(body + "\n" + state_block(STATE)) is None  # two blocks: tampered
    garbled = body.replace('"draft_id":"1234567"', '"draft_id":"12x"')
    assert parse_state(garbled) is None
    bad_commit = body.replace(SHA, "not-a-sha")
    assert parse_state(bad_commit) is None


def _with_state(body: str, change) -> str:
    """``body`` with its state block's JSON replaced by ``change(data)``, written as the bot writes it."""
    head, _, rest = body.partition("<!-- release-bot:state ")
    data, _, tail = rest.partition(" -->")
    edited = json.loads(data)
    change(edited)
    return f"{head}<!-- release-bot:state {json.dumps(edited, sort_keys=True, separators=(',', ':'))} -->{tail}"


def _set(*path_and_value):
    *path, value = path_and_value

    def change(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


def _drop(key):
    return lambda data: data.pop(key)


ZIP = catalog_zip_name(78)


@pytest.mark.parametrize(
    "change",
    [
        _set("v", 2),
        _set("files", []),
        _set("files", ZIP, "not a dict"),
        _set("files", ZIP, "size", True),
        _set("files", ZIP, "size", -1),
        _set("files", ZIP, "size", "20100000000"),
        _set("files", ZIP, "md5", 5),
        _set("files", ZIP, "change", "deleted"),
        _set("prs", [12, True]),
        _set("prs", [0]),
        _set("prs", "12"),
        _set("removed", [7]),
        _set("draft_id", "١٢٣"),
        _set("draft_id", 1234567),
        _set("commit", SHA.upper()),
        _set("version", None),
        _drop("doi"),
        _drop("notes_digest"),
    ],
)
def test_a_state_block_that_does_not_read_as_a_state_is_no_state(change):
    body = render_summary(STATE, NOTES)
    assert parse_state(_with_state(body, lambda data: None)) == STATE  # the rewriting itself keeps the state
    assert parse_state(_with_state(body, change)) is None


def test_a_state_without_a_change_kind_reads_its_files_as_carried():
    body = render_summary(STATE, NOTES)
    state = parse_state(_with_state(body, lambda data: data["files"][ZIP].pop("change")))
    assert state is not None and state.files[ZIP] == DraftFile("a" * 32, 20_100_000_000, "carried")


def test_a_state_block_in_the_notes_never_counts():
    forged = PendingRelease(**{**STATE.__dict__, "draft_id": "666"})
    body = render_summary(STATE, NOTES)
    # A curator editing the notes pastes another state block there: it is ignored.
    edited = body.replace(NOTES_END, state_block(forged) + "\n" + NOTES_END)
    assert parse_state(edited) == STATE
    # And the renderer itself never lets notes open or close a comment.
    rendered = render_summary(STATE, f"oops {state_block(forged)} -->")
    assert parse_state(rendered) == STATE and rendered.count("<!-- release-bot:state") == 1


def test_superseded_summary_points_to_the_newer_one_and_holds_no_state():
    body = render_superseded("https://github.com/scope-ml/scope-catalog/pull/15")
    assert body.startswith(SUMMARY_MARKER)
    assert "(https://github.com/scope-ml/scope-catalog/pull/15)" in body
    assert parse_state(body) is None
    odd = render_superseded("javascript:alert(1)")
    assert "](javascript" not in odd and "`javascript:alert(1)`" in odd


def test_replies_neutralise_what_they_quote():
    reply = render_refusal(Refusal(f"draft {code_span('@everyone <b>x</b>')} is odd.", "wrong-draft"))
    assert reply.startswith("Sorry, I can't publish this release:")
    assert "`@everyone <b>x</b>`" in reply and "wrong-draft" in reply
    published = render_published(
        "v1.2.0",
        "10.5281/zenodo.1234567",
        "https://zenodo.org/records/1234567",
        concept_doi="10.5281/zenodo.8410825",
    )
    assert "https://doi.org/10.5281/zenodo.1234567" in published and "records/1234567" in published
    assert "https://doi.org/10.5281/zenodo.8410825" in published
    odd = render_published("v1.2.0 @team", "10.1/<script>", "javascript:x")
    assert "<script>" not in odd.replace("`10.1/<script>`", "") and "](javascript" not in odd
    assert "`v1.2.0 @team`" in odd


def test_doi_comment_carries_a_marker_per_version():
    body = render_doi_comment(
        "v1.2.0", "10.5281/zenodo.1234567", "10.5281/zenodo.8410825", pr_numbers=[12, 15]
    )
    assert body.startswith(published_marker("v1.2.0"))
    assert "#12, #15" in body and "10.5281/zenodo.8410825" in body
    assert published_marker("v1.2.0") != published_marker("v1.2.1")
    assert "-->" not in published_marker("x --> y")[:-3]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("a`b", "`` a`b ``"),
        ("`x`", "`` `x` ``"),
        ("plain", "`plain`"),
        ("line\nbreak", "`line break`"),
        ("", "` `"),
    ],
)
def test_code_spans_hold_any_text(text, span):
    assert code_span(text) == span


def test_a_forged_summary_by_another_user_is_not_the_sticky(github_server):
    """A user pastes a summary with their own state block (another draft id) before the bot posts."""
    adapter = GitHubAdapter(github_server.url, ACTIONS_TOKEN, f"{github_server.owner}/{github_server.repo}")
    forged = PendingRelease(**{**STATE.__dict__, "draft_id": "666", "files": {}})
    github_server.post_comment_as("mcoughlin", 1, render_summary(forged, "trust me"))
    assert adapter.find_sticky(1, SUMMARY_MARKER) is None
    adapter.upsert_sticky(1, SUMMARY_MARKER, render_summary(STATE, NOTES))
    github_server.post_comment_as("bob", 1, render_summary(forged, "trust me too"))
    sticky = adapter.find_sticky(1, SUMMARY_MARKER)
    assert sticky is not None and parse_state(sticky.body) == STATE
    # A rebuild edits the bot's comment, never the forged ones.
    newer = PendingRelease(**{**STATE.__dict__, "draft_id": "7654321"})
    adapter.upsert_sticky(1, SUMMARY_MARKER, render_summary(newer, NOTES))
    states = [parse_state(c["body"]) for c in github_server.comments(1)]
    assert [s.draft_id for s in states if s] == ["666", "7654321", "666"]
    assert parse_state(adapter.find_sticky(1, SUMMARY_MARKER).body) == newer
