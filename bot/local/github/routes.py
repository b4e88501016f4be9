"""The REST endpoints of the bundled GitHub server: each one reads or changes the state and answers JSON."""

from __future__ import annotations

from typing import Any

from bot.local.github import graphql, views
from bot.local.github.protocol import (
    NOT_ACCESSIBLE,
    ApiError,
    Request,
    Response,
    Router,
    invalid,
    not_found,
    page_of,
    paginate,
)
from bot.local.github.state import (
    REACTIONS,
    STATUS_STATES,
    Asset,
    Comment,
    GitHubState,
    Issue,
    Pull,
    Release,
    Status,
    compose_changes,
)

router = Router()
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
# GitHub's limit on issue and pull-request comment bodies, in characters (create and edit alike).
MAX_BODY = 65536
MAX_STATUS_DESCRIPTION = 140


# ---- GraphQL (one query: a comment's edit history) ---------------------------------------------
@router.add("POST", r"(?:/api)?/graphql")
def graphql_query(s: GitHubState, req: Request) -> Response:
    return Response(200, graphql.answer(s, req.body))


# ---- users -------------------------------------------------------------------------------------
@router.add("GET", r"/user")
def get_authenticated_user(s: GitHubState, req: Request) -> Response:
    if s.user(req.login).type == "Bot":
        raise ApiError(403, NOT_ACCESSIBLE)  # the Actions token has no user behind it
    return Response(200, views.user_json(s, req.login))


@router.add("GET", r"/users/(?P<login>[^/]+)")
def get_user(s: GitHubState, req: Request, login: str) -> Response:
    if login.lower() not in s.users:
        raise not_found()
    return Response(200, views.user_json(s, login))


@router.add("GET", r"/rate_limit")
def rate_limit(s: GitHubState, req: Request) -> Response:
    core = {"limit": 5000, "used": 0, "remaining": 5000, "reset": 0}
    return Response(200, {"resources": {"core": core}, "rate": core})


# ---- repository, branches, refs, tags ----------------------------------------------------------
@router.add("GET", REPO)
def get_repo(s: GitHubState, req: Request) -> Response:
    return Response(200, views.repo_json(s))


@router.add("GET", REPO + r"/branches")
def list_branches(s: GitHubState, req: Request) -> Response:
    names = sorted(s.branches())
    return page_of(s, req, names, lambda n: {"name": n, "commit": {
        "sha": s.refs[f"refs/heads/{n}"], "url": f"{views.repo_url(s)}/commits/{s.refs[f'refs/heads/{n}']}"},
        "protected": False})


@router.add("GET", REPO + r"/branches/(?P<branch>.+)")
def get_branch(s: GitHubState, req: Request, branch: str) -> Response:
    if f"refs/heads/{branch}" not in s.refs:
        raise ApiError(404, "Branch not found")
    return Response(200, views.branch_json(s, branch))


@router.add("GET", REPO + r"/git/ref/(?P<ref>.+)")
def get_ref(s: GitHubState, req: Request, ref: str) -> Response:
    full = f"refs/{ref}"
    if full not in s.refs:
        raise not_found()
    return Response(200, views.ref_json(s, full))


@router.add("GET", REPO + r"/git/refs(?:/(?P<prefix>.+))?")
def list_refs(s: GitHubState, req: Request, prefix: str | None = None) -> Response:
    full = f"refs/{prefix}" if prefix else "refs/"
    if full in s.refs:  # the old single-ref form
        return Response(200, views.ref_json(s, full))
    names = sorted(r for r in s.refs if r.startswith(full))
    if prefix and not names:
        raise not_found()
    return page_of(s, req, names, lambda r: views.ref_json(s, r))


@router.add("GET", REPO + r"/git/matching-refs/(?P<prefix>.*)")
def matching_refs(s: GitHubState, req: Request, prefix: str) -> Response:
    names = sorted(r for r in s.refs if r.startswith(f"refs/{prefix}"))
    return page_of(s, req, names, lambda r: views.ref_json(s, r))


