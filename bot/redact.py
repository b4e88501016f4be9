"""Keep tokens out of everything the bot prints, whatever code path prints it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

MASK = "***"


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret (of 4 characters or more) masked, longest first."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingStream:
    """A text stream that masks the given secrets before passing text on."""

    def __init__(self, inner: TextIO, secrets: Sequence[str]) -> None:
        self._inner = inner
        self._secrets = list(secrets)

    def write(self, text: str) -> int:
        self._inner.write(redact(text, self._secrets))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # isatty, flush, encoding, fileno...
        return getattr(self._inner, name)


@contextlib.contextmanager
def redacting_output(secrets: Sequence[str]) -> Iterator[None]:
    """Mask ``secrets`` in stdout and stderr for the duration of the block."""
    if not any(secrets):
        yield
        return
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(old_out, secrets)
    sys.stderr = RedactingStream(old_err, secrets)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
