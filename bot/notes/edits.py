"""Curator edits to the notes in the summary comment survive a rebuild.

The bot's Markdown notes sit between two markers in the sticky comment. When the text there no longer
matches the digest of what the bot last wrote, a curator changed it: their text is kept and the bot's new
draft is only offered beside it.
"""

from __future__ import annotations

from bot.notes.digest import text_digest

NOTES_START = "<!-- release-bot:notes-start -->"
NOTES_END = "<!-- release-bot:notes-end -->"


def markdown_digest(markdown: str) -> str:
    """The digest to store with the comment, of the notes exactly as the bot wrote them."""
    return text_digest(markdown)


def wrap_notes(markdown: str) -> str:
    """The notes between their markers, as they go into the summary comment."""
    return f"{NOTES_START}\n{markdown}\n{NOTES_END}"


def notes_in_comment(comment_body: str | None) -> str | None:
    """The text between the notes markers (stripped), or None when the comment has no complete pair."""
    if not comment_body:
        return None
    start = comment_body.find(NOTES_START)
    if start < 0:
        return None
    start += len(NOTES_START)
    end = comment_body.find(NOTES_END, start)
    return comment_body[start:end].strip() if end >= 0 else None


def merge_curator_edits(
    previous_comment_body: str | None, previous_bot_markdown_digest: str | None, new_markdown: str
) -> tuple[str, bool]:
    """(notes, kept): the curator's notes if they changed the bot's last text, else the new notes.

    Without a stored digest the bot cannot tell an edit from its own text, so it writes the new notes.
    """
    old = notes_in_comment(previous_comment_body)
    if old is None or previous_bot_markdown_digest is None:
        return new_markdown, False
    if text_digest(old) == previous_bot_markdown_digest:
        return new_markdown, False  # untouched since the bot wrote it: refresh
    return old, True


def kept_edits_note(new_markdown: str | None, run_url: str | None = None) -> str:
    """The note a caller adds under kept curator notes, with the bot's draft folded away (or, when
    ``new_markdown`` is None because it is too long for the comment, a pointer to the run that shows it)."""
    if new_markdown is None:
        where = f"the [job summary of the run]({run_url})" if run_url else "the job summary of the workflow run"
        return f"_Curator edits kept; the bot's draft is too long to show here: {where} has it._"
    return (
        "_Curator edits kept; the bot's draft would have been:_\n\n"
        f"<details><summary>Bot draft</summary>\n\n{new_markdown}\n\n</details>"
    )
