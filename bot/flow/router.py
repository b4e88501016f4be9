"""Which stage handles which GitHub event.

Each stage keeps a ``Router`` and registers its handlers on it for the events (and actions) it cares
about; ``bot.events`` only combines the stages' routers. A handler reads the payload into plain values,
calls its stage and returns an exit code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.flow.context import RunContext

Payload = dict[str, Any]
Handler = Callable[[RunContext, Payload], int]

# The manual workflow's action is an input the person chose, not something GitHub sets.
DISPATCH = "workflow_dispatch"
DEFAULT_DISPATCH_ACTION = "status"


def action_of(event: str, payload: Payload) -> str:
    """The action a handler is chosen by: the payload's ``action``, or the dispatch input ``action``."""
    if event == DISPATCH:
        return str((payload.get("inputs") or {}).get("action") or DEFAULT_DISPATCH_ACTION)
    return str(payload.get("action") or "")


def dispatch_input(payload: Payload, name: str, default: str = "") -> str:
    """One input of a ``workflow_dispatch`` event, as text."""
    return str((payload.get("inputs") or {}).get(name, default))


class Router:
    """event (and optionally action) -> handler; a handler registered without an action takes them all."""

    def __init__(self, *routers: Router) -> None:
        self._routes: dict[tuple[str, str | None], Handler] = {}
        for router in routers:
            for key, handler in router._routes.items():
                self._add(key, handler)

    def _add(self, key: tuple[str, str | None], handler: Handler) -> None:
        if key in self._routes:
            raise ValueError(f"two handlers for {key[0]}/{key[1] or '*'}")
        self._routes[key] = handler

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self._add((event, action), handler)
            return handler

        return add

    @property
    def events(self) -> list[str]:
        return sorted({event for event, _ in self._routes})

    def actions(self, event: str) -> list[str]:
        return sorted(action for e, action in self._routes if e == event and action is not None)

    def handler_for(self, event: str, payload: Payload) -> Handler | None:
        """The handler of this event; None when no stage cares about its action (nothing to do).

        Unknown events and unknown dispatch actions are usage errors: a workflow calls the wrong thing.
        """
        if event not in self.events:
            raise UsageError(f"no handler for the event {event!r}",
                             hint=f"handle-event knows: {', '.join(self.events)}")
        action = action_of(event, payload)
        handler = self._routes.get((event, action)) or self._routes.get((event, None))
        if handler is None and event == DISPATCH:
            raise UsageError(f"unknown action {action!r}", hint=f"use {', '.join(self.actions(event))}")
        return handler


def read_payload(env: Mapping[str, str]) -> Payload:
    """The event payload GitHub Actions wrote to ``$GITHUB_EVENT_PATH``."""
    path = env.get("GITHUB_EVENT_PATH")
    what = f"the {env.get('GITHUB_EVENT_NAME') or 'GitHub'} event payload"
    if not path:
        raise UsageError("GITHUB_EVENT_PATH is not set", hint="handle-event runs inside a GitHub Actions job")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}",
                         hint="GITHUB_EVENT_PATH must name the event's JSON file") from None
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path} is not a JSON object")
    return data
