"""Recording fakes of the two platform seams (Zenodo client, GitHub adapter) for stage unit tests.

They hold just enough state to answer what a stage asks and record every call in ``calls`` so a test can
assert what the stage did, in which order. The bundled servers (bot/local) stay the reference for the
platforms' behaviour; these fakes only let one stage be tested alone, in milliseconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from bot.github.models import CommentInfo, Permission, PullInfo
from bot.zenodo.models import Draft, FileEntry, Record


def record(
    rid: str, version: str, files: dict[str, str], *, published: bool, doi: str | None = None,
    date: str = "2026-01-01",
) -> Record:
    """A Zenodo record (or draft) holding ``files`` (key -> md5)."""
    data = {
        "id": rid, "parent": {"id": "100"}, "is_published": published,
        "metadata": {"version": version, "publication_date": date},
        "pids": {"doi": {"identifier": doi}} if doi else {},
        "files": {"entries": {k: {"key": k, "size": 10, "checksum": f"md5:{m}", "status": "completed"}
                              for k, m in files.items()}},
        "links": {"self_html": f"https://zenodo.example/records/{rid}"},
    }
    return (Record if published else Draft).from_json(data)


@dataclass
class RecordingZenodo:
    latest: Record
    drafts: dict[str, Draft] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        yield

    def _files(self, rec: Record) -> dict[str, FileEntry]:
        return dict(rec.files)

    def latest_record(self, concept: str) -> Record:
        self.calls.append(("latest_record", concept))
        return self.latest

    def record_files(self, rid: str) -> dict[str, FileEntry]:
        self.calls.append(("record_files", rid))
        return self._files(self.latest)

    def find_draft(self, rid: str) -> Draft | None:
        self.calls.append(("find_draft", rid))
        return self.drafts.get(rid)

    def find_record(self, rid: str) -> Record | None:
        self.calls.append(("find_record", rid))
        return self.latest if self.latest.id == rid else None

    def get_record(self, rid: str) -> Record:
        self.calls.append(("get_record", rid))
        assert self.latest.id == rid
        return self.latest

    def draft_files(self, rid: str) -> dict[str, FileEntry]:
        self.calls.append(("draft_files", rid))
        return self._files(self.drafts[rid])

    def update_draft(self, rid: str, body: dict[str, Any]) -> Draft:
        self.calls.append(("update_draft", rid))
        return self.drafts[rid]

    def publish(self, rid: str) -> Record:
        self.calls.append(("publish", rid))
        draft = self.drafts.pop(rid)
        self.latest = replace(draft, is_published=True)
        return self.latest


@dataclass
class RecordingGitHub:
    tags: dict[str, str] = field(default_factory=dict)
    stickies: dict[tuple[int, str], str] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, PullInfo] = field(default_factory=dict)
    head: str = "a" * 40

    def tag_commit(self, name: str) -> str | None:
        self.calls.append(("tag_commit", name))
        return self.tags.get(name)

    def create_tag(self, name: str, sha: str, message: str) -> bool:
        self.calls.append(("create_tag", name, sha))
        self.tags[name] = sha
        return True

    def create_or_update_release(self, tag: str, name: str, body: str) -> str:
        self.calls.append(("release", tag))
        return f"https://github.example/releases/{tag}"

    def set_status(self, sha: str, state: str, context: str, description: str, url: str | None = None) -> None:
        self.calls.append(("status", sha, state))

    def upsert_sticky(self, number: int, marker: str, body: str) -> CommentInfo:
        self.calls.append(("sticky", number))
        self.stickies[(number, marker)] = body
        return CommentInfo(len(self.calls), "github-actions[bot]", body, None, None, "")

    def permission(self, login: str) -> Permission:
        self.calls.append(("permission", login))
        level = self.permissions.get(login, "none")
        return Permission(level, level)

    def pull(self, number: int) -> PullInfo:
        self.calls.append(("pull", number))
        return self.pulls[number]

    def default_branch(self) -> str:
        return "main"

    def branch_head(self, branch: str) -> str:
        self.calls.append(("branch_head", branch))
        return self.head

    def is_ancestor(self, base: str, head: str) -> bool:
        return base == head