@router.add("POST", REPO + r"/git/refs", push=True)
def create_ref(s: GitHubState, req: Request) -> Response:
    ref, sha = req.field("ref"), req.field("sha")
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if not isinstance(sha, str) or (sha not in s.commits and sha not in s.tag_objects):
        raise ApiError(422, "Object does not exist")
    if ref in s.refs:
        raise ApiError(422, "Reference already exists")
    s.refs[ref] = sha
    return Response(201, views.ref_json(s, ref))


@router.add("PATCH", REPO + r"/git/refs/(?P<ref>.+)", push=True)
def update_ref(s: GitHubState, req: Request, ref: str) -> Response:
    full, sha = f"refs/{ref}", req.field("sha")
    if full not in s.refs:
        raise ApiError(422, "Reference does not exist")
    if not isinstance(sha, str) or (sha not in s.commits and sha not in s.tag_objects):
        raise ApiError(422, "Object does not exist")
    fast_forward = s.refs[full] in s.ancestors(s.peel(sha))
    if not fast_forward and not req.field("force", False):
        raise ApiError(422, "Update is not a fast forward")
    s.refs[full] = sha
    return Response(200, views.ref_json(s, full))


@router.add("DELETE", REPO + r"/git/refs/(?P<ref>.+)", push=True)
def delete_ref(s: GitHubState, req: Request, ref: str) -> Response:
    if s.refs.pop(f"refs/{ref}", None) is None:
        raise ApiError(422, "Reference does not exist")
    return Response(204)


@router.add("POST", REPO + r"/git/tags", push=True)
def create_tag_object(s: GitHubState, req: Request) -> Response:
    tag, message, obj = req.field("tag"), req.field("message"), req.field("object")
    kind = req.field("type", "commit")
    for name, value in (("tag", tag), ("message", message), ("object", obj)):
        if not isinstance(value, str):
            raise invalid("Tag", name, "missing_field")
    if kind not in ("commit", "tree", "blob", "tag"):
        raise invalid("Tag", "type")
    if obj not in s.commits and obj not in s.tag_objects:
        raise ApiError(422, "Object does not exist")
    tagger = req.field("tagger") or {}
    name = tagger.get("name") or req.login
    email = tagger.get("email") or f"{s.user(req.login).id}+{req.login}@users.noreply.github.com"
    sha = s.create_tag_object(tag, message, obj, kind, name, email)
    return Response(201, views.tag_object_json(s, s.tag_objects[sha]))


@router.add("GET", REPO + r"/git/tags/(?P<sha>[0-9a-f]+)")
def get_tag_object(s: GitHubState, req: Request, sha: str) -> Response:
    if sha not in s.tag_objects:
        raise not_found()
    return Response(200, views.tag_object_json(s, s.tag_objects[sha]))


@router.add("GET", REPO + r"/tags")
def list_tags(s: GitHubState, req: Request) -> Response:
    tags = sorted(s.tags().items(), reverse=True)
    return page_of(s, req, tags, lambda t: views.tag_json(s, *t))


# ---- commits -----------------------------------------------------------------------------------
def _commit(s: GitHubState, ref: str) -> str:
    sha = s.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


@router.add("GET", REPO + r"/commits")
def list_commits(s: GitHubState, req: Request) -> Response:
    head = _commit(s, req.query.get("sha") or s.default_branch)
    history = list(reversed(s.commits_between("", head)))  # newest first
    path = req.query.get("path")
    if path:
        history = [c for c in history if any(f.filename.startswith(path) for f in c.files)]
    return page_of(s, req, history, lambda c: views.commit_json(s, c))


@router.add("GET", REPO + r"/commits/(?P<ref>[^/]+)")
def get_commit(s: GitHubState, req: Request, ref: str) -> Response:
    commit = s.commits[_commit(s, ref)]
    files, headers = paginate(s, req, commit.files, default=300, maximum=300)
    return Response(200, views.commit_json(s, commit, files), headers)


