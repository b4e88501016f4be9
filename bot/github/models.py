"""Plain values the GitHub adapter returns, so handlers and tests never hold PyGithub objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The commit status the bot sets on a release's commit: pending while drafted, success once published.
STATUS_CONTEXT = "release-bot/catalog"

# GitHub's repository roles, weakest first. "triage" sits between read and write.
ROLE_RANK: dict[str, int] = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str
    author: str
    labels: tuple[str, ...]
    state: str  # "open" or "closed"
    merged: bool
    merge_commit_sha: str | None
    html_url: str
    head_sha: str
    base_sha: str
    body: str


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str  # added, modified, removed, renamed, copied, changed, unchanged
    previous_path: str | None = None


@dataclass(frozen=True)
class CommentInfo:
    id: int
    author: str
    body: str
    created_at: datetime | None
    updated_at: datetime | None
    html_url: str
    node_id: str = ""  # the GraphQL id, to ask for the comment's edit history


@dataclass(frozen=True)
class CommentEdit:
    """One revision of a comment (GraphQL ``UserContentEdit``): who saved it, and when.

    ``editor`` is None when GitHub no longer knows the account (a deleted user shows as a ghost).
    """

    editor: str | None
    edited_at: str


@dataclass(frozen=True)
class Permission:
    """What ``GET /collaborators/{user}/permission`` says about a user.

    ``permission`` is the legacy field (maintain reads as "write", triage as "read");
    ``role_name`` is the exact role, and may be a custom role's name.
    """

    permission: str
    role_name: str

    @property
    def rank(self) -> int:
        """The stronger of the two readings; an unknown custom role counts as its base permission."""
        return max(ROLE_RANK.get(self.permission, 0), ROLE_RANK.get(self.role_name, 0))

    def at_least(self, minimum: str) -> bool:
        return self.rank >= ROLE_RANK[minimum]


@dataclass(frozen=True)
class DraftFile:
    """One file of the Zenodo draft as the summary recorded it."""

    md5: str
    size: int
    change: str = "carried"  # added, replaced or carried (imported unchanged from the last version)


@dataclass(frozen=True)
class PendingRelease:
    """The release a sticky summary describes and a curator may approve: the summary's state block."""

    draft_id: str
    version: str
    doi: str
    concept_record: str
    commit_sha: str  # the default-branch commit the draft was built from
    files: dict[str, DraftFile]
    prs: tuple[int, ...]
    notes_digest: str = ""
    removed: tuple[str, ...] = ()  # keys of the last version that the draft dropped
    content_digest: str = ""  # integrity.content_digest of the draft as built: what the curator reviews

    def checksums(self) -> dict[str, str]:
        return {key: f.md5 for key, f in self.files.items()}
