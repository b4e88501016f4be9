"""The sticky summary comment on a merged PR, and the bot's other replies.

The summary carries a machine-readable state block (what the approval checks against) and the release
notes between two markers, so a curator may edit them and the next rebuild can keep the edits. Parse state
only from the comment ``GitHubAdapter.find_sticky`` returned: the bot's own, never one a user wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.github.approval import Refusal
from bot.github.markdown import code_span, doi_link, link, neutralise_comment_markers
from bot.github.models import DraftFile, PendingRelease
from bot.integrity import seal, sealed_by, text_sha

SUMMARY_MARKER = "<!-- release-bot:summary -->"
NOTES_START = "<!-- release-bot:notes-start -->"
NOTES_END = "<!-- release-bot:notes-end -->"
STATE_OPEN = "<!-- release-bot:state "
_STATE = re.compile(r"<!-- release-bot:state (\{[^<>]*\}) -->")
_NOTES = re.compile(re.escape(NOTES_START) + r"\n?(.*?)\n?" + re.escape(NOTES_END), re.DOTALL)
_HEX40 = re.compile(r"[0-9a-f]{40}")
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9.:-]+/[A-Za-z0-9._~/%+-]*")  # a plain URL: nothing to escape
_CHANGES = ("added", "replaced", "carried")
STATE_VERSION = 1

def published_marker(version: str) -> str:
    """The hidden marker of the DOI comment posted on each PR of a published version (one per version)."""
    return f"<!-- release-bot:published {re.sub(r'[^A-Za-z0-9.+_-]', '_', version)} -->"


# -- the state block -------------------------------------------------------------------------------


def _state_json(state: PendingRelease) -> str:
    data = {
        "v": STATE_VERSION,
        "draft_id": state.draft_id,
        "version": state.version,
        "doi": state.doi,
        "concept_record": state.concept_record,
        "commit": state.commit_sha,
        "files": {
            k: {"md5": f.md5, "size": f.size, "change": f.change} for k, f in sorted(state.files.items())
        },
        "removed": list(state.removed),
        "prs": list(state.prs),
        "notes_digest": state.notes_digest,
        "content": state.content_digest,
    }
    return _dump(data)


def _dump(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    # < > & occur only inside JSON strings, where \u escapes mean the same: no "-->" ends the comment.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def state_block(state: PendingRelease) -> str:
    return f"{STATE_OPEN}{_state_json(state)} -->"


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(key)
    return value


def _state_from(data: Any) -> PendingRelease:
    if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
        raise ValueError("v")
    files_in = data.get("files")
    if not isinstance(files_in, dict):
        raise ValueError("files")
    files: dict[str, DraftFile] = {}
    for key, entry in files_in.items():
        if not isinstance(entry, dict):
            raise ValueError("files")
        md5, size, change = entry.get("md5"), entry.get("size"), entry.get("change", "carried")
        if not isinstance(md5, str) or isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("files")
        if change not in _CHANGES:
            raise ValueError("files")
        files[key] = DraftFile(md5=md5, size=size, change=change)
    prs = data.get("prs")
    if not isinstance(prs, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in prs
    ):
        raise ValueError("prs")
    removed = data.get("removed", [])
    if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
        raise ValueError("removed")
    draft_id = _str(data, "draft_id")
    if not draft_id.isascii() or not draft_id.isdigit():
        raise ValueError("draft_id")
    commit = _str(data, "commit")
    if not _HEX40.fullmatch(commit):
        raise ValueError("commit")
    return PendingRelease(
        draft_id=draft_id,
        version=_str(data, "version"),
        doi=_str(data, "doi"),
        concept_record=_str(data, "concept_record"),
        commit_sha=commit,
        files=files,
        prs=tuple(prs),
        notes_digest=_str(data, "notes_digest"),
        removed=tuple(removed),
        content_digest=str(data.get("content") or ""),
    )


def parse_state(body: str) -> PendingRelease | None:
    """The state block of a summary comment; None when there is none, or more than one (outside the
    curator-editable notes), or it does not read as a state. Text inside the notes never counts."""
    if SUMMARY_MARKER not in body:
        return None
    outside_notes = _NOTES.sub("", body)
    blocks = _STATE.findall(outside_notes)
    if len(blocks) != 1 or outside_notes.count(STATE_OPEN) != 1:
        return None
    try:
        return _state_from(json.loads(blocks[0]))
    except (ValueError, TypeError):
        return None


# -- the bot's seal --------------------------------------------------------------------------------


class SealError(ValueError):
    """The summary's state cannot be trusted; the message says why, fit to post."""


