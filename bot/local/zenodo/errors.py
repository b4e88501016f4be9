"""An HTTP error answer as a value: status, message and the per-field errors InvenioRDM lists."""

from __future__ import annotations

from typing import Any

from bot.local.zenodo.metadata import FieldError


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None, extra: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or []  # error entries already in their wire shape (community checks)


PERMISSION_DENIED = "Permission denied."


def not_found(what: str, hint: str = "") -> ApiError:
    return ApiError(404, f"{what} does not exist." + (f" {hint}" if hint else ""))
