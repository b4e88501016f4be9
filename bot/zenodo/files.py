"""Where a published file's bytes can be read, and opening the previous catalog zip from there.

Two links lead to a published file on an InvenioRDM site such as zenodo.org:
- the record page's link, ``https://zenodo.org/records/<id>/files/<key>?download=1`` (outside ``/api``):
  public files need no token, and zenodo.org answers byte ranges there;
- the API's ``/api/records/<id>/files/<key>/content``: zenodo.org ignores ``Range`` there and sends the
  whole file.
The reader prefers the first and falls back on the second; it handles either answer (ranges or a whole
file read front to back), so neither link's behaviour is assumed.
"""

from __future__ import annotations

import logging
import urllib.parse

from bot.catalog.errors import SourceError
from bot.catalog.previous import PreviousCatalog, open_previous

log = logging.getLogger("bot.zenodo")

# Answers that mean "not here for you": an instance without the page, a restricted or missing file.
_FALL_BACK_ON = frozenset({401, 403, 404, 406, 410})


def _quote(key: str) -> str:
    return urllib.parse.quote(key, safe="")


def record_page_file_url(api_url: str, record_id: str, key: str) -> str | None:
    """The record page's download link, or None when ``api_url`` is not a site's ``.../api``."""
    base = api_url.rstrip("/")
    if not base.endswith("/api"):
        return None
    return f"{base.removesuffix('/api')}/records/{record_id}/files/{_quote(key)}?download=1"


def api_file_content_url(api_url: str, record_id: str, key: str) -> str:
    return f"{api_url.rstrip('/')}/records/{record_id}/files/{_quote(key)}/content"


def open_published_zip(api_url: str, record_id: str, key: str, token: str | None) -> PreviousCatalog:
    """The previous catalog zip, from the record page's link when it answers, else from the API."""
    page = record_page_file_url(api_url, record_id, key)
    if page is not None:
        try:
            previous = open_previous(page)  # a public file: the token is not sent to the web pages
        except SourceError as exc:
            if exc.status not in _FALL_BACK_ON:
                raise
            log.info("the record page's link answered HTTP %s: reading the zip from the API", exc.status)
        else:
            log.info("previous zip %s: %s", key, previous.source_description)
            return previous
    previous = open_previous(api_file_content_url(api_url, record_id, key), token=token)
    log.info("previous zip %s: %s", key, previous.source_description)
    return previous
