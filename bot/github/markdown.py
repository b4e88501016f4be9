"""Putting untrusted text into a GitHub comment without letting it speak.

Anything that did not come from the bot itself (file keys from Zenodo, logins, URLs, versions read back
from a comment) is shown inside a code span: GitHub renders no Markdown, no HTML and no @mention there.
"""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%/+=-]*)?(?:\?[A-Za-z0-9._~%&=+-]*)?")
_DOI = re.compile(r"10\.\d{4,9}/[A-Za-z0-9._;:/-]+")


def plain(text: str, max_chars: int = 200) -> str:
    """One visible line: control, format and line-break characters removed, length bounded."""
    out = "".join(
        " " if ch in "\r\n\t\u2028\u2029" else ch
        for ch in text
        if ch in "\r\n\t\u2028\u2029" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    out = " ".join(out.split())
    return out if len(out) <= max_chars else out[: max_chars - 1] + "…"


def code_span(text: str, max_chars: int = 200) -> str:
    """``text`` as an inline code span that no backtick inside can close early (CommonMark rules)."""
    text = plain(text, max_chars) or " "
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(label: str, url: str) -> str:
    """A Markdown link when ``url`` is a plain http(s) URL; otherwise the label and URL as code."""
    if _URL.fullmatch(url):
        return f"[{code_span(label)}]({url})"
    return f"{code_span(label)} ({code_span(url)})"


def doi_link(doi: str) -> str:
    """A DOI, linked to its resolver when it looks like one."""
    if _DOI.fullmatch(doi):
        return f"[{doi}](https://doi.org/{doi})"
    return code_span(doi)


def neutralise_comment_markers(markdown: str) -> str:
    """Stop text from opening or closing an HTML comment (and so from forging or hiding the bot's markers)."""
    return markdown.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
