"""Curator edits to the notes in the summary comment survive a rebuild."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from notes_factories import changeset

from bot.config import VersioningSettings
from bot.notes.edits import (
    NOTES_END,
    NOTES_START,
    kept_edits_note,
    markdown_digest,
    merge_curator_edits,
    notes_in_comment,
    wrap_notes,
)
from bot.notes.markdown import render_markdown
from bot.notes.model import build_notes
from bot.notes.version import next_version


def _notes(*added: int) -> str:
    changes = changeset(added=added)
    return render_markdown(build_notes(changes, next_version("v1.0.0", changes, VersioningSettings()),
                                       "2026-03-14"))


def comment(notes: str) -> str:
    return f"<!-- release-bot:summary -->\n## Release draft\n\n{wrap_notes(notes)}\n\nApprove with ..."


def test_untouched_notes_are_refreshed() -> None:
    old, new = _notes(296), _notes(296, 297)
    assert merge_curator_edits(comment(old), markdown_digest(old), new) == (new, False)


def test_curator_edits_survive_a_rebuild() -> None:
    old, new = _notes(296), _notes(296, 297)
    edited = old.replace("### Catalog", "### SCoPe III data release: catalog", 1)
    assert edited != old
    body, kept = merge_curator_edits(comment(edited), markdown_digest(old), new)
    assert kept and body == edited.strip() and body != new
    # And on the next rebuild the bot still keeps them (its stored digest is still of its own text).
    body2, kept2 = merge_curator_edits(comment(body), markdown_digest(old), _notes(296, 297, 423))
    assert kept2 and body2 == body
    assert new in kept_edits_note(new) and "<details>" in kept_edits_note(new)


def test_whitespace_churn_from_the_editor_is_not_an_edit() -> None:
    old = _notes(296)
    crlf = comment(old).replace("\n", "\r\n") + "\r\n"
    assert merge_curator_edits(crlf, markdown_digest(old), "new") == ("new", False)


def test_without_markers_or_digest_the_bot_writes_new_notes() -> None:
    old = _notes(296)
    assert merge_curator_edits(None, markdown_digest(old), "new") == ("new", False)
    assert merge_curator_edits("no markers here", markdown_digest(old), "new") == ("new", False)
    assert merge_curator_edits(f"{NOTES_START} only a start", markdown_digest(old), "new") == ("new", False)
    assert merge_curator_edits(comment("curated"), None, "new") == ("new", False)


@given(st.text(max_size=200))
def test_notes_round_trip_through_the_markers(text: str) -> None:
    if NOTES_END in text:
        return
    assert notes_in_comment("before " + wrap_notes(text) + " after") == text.strip()