@router.add("GET", REPO + r"/commits/(?P<ref>[^/]+)/pulls")
def commit_pulls(s: GitHubState, req: Request, ref: str) -> Response:
    sha = _commit(s, ref)
    return page_of(s, req, s.pulls_for_commit(sha), lambda p: views.pull_json(s, p))


@router.add("GET", REPO + r"/statuses/(?P<ref>[^/]+)")  # the older form, which PyGithub uses
@router.add("GET", REPO + r"/commits/(?P<ref>[^/]+)/statuses")
def commit_statuses(s: GitHubState, req: Request, ref: str) -> Response:
    sha = _commit(s, ref)
    found = [st for st in reversed(s.status_store) if st.sha == sha]
    return page_of(s, req, found, lambda st: views.status_json(s, st))


@router.add("GET", REPO + r"/commits/(?P<ref>[^/]+)/status")
def combined_status(s: GitHubState, req: Request, ref: str) -> Response:
    return Response(200, views.combined_status_json(s, _commit(s, ref)))


@router.add("GET", REPO + r"/compare/(?P<basehead>.+)")
def compare(s: GitHubState, req: Request, basehead: str) -> Response:
    base_ref, sep, head_ref = basehead.partition("...")
    if not sep:
        raise not_found()
    base, head = s.resolve(base_ref), s.resolve(head_ref)
    if base is None or head is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    merge_base = s.merge_base(base, head)
    if merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead = s.commits_between(merge_base, head)
    behind = s.commits_between(merge_base, base)
    status = ("identical" if not ahead and not behind else "ahead" if not behind
              else "behind" if not ahead else "diverged")
    commits, headers = paginate(s, req, ahead, default=250, maximum=1000)
    files = compose_changes(ahead)[:300]
    url = f"{views.repo_url(s)}/compare/{base_ref}...{head_ref}"
    html = f"{views.html_url(s)}/compare/{base_ref}...{head_ref}"
    return Response(200, {
        "url": url,
        "html_url": html,
        "permalink_url": f"{views.html_url(s)}/compare/{base}...{head}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": views.commit_json(s, s.commits[base]),
        "merge_base_commit": views.commit_json(s, s.commits[merge_base]),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [views.commit_json(s, c) for c in commits],
        "files": [views.file_json(s, f, head) for f in files],
    }, headers)


# ---- pulls and issues --------------------------------------------------------------------------
def _pull(s: GitHubState, number: str) -> Pull:
    pull = s.pull(int(number))
    if pull is None:
        raise not_found()
    return pull


def _issue(s: GitHubState, number: str) -> Issue:
    issue = s.issues.get(int(number))
    if issue is None:
        raise not_found()
    return issue


@router.add("GET", REPO + r"/pulls")
def list_pulls(s: GitHubState, req: Request) -> Response:
    state = req.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise invalid("PullRequest", "state")
    pulls = [p for p in s.pulls() if state in ("all", p.state)]
    head, base = req.query.get("head"), req.query.get("base")
    if head:
        pulls = [p for p in pulls if head in (p.head_ref, f"{p.author}:{p.head_ref}")]
    if base:
        pulls = [p for p in pulls if p.base_ref == base]
    pulls.sort(key=lambda p: p.number, reverse=req.query.get("direction", "desc") == "desc")
    return page_of(s, req, pulls, lambda p: views.pull_json(s, p))


@router.add("GET", REPO + r"/pulls/(?P<number>\d+)")
def get_pull(s: GitHubState, req: Request, number: str) -> Response:
    return Response(200, views.pull_json(s, _pull(s, number)))


@router.add("GET", REPO + r"/pulls/(?P<number>\d+)/files")
def pull_files(s: GitHubState, req: Request, number: str) -> Response:
    pull = _pull(s, number)
    return page_of(s, req, s.pull_files(pull.number), lambda f: views.file_json(s, f, pull.head_sha))


