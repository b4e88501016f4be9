"""``Co-authored-by:`` trailers of commit messages, read one way for git and GitHub alike (a leaf module)."""

from __future__ import annotations

import re

_CO_AUTHOR = re.compile(
    r"^\s*co-authored-by:\s*(?P<name>[^<\n]*?)\s*(?:<(?P<email>[^>\n]*)>)?\s*$", re.IGNORECASE | re.MULTILINE
)
# GitHub's private commit address: ``<id>+<login>@users.noreply.github.com`` (or ``<login>@...`` for old accounts).
_NOREPLY = re.compile(
    r"^(?:\d+\+)?(?P<login>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))@users\.noreply\.github\.com$", re.IGNORECASE
)


def co_author_trailers(message: str) -> list[tuple[str, str]]:
    """(name, email) of each ``Co-authored-by:`` trailer, in order; either may be empty."""
    return [(m.group("name").strip(), (m.group("email") or "").strip()) for m in _CO_AUTHOR.finditer(message or "")]


def noreply_login(email: str) -> str | None:
    """The login in a GitHub noreply address, else None."""
    match = _NOREPLY.match(email.strip())
    return match.group("login") if match else None


def co_authors(message: str) -> list[str]:
    """Who the trailers credit: the GitHub login when the address is a noreply one, else the name (or the
    address when the trailer has no name)."""
    out: list[str] = []
    for name, email in co_author_trailers(message):
        who = noreply_login(email) or name or email
        if who:
            out.append(who)
    return out