@dataclass(frozen=True)
class SealedSummary:
    """A summary whose state the bot signed for this PR; ``intact`` when no one changed a byte since."""

    state: PendingRelease
    intact: bool


def _the_block(body: str) -> re.Match[str]:
    """The one state block outside the curator-editable notes (text inside the notes never counts)."""
    notes = [(n.start(), n.end()) for n in _NOTES.finditer(body)]
    outside = [m for m in _STATE.finditer(body) if not any(a <= m.start() < b for a, b in notes)]
    if len(outside) != 1 or _NOTES.sub("", body).count(STATE_OPEN) != 1:
        raise SealError("the summary holds no single state block")
    return outside[0]


def seal_summary(body: str, key: bytes, pr: int) -> str:
    """Sign a rendered summary for the PR it is posted on: the state, the PR and every other byte."""
    block = _the_block(body)
    data = {k: v for k, v in json.loads(block.group(1)).items() if k not in ("pr", "body", "mac")}
    data["pr"] = pr
    data["body"] = text_sha(body[: block.start()] + body[block.end() :])
    data["mac"] = seal(key, data)
    return body[: block.start()] + f"{STATE_OPEN}{_dump(data)} -->" + body[block.end() :]


def open_summary(body: str, key: bytes, pr: int) -> SealedSummary:
    """The state of a summary the bot sealed for ``pr``; raises SealError when it is not one."""
    if SUMMARY_MARKER not in body:
        raise SealError("the comment is not a summary")
    block = _the_block(body)
    try:
        data = json.loads(block.group(1))
    except ValueError:
        raise SealError("the summary's state block is not JSON") from None
    if not isinstance(data, dict):
        raise SealError("the summary's state block is not an object")
    mac = data.pop("mac", None)
    if not sealed_by(key, data, mac):
        raise SealError("the summary's state block was not written by the bot (it was edited, or sealed "
                        "with another key)")
    if data.get("pr") != pr:
        raise SealError(f"the summary's state was written for another pull request (#{data.get('pr')})")
    try:
        state = _state_from(data)
    except (ValueError, TypeError):
        raise SealError("the summary's state does not read as a release") from None
    intact = data.get("body") == text_sha(body[: block.start()] + body[block.end() :])
    return SealedSummary(state, intact)


def extract_notes(body: str) -> str | None:
    """The release notes between the markers (as a curator may have edited them), or None."""
    m = _NOTES.search(body)
    return m.group(1) if m else None


# -- rendering -------------------------------------------------------------------------------------


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _pr_list(prs: Iterable[int]) -> str:
    return ", ".join(f"#{n}" for n in prs)  # GitHub links #N itself; N is an int, nothing to escape


def _files_table(state: PendingRelease) -> list[str]:
    rows = ["| file | change | size | md5 |", "|---|---|---:|---|"]
    order = {c: i for i, c in enumerate(_CHANGES)}
    for key, f in sorted(state.files.items(), key=lambda kv: (order.get(kv[1].change, 9), kv[0])):
        rows.append(f"| {code_span(key)} | {f.change} | {human_size(f.size)} | {code_span(f.md5)} |")
    for key in sorted(state.removed):
        rows.append(f"| {code_span(key)} | removed | | |")
    return rows


def render_summary(
    state: PendingRelease,
    notes_markdown: str,
    *,
    command: str = "/release publish",
    draft_url: str = "",
    previous_version: str | None = None,
    concept_doi: str | None = None,
) -> str:
    """The whole sticky comment: marker, state, what the release will be, its notes, how to approve it."""
    was = f" (was {code_span(previous_version)})" if previous_version else ""
    draft = link(state.draft_id, draft_url) if draft_url else code_span(state.draft_id)
    lines = [
        SUMMARY_MARKER,
        state_block(state),
        f"### Catalog release {code_span(state.version)} is ready for approval",
        "",
        "| | |",
        "|---|---|",
        f"| Version | {code_span(state.version)}{was} |",
        f"| Reserved DOI | {doi_link(state.doi)} |",
        f"| Zenodo draft | {draft} |",
        f"| Built from | {code_span(state.commit_sha[:12])} |",
        f"| Pull requests | {_pr_list(state.prs)} |",
    ]
    if concept_doi:
        lines.append(f"| All versions | {doi_link(concept_doi)} |")
    if len(state.prs) > 1:
        lines += [
            "",
            f"This draft gathers {len(state.prs)} merged pull requests ({_pr_list(state.prs)}); "
            "publishing it releases all of them.",
        ]
    lines += ["", *_files_section(state), "", *_notes_section(notes_markdown), "", *_approve_section(state, command)]
    return "\n".join(lines) + "\n"


