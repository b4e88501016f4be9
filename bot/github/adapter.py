"""The bot's only door to GitHub: a few calls over PyGithub, answered with plain values.

Handlers never see PyGithub objects or exceptions: results are the dataclasses of ``bot.github.models``
and every failure is a ``GitHubError`` that names the call, the HTTP status and what to do about it.
The token is scrubbed from every message.

Retries: idempotent calls (GET, PATCH, PUT, DELETE) are retried on 5xx by urllib3; any call, POST
included, is retried on a rate limit (GitHub did not act on it). A POST that fails with a 5xx may still
have happened, so the adapter looks for its effect before trying again (no second comment, tag or release).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest

from bot import __version__
from bot.errors import BotError
from bot.github.models import ChangedFile, CommentEdit, CommentInfo, Permission, PullInfo
from bot.trailers import co_authors

__all__ = [
    "REACTIONS",
    "ChangedFile",
    "CommentInfo",
    "GitHubAdapter",
    "GitHubError",
    "Permission",
    "PullInfo",
]

T = TypeVar("T")

REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
STATUS_STATES = frozenset({"error", "failure", "pending", "success"})
STATUS_DESCRIPTION_MAX = 140  # GitHub rejects longer commit-status descriptions

_HINTS: dict[int, str] = {
    401: "the token was refused: check that the workflow passes GITHUB_TOKEN (or a valid token) to the bot",
    403: "the token lacks a permission: check the workflow job's `permissions:` block",
    404: "check the repository name, the pull request number or the ref "
    "(a token without access also sees 404)",
    409: "the repository is in a conflicting state (empty, or a ref moved): rerun the workflow",
    422: "GitHub refused the request as invalid: the message above says which field",
}
class GitHubError(BotError):
    """A GitHub call failed; ``status`` is the HTTP status, or None when no answer came back."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class _Retry(GithubRetry):
    """GitHub's retry policy, except that a POST is never replayed blindly after a 5xx."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code >= 500:
            return False
        return super().is_retry(method, status_code, has_retry_after)


def _gh_message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict):
        text = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(
                str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e) for e in errors
            )
            text = f"{text} ({details})" if text else details
        return text or exc.message or "no message"
    if isinstance(data, str) and data.strip() and not data.lstrip().startswith("<"):
        return data.strip()[:300]
    return exc.message or "no message"  # an HTML page from a proxy says nothing useful


def _pull_info(pr: PullRequest) -> PullInfo:
    # Only fields present in list answers (GET /commits/{sha}/pulls) are read, so no hidden extra calls:
    # list answers have ``merged_at`` but not ``merged``.
    return PullInfo(
        number=pr.number,
        title=pr.title or "",
        author=pr.user.login if pr.user is not None else "",
        labels=tuple(label.name for label in pr.labels),
        state=pr.state,
        merged=pr.merged_at is not None,
        merge_commit_sha=pr.merge_commit_sha,
        html_url=pr.html_url,
        head_sha=pr.head.sha,
        base_sha=pr.base.sha,
        body=pr.body or "",
    )


def _comment_info(c: IssueComment) -> CommentInfo:
    return CommentInfo(
        id=c.id,
        author=c.user.login if c.user is not None else "",
        body=c.body or "",
        created_at=c.created_at,
        updated_at=c.updated_at,
        html_url=c.html_url or "",
        node_id=c.node_id or "",
    )


# A comment's revisions: IssueComment.userContentEdits, UserContentEdit.editedAt / editor
# (https://docs.github.com/en/graphql/reference/objects#issuecomment,
#  https://docs.github.com/en/graphql/reference/objects#usercontentedit).
_EDITS_QUERY = """query($id: ID!) {
  node(id: $id) {
    ... on IssueComment {
      createdAt
      lastEditedAt
      editor { login }
      userContentEdits(first: 100) { totalCount nodes { editedAt editor { login } } }
    }
  }
}"""


class GitHubAdapter:
    """What the bot needs from one GitHub repository, and nothing more."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repo: str,
        bot_login: str = "github-actions[bot]",
        *,
        retries: int = 3,
        backoff: float | None = None,
        timeout: int = 30,
    ) -> None:
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise GitHubError(
                f"{repo!r} is not a repository name", hint='use "owner/name", e.g. "scope-ml/scope"'
            )
        self.repo_name = repo
        self.bot_login = bot_login
        self._token = token
        # Short exponential back-off between retries; rate-limit answers say how long to wait themselves.
        retry = _Retry(
            total=retries,
            backoff_factor=0.25 if backoff is None else backoff,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"}),
            secondary_rate_wait=60.0,
            max_rate_limit_wait=300.0,
            raise_on_status=False,
        )
        self._gh = Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token) if token else None,
            retry=retry,
            timeout=timeout,
            user_agent=f"release-bot/{__version__}",
            per_page=100,
            lazy=True,  # no request until a value is read: each adapter call costs the calls it names
            # A run makes a handful of writes; secondary rate limits are honoured by the retry instead
            # of pacing every request.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._repo = self._gh.get_repo(repo)
        self._default_branch: str | None = None
        self._retries = retries

    # -- plumbing -----------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        """Turn PyGithub and network failures into a GitHubError naming the call."""
        try:
            yield
        except GithubException as exc:
            raise GitHubError(
                self._scrub(f"GitHub {self.repo_name}: {what} failed: HTTP {exc.status}: {_gh_message(exc)}"),
                status=exc.status,
                hint=_HINTS.get(exc.status, "GitHub may be having trouble: rerun the workflow later"),
            ) from None
        except requests.RequestException as exc:
            raise GitHubError(
                self._scrub(f"GitHub {self.repo_name}: {what} failed: no answer ({type(exc).__name__})"),
                hint="check the API URL and the network; rerun the workflow when GitHub answers again",
            ) from None

    def _post_once(self, what: str, post: Callable[[], T], already_done: Callable[[], T | None]) -> T:
        """POST, and after a 5xx look for the effect before trying again: the first try may have landed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._call(what):
                    return post()
            except GitHubError as exc:
                if exc.status is None or exc.status < 500 or attempt > self._retries:
                    raise
            found = already_done()
            if found is not None:
                return found

    # -- pull requests ------------------------------------------------------------------------------

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """Pull requests that contain ``sha`` (for a merge commit on the default branch: the merged PR)."""
        with self._call(f"list pull requests of commit {sha[:12]}"):
            return [_pull_info(pr) for pr in self._repo.get_commit(sha).get_pulls()]

    def pull(self, number: int) -> PullInfo:
        with self._call(f"read pull request #{number}"):
            return _pull_info(self._repo.get_pull(number))

    def pull_files(self, number: int) -> list[ChangedFile]:
        """The PR's changed files (GitHub lists at most 3,000; diff with git when a PR may hold more)."""
        with self._call(f"list files of pull request #{number}"):
            return [
                ChangedFile(f.filename, f.status, f.previous_filename or None)
                for f in self._repo.get_pull(number).get_files()
            ]

    def pull_commit_authors(self, number: int) -> list[str]:
        """Everyone who wrote a commit of the PR: GitHub logins (git names when the commit is not linked to
        an account) and the ``Co-authored-by:`` trailers, first appearance first, without duplicates."""
        seen: dict[str, str] = {}
        with self._call(f"list commits of pull request #{number}"):
            for commit in self._repo.get_pull(number).get_commits():
                git = commit.commit
                login = commit.author.login if commit.author is not None else None
                names = [login or (git.author.name if git.author is not None else "")]
                names += co_authors(git.message)
                for name in names:
                    if name:
                        seen.setdefault(name.casefold(), name)
        return list(seen.values())

    # -- comments -----------------------------------------------------------------------------------

    def _comment_object(self, comment_id: int) -> IssueComment:
        # Issue comments live at /issues/comments/{id}, whatever the issue number.
        return IssueComment(self._gh.requester, url=f"{self._repo.url}/issues/comments/{int(comment_id)}")

    def comment(self, comment_id: int) -> CommentInfo:
        with self._call(f"read comment {comment_id}"):
            obj = self._comment_object(comment_id)
            obj.complete()
            return _comment_info(obj)

    def comment_edits(self, comment: CommentInfo) -> list[CommentEdit]:
        """Who saved each revision of ``comment``, oldest first (empty when it was never edited).

        GraphQL gives bots' logins without the REST "[bot]" suffix; ``editor`` is given as REST spells it
        for the bot's own login. More than 100 revisions are refused: the oldest would be missing.
        """
        if not comment.node_id:
            raise GitHubError(f"comment {comment.id} has no node id", hint="read it through the REST API first")
        with self._call(f"read the edit history of comment {comment.id}"):
            _, data = self._gh.requester.graphql_query(_EDITS_QUERY, {"id": comment.node_id})
        node = (data.get("data") or {}).get("node") or {}
        edits = node.get("userContentEdits") or {}
        if int(edits.get("totalCount") or 0) > 100:
            raise GitHubError(f"comment {comment.id} has more than 100 revisions",
                              hint="post a fresh summary (rerun the draft) instead of editing this one")
        bot_short = self.bot_login.removesuffix("[bot]").casefold()
        out = []
        for entry in edits.get("nodes") or []:
            login = (entry.get("editor") or {}).get("login")
            if login is not None and login.casefold() == bot_short:
                login = self.bot_login
            out.append(CommentEdit(editor=login, edited_at=str(entry.get("editedAt") or "")))
        return sorted(out, key=lambda e: e.edited_at)

    def comments(self, number: int) -> list[CommentInfo]:
        with self._call(f"list comments of #{number}"):
            return [_comment_info(c) for c in self._repo.get_issue(number).get_comments()]

    def find_sticky(self, number: int, marker: str) -> CommentInfo | None:
        """The bot's own comment carrying ``marker``; a marker pasted by anyone else is ignored."""
        for c in self.comments(number):
            if c.author == self.bot_login and marker in c.body:
                return c
        return None

    def upsert_sticky(self, number: int, marker: str, body: str) -> CommentInfo:
        """Make the bot's one comment with ``marker`` read ``body``: edit it in place, or post it once."""
        if marker not in body:
            body = f"{marker}\n{body}"
        current = self.find_sticky(number, marker)
        if current is not None:
            if current.body == body:
                return current  # a rerun with nothing new: no write
            with self._call(f"edit comment {current.id} on #{number}"):
                obj = self._comment_object(current.id)
                obj.edit(body)  # PATCH answers with the whole comment: no second read needed
                return _comment_info(obj)
        return self._post_once(
            f"comment on #{number}",
            lambda: _comment_info(self._repo.get_issue(number).create_comment(body)),
            lambda: self.find_sticky(number, marker),
        )

    def reply(self, number: int, body: str) -> CommentInfo:
        def landed() -> CommentInfo | None:
            mine = [c for c in self.comments(number) if c.author == self.bot_login and c.body == body]
            return mine[-1] if mine else None

        return self._post_once(
            f"comment on #{number}",
            lambda: _comment_info(self._repo.get_issue(number).create_comment(body)),
            landed,
        )

    def react(self, comment_id: int, content: str) -> None:
        """Add a reaction (GitHub keeps one per user and content, so repeating it is harmless)."""
        if content not in REACTIONS:
            raise GitHubError(f"{content!r} is not a GitHub reaction", hint=f"use one of {sorted(REACTIONS)}")
        self._post_once(
            f"react {content} to comment {comment_id}",
            lambda: self._comment_object(comment_id).create_reaction(content),
            lambda: None,
        )

    # -- people -------------------------------------------------------------------------------------

    def permission(self, login: str) -> Permission:
        """The user's access to the repository; someone GitHub does not know has none."""
        url = f"{self._repo.url}/collaborators/{quote(login, safe='')}/permission"
        try:
            with self._call(f"read the permission of {login}"):
                _, data = self._gh.requester.requestJsonAndCheck("GET", url)
        except GitHubError as exc:
            if exc.status == 404:
                return Permission("none", "none")
            raise
        permission = str(data.get("permission") or "none")
        return Permission(permission, str(data.get("role_name") or permission))

    # -- commits, branches, statuses ----------------------------------------------------------------

    def set_status(
        self, sha: str, state: str, context: str, description: str, target_url: str | None = None
    ) -> None:
        if state not in STATUS_STATES:
            raise GitHubError(
                f"{state!r} is not a commit status state", hint=f"use one of {sorted(STATUS_STATES)}"
            )
        if len(description) > STATUS_DESCRIPTION_MAX:
            description = description[: STATUS_DESCRIPTION_MAX - 1] + "…"
        payload: dict[str, Any] = {"state": state, "context": context, "description": description}
        if target_url:
            payload["target_url"] = target_url
        # A second status with the same context replaces the first: replaying is harmless.
        self._post_once(
            f"set status {context!r} on {sha[:12]}",
            lambda: self._gh.requester.requestJsonAndCheck(
                "POST", f"{self._repo.url}/statuses/{quote(sha, safe='')}", input=payload
            ),
            lambda: None,
        )

    def dispatch_workflow(self, workflow: str, ref: str, inputs: dict[str, str]) -> None:
        """Start ``workflow`` (a file name under .github/workflows) on ``ref`` through ``workflow_dispatch``.

        The one event a run's GITHUB_TOKEN may start another run with (needs ``actions: write``). GitHub
        answers 204 and no run id. Not retried after a 5xx: a second run would only queue a second draft.
        """
        url = f"{self._repo.url}/actions/workflows/{quote(workflow, safe='')}/dispatches"
        with self._call(f"start workflow {workflow} on {ref}"):
            self._gh.requester.requestJsonAndCheck("POST", url, input={"ref": ref, "inputs": inputs})

    def branch_head(self, branch: str) -> str:
        with self._call(f"read branch {branch!r}"):
            return self._repo.get_branch(branch).commit.sha

    def default_branch(self) -> str:
        if self._default_branch is None:
            with self._call("read the repository"):
                self._default_branch = self._repo.default_branch
        return self._default_branch

    def changed_files_between(self, base: str, head: str) -> list[ChangedFile]:
        """Files changed from ``base`` to ``head`` (three-dot compare: what ``head`` added since the fork).

        GitHub's compare lists at most 300 files: enough to ask "did the fields change?", not for a full diff.
        """
        with self._call(f"compare {base[:12]}...{head[:12]}"):
            return [
                ChangedFile(f.filename, f.status, f.previous_filename or None)
                for f in self._repo.compare(base, head).files
            ]

    # -- tags and releases --------------------------------------------------------------------------

    def is_ancestor(self, base: str, head: str) -> bool:
        """Is ``base`` in ``head``'s history? (The compare API's status: ``ahead`` or ``identical``.)"""
        # https://docs.github.com/en/rest/commits/commits#compare-two-commits (status: diverged, ahead,
        # behind or identical)
        with self._call(f"compare {base[:12]}...{head[:12]}"):
            return str(self._repo.compare(base, head).status) in ("ahead", "identical")

    def tag_commit(self, name: str) -> str | None:
        """The commit tag ``name`` points at, or None when there is no such tag."""
        return self._tag_target(name)

    def _tag_target(self, name: str) -> str | None:
        """The commit a tag points at (through an annotated tag object), or None when there is no tag."""
        try:
            with self._call(f"read tag {name!r}"):
                ref = self._repo.get_git_ref(f"tags/{name}")
                obj_type, obj_sha = ref.object.type, ref.object.sha
                if obj_type == "tag":
                    return self._repo.get_git_tag(obj_sha).object.sha
                return obj_sha
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    def create_tag(self, name: str, sha: str, message: str) -> bool:
        """Tag ``sha`` with an annotated tag. True when created, False when it already pointed there;
        a tag of that name on another commit is an error (tags are never moved)."""
        existing = self._tag_target(name)
        if existing is None:
            with self._call(f"create tag object {name!r}"):
                tag = self._repo.create_git_tag(name, message, sha, "commit")
            try:
                self._post_once(
                    f"create ref refs/tags/{name}",
                    lambda: self._repo.create_git_ref(f"refs/tags/{name}", tag.sha),
                    lambda: self._tag_target(name),
                )
                return True
            except GitHubError as exc:
                if exc.status != 422:  # 422: the ref appeared meanwhile (a concurrent run)
                    raise
            existing = self._tag_target(name)
        if existing == sha:
            return False
        raise GitHubError(
            f"GitHub {self.repo_name}: tag {name!r} already points at {str(existing)[:12]}, not {sha[:12]}",
            status=409,
            hint="a release with this version was made from another commit: check the version, "
            "or delete the stray tag if it was made by mistake",
        )

    def create_or_update_release(self, tag: str, name: str, body: str) -> str:
        """The GitHub release of ``tag`` with this name and body; returns its page's URL."""

        def existing() -> Any | None:
            try:
                with self._call(f"read release {tag!r}"):
                    return self._repo.get_release(tag)
            except GitHubError as exc:
                if exc.status == 404:
                    return None
                raise

        release = existing()
        if release is None:
            release = self._post_once(
                f"create release {tag!r}",
                lambda: self._repo.create_git_release(tag, name, body),
                existing,
            )
            return str(release.html_url)
        with self._call(f"read release {tag!r}"):
            same = release.name == name and (release.body or "") == body
        if not same:
            with self._call(f"update release {tag!r}"):
                release = release.update_release(name, body)
        return str(release.html_url)

    def upload_release_asset(self, tag: str, name: str, data: bytes, content_type: str) -> str:
        """Attach ``data`` to the release of ``tag`` as ``name``; returns its download URL.

        GitHub refuses a second asset of the same name (422), so an asset of that name and size is taken
        as this one (the bot's pictures are deterministic) and one of another size is replaced.
        """
        with self._call(f"read release {tag!r}"):
            release = self._repo.get_release(tag)
            assets = list(release.get_assets())
        for asset in assets:
            if asset.name == name and asset.size == len(data):
                return str(asset.browser_download_url)
            if asset.name == name:
                with self._call(f"delete the old release asset {name!r}"):
                    asset.delete_asset()

        def uploaded() -> Any | None:
            with self._call(f"list the assets of release {tag!r}"):
                return next((a for a in release.get_assets() if a.name == name and a.size == len(data)), None)

        asset = self._post_once(
            f"upload release asset {name!r}",
            lambda: release.upload_asset_from_memory(io.BytesIO(data), len(data), name=name,
                                                     content_type=content_type),
            uploaded,
        )
        return str(asset.browser_download_url)
