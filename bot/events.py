"""``release-bot handle-event``: route a GitHub Actions event to the stage that handles it.

Each stage registers its own handlers (``bot.flow.router.Router``); this module only combines them,
reads the event payload and builds the run's context. The handlers read the payload into plain values;
nothing below them reads the raw payload.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from bot.config import Config
from bot.errors import EXIT_OK
from bot.flow import approve, draft, fanout, pr_check, recover, status
from bot.flow.context import context_from_env, load_trusted_config
from bot.flow.router import DISPATCH, Handler, Payload, Router, dispatch_input, read_payload
from bot.redact import redacting_output

ROUTER = Router(pr_check.router, draft.router, approve.router, status.router)


def _trusted_ref(event: str, payload: Payload, env: Mapping[str, str]) -> str | None:
    """The commit whose release-config.yaml this run may trust.

    A pull request's own config could name other curators or another Zenodo: validation reads the
    base branch's; push and comment runs check out the default branch, whose HEAD is trusted.
    """
    if event == "pull_request":
        sha = (payload.get("pull_request") or {}).get("base", {}).get("sha")
        return str(sha) if sha else None
    return env.get("GITHUB_SHA") if event == "push" else "HEAD"


def handle(env: Mapping[str, str], config: Config | None = None, handler: Handler | None = None) -> int:
    """Run the handler of the event described by ``env`` (the GitHub Actions environment), or ``handler``."""
    event = env.get("GITHUB_EVENT_NAME", "")
    payload = read_payload(env)
    handler = handler or ROUTER.handler_for(event, payload)
    if handler is None:
        print(f"nothing to do for {event} ({payload.get('action')})")
        return EXIT_OK
    if config is None:
        workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
        config = load_trusted_config(workspace, _trusted_ref(event, payload, env))
    ctx = context_from_env(env, config)
    if event == DISPATCH:
        ctx.dry_run = dispatch_input(payload, "dry_run", "false").lower() == "true"
    with redacting_output(ctx.secrets()):
        return handler(ctx, payload)


def run(args: argparse.Namespace) -> int:
    return handle(os.environ)


# -- the approval workflow's first and last jobs (outside the release queue) --------------------------


def approve_filter(env: Mapping[str, str]) -> int:
    return handle(env, handler=recover.on_approval_filter)


def approve_unprocessed(env: Mapping[str, str], result: str) -> int:
    return handle(env, handler=lambda ctx, payload: recover.on_unprocessed(ctx, payload, result))


def run_approve_filter(args: argparse.Namespace) -> int:
    return approve_filter(os.environ)


def run_approve_unprocessed(args: argparse.Namespace) -> int:
    return approve_unprocessed(os.environ, args.result)


# -- a pull request's check fanned out over a matrix of jobs ------------------------------------------


def run_pr_plan(args: argparse.Namespace) -> int:
    return handle(os.environ, handler=fanout.on_plan)


def run_pr_group(args: argparse.Namespace) -> int:
    return handle(os.environ, handler=lambda ctx, payload: fanout.on_group(ctx, payload, args.group))


def run_pr_gather(args: argparse.Namespace) -> int:
    return handle(os.environ, handler=lambda ctx, payload: fanout.on_gather(ctx, payload, Path(args.reports)))
