"""A digest footer on the bot's notes, so a rebuild can tell its own text from a curator's edit.

The digest covers the notes' visible text (tags stripped, entities decoded, white space folded), so it
survives the HTML re-serialisation Zenodo's editor applies, but not a change of wording.
"""

from __future__ import annotations

import hashlib
import html
import re

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
# Zenodo sanitises descriptions to a tag allow-list, so the footer uses common tags and the pattern
# accepts them being stripped.
_FOOTER = re.compile(
    r"<p>\s*(?:<em>)?\s*Drafted by release-bot\s*\(notes digest ([0-9a-f]{16})\)\.?\s*(?:</em>)?\s*</p>\s*$"
)


def text_digest(markup: str) -> str:
    """16 hex digits over the visible text of an HTML or Markdown fragment."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def notes_footer_html(body_html: str) -> str:
    """The footer to append to ``body_html``."""
    return f"<p><em>Drafted by release-bot (notes digest {text_digest(body_html)}).</em></p>"


def with_footer(body_html: str) -> str:
    return body_html + notes_footer_html(body_html)


def is_unedited_bot_notes(notes_html: str) -> bool:
    """True when the notes carry the bot's footer and their text still matches its digest."""
    m = _FOOTER.search(notes_html.strip())
    if not m:
        return False
    return text_digest(notes_html.strip()[: m.start()]) == m.group(1)