def _files_section(state: PendingRelease) -> list[str]:
    counts = {c: sum(1 for f in state.files.values() if f.change == c) for c in _CHANGES}
    removed = f", {len(state.removed)} removed" if state.removed else ""
    return [
        f"#### Files ({counts['added']} added, {counts['replaced']} replaced, {counts['carried']} carried{removed})",
        "",
        *_files_table(state),
    ]


def _notes_section(notes_markdown: str) -> list[str]:
    return [
        "#### Release notes",
        "<sub>Curators may edit the notes between the markers; the next rebuild keeps the edits.</sub>",
        "",
        NOTES_START,
        neutralise_comment_markers(notes_markdown.strip("\n")),
        NOTES_END,
    ]


def _approve_section(state: PendingRelease, command: str) -> list[str]:
    return [
        "#### To publish",
        "A curator listed in `release-config.yaml`, with write access and not the author of these changes, "
        "comments (as the first line of a new comment):",
        "",
        "```",
        f"{command} {state.draft_id}",
        "```",
        "",
        "<sub>A new merge that changes the field files updates this draft and this comment; an approval "
        "counts only when it is posted after this comment's last update. Edits of anything but the notes "
        "void this summary until the next draft run.</sub>",
    ]


def render_superseded(newer_pr_url: str) -> str:
    """What an older PR's summary becomes when a newer merge took its changes into a newer draft.

    It keeps the marker (so it stays the one sticky comment) but no state: nothing here can be approved.
    """
    return "\n".join(
        [
            SUMMARY_MARKER,
            "### Catalog release moved",
            "",
            f"The changes of this pull request are now part of a newer draft, summarised on "
            f"{link('the newer pull request', newer_pr_url)}. Please review and approve it there.",
            "",
        ]
    )


# -- replies ---------------------------------------------------------------------------------------


def render_refusal(refusal: Refusal) -> str:
    """A polite no. The reason comes from ``authorize``/``parse_approval`` and never quotes the comment."""
    return "\n".join(
        [
            f"Sorry, I can't publish this release: {refusal.reason}",
            "",
            f"<sub>release-bot · refusal `{refusal.code}`</sub>",
            "",
        ]
    )


def render_published(
    version: str, doi: str, record_url: str, concept_doi: str | None = None, sky_map_url: str | None = None
) -> str:
    """The reply to the approving comment once Zenodo has published the version (with its sky map, when the
    GitHub release carries one)."""
    lines = [
        f"Published {code_span(version)} on Zenodo: {doi_link(doi)} ({link('record', record_url)}).",
    ]
    if concept_doi:
        lines.append(f"The concept DOI {doi_link(concept_doi)} now resolves to this version.")
    if sky_map_url and _SAFE_URL.fullmatch(sky_map_url):
        lines += ["", f"Where the fields of {code_span(version)} lie on the sky (the new ones highlighted):", "",
                  f"[![Sky map of the catalog {re.sub(r'[^A-Za-z0-9.+_-]', '_', version)}]({sky_map_url})]"
                  f"({sky_map_url})"]
    return "\n".join([*lines, ""])


def render_doi_comment(
    version: str, doi: str, concept_doi: str | None = None, pr_numbers: Iterable[int] = ()
) -> str:
    """Posted on every PR included in a published version (upsert it under ``published_marker``)."""
    prs = list(pr_numbers)
    lines = [
        published_marker(version),
        f"These changes are published in the SCoPe catalog {code_span(version)}: {doi_link(doi)}.",
    ]
    if len(prs) > 1:
        lines.append(f"The release also includes {_pr_list(prs)}.")
    if concept_doi:
        lines.append(f"To cite the catalog's latest version, use {doi_link(concept_doi)}.")
    return "\n".join([*lines, ""])