@router.add("GET", REPO + r"/pulls/(?P<number>\d+)/commits")
def pull_commits(s: GitHubState, req: Request, number: str) -> Response:
    pull = _pull(s, number)
    return page_of(s, req, s.pull_commits(pull.number), lambda c: views.commit_json(s, c))


@router.add("GET", REPO + r"/issues/(?P<number>\d+)")
def get_issue(s: GitHubState, req: Request, number: str) -> Response:
    return Response(200, views.issue_json(s, _issue(s, number)))


@router.add("GET", REPO + r"/issues/(?P<number>\d+)/labels")
def issue_labels(s: GitHubState, req: Request, number: str) -> Response:
    return page_of(s, req, _issue(s, number).labels, lambda n: views.label_json(s, n))


@router.add("POST", REPO + r"/issues/(?P<number>\d+)/labels", push=True)
def add_labels(s: GitHubState, req: Request, number: str) -> Response:
    issue = _issue(s, number)
    names = req.field("labels") if isinstance(req.body, dict) else req.body
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise invalid("Label", "labels")
    for name in s._labels(names):
        if name not in issue.labels:
            issue.labels.append(name)
    return Response(200, [views.label_json(s, n) for n in issue.labels])


@router.add("DELETE", REPO + r"/issues/(?P<number>\d+)/labels/(?P<name>.+)", push=True)
def remove_label(s: GitHubState, req: Request, number: str, name: str) -> Response:
    issue = _issue(s, number)
    kept = [n for n in issue.labels if n.lower() != name.lower()]
    if len(kept) == len(issue.labels):
        raise ApiError(404, "Label does not exist")
    issue.labels[:] = kept
    return Response(200, [views.label_json(s, n) for n in issue.labels])


# ---- issue comments and reactions --------------------------------------------------------------
def _comment(s: GitHubState, comment_id: str) -> Comment:
    comment = s.comment_store.get(int(comment_id))
    if comment is None:
        raise not_found()
    return comment


def _body(req: Request) -> str:
    body = req.field("body")
    if not isinstance(body, str) or not body.strip():
        raise invalid("IssueComment", "body", "missing_field", "body cannot be blank")
    if len(body) > MAX_BODY:
        # The shape GitHub answers today, as PyGithub and Octokit report it (github.com/jmikedupont2/ai-ticket
        # issues/51, 2023; reg-viz/reg-actions issues/123, 2024): 422 "Validation Failed" with
        # {"resource": "IssueComment", "code": "unprocessable", "field": "data", "message": "Body is too long
        # (maximum is 65536 characters)"}. Older answers said code "custom", field "body" (danger/danger#424).
        raise invalid("IssueComment", "data", "unprocessable",
                      f"Body is too long (maximum is {MAX_BODY} characters)")
    return body


@router.add("GET", REPO + r"/issues/(?P<number>\d+)/comments")
def list_comments(s: GitHubState, req: Request, number: str) -> Response:
    issue = _issue(s, number)
    found = [c for c in s.comment_store.values() if c.issue == issue.number]
    since = req.query.get("since")
    if since:
        found = [c for c in found if c.updated_at >= since]
    return page_of(s, req, found, lambda c: views.comment_json(s, c))


@router.add("POST", REPO + r"/issues/(?P<number>\d+)/comments")
def create_comment(s: GitHubState, req: Request, number: str) -> Response:
    issue = _issue(s, number)
    return Response(201, views.comment_json(s, s.add_comment(req.login, issue.number, _body(req))))


@router.add("GET", REPO + r"/issues/comments/(?P<comment_id>\d+)")
def get_comment(s: GitHubState, req: Request, comment_id: str) -> Response:
    return Response(200, views.comment_json(s, _comment(s, comment_id)))


def _may_edit(s: GitHubState, req: Request, comment: Comment) -> None:
    if not s.may_edit(req.login, comment):
        bot = s.user(req.login).type == "Bot"
        raise ApiError(403, NOT_ACCESSIBLE if bot else "Must have admin rights to Repository.")


