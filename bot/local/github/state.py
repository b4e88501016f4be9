"""The bundled GitHub server's world: one repository, its commits, pulls, comments, statuses and releases.

There is no real git here: a test declares commits and the files each one changed, and the server answers
from that. Every builder takes the lock, so tests may seed state while the server is serving.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FILE_STATUSES = ("added", "removed", "modified", "renamed", "copied", "changed", "unchanged")
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
STATUS_STATES = ("pending", "success", "failure", "error")
# role -> (permission as the permission endpoint reports it, role_name):
# maintain reads as write, triage as read.
ROLES: dict[str, tuple[str, str]] = {
    "admin": ("admin", "admin"),
    "maintain": ("write", "maintain"),
    "write": ("write", "write"),
    "triage": ("read", "triage"),
    "read": ("read", "read"),
}
WRITE_ROLES = ("admin", "maintain", "write")
ACTIONS_BOT = "github-actions[bot]"


class Clock:
    """Wall-clock time that never repeats: each tick is at least one second after the previous one,
    so an edit's ``updated_at`` is always later than its ``created_at``."""

    def __init__(self) -> None:
        self._last = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)

    def tick(self) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        self._last = max(now, self._last + timedelta(seconds=1))
        return self._last.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str  # "User", "Bot" or "Organization"


@dataclass
class Token:
    login: str
    write: bool
    # The GITHUB_TOKEN's granted scopes (a job's `permissions:`), None for a token that may do anything.
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str
    previous_filename: str | None = None
    additions: int = 0
    deletions: int = 0


@dataclass
class Commit:
    sha: str
    parents: list[str]
    files: list[FileChange]
    message: str
    author: str | None  # GitHub login, None when the email maps to no account
    author_name: str
    author_email: str
    date: str


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str
    author: str
    labels: list[str]
    state: str
    created_at: str
    updated_at: str
    closed_at: str | None = None


@dataclass
class Pull(Issue):
    pull_id: int = 0
    head_sha: str = ""
    base_sha: str = ""
    head_ref: str = ""
    base_ref: str = "main"
    files: list[FileChange] | None = None  # None: computed from the commits between base and head
    merged: bool = False
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    draft: bool = False
    fork: bool = False  # the head branch lives in the author's fork (read-only token, no secrets)


@dataclass(frozen=True)
class CommentEdit:
    """One entry of a comment's edit history (GraphQL ``UserContentEdit``): who, when, and the new body."""

    editor: str
    edited_at: str
    body: str


@dataclass
class Comment:
    id: int
    issue: int
    author: str
    body: str
    created_at: str
    updated_at: str
    # GitHub keeps every revision; once a comment is edited its history starts with the creation itself
    # (GraphQL ``includesCreatedEdit``), https://docs.github.com/en/graphql/reference/objects#issuecomment
    edits: list[CommentEdit] = field(default_factory=list)

    def edit(self, login: str, body: str, when: str) -> None:
        if not self.edits:
            self.edits.append(CommentEdit(self.author, self.created_at, self.body))
        self.edits.append(CommentEdit(login, when, body))
        self.body, self.updated_at = body, when


@dataclass
class Reaction:
    id: int
    comment_id: int
    user: str
    content: str
    created_at: str


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str


@dataclass
class TagObject:
    sha: str
    tag: str
    message: str
    object_sha: str
    object_type: str
    tagger_name: str
    tagger_email: str
    date: str


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    author: str
    created_at: str
    published_at: str | None
    assets: list[Asset] = field(default_factory=list)


@dataclass
class Asset:
    """A file attached to a release (uploaded through the ``upload_url``)."""

    id: int
    name: str
    label: str | None
    content_type: str
    data: bytes
    uploader: str
    created_at: str


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


class StateError(Exception):
    """A builder was given something the repository cannot hold; says what and how to fix it."""


