"""Webhook event payloads as GitHub sends them to a workflow, and the environment a run would have.

The builders take the same JSON the REST API serves (``GitHubServer.pull_payload(n)``,
``.repo_payload()``, ``.issue_payload(n)``, ``.push_commits(before, after)``) so an event matches the
state the bot will read back; a repository may also be named by its ``"owner/name"`` alone.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENT_NAMES = ("pull_request", "push", "issue_comment", "workflow_dispatch", "schedule")
PULL_ACTIONS = ("opened", "synchronize", "reopened", "closed", "edited", "labeled", "unlabeled",
                "ready_for_review")
COMMENT_ACTIONS = ("created", "edited", "deleted")
PUBLIC_API = "https://api.github.com"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login: str, api_url: str = PUBLIC_API) -> dict[str, Any]:
    """A user object as events embed it (``sender``, ``user``)."""
    return {
        "login": login,
        "id": sum(ord(ch) * 31**i for i, ch in enumerate(login)) % 10**8,
        "type": "Bot" if login.endswith("[bot]") else "User",
        "url": f"{api_url}/users/{login}",
        "html_url": f"{server_url(api_url)}/{login}",
        "site_admin": False,
    }


def server_url(api_url: str) -> str:
    """The web root for an API root: api.github.com -> github.com; GHES strips /api/v3; a local server is
    both."""
    if api_url.rstrip("/") == PUBLIC_API:
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


def repository(full_name: str, api_url: str = PUBLIC_API, default_branch: str = "main") -> dict[str, Any]:
    """A minimal repository object for when no server state is at hand."""
    owner, _, name = full_name.partition("/")
    web = server_url(api_url)
    return {
        "id": sum(map(ord, full_name)),
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": {**user(owner, api_url), "type": "Organization"},
        "html_url": f"{web}/{full_name}",
        "url": f"{api_url}/repos/{full_name}",
        "fork": False,
        "default_branch": default_branch,
    }


def _repo(repo: Mapping[str, Any] | str) -> dict[str, Any]:
    return repository(repo) if isinstance(repo, str) else dict(repo)


def _sender(sender: Mapping[str, Any] | str, repo: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(sender, str):
        return dict(sender)
    api = str(repo.get("url", PUBLIC_API)).split("/repos/")[0]
    return user(sender, api)


def pull_request_event(action: str, pull: Mapping[str, Any], repo: Mapping[str, Any] | str,
                       sender: Mapping[str, Any] | str, *, before: str | None = None,
                       label: str | None = None) -> dict[str, Any]:
    """``pull_request``: ``pull`` is the pull as ``GET /pulls/{n}`` shows it; ``before`` goes with
    ``synchronize`` (the previous head), ``label`` with ``labeled``/``unlabeled``."""
    if action not in PULL_ACTIONS:
        raise ValueError(f"unknown pull_request action {action!r}; use one of {', '.join(PULL_ACTIONS)}")
    repo_obj = _repo(repo)
    event: dict[str, Any] = {
        "action": action,
        "number": pull["number"],
        "pull_request": dict(pull),
        "repository": repo_obj,
        "sender": _sender(sender, repo_obj),
    }
    if action == "synchronize":
        event["before"] = before or pull.get("base", {}).get("sha")
        event["after"] = pull["head"]["sha"]
    if label is not None:
        event["label"] = {"name": label}
    return event


def push_commit(sha: str, message: str, *, author_name: str, author_email: str, username: str | None = None,
                added: Sequence[str] = (), removed: Sequence[str] = (), modified: Sequence[str] = (),
                timestamp: str | None = None, repo_html_url: str = "") -> dict[str, Any]:
    """One entry of a push event's ``commits`` list."""
    person: dict[str, Any] = {"name": author_name, "email": author_email}
    if username:
        person["username"] = username
    return {
        "id": sha,
        "tree_id": sha[::-1],
        "distinct": True,
        "message": message,
        "timestamp": timestamp or _now(),
        "url": f"{repo_html_url}/commit/{sha}",
        "author": person,
        "committer": person,
        "added": list(added),
        "removed": list(removed),
        "modified": list(modified),
    }


