"""May this comment publish this release? Pure decisions, no I/O.

``parse_approval`` reads a comment (hostile input: it runs with secrets in scope) and ``authorize`` checks
the commenter, the pending draft and the state of the world against it. Both answer with values: an
``ApprovalRequest`` / ``Approval`` to go ahead, or a ``Refusal`` whose ``reason`` is a polite sentence
safe to post as it is (it never quotes the comment).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.filesets import diff_files
from bot.github.markdown import code_span
from bot.github.models import ROLE_RANK, CommentEdit, PendingRelease, Permission

MAX_BODY_CHARS = 2000  # an approval is one short line; anything longer is not one
_DRAFT_ID = re.compile(r"[0-9]{1,20}")  # ASCII digits only: \d would also match other scripts' digits

# Latin look-alikes from other scripts that NFKC leaves alone, so "/rеlease" (Cyrillic е) is recognised as an
# attempt and refused out loud rather than ignored.
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "с": "c",
        "ԁ": "d",
        "е": "e",
        "һ": "h",
        "і": "i",
        "ј": "j",
        "ӏ": "l",
        "о": "o",
        "р": "p",
        "ѕ": "s",
        "у": "y",
        "х": "x",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "ο": "o",
        "ρ": "p",
        "υ": "u",
        "ν": "v",
        "ꓲ": "l",
        "ı": "i",
        "∕": "/",
        "⁄": "/",
        "／": "/",
    }
)


@dataclass(frozen=True)
class ApprovalRequest:
    """A well-formed approval command: what the curator asked to publish."""

    draft_id: str


@dataclass(frozen=True)
class Refusal:
    """No. ``reason`` is the reply to post; ``code`` is stable, for logs and tests."""

    reason: str
    code: str


@dataclass(frozen=True)
class Approval:
    """Everything checked: publish this draft."""

    draft_id: str
    version: str
    doi: str
    commit_sha: str
    curator: str
    prs: tuple[int, ...]


def _skeleton(text: str) -> str:
    """What a line looks like to a reader: compatibility forms folded, invisible characters dropped."""
    text = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc", "Mn") or ch in "\t")
    return text.casefold()


def _looks_like_command(line: str, command: str) -> bool:
    """Does this line, seen through quotes, code fences and disguises, begin with the command?"""
    seen = _skeleton(line).lstrip(" \t>`~*_-+").strip()
    words = seen.split()
    want = command.split()
    return words[: len(want)] == want


def parse_approval(body: str, command: str) -> ApprovalRequest | Refusal | None:
    """Read a comment as an approval.

    ``ApprovalRequest`` only when the first line is exactly ``<command> <digits>`` (trailing spaces aside);
    ``None`` when the comment is not addressed to the bot at all (stay silent); a ``Refusal`` when it
    tries to be an approval and is not a clean one.
    """
    lines = body.split("\n")
    first = lines[0].rstrip("\r").rstrip(" \t")
    attempt_first = _looks_like_command(first, command)
    attempt_later = any(_looks_like_command(line, command) for line in lines[1:200])
    if not (attempt_first or attempt_later):
        return None
    if len(body) > MAX_BODY_CHARS:
        return Refusal(
            f"the comment is too long to be an approval ({len(body)} characters). "
            f"Please post a new comment whose first line is `{command} <draft-id>`.",
            "too-long",
        )
    if not attempt_first:
        return Refusal(
            f"the command must be the first line of the comment, outside quotes and code blocks. "
            f"Please post a new comment whose first line is `{command} <draft-id>`.",
            "not-first-line",
        )
    if not first.isascii() or any(not ch.isprintable() for ch in first):
        return Refusal(
            "the first line contains invisible or look-alike characters. Please type the command again "
            f"as plain text: `{command} <draft-id>`.",
            "hidden-characters",
        )
    if not first.startswith(command + " ") and first != command:
        return Refusal(
            f"the command must start the comment exactly as `{command} <draft-id>` "
            "(lower case, single spaces).",
            "malformed",
        )
    rest = first[len(command) :]
    if rest.strip() == "":
        return Refusal(
            f"the command needs the draft id from the summary comment: `{command} <draft-id>`.",
            "missing-draft-id",
        )
    arg = rest[1:]
    if _DRAFT_ID.fullmatch(arg):
        return ApprovalRequest(arg)
    leading = _DRAFT_ID.match(arg)
    if leading:
        return Refusal(
            f"only the command and the draft id may be on the first line: `{command} {leading.group()}`. "
            "Anything else belongs on the next lines.",
            "extra-text",
        )
    return Refusal(
        f"the draft id must be the number shown in the summary comment, e.g. `{command} 1234567`.",
        "bad-draft-id",
    )


def _listed(names: Iterable[str]) -> str:
    return ", ".join(code_span(n) for n in names)


@dataclass(frozen=True)
class ApprovalFacts:
    """What an approval is checked against, gathered from sources the commenter cannot change.

    ``draft_files`` are the draft's files as Zenodo lists them now (key -> md5, ``md5:`` prefix optional),
    None when they could not be read. ``fields_changed_since_summary`` says whether the default branch
    gained commits touching the fields folder after the summarised commit.
    """

    commenter: str
    permission: Permission
    pr_author: str
    curators: Iterable[str]
    min_permission: str
    allow_author: bool
    pending: PendingRelease | None
    action: str
    main_head_sha: str = ""
    fields_changed_since_summary: bool = False
    draft_files: Mapping[str, str] | None = None
    draft_published: bool = False
    other_authors: Iterable[str] = ()


Check = Callable[[ApprovalRequest, ApprovalFacts], Refusal | None]


def check_new_comment(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    if facts.action == "created":
        return None
    return Refusal(
        "edited comments do not count as approvals. Please post a new comment "
        f"with the command and the draft id {request.draft_id}.",
        "edited",
    )


def check_curator(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    if facts.commenter.casefold() in {c.casefold() for c in facts.curators}:
        return None
    return Refusal(
        f"{code_span(facts.commenter)} is not on the curators list (`approval.curators` in release-config.yaml). "
        "Please ask one of the curators to approve.",
        "not-curator",
    )


def check_permission(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    if facts.permission.at_least(facts.min_permission):
        return None
    shown = facts.permission.role_name or facts.permission.permission
    return Refusal(
        f"{code_span(facts.commenter)} has {code_span(shown)} access to this repository; "
        f"approving needs `{facts.min_permission}` or more. "
        "Please ask a maintainer to grant it, or another curator to approve.",
        "no-permission",
    )


def check_not_author(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    authors = {facts.pr_author.casefold(), *(a.casefold() for a in facts.other_authors)}
    if facts.allow_author or facts.commenter.casefold() not in authors:
        return None
    return Refusal(
        "the author of a pull request in this release may not approve its own release. "
        "Please ask another curator to approve.",
        "own-pr",
    )


def check_pending(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    pending = facts.pending
    if pending is None:
        return Refusal(
            "there is no release waiting for approval on this pull request "
            "(no summary comment, or it was superseded by a newer one).",
            "no-pending",
        )
    if facts.draft_published:
        return Refusal(
            f"draft {code_span(pending.draft_id)} is already published as {code_span(pending.doi)} "
            f"(version {code_span(pending.version)}). Nothing more to do.",
            "already-published",
        )
    if request.draft_id != pending.draft_id:
        return Refusal(
            f"draft {request.draft_id} is not the one pending here; the summary describes draft "
            f"{code_span(pending.draft_id)}. To publish it, comment the command with that id.",
            "wrong-draft",
        )
    return None


def check_not_stale(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    pending = facts.pending
    if pending is None or not facts.fields_changed_since_summary or facts.main_head_sha == pending.commit_sha:
        return None
    return Refusal(
        f"the default branch moved to {code_span(facts.main_head_sha[:12])} with changes to the field files "
        f"since the summary (built from {code_span(pending.commit_sha[:12])}). "
        "The release workflow of that push posts an updated summary; please approve that one "
        "(if none appears, a maintainer can run the dispatch workflow's draft action).",
        "stale",
    )


def check_draft_files(request: ApprovalRequest, facts: ApprovalFacts) -> Refusal | None:
    pending = facts.pending
    if pending is None:
        return None
    if facts.draft_files is None:
        return Refusal(
            f"the files of draft {code_span(pending.draft_id)} could not be read on Zenodo, "
            "so they cannot be checked. Please try again later.",
            "draft-unreadable",
        )
    differences = describe_differences({key: f.md5 for key, f in pending.files.items()}, facts.draft_files)
    if not differences:
        return None
    return Refusal(
        f"the files of draft {code_span(pending.draft_id)} no longer match the summary ({differences}). "
        "Rerun the release workflow to rebuild the draft, then approve the new summary.",
        "files-changed",
    )


def describe_differences(want: Mapping[str, str], have: Mapping[str, str]) -> str:
    """``missing `a`; unexpected `b`; changed `c``` for two key -> md5 maps; empty when they agree."""
    diff = diff_files(want, have)
    parts = [f"{label} {_listed(keys)}" for label, keys in
             (("missing", diff.missing), ("unexpected", diff.unexpected), ("changed", diff.changed)) if keys]
    return "; ".join(parts)


# Who is asking first (cheap, no Zenodo call needed), then what is pending and whether it still holds.
WHO_CHECKS: tuple[Check, ...] = (check_new_comment, check_curator, check_permission, check_not_author)
WHAT_CHECKS: tuple[Check, ...] = (check_pending, check_not_stale, check_draft_files)


def authorize(
    request: ApprovalRequest, facts: ApprovalFacts, checks: tuple[Check, ...] = WHO_CHECKS + WHAT_CHECKS
) -> Approval | Refusal:
    """Check an approval against who asked and what is pending; the first failed check is the answer."""
    if facts.min_permission not in ROLE_RANK:
        raise ValueError(f"unknown permission level {facts.min_permission!r}")
    for check in checks:
        refusal = check(request, facts)
        if refusal is not None:
            return refusal
    pending = facts.pending
    if pending is None:  # only when the checks given leave out check_pending
        return check_pending(request, facts) or Refusal("nothing is pending", "no-pending")
    return Approval(
        draft_id=pending.draft_id,
        version=pending.version,
        doi=pending.doi,
        commit_sha=pending.commit_sha,
        curator=facts.commenter,
        prs=pending.prs,
    )


def untrusted_editors(edits: Iterable[CommentEdit], bot_login: str, curators: Iterable[str]) -> list[str]:
    """Who, not being a curator, saved a revision of the bot's comment after the bot's own last write.

    ``edits`` are the comment's revisions oldest first; a deleted account counts as untrusted.
    """
    ordered = list(edits)
    bot = bot_login.casefold()
    last_bot = max((i for i, e in enumerate(ordered) if (e.editor or "").casefold() == bot), default=-1)
    allowed = {c.casefold() for c in curators}
    later = ordered[last_bot + 1 :]
    return sorted({e.editor or "a deleted account" for e in later if (e.editor or "").casefold() not in allowed})


def check_summary(
    request: ApprovalRequest,
    *,
    pr_number: int,
    pending: PendingRelease | None,
    seal_problem: str | None,
    intact: bool,
    approved_at: datetime | None,
    summary_updated_at: datetime | None,
) -> Refusal | None:
    """Is the summary this approval answers the bot's own, unchanged since the approval was written?

    All of it comes from GitHub and the bot's seal, so a wrong draft id is refused before any Zenodo call.
    ``approved_at`` is None for a publish started by hand (there is no comment to date).
    """
    if seal_problem is not None:
        return Refusal(
            f"the summary on this pull request cannot be trusted: {seal_problem}. "
            "Run the dispatch workflow's draft action to rebuild the draft and its summary, then approve the "
            "new summary.",
            "tampered",
        )
    if pending is None:
        return Refusal(
            "there is no release waiting for approval on this pull request "
            "(no summary comment, or it was superseded by a newer one).",
            "no-pending",
        )
    if not intact:
        return Refusal(
            "the summary was edited after the bot wrote it, so it may not show what Zenodo holds. "
            "A curator's edit of the notes reaches the draft when it is rebuilt: run the dispatch workflow's "
            "draft action, then approve the new summary.",
            "summary-edited",
        )
    if approved_at is not None and (summary_updated_at is None or approved_at <= summary_updated_at):
        return Refusal(
            "the summary was updated after this approval was written (or at the same moment), so it "
            "approves a version of the release that is no longer the one shown. Please review the summary "
            "as it is now and post a new approval.",
            "approval-outdated",
        )
    if request.draft_id != pending.draft_id:
        return Refusal(
            f"draft {request.draft_id} is not the one pending here; the summary describes draft "
            f"{code_span(pending.draft_id)}. To publish it, comment the command with that id.",
            "wrong-draft",
        )
    if pr_number not in pending.prs:
        return Refusal(
            f"this pull request is not one of the release's ({', '.join(f'#{n}' for n in pending.prs)}).",
            "not-in-release",
        )
    if not pending.content_digest:
        return Refusal(
            "the summary does not record what the draft holds. Run the dispatch workflow's draft action to "
            "rebuild it, then approve the new summary.",
            "no-content-digest",
        )
    return None
