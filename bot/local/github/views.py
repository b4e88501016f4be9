"""JSON shapes of the bundled GitHub server, as GitHub's REST API answers (the fields PyGithub reads)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from bot.local.github.state import (
    REACTIONS,
    ROLES,
    Asset,
    Comment,
    Commit,
    FileChange,
    GitHubState,
    Issue,
    Label,
    Pull,
    Reaction,
    Release,
    Status,
    TagObject,
)


def node_id(kind: str, ident: object) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")


def repo_url(s: GitHubState) -> str:
    return f"{s.base_url}/repos/{s.owner}/{s.repo}"


def html_url(s: GitHubState) -> str:
    return f"{s.base_url}/{s.owner}/{s.repo}"


def user_json(s: GitHubState, login: str) -> dict[str, Any]:
    u = s.user(login)
    api = f"{s.base_url}/users/{u.login}"
    return {
        "login": u.login,
        "id": u.id,
        "node_id": node_id(u.type, u.id),
        "avatar_url": f"{s.base_url}/avatars/u/{u.id}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{s.base_url}/{u.login}",
        "repos_url": f"{api}/repos",
        "type": u.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def repo_json(s: GitHubState) -> dict[str, Any]:
    url = repo_url(s)
    return {
        "id": s.repo_id,
        "node_id": node_id("Repository", s.repo_id),
        "name": s.repo,
        "full_name": f"{s.owner}/{s.repo}",
        "private": False,
        "owner": user_json(s, s.owner),
        "html_url": html_url(s),
        "description": "SCoPe variable-star classification catalog",
        "fork": False,
        "url": url,
        "pulls_url": f"{url}/pulls{{/number}}",
        "issues_url": f"{url}/issues{{/number}}",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "releases_url": f"{url}/releases{{/id}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "clone_url": f"{html_url(s)}.git",
        "created_at": s.created_at,
        "updated_at": s.created_at,
        "pushed_at": s.created_at,
        "default_branch": s.default_branch,
        "visibility": "public",
        "archived": False,
        "disabled": False,
        "has_issues": True,
    }


def fork_json(s: GitHubState, login: str) -> dict[str, Any]:
    """A contributor's fork of the repository, as a fork pull request's ``head.repo``."""
    out = repo_json(s)
    web = f"{s.base_url}/{login}/{s.repo}"
    out.update({"id": s.user(login).id + 7, "full_name": f"{login}/{s.repo}", "owner": user_json(s, login),
                "fork": True, "html_url": web, "url": f"{s.base_url}/repos/{login}/{s.repo}",
                "clone_url": f"{web}.git"})
    out["node_id"] = node_id("Repository", out["id"])
    return out


def label_json(s: GitHubState, name: str) -> dict[str, Any]:
    label: Label = s.labels[name.lower()]
    return {
        "id": label.id,
        "node_id": node_id("Label", label.id),
        "url": f"{repo_url(s)}/labels/{label.name}",
        "name": label.name,
        "color": label.color,
        "default": False,
        "description": label.description,
    }


def file_json(s: GitHubState, change: FileChange, sha: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sha": s.commits[sha].sha if sha in s.commits else sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{html_url(s)}/blob/{sha}/{change.filename}",
        "raw_url": f"{html_url(s)}/raw/{sha}/{change.filename}",
        "contents_url": f"{repo_url(s)}/contents/{change.filename}?ref={sha}",
    }
    if change.previous_filename:
        out["previous_filename"] = change.previous_filename
    return out


def commit_json(s: GitHubState, c: Commit, files: list[FileChange] | None = None) -> dict[str, Any]:
    """A commit as ``GET /commits/{sha}`` shows it; pass ``files`` (a page of them) to include files."""
    url = f"{repo_url(s)}/commits/{c.sha}"
    person = {"name": c.author_name, "email": c.author_email, "date": c.date}
    out: dict[str, Any] = {
        "sha": c.sha,
        "node_id": node_id("Commit", c.sha),
        "url": url,
        "html_url": f"{html_url(s)}/commit/{c.sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{repo_url(s)}/git/commits/{c.sha}",
            "message": c.message,
            "author": person,
            "committer": person,
            "tree": {"sha": c.sha[::-1], "url": f"{repo_url(s)}/git/trees/{c.sha[::-1]}"},
            "comment_count": 0,
        },
        "author": user_json(s, c.author) if c.author else None,
        "committer": user_json(s, c.author) if c.author else None,
        "parents": [{"sha": p, "url": f"{repo_url(s)}/commits/{p}", "html_url": f"{html_url(s)}/commit/{p}"}
                    for p in c.parents],
    }
    if files is not None:
        adds = sum(f.additions for f in c.files)
        dels = sum(f.deletions for f in c.files)
        out["stats"] = {"total": adds + dels, "additions": adds, "deletions": dels}
        out["files"] = [file_json(s, f, c.sha) for f in files]
    return out


def issue_json(s: GitHubState, issue: Issue) -> dict[str, Any]:
    url = f"{repo_url(s)}/issues/{issue.number}"
    kind = "pull" if isinstance(issue, Pull) else "issues"
    out: dict[str, Any] = {
        "id": issue.id,
        "node_id": node_id("Issue", issue.id),
        "url": url,
        "repository_url": repo_url(s),
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{html_url(s)}/{kind}/{issue.number}",
        "number": issue.number,
        "title": issue.title,
        "user": user_json(s, issue.author),
        "labels": [label_json(s, n) for n in issue.labels],
        "state": issue.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": sum(1 for c in s.comment_store.values() if c.issue == issue.number),
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "author_association": association(s, issue.author),
        "body": issue.body,
        "state_reason": "completed" if issue.state == "closed" else None,
    }
    if isinstance(issue, Pull):
        pulls = f"{repo_url(s)}/pulls/{issue.number}"
        out["pull_request"] = {
            "url": pulls,
            "html_url": out["html_url"],
            "diff_url": f"{out['html_url']}.diff",
            "patch_url": f"{out['html_url']}.patch",
            "merged_at": issue.merged_at,
        }
        out["draft"] = issue.draft
    return out


def association(s: GitHubState, login: str) -> str:
    role = s.role(login)
    if login.lower() == s.owner.lower():
        return "OWNER"
    if login.lower() in s.private_members:
        # An organisation member whose membership is private reads as CONTRIBUTOR (or NONE), whatever their
        # access (actions/github-script#643, rust-lang/triagebot#2094, community discussion 18690).
        contributed = any(p.merged and p.author.lower() == login.lower() for p in s.pulls())
        return "CONTRIBUTOR" if contributed else "NONE"
    if role in ("admin", "maintain", "write", "triage"):
        return "MEMBER" if role in ("admin", "maintain") else "COLLABORATOR"
    if any(p.merged and p.author.lower() == login.lower() for p in s.pulls()):
        return "CONTRIBUTOR"
    return "NONE"


def pull_json(s: GitHubState, pull: Pull) -> dict[str, Any]:
    url = f"{repo_url(s)}/pulls/{pull.number}"
    html = f"{html_url(s)}/pull/{pull.number}"
    repo = repo_json(s)
    files = s.pull_files(pull.number)
    return {
        "id": pull.pull_id,
        "node_id": node_id("PullRequest", pull.pull_id),
        "url": url,
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{repo_url(s)}/issues/{pull.number}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "comments_url": f"{repo_url(s)}/issues/{pull.number}/comments",
        "statuses_url": f"{repo_url(s)}/statuses/{pull.head_sha}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": user_json(s, pull.author),
        "body": pull.body,
        "labels": [label_json(s, n) for n in pull.labels],
        "milestone": None,
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
        "merged_at": pull.merged_at,
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "draft": pull.draft,
        "head": {
            "label": f"{pull.author}:{pull.head_ref}",
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "user": user_json(s, pull.author),
            "repo": fork_json(s, pull.author) if pull.fork else repo,
        },
        "base": {
            "label": f"{s.owner}:{pull.base_ref}",
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "user": user_json(s, s.owner),
            "repo": repo,
        },
        "author_association": association(s, pull.author),
        "merged": pull.merged,
        "mergeable": None if pull.merged else True,
        "mergeable_state": "unknown" if pull.merged else "clean",
        "merged_by": user_json(s, pull.merged_by) if pull.merged_by else None,
        "comments": sum(1 for c in s.comment_store.values() if c.issue == pull.number),
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": len(s.pull_commits(pull.number)),
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "changed_files": len(files),
    }


def reactions_summary(s: GitHubState, comment: Comment) -> dict[str, Any]:
    mine = [r for r in s.reaction_store.values() if r.comment_id == comment.id]
    out: dict[str, Any] = {"url": f"{repo_url(s)}/issues/comments/{comment.id}/reactions",
                           "total_count": len(mine)}
    for content in REACTIONS:
        out[content] = sum(1 for r in mine if r.content == content)
    return out


def comment_json(s: GitHubState, c: Comment) -> dict[str, Any]:
    kind = "pull" if isinstance(s.issues.get(c.issue), Pull) else "issues"
    return {
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "url": f"{repo_url(s)}/issues/comments/{c.id}",
        "html_url": f"{html_url(s)}/{kind}/{c.issue}#issuecomment-{c.id}",
        "issue_url": f"{repo_url(s)}/issues/{c.issue}",
        "body": c.body,
        "user": user_json(s, c.author),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "author_association": association(s, c.author),
        "reactions": reactions_summary(s, c),
        "performed_via_github_app": None,
    }


def reaction_json(s: GitHubState, r: Reaction) -> dict[str, Any]:
    return {"id": r.id, "node_id": node_id("Reaction", r.id), "user": user_json(s, r.user),
            "content": r.content, "created_at": r.created_at}


def permission_json(s: GitHubState, login: str) -> dict[str, Any]:
    role = s.role(login)
    permission, role_name = ROLES[role] if role else ("none", "none")
    return {"permission": permission, "role_name": role_name, "user": user_json(s, login)}


def status_json(s: GitHubState, st: Status) -> dict[str, Any]:
    return {
        "url": f"{repo_url(s)}/statuses/{st.sha}",
        "avatar_url": f"{s.base_url}/avatars/u/{s.user(st.creator).id}",
        "id": st.id,
        "node_id": node_id("StatusContext", st.id),
        "state": st.state,
        "description": st.description,
        "target_url": st.target_url,
        "context": st.context,
        "created_at": st.created_at,
        "updated_at": st.created_at,
        "creator": user_json(s, st.creator),
    }


def combined_status_json(s: GitHubState, sha: str) -> dict[str, Any]:
    latest: dict[str, Status] = {}
    for st in s.status_store:
        if st.sha == sha:
            latest[st.context] = st
    states = {st.state for st in latest.values()}
    if states & {"failure", "error"}:
        state = "failure"
    elif "pending" in states or not states:
        state = "pending"
    else:
        state = "success"
    return {
        "state": state,
        "statuses": [status_json(s, st) for st in latest.values()],
        "sha": sha,
        "total_count": len(latest),
        "repository": repo_json(s),
        "commit_url": f"{repo_url(s)}/commits/{sha}",
        "url": f"{repo_url(s)}/commits/{sha}/status",
    }


def ref_json(s: GitHubState, ref: str) -> dict[str, Any]:
    sha = s.refs[ref]
    kind = "tag" if sha in s.tag_objects else "commit"
    plural = "tags" if kind == "tag" else "commits"
    return {
        "ref": ref,
        "node_id": node_id("Ref", ref),
        "url": f"{repo_url(s)}/git/{ref}",
        "object": {"sha": sha, "type": kind, "url": f"{repo_url(s)}/git/{plural}/{sha}"},
    }


def tag_object_json(s: GitHubState, t: TagObject) -> dict[str, Any]:
    plural = "tags" if t.object_type == "tag" else "commits"
    return {
        "node_id": node_id("Tag", t.sha),
        "tag": t.tag,
        "sha": t.sha,
        "url": f"{repo_url(s)}/git/tags/{t.sha}",
        "message": t.message,
        "tagger": {"name": t.tagger_name, "email": t.tagger_email, "date": t.date},
        "object": {"type": t.object_type, "sha": t.object_sha,
                   "url": f"{repo_url(s)}/git/{plural}/{t.object_sha}"},
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
    }


def tag_json(s: GitHubState, name: str, sha: str) -> dict[str, Any]:
    return {
        "name": name,
        "commit": {"sha": sha, "url": f"{repo_url(s)}/commits/{sha}"},
        "zipball_url": f"{repo_url(s)}/zipball/refs/tags/{name}",
        "tarball_url": f"{repo_url(s)}/tarball/refs/tags/{name}",
        "node_id": node_id("Ref", f"refs/tags/{name}"),
    }


def branch_json(s: GitHubState, name: str) -> dict[str, Any]:
    sha = s.refs[f"refs/heads/{name}"]
    return {
        "name": name,
        "commit": commit_json(s, s.commits[sha]),
        "protected": False,
        "protection_url": f"{repo_url(s)}/branches/{name}/protection",
        "_links": {"self": f"{repo_url(s)}/branches/{name}", "html": f"{html_url(s)}/tree/{name}"},
    }


def release_json(s: GitHubState, r: Release) -> dict[str, Any]:
    url = f"{repo_url(s)}/releases/{r.id}"
    return {
        "url": url,
        "html_url": f"{html_url(s)}/releases/tag/{r.tag_name}",
        "assets_url": f"{url}/assets",
        "upload_url": f"{s.base_url}/uploads/repos/{s.owner}/{s.repo}/releases/{r.id}/assets{{?name,label}}",
        "tarball_url": f"{repo_url(s)}/tarball/{r.tag_name}",
        "zipball_url": f"{repo_url(s)}/zipball/{r.tag_name}",
        "id": r.id,
        "node_id": node_id("Release", r.id),
        "tag_name": r.tag_name,
        "target_commitish": r.target_commitish,
        "name": r.name,
        "body": r.body,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "created_at": r.created_at,
        "published_at": r.published_at,
        "author": user_json(s, r.author),
        "assets": [asset_json(s, r, a) for a in r.assets],
    }


def asset_json(s: GitHubState, r: Release, a: Asset) -> dict[str, Any]:
    """A release asset as the REST API shows it (docs.github.com/rest/releases/assets)."""
    return {
        "url": f"{repo_url(s)}/releases/assets/{a.id}",
        "browser_download_url": f"{html_url(s)}/releases/download/{r.tag_name}/{a.name}",
        "id": a.id,
        "node_id": node_id("ReleaseAsset", a.id),
        "name": a.name,
        "label": a.label,
        "state": "uploaded",
        "content_type": a.content_type,
        "size": len(a.data),
        "digest": "sha256:" + hashlib.sha256(a.data).hexdigest(),
        "download_count": 0,
        "created_at": a.created_at,
        "updated_at": a.created_at,
        "uploader": user_json(s, a.uploader),
    }
