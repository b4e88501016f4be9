"""The one GraphQL query the bot sends: who edited an issue comment, and when.

GitHub's REST API shows only a comment's current body and ``updated_at``; the edit history lives in GraphQL
(``IssueComment.userContentEdits``, ``editor``, ``lastEditedAt``:
https://docs.github.com/en/graphql/reference/objects#issuecomment and
https://docs.github.com/en/graphql/reference/objects#usercontentedit). This module answers exactly that
query, by node id, and answers anything else the way GitHub answers a query it cannot run: HTTP 200 with
an ``errors`` list (https://docs.github.com/en/graphql/guides/forming-calls-with-graphql).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.local.github.state import Comment, GitHubState


def _error(message: str, kind: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if kind:
        error["type"] = kind
    return {"data": None, "errors": [error]}


def _login(s: GitHubState, login: str) -> dict[str, str]:
    # GraphQL's Bot.login has no "[bot]" suffix (REST's user.login has it): "github-actions".
    user = s.user(login)
    return {"login": user.login.removesuffix("[bot]") if user.type == "Bot" else user.login}


def _comment_by_node(s: GitHubState, node: str) -> Comment | None:
    try:
        kind, _, ident = base64.b64decode(node + "=" * (-len(node) % 4)).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if kind != "IssueComment" or not ident.isdigit():
        return None
    return s.comment_store.get(int(ident))


def answer(s: GitHubState, body: Any) -> dict[str, Any]:
    """The JSON answer to a GraphQL request body ``{"query": ..., "variables": {...}}``."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _error("A query attribute must be specified and must be a string.")
    query = body["query"]
    variables = body.get("variables") or {}
    if "userContentEdits" not in query or "node(id:" not in query.replace(" ", ""):
        return _error("this server answers only the comment edit-history query")
    comment = _comment_by_node(s, str(variables.get("id", "")))
    if comment is None:
        return _error(f"Could not resolve to a node with the global id of '{variables.get('id')}'", "NOT_FOUND")
    last = comment.edits[-1] if comment.edits else None
    # Newest first, as GitHub lists a comment's revisions; the creation is the oldest entry once edited.
    nodes = [{"editedAt": e.edited_at, "editor": _login(s, e.editor)} for e in reversed(comment.edits)]
    return {"data": {"node": {
        "__typename": "IssueComment",
        "createdAt": comment.created_at,
        "lastEditedAt": last.edited_at if last else None,
        "editor": _login(s, last.editor) if last else None,
        "userContentEdits": {"totalCount": len(nodes), "nodes": nodes},
    }}}