def fake_sha(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()


def file_changes(files: Mapping[str, Any] | Iterable[FileChange] | None) -> list[FileChange]:
    """Accept ``{path: status}``, ``{path: ("renamed", old_path)}``, ``{path: {"status": ..., ...}}``
    or FileChange objects."""
    if files is None:
        return []
    if not isinstance(files, Mapping):
        return list(files)
    out = []
    for path, spec in files.items():
        if isinstance(spec, str):
            change = FileChange(path, spec)
        elif isinstance(spec, tuple):
            change = FileChange(path, spec[0], spec[1] if len(spec) > 1 else None)
        elif isinstance(spec, Mapping):
            change = FileChange(path, spec.get("status", "modified"), spec.get("previous_filename"),
                                spec.get("additions", 0), spec.get("deletions", 0))
        else:
            raise StateError(f"file {path!r}: status {spec!r} is not a string, tuple or dict")
        if change.status not in FILE_STATUSES:
            raise StateError(f"file {path!r}: unknown status {change.status!r}; use one of {FILE_STATUSES}")
        if change.status == "renamed" and not change.previous_filename:
            raise StateError(f"file {path!r}: a rename needs its previous path, e.g. ('renamed', 'old/path')")
        out.append(change)
    return out


def compose_changes(commits: Iterable[Commit]) -> list[FileChange]:
    """The net change of a sequence of commits (oldest first), as a tree diff with rename detection
    would report it: the first touch of a path tells whether it existed before the range.

    Merge commits are skipped: their changes arrive through the merged branch's own commits.
    """
    at_base: dict[str, bool] = {}  # did the path exist before the first commit?
    exists: dict[str, bool] = {}  # does it exist after the last one?
    lineage: dict[str, str | None] = {}  # the base path whose content a renamed path carries

    def touch(path: str, existed: bool, now: bool) -> None:
        at_base.setdefault(path, existed)
        exists[path] = now

    for commit in commits:
        if len(commit.parents) > 1:
            continue
        for ch in commit.files:
            if ch.status in ("added", "copied"):
                touch(ch.filename, False, True)
                lineage[ch.filename] = None
            elif ch.status == "removed":
                touch(ch.filename, True, False)
                lineage.pop(ch.filename, None)
            elif ch.status == "renamed":
                old = ch.previous_filename or ""
                touch(old, True, False)
                touch(ch.filename, False, True)
                lineage[ch.filename] = lineage.pop(old) if old in lineage else (old if at_base[old] else None)
            elif ch.status != "unchanged":
                touch(ch.filename, True, True)
    renamed: dict[str, str] = {}
    for path, source in lineage.items():
        if (source and exists.get(path) and not at_base[path] and at_base.get(source)
                and not exists.get(source) and source not in renamed.values()):
            renamed[path] = source
    out = []
    for path in sorted(at_base):
        before, after = at_base[path], exists[path]
        if path in renamed:
            out.append(FileChange(path, "renamed", renamed[path]))
        elif path in renamed.values():
            continue
        elif before and not after:
            out.append(FileChange(path, "removed"))
        elif after and not before:
            out.append(FileChange(path, "added"))
        elif before and after:
            out.append(FileChange(path, "modified"))
    return out


class GitHubState:
    """One repository's state plus the builders tests use to declare it."""

    def __init__(self, owner: str = "scope-ml", repo: str = "scope-catalog",
                 default_branch: str = "main") -> None:
        self.owner = owner
        self.repo = repo
        self.default_branch = default_branch
        self.base_url = "http://127.0.0.1"  # the API root; set by the server when it starts
        self.lock = threading.RLock()
        self.clock = Clock()
        self.created_at = self.clock.tick()
        self._ids = itertools.count(1_000_001)
        self.repo_id = next(self._ids)
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.workflows: dict[str, dict[str, bool]] = {}  # file name -> workflow_dispatch inputs (name -> required)
        self.dispatches: list[dict[str, Any]] = []  # every accepted workflow_dispatch, oldest first
        self.roles: dict[str, str] = {}
        self.private_members: set[str] = set()  # organisation members who keep their membership private
        self.commits: dict[str, Commit] = {}
        self.refs: dict[str, str] = {}  # "refs/heads/main" -> sha (of a commit or an annotated tag object)
        self.tag_objects: dict[str, TagObject] = {}
        self.issues: dict[int, Issue] = {}
        self.comment_store: dict[int, Comment] = {}
        self.reaction_store: dict[int, Reaction] = {}
        self.status_store: list[Status] = []
        self.release_store: dict[int, Release] = {}
        self.labels: dict[str, Label] = {}
        self.commit_pulls: dict[str, set[int]] = {}
        self.calls: list[tuple[str, str, int]] = []
        self.sample: Any = None  # what bot.local.github.sample.seed_sample() put here, if it ran
        self.user(owner, "Organization")
        self.user(ACTIONS_BOT, "Bot")

    def next_id(self) -> int:
        return next(self._ids)

    # ---- people ---------------------------------------------------------------------------------
    def user(self, login: str, type_: str | None = None) -> User:
        """The user ``login``, created on first mention (logins ending in ``[bot]`` are bots)."""
        with self.lock:
            found = self.users.get(login.lower())
            if found is None:
                kind = type_ or ("Bot" if login.endswith("[bot]") else "User")
                found = self.users[login.lower()] = User(login, self.next_id(), kind)
            return found

    def add_user(self, login: str) -> User:
        return self.user(login)

    def add_token(self, token: str, login: str, write: bool = True, scopes: frozenset[str] | None = None) -> None:
        """Let ``token`` act as ``login``; ``write=False`` makes it read-only, like a fork pull request's
        Actions token; ``scopes`` limits what else it may write (e.g. without "actions" no workflow_dispatch)."""
        with self.lock:
            self.user(login)
            self.tokens[token] = Token(login, write, scopes)

    def add_workflow(self, name: str, inputs: dict[str, bool]) -> None:
        """A workflow file with a ``workflow_dispatch`` trigger: input name -> required."""
        with self.lock:
            self.workflows[name] = dict(inputs)

    def set_permission(self, login: str, role: str | None) -> None:
        """Make ``login`` a collaborator with ``role`` (admin/maintain/write/triage/read); None removes
        them."""
        with self.lock:
            if role is None:
                self.roles.pop(login.lower(), None)
                return
            if role not in ROLES:
                raise StateError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
            self.user(login)
            self.roles[login.lower()] = role

    def role(self, login: str) -> str | None:
        return self.roles.get(login.lower())

    def can_push(self, token: Token) -> bool:
        if not token.write:
            return False
        if self.user(token.login).type == "Bot":
            return True  # the Actions token carries the workflow's permissions
        return self.role(token.login) in WRITE_ROLES

    # ---- history --------------------------------------------------------------------------------
    def add_commit(
        self,
        sha: str | None = None,
        parents: Iterable[str] = (),
        files: Mapping[str, Any] | Iterable[FileChange] | None = None,
        author: str | None = "octocat",
        message: str = "Update fields",
        author_name: str | None = None,
        author_email: str | None = None,
    ) -> str:
        """Declare a commit and the files it changed; returns its sha (made up when not given)."""
        with self.lock:
            parents = list(parents)
            for p in parents:
                if p not in self.commits:
                    raise StateError(f"commit {sha or message!r}: parent {p} is unknown; "
                                     "add the parent first")
            sha = sha or fake_sha(parents, message, len(self.commits), self.clock.tick())
            if author:
                self.user(author)
            name = author_name or author or "Unknown"
            email = author_email or (f"{self.user(author).id}+{author}@users.noreply.github.com"
                                     if author else "unknown@example.invalid")
            self.commits[sha] = Commit(sha, parents, file_changes(files), message, author, name, email,
                                       self.clock.tick())
            return sha

    def set_branch(self, name: str, sha: str) -> None:
        with self.lock:
            self._need_commit(sha)
            self.refs[f"refs/heads/{name}"] = sha

    def branch_sha(self, name: str | None = None) -> str | None:
        return self.refs.get(f"refs/heads/{name or self.default_branch}")

    def add_tag(self, name: str, sha: str, message: str | None = None) -> str:
        """A lightweight tag, or an annotated one when ``message`` is given; returns the ref's sha."""
        with self.lock:
            self._need_commit(sha)
            target = sha
            if message is not None:
                target = self.create_tag_object(name, message, sha, "commit", "release-bot",
                                                "bot@example.invalid")
            self.refs[f"refs/tags/{name}"] = target
            return target

    def create_tag_object(self, tag: str, message: str, obj: str, obj_type: str, name: str,
                          email: str) -> str:
        with self.lock:
            when = self.clock.tick()
            sha = fake_sha("tag", tag, message, obj, when)
            self.tag_objects[sha] = TagObject(sha, tag, message, obj, obj_type, name, email, when)
            return sha

    def peel(self, sha: str) -> str:
        """Follow annotated tag objects down to the commit."""
        while sha in self.tag_objects:
            sha = self.tag_objects[sha].object_sha
        return sha

    def resolve(self, ref: str) -> str | None:
        """A commit sha for a sha, a unique sha prefix (7+), a branch, a tag, or a full ref name."""
        ref = ref.strip()
        if ref in self.commits:
            return ref
        for name in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
            if name in self.refs:
                return self.peel(self.refs[name])
        if len(ref) >= 7:
            hits = [s for s in self.commits if s.startswith(ref.lower())]
            if len(hits) == 1:
                return hits[0]
        return None

    def ancestors(self, sha: str) -> set[str]:
        """``sha`` and every commit reachable from it."""
        seen: set[str] = set()
        todo = [sha]
        while todo:
            s = todo.pop()
            if s in seen or s not in self.commits:
                continue
            seen.add(s)
            todo.extend(self.commits[s].parents)
        return seen

    def commits_between(self, base: str, head: str) -> list[Commit]:
        """Commits reachable from head but not from base, oldest first (parents before children)."""
        exclude = self.ancestors(base)
        order: list[str] = []
        seen: set[str] = set()

        def visit(s: str) -> None:
            stack = [(s, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    order.append(node)
                    continue
                if node in seen or node in exclude or node not in self.commits:
                    continue
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(self.commits[node].parents))

        visit(head)
        return [self.commits[s] for s in order]

    def merge_base(self, base: str, head: str) -> str | None:
        common = self.ancestors(base) & self.ancestors(head)
        if not common:
            return None
        # the common ancestor that no other common ancestor descends from
        for s in common:
            if not any(s != other and s in self.ancestors(other) for other in common):
                return s
        return None  # pragma: no cover

    def _need_commit(self, sha: str) -> None:
        if sha not in self.commits:
            raise StateError(f"commit {sha} is unknown; declare it with add_commit() first")

    # ---- pulls and issues -----------------------------------------------------------------------
    def add_issue(self, number: int, title: str, author: str, body: str = "",
                  labels: Iterable[str] = ()) -> Issue:
        with self.lock:
            self._free_number(number)
            self.user(author)
            when = self.clock.tick()
            issue = Issue(number, self.next_id(), title, body, author, self._labels(labels), "open",
                          when, when)
            self.issues[number] = issue
            return issue

    def add_pull(
        self,
        number: int,
        title: str,
        author: str,
        head_sha: str | None = None,
        base_sha: str | None = None,
        files: Mapping[str, Any] | Iterable[FileChange] | None = None,
        labels: Iterable[str] = (),
        merged: bool = False,
        merge_commit_sha: str | None = None,
        body: str = "",
        head_ref: str | None = None,
        draft: bool = False,
        fork: bool = False,
    ) -> Pull:
        """Declare a pull request. Without a known ``head_sha`` a head commit is made from ``files`` on top of
        ``base_sha`` (default: the default branch's head). ``merged=True`` merges it at once."""
        with self.lock:
            self._free_number(number)
            self.user(author)
            base_sha = base_sha or self.branch_sha()
            if base_sha is None:
                raise StateError(f"pull #{number}: no base_sha and branch {self.default_branch!r} is not set")
            self._need_commit(base_sha)
            changes = file_changes(files) if files is not None else None
            if head_sha is None or head_sha not in self.commits:
                head_sha = self.add_commit(head_sha, [base_sha], changes or [], author, title)
            when = self.clock.tick()
            pull = Pull(number, self.next_id(), title, body, author, self._labels(labels), "open", when, when,
                        pull_id=self.next_id(), head_sha=head_sha, base_sha=base_sha,
                        head_ref=head_ref or f"{author}/pr-{number}", base_ref=self.default_branch,
                        files=changes, draft=draft, fork=fork)
            self.issues[number] = pull
            for c in self.commits_between(base_sha, head_sha):
                self.commit_pulls.setdefault(c.sha, set()).add(number)
            if merged:
                self.merge_pull(number, merge_commit_sha)
            return pull

    def merge_pull(self, number: int, merge_sha: str | None = None, method: str = "squash",
                   merged_by: str | None = None) -> str:
        """Merge pull ``number`` into the default branch (squash: one commit with the pull's files; merge: a
        two-parent commit), move the branch and link the commit to the pull. Returns the merge sha."""
        with self.lock:
            pull = self.pull(number)
            if pull is None:
                raise StateError(f"pull #{number} is unknown; add it with add_pull() first")
            if pull.merged:
                raise StateError(f"pull #{number} is already merged at {pull.merge_commit_sha}")
            main = self.branch_sha() or pull.base_sha
            message = f"{pull.title} (#{number})"
            if merge_sha not in self.commits:
                if method == "merge":
                    merge_sha = self.add_commit(merge_sha, [main, pull.head_sha], self.pull_files(number),
                                                merged_by or pull.author, f"Merge pull request #{number}")
                else:
                    merge_sha = self.add_commit(merge_sha, [main], self.pull_files(number), pull.author,
                                                message)
            assert merge_sha is not None
            when = self.clock.tick()
            pull.merged, pull.merged_at, pull.merge_commit_sha = True, when, merge_sha
            pull.state, pull.closed_at, pull.updated_at = "closed", when, when
            pull.merged_by = merged_by or self.owner
            self.refs[f"refs/heads/{self.default_branch}"] = merge_sha
            self.commit_pulls.setdefault(merge_sha, set()).add(number)
            return merge_sha

    def close_issue(self, number: int) -> None:
        with self.lock:
            issue = self.issues[number]
            issue.state, issue.closed_at = "closed", self.clock.tick()

    def pull(self, number: int) -> Pull | None:
        issue = self.issues.get(number)
        return issue if isinstance(issue, Pull) else None

    def pulls(self) -> list[Pull]:
        return [i for i in self.issues.values() if isinstance(i, Pull)]

    def pull_commits(self, number: int) -> list[Commit]:
        pull = self.issues[number]
        assert isinstance(pull, Pull)
        return self.commits_between(pull.base_sha, pull.head_sha)

    def pull_files(self, number: int) -> list[FileChange]:
        pull = self.issues[number]
        assert isinstance(pull, Pull)
        if pull.files is not None:
            return list(pull.files)
        return compose_changes(self.pull_commits(number))

    def pulls_for_commit(self, sha: str) -> list[Pull]:
        """As GitHub answers: merged pulls that brought a commit on the default branch, else open pulls."""
        numbers = sorted(self.commit_pulls.get(sha, ()))
        linked = [p for p in (self.pull(n) for n in numbers) if p is not None]
        head = self.branch_sha()
        if head and sha in self.ancestors(head):
            return [p for p in linked if p.merged]
        return [p for p in linked if p.state == "open"]

    def _labels(self, names: Iterable[str]) -> list[str]:
        out = []
        for name in names:
            if name.lower() not in self.labels:
                self.labels[name.lower()] = Label(self.next_id(), name)
            out.append(self.labels[name.lower()].name)
        return out

    def _free_number(self, number: int) -> None:
        if number in self.issues:
            raise StateError(f"#{number} already exists (issues and pulls share numbers); pick another")

    # ---- comments and reactions -----------------------------------------------------------------
    def add_comment(self, login: str, number: int, body: str) -> Comment:
        with self.lock:
            if number not in self.issues:
                raise StateError(f"#{number} is unknown; add the pull or issue first")
            self.user(login)
            when = self.clock.tick()
            comment = Comment(self.next_id(), number, self.user(login).login, body, when, when)
            self.comment_store[comment.id] = comment
            self.issues[number].updated_at = when
            return comment

    def may_edit(self, login: str, comment: Comment) -> bool:
        # "You must be the author or have write access to this repository to edit this comment"
        # (GraphQL enum CommentCannotEditReason, INSUFFICIENT_ACCESS; docs.github.com "Managing disruptive
        # comments": anyone with write access can edit anyone's comments on issues and pull requests).
        return comment.author.lower() == login.lower() or self.role(login) in WRITE_ROLES

    def react(self, login: str, comment_id: int, content: str) -> tuple[Reaction, bool]:
        """Add a reaction; returns (reaction, created) where created is False if it already existed."""
        with self.lock:
            for r in self.reaction_store.values():
                if r.comment_id == comment_id and r.user.lower() == login.lower() and r.content == content:
                    return r, False
            reaction = Reaction(self.next_id(), comment_id, self.user(login).login, content,
                                self.clock.tick())
            self.reaction_store[reaction.id] = reaction
            return reaction, True

    def tags(self) -> dict[str, str]:
        """Tag name -> the commit it points at (annotated tags peeled)."""
        with self.lock:
            return {ref.removeprefix("refs/tags/"): self.peel(sha)
                    for ref, sha in self.refs.items() if ref.startswith("refs/tags/")}

    def branches(self) -> dict[str, str]:
        with self.lock:
            return {ref.removeprefix("refs/heads/"): sha
                    for ref, sha in self.refs.items() if ref.startswith("refs/heads/")}