def push_event(ref: str, before: str, after: str, repo: Mapping[str, Any] | str,
               pusher: Mapping[str, Any] | str, commits: Sequence[Mapping[str, Any]] = (),
               *, forced: bool = False) -> dict[str, Any]:
    """``push``: ``commits`` oldest first, as :func:`push_commit` builds them (or
    ``GitHubServer.push_commits(before, after)``)."""
    if not ref.startswith("refs/"):
        raise ValueError(f"push ref {ref!r} must be a full ref such as refs/heads/main")
    repo_obj = _repo(repo)
    pusher_login = pusher if isinstance(pusher, str) else str(pusher.get("login") or pusher.get("name"))
    # A push event's repository spells its owner with name/email and its main branch as master_branch.
    owner = dict(repo_obj.get("owner", {}))
    owner.setdefault("name", owner.get("login"))
    repo_obj = {**repo_obj, "owner": owner, "master_branch": repo_obj.get("default_branch", "main")}
    commit_list = [dict(c) for c in commits]
    zero = "0" * 40
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": repo_obj,
        "pusher": {"name": pusher_login, "email": None if pusher_login.endswith("[bot]") else
                   f"{pusher_login}@users.noreply.github.com"},
        "sender": _sender(pusher, repo_obj),
        "created": before == zero,
        "deleted": after == zero,
        "forced": forced,
        "base_ref": None,
        "compare": f"{repo_obj.get('html_url', '')}/compare/{before[:12]}...{after[:12]}",
        "commits": commit_list,
        "head_commit": commit_list[-1] if commit_list else None,
    }


def issue_comment_event(action: str, issue_number: int, comment_id: int, body: str,
                        commenter: Mapping[str, Any] | str, is_pull_request: bool = True,
                        repo: Mapping[str, Any] | str = "scope-ml/scope-catalog", *,
                        issue: Mapping[str, Any] | None = None, comment: Mapping[str, Any] | None = None,
                        previous_body: str | None = None) -> dict[str, Any]:
    """``issue_comment``: pass ``issue``/``comment`` (``GitHubServer.issue_payload(n)``, a comment from
    ``post_comment_as``) to match the server; ``previous_body`` goes with ``edited``."""
    if action not in COMMENT_ACTIONS:
        raise ValueError(f"unknown issue_comment action {action!r}; use one of {', '.join(COMMENT_ACTIONS)}")
    repo_obj = _repo(repo)
    author = _sender(commenter, repo_obj)
    api_repo = repo_obj["url"]
    web_repo = repo_obj.get("html_url", "")
    kind = "pull" if is_pull_request else "issues"
    issue_obj = dict(issue) if issue is not None else {
        "number": issue_number,
        "url": f"{api_repo}/issues/{issue_number}",
        "html_url": f"{web_repo}/{kind}/{issue_number}",
        "title": f"#{issue_number}",
        "user": author,
        "labels": [],
        "state": "open",
        "body": "",
    }
    if is_pull_request:
        issue_obj.setdefault("pull_request", {
            "url": f"{api_repo}/pulls/{issue_number}",
            "html_url": f"{web_repo}/pull/{issue_number}",
        })
    else:
        issue_obj.pop("pull_request", None)
    now = _now()
    comment_obj = dict(comment) if comment is not None else {
        "id": comment_id,
        "url": f"{api_repo}/issues/comments/{comment_id}",
        "html_url": f"{web_repo}/{kind}/{issue_number}#issuecomment-{comment_id}",
        "issue_url": f"{api_repo}/issues/{issue_number}",
        "user": author,
        "created_at": now,
        "updated_at": now,
        "author_association": "NONE",
    }
    comment_obj["id"], comment_obj["body"] = comment_id, body
    event: dict[str, Any] = {
        "action": action,
        "issue": issue_obj,
        "comment": comment_obj,
        "repository": repo_obj,
        "sender": author,
    }
    if action == "edited":
        event["changes"] = {"body": {"from": previous_body if previous_body is not None else ""}}
    return event


