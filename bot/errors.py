"""Exceptions that reach the CLI edge, each with the exit code CI should see."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDING = 1  # invalid data, a refused approval, drift: the bot worked and said "no"
EXIT_USAGE = 2  # bad arguments or configuration: fix the call, not the data


class BotError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = EXIT_FINDING

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(BotError):
    exit_code = EXIT_USAGE


class Finding(BotError):
    """The bot did its job and the answer is no (invalid data, refused approval, drift)."""

    exit_code = EXIT_FINDING
