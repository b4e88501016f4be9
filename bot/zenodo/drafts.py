"""The Zenodo side of a release: converge a new-version draft, then publish it after approval.

``converge_draft`` is one operation made of steps (``STEPS``); each step first looks at what the draft
already holds and does only what is missing. A rerun after a crash anywhere therefore finishes the job
and never makes a second draft, a second DOI or a duplicate file. ``publish_draft`` is separate: it runs
only after a curator approved, re-verifies the draft, publishes and reads the published version back.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rich.console import Console

from bot import steps
from bot.errors import Finding, UsageError
from bot.filesets import diff_files
from bot.integrity import content_digest
from bot.notes.digest import is_unedited_bot_notes
from bot.progress import TransferProgress, transfer_progress
from bot.zenodo.client import ZenodoClient
from bot.zenodo.models import NOTES_TYPE, Draft, FileEntry, Record
from bot.zenodo.uploads import HashedOpener, UploadFile

__all__ = ["STEPS", "DraftPlan", "DraftRequest", "DraftResult", "UploadFile", "converge_draft", "publish_draft"]

log = logging.getLogger("bot.zenodo")

PLAN_STEP = "plan"
# The applier's steps, in order; a test harness may stop a run after each (see bot.steps).
APPLY_STEPS: tuple[str, ...] = (
    "new_version", "import_files", "remove_replaced", "upload", "metadata", "reserve_doi",
)
STEPS: tuple[str, ...] = (PLAN_STEP, *APPLY_STEPS)


@dataclass(frozen=True)
class DraftRequest:
    concept_record: str
    uploads: list[UploadFile]
    replaces: Callable[[str], bool]  # previous-version keys this release drops (old zip, old fields.json)
    version: str
    # The notes, or how to write them once the files are on Zenodo: they quote the zip's md5, which only
    # the upload learns (it hashes the zip as it streams it), so they wait for the upload.
    notes_html: str | Callable[[], str]
    publication_date: str  # ISO day

    @property
    def notes_ready(self) -> bool:
        return not callable(self.notes_html)

    def notes(self) -> str:
        return self.notes_html() if callable(self.notes_html) else self.notes_html


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
    record: dict[str, Any] = field(default_factory=dict)  # the draft as Zenodo last answered it


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
) -> tuple[dict[str, str], dict[str, str | None]]:
    """(kept previous files, new uploads) as key -> md5; None for an md5 only the upload will learn."""
    upload_keys = {u.key for u in req.uploads}
    kept = {k: e.md5 or "" for k, e in previous.items() if not req.replaces(k) and k not in upload_keys}
    return kept, {u.key: u.md5 for u in req.uploads}


def file_problems(files: dict[str, FileEntry], expected: Mapping[str, str | None]) -> list[str]:
    """What differs between a draft's (or record's) files and the expected key -> md5; empty when equal.

    An expected md5 of None (not sent yet) checks only that the file is there and committed.
    """
    uncommitted = {k: e for k, e in files.items() if not e.committed}
    committed = {k: e.md5 or "" for k, e in files.items() if k not in uncommitted}
    diff = diff_files({k: m for k, m in expected.items() if m is not None},
                      {k: m for k, m in committed.items() if expected.get(k, "") is not None})
    problems = [f"{k}: missing" for k in sorted(expected.keys() - files.keys())]
    problems += [f"{k}: not expected" for k in sorted(files.keys() - expected.keys())]
    for key in sorted(expected.keys() & files.keys()):
        if key in uncommitted:
            problems.append(f"{key}: not committed (status {uncommitted[key].status})")
        elif key in diff.changed:
            problems.append(f"{key}: md5 {files[key].md5} but expected {expected[key]}")
    return problems


def _check_request(req: DraftRequest) -> None:
    keys = [u.key for u in req.uploads]
    if len(keys) != len(set(keys)):
        raise UsageError(f"draft request uploads a key twice: {sorted(keys)}", hint="give each file once")
    empty = [u.key for u in req.uploads if u.size <= 0]
    if empty:
        raise UsageError(f"Zenodo rejects 0-byte files: {', '.join(empty)}", hint="check the build output")


@dataclass(frozen=True)
class PlannedUpload:
    key: str
    size: int
    md5: str | None  # None: learnt while it streams


@dataclass(frozen=True)
class DraftPlan:
    """What converging the draft will do, as plain data, computed from reads only.

    ``apply_draft`` carries it out; ``--dry-run`` prints it and stops. Every field is decided from what
    Zenodo holds now, so a plan made after a crash lists only the work that is left.
    """

    latest: Record  # the latest published version: what the draft starts from
    draft_id: str | None  # the pending draft, None when a new version will be made
    draft_url: str | None
    version: str
    publication_date: str
    # The draft holds files but not the previous version's set: start the list afresh, deleting these one
    # key at a time (DELETE .../draft/files soft-deletes the rows, and a new import of the keys collides).
    clear_files: tuple[str, ...]
    import_files: bool  # carry the previous version's files over (files-import)
    remove: tuple[str, ...]  # keys to delete from the draft (replaced files, stale uploads)
    declare: tuple[str, ...]  # keys to declare before sending their content
    upload: tuple[PlannedUpload, ...]  # files to send and commit
    kept: dict[str, str]  # key -> md5 of the files carried over unchanged
    new: dict[str, str | None]  # key -> md5 of the files this release brings (None: learnt by the upload)
    notes_html: str | None  # the notes the draft will hold; None: written after the upload
    notes_kept: bool  # a curator's edit of the draft's notes is kept
    update_metadata: bool  # True also when the notes are not written yet (the applier checks again)
    reserve_doi: bool
    doi: str | None  # the draft's reserved DOI, when it has one

    @property
    def expected(self) -> dict[str, str | None]:
        return {**self.kept, **self.new}

    def writes(self) -> list[str]:
        """The write calls applying this plan makes, in order (``METHOD path``)."""
        draft = f"/records/{self.draft_id or '{new draft}'}/draft"
        out = [] if self.draft_id else [f"POST /records/{self.latest.id}/versions"]
        out += [f"DELETE {draft}/files/{key}" for key in self.clear_files]
        out += [f"POST {draft}/actions/files-import"] if self.import_files else []
        out += [f"DELETE {draft}/files/{key}" for key in self.remove]
        out += [f"POST {draft}/files"] if self.declare else []
        for upload in self.upload:
            out += [f"PUT {draft}/files/{upload.key}/content", f"POST {draft}/files/{upload.key}/commit"]
        out += [f"PUT {draft}"] if self.update_metadata else []
        out += [f"POST {draft}/pids/doi"] if self.reserve_doi else []
        return out


def plan_draft(client: ZenodoClient, req: DraftRequest) -> DraftPlan:
    """Read the latest version and the pending draft, and decide what converging must do."""
    _check_request(req)
    with client.step(PLAN_STEP):
        latest = latest_published(client, req.concept_record)
        if latest.version == req.version:
            raise Finding(
                f"record {latest.id} already published version {req.version}",
                hint="the release is done; bump the version to make another",
            )
        draft = _pending_draft(client, latest)
        files = client.draft_files(draft.id) if draft is not None else {}
    plan = plan_for(latest, recognise_uploads(req, files), draft, files)
    steps.finished(f"zenodo:{PLAN_STEP}")
    return plan


def recognise_uploads(req: DraftRequest, files: dict[str, FileEntry]) -> DraftRequest:
    """The request with the md5 of each upload an earlier run may have sent: a committed draft file of
    the same key and size. Only then is the zip hashed before it is sent (a reading pass of its own)."""
    uploads = []
    for upload in req.uploads:
        entry = files.get(upload.key)
        if upload.md5 is None and entry is not None and entry.committed and entry.size == upload.size:
            log.info("%s is already on the draft: hashing the local build to recognise it", upload.key)
            upload = replace(upload, md5=upload.expected_md5())
        uploads.append(upload)
    return replace(req, uploads=uploads)


def _pending_draft(client: ZenodoClient, latest: Record) -> Draft | None:
    concept = latest.concept_id or latest.id
    for draft in client.user_drafts(f'parent.id:"{concept}"'):
        if draft.concept_id in (None, concept) and draft.id != latest.id:
            return draft
    return None


def plan_for(latest: Record, req: DraftRequest, draft: Draft | None, files: dict[str, FileEntry]) -> DraftPlan:
    """The plan for this draft state (pure: no call is made)."""
    kept, new = _expected_files(req, latest.files)
    have_kept = not file_problems({k: e for k, e in files.items() if k in kept}, kept)
    import_files = not (files and have_kept)  # imported on an earlier run: uploads may be partial
    after_import = dict(latest.files) if import_files else dict(files)
    remove = tuple(key for key, entry in sorted(after_import.items()) if _to_remove(key, entry, kept, new, req))
    present = {k: e for k, e in after_import.items() if k not in remove}
    todo = [u for u in req.uploads if u.key not in present or not present[u.key].committed]
    notes_html, notes_kept = _notes_for(latest, req, draft) if req.notes_ready else (None, False)
    current = draft.raw if draft is not None else _copied_metadata(latest)
    changes = notes_html is None or _draft_body(current, req, notes_html)["metadata"] != current.get("metadata")
    return DraftPlan(
        latest=latest, draft_id=draft.id if draft else None, draft_url=draft.html_url if draft else None,
        version=req.version, publication_date=req.publication_date,
        clear_files=tuple(sorted(files)) if import_files else (), import_files=import_files, remove=remove,
        declare=tuple(u.key for u in todo if u.key not in present),
        upload=tuple(PlannedUpload(u.key, u.size, u.md5) for u in todo), kept=kept, new=new,
        notes_html=notes_html, notes_kept=notes_kept,
        update_metadata=draft is None or changes,
        reserve_doi=draft is None or not draft.doi, doi=draft.doi if draft else None,
    )


def _to_remove(
    key: str, entry: FileEntry, kept: dict[str, str], new: dict[str, str | None], req: DraftRequest
) -> bool:
    if key in kept:
        return False
    if key in new:
        # Uploaded by an earlier run, or pending (its content can still be sent): keep. Committed with
        # other bytes: sending content again would lose the file (Zenodo's trap), so delete and resend.
        # An md5 still unknown here means the sizes differ (see recognise_uploads): other bytes.
        return entry.committed and (new[key] is None or entry.md5 != new[key])
    return req.replaces(key)  # not ours to remove otherwise (a curator's file): verification names it


def _notes_for(latest: Record, req: DraftRequest, draft: Draft | None) -> tuple[str, bool]:
    """(the notes the draft should hold, whether they are a curator's edit kept in place of ours)."""
    notes = draft.notes_html if draft is not None else None
    mine = req.notes()
    ours = (
        notes is None
        or notes == latest.notes_html
        or notes == mine
        or is_unedited_bot_notes(notes)
    )
    if ours or notes is None:
        return mine, False
    log.warning("the draft's notes were edited by hand: keeping them, not the bot's notes")
    return notes, True


class _Applier:
    """Carries out a plan, step by step (``APPLY_STEPS``), keeping what Zenodo answered."""

    def __init__(self, client: ZenodoClient, req: DraftRequest, plan: DraftPlan, progress: bool) -> None:
        self.client = client
        self.req = req
        self.plan = plan
        self.progress = progress
        self.uploaded: list[str] = []
        self.sent: dict[str, str] = {}  # key -> md5 of the bytes this run uploaded
        self._draft: Draft | None = None
        self.files: dict[str, FileEntry] = {}

    @property
    def draft(self) -> Draft:
        if self._draft is None:
            raise RuntimeError("the draft is only known after the new_version step")
        return self._draft

    def new_version(self) -> None:
        # Idempotent by design: answers the pending draft when there is one, so reruns find their work.
        self._draft = self.client.new_version(self.plan.latest.id)
        if self._draft.id != self.plan.draft_id:  # a draft made just now (or by someone else): plan for it
            self.files = self.client.draft_files(self._draft.id)
            self.req = recognise_uploads(self.req, self.files)
            self.plan = plan_for(self.plan.latest, self.req, self._draft, self.files)
        else:
            self.files = {}

    def import_files(self) -> None:
        if self.plan.clear_files:
            log.info("draft holds files but not the imported set: deleting them to import again")
        for key in self.plan.clear_files:
            self.client.delete_draft_file(self.draft.id, key)
        if self.plan.import_files:
            self.files = dict(self.client.import_files(self.draft.id))

    def remove_replaced(self) -> None:
        for key in self.plan.remove:
            self.client.delete_draft_file(self.draft.id, key)

    def upload(self) -> None:
        if self.plan.declare:
            self.client.start_uploads(self.draft.id, list(self.plan.declare))
        sources = {u.key: u for u in self.req.uploads}
        with transfer_progress(self.progress) as bar:
            for planned in self.plan.upload:
                self._send(sources[planned.key], bar)
        # Trust the listing, not our bookkeeping: a failed transfer can silently drop a file.
        self.files = self.client.draft_files(self.draft.id)
        problems = file_problems(self.files, {**self.plan.expected, **self.sent})
        if problems:
            raise Finding(
                f"draft /records/{self.draft.id}/draft does not hold the expected files: " + "; ".join(problems),
                hint="remove files added by hand from the draft (or add them to the release), then rerun",
            )

    def _send(self, upload: UploadFile, bar: TransferProgress) -> None:
        """Stream the file into the draft, hashing it on the way, then check Zenodo's checksum."""
        opener = HashedOpener(upload)
        self.client.upload_content(self.draft.id, upload.key, opener, upload.size, bar.task(upload.key, upload.size))
        sent = opener.sent_md5()
        entry = self.client.commit_file(self.draft.id, upload.key)
        for what, md5 in (("the bytes sent", sent), ("the local file", upload.md5)):
            if md5 is not None and entry.md5 != md5:
                raise Finding(
                    f"{upload.key}: Zenodo computed md5 {entry.md5} but {what} hash to {md5}",
                    hint="the file changed or broke in transfer; rerun the draft step to upload it again",
                )
        self.sent[upload.key] = sent
        self.uploaded.append(upload.key)

    def metadata(self) -> None:
        if not self.plan.update_metadata:
            return
        # The draft as it is now: files-import copied files.default_preview and files.order, and a PUT
        # built from the copy read before the import would send the old values back.
        self._draft = self.client.get_draft(self.draft.id)
        if self.plan.notes_html is None:  # the notes wait for the upload's md5: written now
            notes_html, notes_kept = _notes_for(self.plan.latest, self.req, self.draft)
            self.plan = replace(self.plan, notes_html=notes_html, notes_kept=notes_kept)
        body = _draft_body(self.draft.raw, self.req, self.plan.notes_html or "")
        if body["metadata"] != self.draft.raw.get("metadata"):
            self._draft = self.client.update_draft(self.draft.id, body)

    def reserve_doi(self) -> None:
        if self.plan.reserve_doi and not self.draft.doi:
            self._draft = self.client.reserve_doi(self.draft.id)

    def result(self, calls: int) -> DraftResult:
        return DraftResult(
            draft_id=self.draft.id, doi=self.draft.doi, latest_published_id=self.plan.latest.id,
            latest_version=self.plan.latest.version, files=dict(self.files), version=self.req.version,
            notes_html=self.plan.notes_html, notes_kept=self.plan.notes_kept, uploaded=list(self.uploaded),
            imported=sorted(self.plan.kept), calls=calls, links=self.draft.html_url,
            record=dict(self.draft.raw),
        )


def planned_result(plan: DraftPlan, calls: int = 0) -> DraftResult:
    """What the draft would be once the plan is applied (a dry run's answer; an md5 not learnt is "")."""
    files = {k: FileEntry(k, None, md5 or "", "completed") for k, md5 in plan.expected.items()}
    return DraftResult(
        draft_id=plan.draft_id or "", doi=plan.doi, latest_published_id=plan.latest.id,
        latest_version=plan.latest.version, files=files, version=plan.version, notes_html=plan.notes_html,
        notes_kept=plan.notes_kept, uploaded=[u.key for u in plan.upload], imported=sorted(plan.kept),
        calls=calls, links=plan.draft_url, planned=plan.writes(),
    )


def apply_draft(client: ZenodoClient, req: DraftRequest, plan: DraftPlan, *, progress: bool = False) -> DraftResult:
    """Make Zenodo match ``plan``; after each step ``bot.steps`` hears ``zenodo:<step>``."""
    applier = _Applier(client, req, plan, progress)
    start = client.calls
    for name in APPLY_STEPS:
        with client.step(name):
            getattr(applier, name)()
        steps.finished(f"zenodo:{name}")
    return applier.result(client.calls - start)


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


def converge_draft(
    client: ZenodoClient,
    req: DraftRequest,
    *,
    progress: bool = False,
    dry_run: bool = False,
) -> DraftResult:
    """Bring Zenodo to one new-version draft holding exactly the release: plan, then apply.

    A dry run only plans (reads), prints the write calls it would make and answers the planned draft.
    """
    start = client.calls
    plan = plan_draft(client, req)
    if dry_run:
        if plan.notes_html is None:  # nothing is sent, so the notes are written now (a hashing pass)
            plan = replace(plan, notes_html=req.notes())
        _print_plan("draft", plan.writes())
        return planned_result(plan, client.calls - start)
    result = apply_draft(client, req, plan, progress=progress)
    result.calls = client.calls - start
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
    expected_content: str | None = None,
) -> Record:
    """Verify the draft, date it, publish it and verify the published version.

    ``expected_content`` (an ``integrity.content_digest``) is what the curator approved: the draft's
    metadata and files are checked against it right before publishing.

    Idempotent: when the draft was already published with exactly these files and this version, the
    published record is returned. A dry run only reads, returns the draft and lists the writes in
    ``planned``.
    """
    plan = planned if planned is not None else []
    with client.step("verify"):
        draft = client.find_draft(draft_id)
        if draft is None:
            return _already_published(client, draft_id, expected_files, version)
        files = client.draft_files(draft_id)
        problems = file_problems(files, expected_files)
        if expected_content is not None:
            now = content_digest(draft.raw, {k: f.md5 for k, f in files.items()})
            if now != expected_content:
                problems.append(f"its metadata or files changed since the approval (content {now}, "
                                f"approved {expected_content})")
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