@router.add("PATCH", REPO + r"/issues/comments/(?P<comment_id>\d+)")
def edit_comment(s: GitHubState, req: Request, comment_id: str) -> Response:
    comment = _comment(s, comment_id)
    _may_edit(s, req, comment)
    comment.edit(s.user(req.login).login, _body(req), s.clock.tick())
    return Response(200, views.comment_json(s, comment))


@router.add("DELETE", REPO + r"/issues/comments/(?P<comment_id>\d+)")
def delete_comment(s: GitHubState, req: Request, comment_id: str) -> Response:
    comment = _comment(s, comment_id)
    _may_edit(s, req, comment)
    del s.comment_store[comment.id]
    for rid in [r.id for r in s.reaction_store.values() if r.comment_id == comment.id]:
        del s.reaction_store[rid]
    return Response(204)


@router.add("GET", REPO + r"/issues/comments/(?P<comment_id>\d+)/reactions")
def list_reactions(s: GitHubState, req: Request, comment_id: str) -> Response:
    comment = _comment(s, comment_id)
    content = req.query.get("content")
    found = [r for r in s.reaction_store.values()
             if r.comment_id == comment.id and content in (None, r.content)]
    return page_of(s, req, found, lambda r: views.reaction_json(s, r))


@router.add("POST", REPO + r"/issues/comments/(?P<comment_id>\d+)/reactions")
def create_reaction(s: GitHubState, req: Request, comment_id: str) -> Response:
    comment = _comment(s, comment_id)
    content = req.field("content")
    if content not in REACTIONS:
        raise invalid("Reaction", "content", "invalid",
                      f"content must be one of {', '.join(REACTIONS)}")
    reaction, created = s.react(req.login, comment.id, content)
    return Response(201 if created else 200, views.reaction_json(s, reaction))


@router.add("DELETE", REPO + r"/issues/comments/(?P<comment_id>\d+)/reactions/(?P<reaction_id>\d+)")
def delete_reaction(s: GitHubState, req: Request, comment_id: str, reaction_id: str) -> Response:
    reaction = s.reaction_store.get(int(reaction_id))
    if reaction is None or reaction.comment_id != int(comment_id):
        raise not_found()
    if reaction.user.lower() != req.login.lower() and s.role(req.login) != "admin":
        raise ApiError(403, NOT_ACCESSIBLE)
    del s.reaction_store[reaction.id]
    return Response(204)


# ---- collaborators -----------------------------------------------------------------------------
@router.add("GET", REPO + r"/collaborators/(?P<login>[^/]+)/permission")
def collaborator_permission(s: GitHubState, req: Request, login: str) -> Response:
    if login.lower() not in s.users:
        raise not_found()
    return Response(200, views.permission_json(s, login))


@router.add("GET", REPO + r"/collaborators/(?P<login>[^/]+)")
def is_collaborator(s: GitHubState, req: Request, login: str) -> Response:
    if s.role(login) is None:
        raise not_found()
    return Response(204)


# ---- statuses ----------------------------------------------------------------------------------
@router.add("POST", REPO + r"/statuses/(?P<sha>[^/]+)", push=True)
def create_status(s: GitHubState, req: Request, sha: str) -> Response:
    if sha not in s.commits:
        raise ApiError(422, f"No commit found for SHA: {sha}")
    state = req.field("state")
    if state not in STATUS_STATES:
        raise invalid("Status", "state", "custom", "state is not included in the list")
    description = req.field("description")
    if isinstance(description, str) and len(description) > MAX_STATUS_DESCRIPTION:
        raise invalid("Status", "description", "custom",
                      f"description is too long (maximum is {MAX_STATUS_DESCRIPTION} characters)")
    status = Status(s.next_id(), sha, state, req.field("context") or "default", description,
                    req.field("target_url"), req.login, s.clock.tick())
    s.status_store.append(status)
    return Response(201, views.status_json(s, status))