def workflow_dispatch_event(inputs: Mapping[str, Any], ref: str, repo: Mapping[str, Any] | str,
                            sender: Mapping[str, Any] | str,
                            workflow: str = ".github/workflows/dispatch.yml") -> dict[str, Any]:
    """``workflow_dispatch``: GitHub delivers every input as a string (booleans as "true"/"false")."""
    repo_obj = _repo(repo)
    as_text = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in inputs.items()}
    return {
        "inputs": as_text,
        "ref": ref if ref.startswith("refs/") else f"refs/heads/{ref}",
        "repository": repo_obj,
        "sender": _sender(sender, repo_obj),
        "workflow": workflow,
    }


def event_env(event_name: str, payload: Mapping[str, Any], *, api_url: str, token: str,
              workdir: str | Path | None = None, sha: str | None = None, ref: str | None = None,
              actor: str | None = None, run_id: int = 1, workspace: str | Path | None = None,
              ) -> dict[str, str]:
    """Write ``payload`` to ``<workdir>/event.json`` (and an empty job summary beside it) and return the
    ``GITHUB_*`` variables a workflow run of ``event_name`` would see.

    ``sha``/``ref`` default from the payload: a push's ``after``/``ref``; a pull request's head and
    ``refs/pull/<n>/merge``; for ``issue_comment`` and ``workflow_dispatch`` the default branch, whose head
    sha must be given.
    """
    if event_name not in EVENT_NAMES:
        raise ValueError(f"unknown event {event_name!r}; use one of {', '.join(EVENT_NAMES)}")
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="release-bot-event-"))
    folder.mkdir(parents=True, exist_ok=True)
    repo = payload["repository"]
    default_branch = repo.get("default_branch", "main")
    env: dict[str, str] = {}
    if event_name == "push":
        sha, ref = sha or payload["after"], ref or payload["ref"]
    elif event_name == "pull_request":
        pull = payload["pull_request"]
        sha = sha or pull["head"]["sha"]
        ref = ref or f"refs/pull/{pull['number']}/merge"
        env["GITHUB_HEAD_REF"] = pull["head"]["ref"]
        env["GITHUB_BASE_REF"] = pull["base"]["ref"]
    elif event_name == "workflow_dispatch":
        ref = ref or payload["ref"]
    ref = ref or f"refs/heads/{default_branch}"
    if not sha:
        raise ValueError(f"{event_name}: pass sha= (the head of {ref}); the payload does not carry it")
    event_path = folder / "event.json"
    event_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    files = {}
    for name, var in (("step_summary.md", "GITHUB_STEP_SUMMARY"), ("output.txt", "GITHUB_OUTPUT"),
                      ("env.txt", "GITHUB_ENV")):
        (folder / name).write_text("", encoding="utf-8")
        files[var] = str(folder / name)
    web = server_url(api_url)
    owner = repo["full_name"].split("/")[0]
    ref_name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    actor = actor or payload.get("sender", {}).get("login", "")
    env.update({
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": repo["full_name"],
        "GITHUB_REPOSITORY_OWNER": owner,
        "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": web,
        "GITHUB_GRAPHQL_URL": f"{api_url.rstrip('/')}/graphql",
        "GITHUB_TOKEN": token,
        "GITHUB_SHA": sha,
        "GITHUB_REF": ref,
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_REF_TYPE": "tag" if ref.startswith("refs/tags/") else "branch",
        "GITHUB_WORKSPACE": str(workspace or folder),
        "GITHUB_ACTOR": actor,
        "GITHUB_TRIGGERING_ACTOR": actor,
        "GITHUB_RUN_ID": str(run_id),
        "GITHUB_RUN_NUMBER": str(run_id),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": event_name,
        "GITHUB_JOB": event_name.replace("_", "-"),
        "RUNNER_TEMP": str(folder),
        **files,
    })
    return env
