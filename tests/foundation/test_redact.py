"""Tokens are masked in whatever the bot prints."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from bot.redact import MASK, RedactingStream, redact


@given(st.text(min_size=0, max_size=40), st.text(alphabet="abcdef0123456789_-", min_size=8, max_size=40),
       st.text(min_size=0, max_size=40))
def test_a_secret_never_survives(before, secret, after):
    assert secret not in redact(before + secret + after + secret, [secret])


def test_longer_secrets_are_masked_whole():
    assert redact("ghs_abcdef123456", ["abcdef", "ghs_abcdef123456"]) == MASK


def test_stream_masks_and_passes_everything_else():
    inner = io.StringIO()
    stream = RedactingStream(inner, ["tok-123456"])
    stream.write("Authorization: Bearer tok-123456\n")
    assert inner.getvalue() == f"Authorization: Bearer {MASK}\n"
    assert stream.getvalue() == inner.getvalue()  # other attributes reach the wrapped stream


def test_short_or_empty_values_are_not_secrets():
    assert redact("a b c", ["", "b"]) == "a b c"