# ---- releases ----------------------------------------------------------------------------------
def _release(s: GitHubState, release_id: str) -> Release:
    release = s.release_store.get(int(release_id))
    if release is None:
        raise not_found()
    return release


def _ensure_tag(s: GitHubState, release: Release) -> None:
    """Publishing a release of a missing tag makes the tag at ``target_commitish``, as GitHub does."""
    if release.draft or f"refs/tags/{release.tag_name}" in s.refs:
        return
    sha = s.resolve(release.target_commitish)
    if sha is None:
        raise invalid("Release", "target_commitish", "invalid")
    s.refs[f"refs/tags/{release.tag_name}"] = sha


@router.add("GET", REPO + r"/releases")
def list_releases(s: GitHubState, req: Request) -> Response:
    return page_of(s, req, list(reversed(s.release_store.values())), lambda r: views.release_json(s, r))


@router.add("POST", REPO + r"/releases", push=True)
def create_release(s: GitHubState, req: Request) -> Response:
    tag = req.field("tag_name")
    if not isinstance(tag, str) or not tag:
        raise invalid("Release", "tag_name", "missing_field")
    if any(r.tag_name == tag for r in s.release_store.values()):
        raise invalid("Release", "tag_name", "already_exists")
    draft = bool(req.field("draft", False))
    when = s.clock.tick()
    release = Release(s.next_id(), tag, req.field("target_commitish") or s.default_branch, req.field("name"),
                      req.field("body"), draft, bool(req.field("prerelease", False)), req.login, when,
                      None if draft else when)
    _ensure_tag(s, release)
    s.release_store[release.id] = release
    return Response(201, views.release_json(s, release))


@router.add("GET", REPO + r"/releases/latest")
def latest_release(s: GitHubState, req: Request) -> Response:
    published = [r for r in s.release_store.values() if not r.draft and not r.prerelease]
    if not published:
        raise not_found()
    return Response(200, views.release_json(s, max(published, key=lambda r: (r.published_at or "", r.id))))


@router.add("GET", REPO + r"/releases/tags/(?P<tag>.+)")
def release_by_tag(s: GitHubState, req: Request, tag: str) -> Response:
    for release in s.release_store.values():
        if release.tag_name == tag and not release.draft:
            return Response(200, views.release_json(s, release))
    raise not_found()


@router.add("GET", REPO + r"/releases/(?P<release_id>\d+)")
def get_release(s: GitHubState, req: Request, release_id: str) -> Response:
    return Response(200, views.release_json(s, _release(s, release_id)))


@router.add("PATCH", REPO + r"/releases/(?P<release_id>\d+)", push=True)
def update_release(s: GitHubState, req: Request, release_id: str) -> Response:
    release = _release(s, release_id)
    tag = req.field("tag_name", release.tag_name)
    if tag != release.tag_name and any(r.tag_name == tag for r in s.release_store.values()):
        raise invalid("Release", "tag_name", "already_exists")
    updates: dict[str, Any] = {k: req.field(k) for k in ("name", "body", "target_commitish")
                               if isinstance(req.body, dict) and k in req.body}
    for key, value in updates.items():
        setattr(release, key, value)
    release.tag_name = tag
    release.prerelease = bool(req.field("prerelease", release.prerelease))
    draft = bool(req.field("draft", release.draft))
    if release.draft and not draft:
        release.published_at = s.clock.tick()
    release.draft = draft
    _ensure_tag(s, release)
    return Response(200, views.release_json(s, release))


@router.add("DELETE", REPO + r"/releases/(?P<release_id>\d+)", push=True)
def delete_release(s: GitHubState, req: Request, release_id: str) -> Response:
    del s.release_store[_release(s, release_id).id]
    return Response(204)


