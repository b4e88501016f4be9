"""``release-bot handle-event``: route a GitHub Actions event to its handler.

One small handler per event, each reading the payload into plain values and calling the release
services. Nothing below this module reads the raw payload.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot import gitrepo
from bot.config import Config
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
from bot.flow.context import RunContext, context_from_env, load_trusted_config
from bot.redact import redacting_output

Handler = Callable[[RunContext, dict[str, Any]], int]
HANDLERS: dict[str, Handler] = {}


def handles(event: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[event] = func
        return func

    return register


def _payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise UsageError("GITHUB_EVENT_PATH is not set", hint="handle-event runs inside a GitHub Actions job")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the event payload {path} is not a JSON object")
    return data


def _trusted_ref(event: str, payload: dict[str, Any], env: Mapping[str, str]) -> str | None:
    """The commit whose release-config.yaml this run may trust.

    A pull request's own config could name other curators or another Zenodo: validation reads the
    base branch's; push and comment runs check out the default branch, whose HEAD is trusted.
    """
    if event == "pull_request":
        return (payload.get("pull_request") or {}).get("base", {}).get("sha")
    return env.get("GITHUB_SHA") if event == "push" else "HEAD"


def handle(env: Mapping[str, str], config: Config | None = None) -> int:
    """Run the handler of the event described by ``env`` (the GitHub Actions environment)."""
    event = env.get("GITHUB_EVENT_NAME", "")
    handler = HANDLERS.get(event)
    if handler is None:
        raise UsageError(
            f"no handler for the event {event!r}",
            hint=f"handle-event knows: {', '.join(sorted(HANDLERS))}",
        )
    payload = _payload(env)
    if config is None:
        workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
        config = load_trusted_config(workspace, _trusted_ref(event, payload, env))
    ctx = context_from_env(env, config)
    with redacting_output(ctx.secrets()):
        return handler(ctx, payload)


def run(args: argparse.Namespace) -> int:
    return handle(os.environ)


# -- the handlers ----------------------------------------------------------------------------------


@handles("pull_request")
def on_pull_request(ctx: RunContext, payload: dict[str, Any]) -> int:
    from bot.flow.pr_check import check_pull_request, pull_range

    pull = payload.get("pull_request") or {}
    base, head = pull_range(ctx.repo_dir, pull["base"]["sha"], pull["head"]["sha"])
    report = check_pull_request(ctx, base=base, head=head, number=int(pull.get("number", 0)))
    return EXIT_OK if report.valid else EXIT_FINDING


@handles("push")
def on_push(ctx: RunContext, payload: dict[str, Any]) -> int:
    from bot.flow.draft import draft_for_push

    default = (payload.get("repository") or {}).get("default_branch", "main")
    if payload.get("ref") != f"refs/heads/{default}":
        print(f"push to {payload.get('ref')!r} is not the default branch: nothing to release")
        return EXIT_OK
    return draft_for_push(ctx, head=payload.get("after") or gitrepo.resolve(ctx.repo_dir, "HEAD"))


@handles("issue_comment")
def on_issue_comment(ctx: RunContext, payload: dict[str, Any]) -> int:
    from bot.flow.approve import ApprovalComment, handle_approval

    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    if not issue.get("pull_request"):
        return EXIT_OK  # approvals live on pull requests only
    outcome = handle_approval(
        ctx,
        ctx.github(),
        ApprovalComment(
            pr_number=int(issue["number"]),
            comment_id=int(comment["id"]),
            body=str(comment.get("body") or ""),
            commenter=str((comment.get("user") or {}).get("login") or ""),
            action=str(payload.get("action") or ""),
        ),
    )
    if outcome.kind == "refused" and outcome.refusal is not None:
        print(f"approval refused ({outcome.refusal.code})", file=sys.stderr)
        return EXIT_FINDING
    if outcome.kind == "published" and outcome.record is not None:
        print(f"published {outcome.state.version if outcome.state else ''}: {outcome.record.doi}")
        ctx.write_summary(f"Published **{outcome.state.version if outcome.state else ''}**: "
                          f"DOI `{outcome.record.doi}`")
    return EXIT_OK


@handles("workflow_dispatch")
def on_workflow_dispatch(ctx: RunContext, payload: dict[str, Any]) -> int:
    from bot.flow import status as command

    inputs = payload.get("inputs") or {}
    action = str(inputs.get("action") or "status")
    dry_run = str(inputs.get("dry_run", "false")).lower() == "true"
    ctx.dry_run = dry_run
    if action == "draft":
        from bot.flow.draft import draft_for_push

        return draft_for_push(ctx, head=gitrepo.resolve(ctx.repo_dir, "HEAD"))
    if action == "publish":
        draft_id = str(inputs.get("draft_id") or "")
        if not draft_id.isdigit():
            raise UsageError(f"draft_id {draft_id!r} is not a Zenodo record id", hint="digits only")
        from bot.flow.approve import publish_dispatched

        sender = str((payload.get("sender") or {}).get("login") or "")
        return publish_dispatched(ctx, draft_id, sender)
    if action == "status":
        return command.report_status(ctx, fmt="text")
    raise UsageError(f"unknown action {action!r}", hint="use draft, publish or status")


@handles("schedule")
def on_schedule(ctx: RunContext, payload: dict[str, Any]) -> int:
    from bot.flow import status as command

    return command.report_status(ctx, fmt="text")
