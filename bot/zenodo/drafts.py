"""The Zenodo side of a release: converge a new-version draft, then publish it after approval.

``converge_draft`` is one operation made of steps (``STEPS``); each step first looks at what the draft
already holds and does only what is missing. A rerun after a crash anywhere therefore finishes the job
and never makes a second draft, a second DOI or a duplicate file. ``publish_draft`` is separate: it runs
only after a curator approved, re-verifies the draft, publishes and reads the published version back.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from bot import steps
from bot.errors import Finding, UsageError
from bot.notes.digest import is_unedited_bot_notes
from bot.zenodo.client import ZenodoClient
from bot.zenodo.models import NOTES_TYPE, Draft, FileEntry, Record

log = logging.getLogger("bot.zenodo")

STEPS: tuple[str, ...] = (
    "new_version", "import_files", "remove_replaced", "upload", "metadata", "reserve_doi",
)


@dataclass(frozen=True)
class UploadFile:
    key: str
    size: int
    md5: str  # hex
    open: Callable[[], BinaryIO]  # opened fresh for every attempt

    @classmethod
    def from_path(cls, path: str | Path, key: str | None = None) -> UploadFile:
        """Describe a local file, reading it once (in chunks) for its md5."""
        path = Path(path)
        digest = hashlib.md5()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return cls(key or path.name, path.stat().st_size, digest.hexdigest(), lambda: path.open("rb"))


@dataclass(frozen=True)
class DraftRequest:
    concept_record: str
    uploads: list[UploadFile]
    replaces: Callable[[str], bool]  # previous-version keys this release drops (old zip, old fields.json)
    version: str
    notes_html: str
    publication_date: str  # ISO day


@dataclass
class DraftResult:
    draft_id: str
    doi: str | None  # None only in a dry run that would reserve one
    latest_published_id: str
    latest_version: str | None
    files: dict[str, FileEntry]
    version: str
    notes_html: str | None  # what the draft now holds
    notes_kept: bool  # a curator's edit of the draft's notes was preserved
    uploaded: list[str]  # keys uploaded by this run
    imported: list[str]  # keys carried over from the previous version
    calls: int
    links: str | None  # the draft's page on Zenodo
    planned: list[str] = field(default_factory=list)  # dry run: the write calls it would make


# ---- reading ------------------------------------------------------------------------------------


def latest_published(client: ZenodoClient, concept_record: str) -> Record:
    """The latest published version of the concept, with its files."""
    record = client.latest_record(concept_record)
    if not record.files:
        record = replace(record, files=client.record_files(record.id))
    return record


def find_pending_draft(client: ZenodoClient, concept_record: str) -> Draft | None:
    """The unpublished new-version draft of the concept, if someone (the bot or a curator) started one."""
    latest = client.latest_record(concept_record)
    concept = latest.concept_id or concept_record
    for draft in client.user_drafts(f'parent.id:"{concept}"'):
        if draft.concept_id in (None, concept) and draft.id != latest.id:
            return draft
    return None


# ---- converging the draft -----------------------------------------------------------------------


def _expected_files(
    req: DraftRequest, previous: dict[str, FileEntry]
) -> tuple[dict[str, str], dict[str, str]]:
    """(kept previous files, new uploads) as key -> md5."""
    upload_keys = {u.key for u in req.uploads}
    kept = {k: e.md5 or "" for k, e in previous.items() if not req.replaces(k) and k not in upload_keys}
    return kept, {u.key: u.md5 for u in req.uploads}


def file_problems(files: dict[str, FileEntry], expected: dict[str, str]) -> list[str]:
    """What differs between a draft's (or record's) files and the expected key -> md5; empty when equal."""
    problems = [f"{k}: missing" for k in sorted(expected.keys() - files.keys())]
    problems += [f"{k}: not expected" for k in sorted(files.keys() - expected.keys())]
    for key in sorted(expected.keys() & files.keys()):
        entry = files[key]
        if not entry.committed:
            problems.append(f"{key}: not committed (status {entry.status})")
        elif entry.md5 != expected[key]:
            problems.append(f"{key}: md5 {entry.md5} but expected {expected[key]}")
    return problems


def _check_request(req: DraftRequest) -> None:
    keys = [u.key for u in req.uploads]
    if len(keys) != len(set(keys)):
        raise UsageError(f"draft request uploads a key twice: {sorted(keys)}", hint="give each file once")
    empty = [u.key for u in req.uploads if u.size <= 0]
    if empty:
        raise UsageError(f"Zenodo rejects 0-byte files: {', '.join(empty)}", hint="check the build output")


class _Convergence:
    """The state of one converge run: what the draft holds, what was done, what a dry run would do."""

    def __init__(self, client: ZenodoClient, req: DraftRequest, dry_run: bool, progress: bool) -> None:
        self.client = client
        self.req = req
        self.dry_run = dry_run
        self.progress = progress
        self.planned: list[str] = []
        self.uploaded: list[str] = []
        self.notes_kept = False
        self.notes_html: str | None = None
        self.latest: Record
        self.draft: Draft | None = None  # None: a dry run that would create it
        self.files: dict[str, FileEntry] = {}
        self.kept: dict[str, str] = {}
        self.new: dict[str, str] = {}

    @property
    def draft_path(self) -> str:
        return f"/records/{self.draft.id if self.draft else '{new draft}'}/draft"

    def write(self, method: str, path: str, action: Callable[[], Any]) -> Any:
        """Perform a write, or in a dry run only note it."""
        if self.dry_run:
            self.planned.append(f"{method} {path}")
            return None
        return action()

    # -- the steps, in STEPS order --

    def new_version(self) -> None:
        self.latest = latest_published(self.client, self.req.concept_record)
        if self.latest.version == self.req.version:
            raise Finding(
                f"record {self.latest.id} already published version {self.req.version}",
                hint="the release is done; bump the version to make another",
            )
        self.kept, self.new = _expected_files(self.req, self.latest.files)
        if self.dry_run:
            self.draft = find_pending_draft(self.client, self.latest.id)
            if self.draft is None:
                self.planned.append(f"POST /records/{self.latest.id}/versions")
                return
        else:
            # Idempotent by design: answers the pending draft when there is one, so reruns find their work.
            self.draft = self.client.new_version(self.latest.id)
        self.files = self.client.draft_files(self.draft.id)

    def import_files(self) -> None:
        have_kept = not file_problems({k: e for k, e in self.files.items() if k in self.kept}, self.kept)
        if self.files and have_kept:
            return  # imported on an earlier run; uploads may be partial, which later steps finish
        if self.files:
            # Some files but not the previous version's set: files-import refuses a non-empty draft, and
            # what is there cannot be trusted, so start the file list afresh.
            log.info("draft holds files but not the imported set: deleting them to import again")
            self.write("DELETE", f"{self.draft_path}/files",
                       lambda: self.client.delete_all_draft_files(self.draft.id))
        imported = self.write(
            "POST", f"{self.draft_path}/actions/files-import", lambda: self.client.import_files(self.draft.id)
        )
        self.files = dict(imported) if imported is not None else dict(self.latest.files)

    def remove_replaced(self) -> None:
        for key, entry in sorted(self.files.items()):
            if key in self.kept:
                continue
            if key in self.new:
                if not entry.committed or entry.md5 == self.new[key]:
                    continue  # uploaded by an earlier run, or pending: its content can still be sent
                # Committed with other bytes: sending content again would lose the file (Zenodo's trap).
            elif not self.req.replaces(key):
                continue  # not ours to remove (a curator's file): verification will name it
            self.write("DELETE", f"{self.draft_path}/files/{key}",
                       lambda k=key: self.client.delete_draft_file(self.draft.id, k))
            del self.files[key]

    def upload(self) -> None:
        todo = [u for u in self.req.uploads if u.key not in self.files or not self.files[u.key].committed]
        undeclared = [u.key for u in todo if u.key not in self.files]
        if undeclared:
            self.write("POST", f"{self.draft_path}/files",
                       lambda: self.client.start_uploads(self.draft.id, undeclared))
        with _progress_bar(self.progress and not self.dry_run) as bar:
            for upload in todo:
                self.write("PUT", f"{self.draft_path}/files/{upload.key}/content",
                           lambda u=upload: self._send(u, bar))
                entry = self.write("POST", f"{self.draft_path}/files/{upload.key}/commit",
                                   lambda u=upload: self.client.commit_file(self.draft.id, u.key))
                if entry is not None and entry.md5 != upload.md5:
                    raise Finding(
                        f"{upload.key}: Zenodo computed md5 {entry.md5} but the local file's is {upload.md5}",
                        hint="the file changed or broke in transfer; rerun the draft step to upload it again",
                    )
                self.files[upload.key] = entry or FileEntry(upload.key, upload.size, upload.md5, "completed")
                self.uploaded.append(upload.key)
        if not self.dry_run:
            # Trust the listing, not our bookkeeping: a failed transfer can silently drop a file.
            self.files = self.client.draft_files(self.draft.id)
        problems = file_problems(self.files, {**self.kept, **self.new})
        if problems:
            raise Finding(
                f"draft {self.draft_path} does not hold the expected files: " + "; ".join(problems),
                hint="remove files added by hand from the draft (or add them to the release), then rerun",
            )

    def _send(self, upload: UploadFile, bar: Progress | None) -> None:
        on_read = None
        if bar is not None:
            task = bar.add_task(upload.key, total=upload.size)

            def on_read(n: int) -> None:
                bar.advance(task, n)

        self.client.upload_content(self.draft.id, upload.key, upload.open, upload.size, on_read)

    def metadata(self) -> None:
        current = self.draft.raw if self.draft is not None else _copied_metadata(self.latest)
        notes = self.draft.notes_html if self.draft is not None else None
        replace_notes = (
            notes is None
            or notes == self.latest.notes_html
            or notes == self.req.notes_html
            or is_unedited_bot_notes(notes)
        )
        self.notes_kept = not replace_notes
        if self.notes_kept:
            log.warning("the draft's notes were edited by hand: keeping them, not the bot's notes")
        self.notes_html = self.req.notes_html if replace_notes else notes
        body = _draft_body(current, self.req, self.notes_html)
        if body["metadata"] == current.get("metadata"):
            return
        answer = self.write("PUT", self.draft_path, lambda: self.client.update_draft(self.draft.id, body))
        self.draft = answer if answer is not None else self.draft

    def reserve_doi(self) -> None:
        if self.draft is not None and self.draft.doi:
            return
        answer = self.write("POST", f"{self.draft_path}/pids/doi",
                            lambda: self.client.reserve_doi(self.draft.id))
        self.draft = answer if answer is not None else self.draft

    def result(self, calls: int) -> DraftResult:
        draft = self.draft
        return DraftResult(
            draft_id=draft.id if draft else "",
            doi=draft.doi if draft else None,
            latest_published_id=self.latest.id,
            latest_version=self.latest.version,
            files=dict(self.files),
            version=self.req.version,
            notes_html=self.notes_html,
            notes_kept=self.notes_kept,
            uploaded=list(self.uploaded),
            imported=sorted(self.kept),
            calls=calls,
            links=draft.html_url if draft else None,
            planned=list(self.planned),
        )


def _copied_metadata(latest: Record) -> dict[str, Any]:
    """What a new-version draft starts from (dry run only): the latest metadata without its version."""
    metadata = {k: v for k, v in latest.metadata.items() if k != "version"}
    return {"metadata": metadata}


def _writable(draft_json: dict[str, Any]) -> dict[str, Any]:
    """A draft as read, ready to PUT back: read-only keys dropped, pids as they are (the client drops {})."""
    return {k: copy.deepcopy(v) for k, v in draft_json.items() if k not in ("ui", "links", "errors")}


def _draft_body(current: dict[str, Any], req: DraftRequest, notes: str) -> dict[str, Any]:
    """The draft as it should be: read-only keys dropped, pids sent back untouched, our metadata set."""
    body = _writable(current)
    metadata = body.setdefault("metadata", {})
    metadata["version"] = req.version
    metadata["publication_date"] = req.publication_date
    others = [d for d in metadata.get("additional_descriptions") or []
              if (d.get("type") or {}).get("id") != NOTES_TYPE]
    metadata["additional_descriptions"] = [*others, {"description": notes, "type": {"id": NOTES_TYPE}}]
    return body


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        yield bar


def converge_draft(
    client: ZenodoClient,
    req: DraftRequest,
    *,
    progress: bool = False,
    dry_run: bool = False,
) -> DraftResult:
    """Bring Zenodo to one new-version draft holding exactly the release (see the module docstring).

    After each step ``bot.steps`` hears ``zenodo:<step>`` (a test harness may stop the run there).
    """
    _check_request(req)
    run = _Convergence(client, req, dry_run, progress)
    start = client.calls
    for name in STEPS:
        with client.step(name):
            getattr(run, name)()
        steps.finished(f"zenodo:{name}")
    result = run.result(client.calls - start)
    if dry_run:
        _print_plan("draft", result.planned)
    return result


# ---- publishing -----------------------------------------------------------------------------------


def publish_draft(
    client: ZenodoClient,
    draft_id: str,
    *,
    expected_files: dict[str, str],
    version: str,
    publication_date: str,
    dry_run: bool = False,
    planned: list[str] | None = None,
) -> Record:
    """Verify the draft, date it, publish it and verify the published version.

    Idempotent: when the draft was already published with exactly these files and this version, the
    published record is returned. A dry run only reads, returns the draft and lists the writes in
    ``planned``.
    """
    plan = planned if planned is not None else []
    with client.step("verify"):
        draft = client.find_draft(draft_id)
        if draft is None:
            return _already_published(client, draft_id, expected_files, version)
        problems = file_problems(client.draft_files(draft_id), expected_files)
        if draft.version != version:
            problems.append(f"version is {draft.version!r}, expected {version!r}")
        if not draft.doi:
            problems.append("no DOI reserved")
        if problems:
            raise Finding(
                f"draft {draft_id} is not the approved release: " + "; ".join(problems),
                hint="rerun the draft step to bring the draft back to the release, then approve again",
            )
    with client.step("publication_date"):
        if draft.publication_date != publication_date:
            body = _writable(draft.raw)
            body["metadata"]["publication_date"] = publication_date
            if dry_run:
                plan.append(f"PUT /records/{draft_id}/draft")
            else:
                client.update_draft(draft_id, body)
    if dry_run:
        plan.append(f"POST /records/{draft_id}/draft/actions/publish")
        _print_plan("publish", plan)
        return draft
    with client.step("publish"):
        client.publish(draft_id)
    with client.step("verify_published"):
        record = client.get_record(draft_id)
        _verify_published(client, record, expected_files, version, doi=draft.doi)
    return replace(record, files=client.record_files(record.id)) if not record.files else record


def _already_published(
    client: ZenodoClient, record_id: str, expected: dict[str, str], version: str
) -> Record:
    record = client.find_record(record_id)
    if record is None or not record.is_published:
        raise Finding(
            f"there is no draft {record_id} on Zenodo",
            hint="check the draft id; `release-bot status` shows the pending draft",
        )
    _verify_published(client, record, expected, version, doi=None)
    log.info("record %s was already published with the approved files: nothing to do", record_id)
    return record


def _verify_published(
    client: ZenodoClient, record: Record, expected: dict[str, str], version: str, doi: str | None
) -> None:
    files = record.files or client.record_files(record.id)
    problems = file_problems(files, expected)
    if record.version != version:
        problems.append(f"version is {record.version!r}, expected {version!r}")
    if doi is not None and record.doi != doi:
        problems.append(f"DOI is {record.doi!r}, expected the reserved {doi!r}")
    if problems:
        raise Finding(
            f"published record {record.id} is not the approved release: " + "; ".join(problems),
            hint="someone published other content; check the record on Zenodo, release a corrected version",
        )


def _print_plan(what: str, planned: list[str]) -> None:
    console = Console(stderr=True, highlight=False)
    console.print(f"dry run ({what}): {len(planned)} write call(s) would be made", markup=False)
    for line in planned:
        console.print(f"  {line}", markup=False)