# ---- actions -----------------------------------------------------------------------------------
@router.add("POST", REPO + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches")
def dispatch_workflow(s: GitHubState, req: Request, workflow: str) -> Response:
    """Create a workflow_dispatch event (docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event).

    204 without a body; the token needs actions: write ("Resource not accessible by integration" otherwise).
    422s as GitHub words them: "No ref found for: <ref>" and "Unexpected inputs provided: [...]" (quoted in
    convictional/trigger-workflow-and-wait#44 and peter-evans/slash-command-dispatch#115). A run started so
    is the exception to "events made with GITHUB_TOKEN start no run" (docs.github.com, "Triggering a workflow
    from a workflow").
    """
    if req.token is None or (req.token.scopes is not None and "actions" not in req.token.scopes):
        raise ApiError(403, NOT_ACCESSIBLE)
    inputs_def = s.workflows.get(workflow)
    if inputs_def is None:
        raise not_found()
    ref, inputs = req.field("ref"), req.field("inputs", {}) or {}
    # "The git reference for the workflow. The reference can be a branch or tag name." (not a sha)
    if not isinstance(ref, str) or not any(n in s.refs for n in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}")):
        raise ApiError(422, f"No ref found for: {ref}")
    if not isinstance(inputs, dict) or len(inputs) > 10:
        raise invalid("WorkflowDispatch", "inputs")
    unexpected = sorted(set(inputs) - set(inputs_def))
    if unexpected:
        raise ApiError(422, "Unexpected inputs provided: [" + ", ".join(f'"{k}"' for k in unexpected) + "]")
    missing = [k for k, required in inputs_def.items() if required and k not in inputs]
    if missing:
        raise ApiError(422, f"Required input '{missing[0]}' not provided")
    s.dispatches.append({"workflow": workflow, "ref": ref, "inputs": {k: str(v) for k, v in inputs.items()},
                         "by": req.login})
    return Response(204)


# ---- release assets (docs.github.com/rest/releases/assets) --------------------------------------
def _asset(s: GitHubState, asset_id: str) -> tuple[Release, Asset]:
    for release in s.release_store.values():
        for asset in release.assets:
            if asset.id == int(asset_id):
                return release, asset
    raise not_found()


@router.add("POST", REPO + r"/releases/(?P<release_id>\d+)/assets", push=True)
def upload_asset(s: GitHubState, req: Request, release_id: str) -> Response:
    """Only through the upload host: the API host has no such POST. The name comes from the query; the
    Content-Type header is required; a name already taken is a 422 (delete the old asset first)."""
    if not isinstance(req.body, bytes):
        raise not_found()
    release = _release(s, release_id)
    name = req.query.get("name", "")
    if not name:
        raise invalid("ReleaseAsset", "name", "missing_field")
    if not req.content_type:
        raise ApiError(422, "Validation Failed", [{"resource": "ReleaseAsset", "field": "content_type",
                                                    "code": "missing_field"}])
    if any(a.name == name for a in release.assets):
        raise invalid("ReleaseAsset", "name", "already_exists")
    asset = Asset(s.next_id(), name, req.query.get("label") or None, req.content_type, req.body, req.login,
                  s.clock.tick())
    release.assets.append(asset)
    return Response(201, views.asset_json(s, release, asset))


@router.add("GET", REPO + r"/releases/(?P<release_id>\d+)/assets")
def list_assets(s: GitHubState, req: Request, release_id: str) -> Response:
    release = _release(s, release_id)
    return page_of(s, req, list(release.assets), lambda a: views.asset_json(s, release, a))


@router.add("GET", REPO + r"/releases/assets/(?P<asset_id>\d+)")
def get_asset(s: GitHubState, req: Request, asset_id: str) -> Response:
    release, asset = _asset(s, asset_id)
    return Response(200, views.asset_json(s, release, asset))


@router.add("DELETE", REPO + r"/releases/assets/(?P<asset_id>\d+)", push=True)
def delete_asset(s: GitHubState, req: Request, asset_id: str) -> Response:
    release, asset = _asset(s, asset_id)
    release.assets.remove(asset)
    return Response(204)
