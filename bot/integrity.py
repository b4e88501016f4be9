"""What an approval may trust, in two small pieces of cryptography.

* The bot's seal on its summary comment. Anyone with write access can edit any comment, the bot's
  included, so the state the approval checks (draft id, source commit, pull requests, files, content
  digest) is signed with HMAC-SHA256. The key is derived from ``ZENODO_TOKEN``: only jobs in the ``zenodo``
  environment hold it, no new secret is needed, and a rotated token simply voids pending summaries (a
  rebuild signs them again). An HMAC output reveals nothing about its key.
* A digest of what Zenodo would publish: the metadata a curator reviews (title, creators, description,
  notes, version, access) and the files' md5s, read from the draft itself. The summary records it when the
  draft is built; the approval and the publish step recompute it from Zenodo and refuse any difference.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.errors import UsageError

_KEY_LABEL = b"release-bot summary state v1"
# The parts of a record a curator approves; publication_date is set by the publish step itself.
_METADATA_KEYS = ("title", "creators", "description", "additional_descriptions", "version")


def state_key(zenodo_token: str | None) -> bytes:
    """The key that seals summaries, derived from the Zenodo token (never the token itself)."""
    if not zenodo_token:
        raise UsageError(
            "ZENODO_TOKEN is not set, so the bot's summaries can be neither sealed nor checked",
            hint="the release, approval and dispatch jobs run in the 'zenodo' environment, which holds it",
        )
    return hmac.new(zenodo_token.strip().encode(), _KEY_LABEL, hashlib.sha256).digest()


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal(key: bytes, data: Mapping[str, Any]) -> str:
    """The hex HMAC of ``data`` (as canonical JSON)."""
    return hmac.new(key, canonical_json(dict(data)), hashlib.sha256).hexdigest()


def sealed_by(key: bytes, data: Mapping[str, Any], mac: object) -> bool:
    # As bytes: compare_digest refuses str holding non-ASCII, which an edited block may carry.
    return isinstance(mac, str) and hmac.compare_digest(seal(key, data).encode(), mac.encode("utf-8"))


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_digest(record: Mapping[str, Any], files: Mapping[str, str | None]) -> str:
    """24 hex digits over what a version publishes: reviewed metadata, access, and each file's md5."""
    metadata = record.get("metadata") or {}
    content = {
        "metadata": {k: metadata.get(k) for k in _METADATA_KEYS},
        "access": record.get("access"),
        "files": {key: (md5 or "").lower().removeprefix("md5:") for key, md5 in sorted(files.items())},
    }
    return hashlib.sha256(canonical_json(content)).hexdigest()[:24]
