"""After a merge: validate, build, draft the notes, converge the Zenodo draft, post the summary.

Every step makes the world match a plan computed from the repository and the last published version,
so running it again (after a crash, or after another merge) converges to the same draft.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot import gitrepo, steps
from bot.catalog.build import CatalogBuild, NewField, build_catalog
from bot.catalog.compress import CompressedMember
from bot.catalog.limits import check_record_limits
from bot.catalog.manifest import field_figures, release_record
from bot.catalog.previous import PreviousCatalog
from bot.errors import Finding
from bot.flow.context import RunContext
from bot.flow.fields import validate_and_compress
from bot.github.models import DraftFile, PendingRelease, PullInfo
from bot.integrity import content_digest
from bot.notes.changeset import ChangeKind, ChangeSet, PullRef, assemble_changeset, classify_paths
from bot.notes.edits import markdown_digest, merge_curator_edits
from bot.notes.html import markdown_to_html, render_html
from bot.notes.markdown import render_markdown
from bot.notes.model import build_notes
from bot.notes.version import next_version
from bot.scope import FIELDS_JSON, field_from_filename, is_catalog_zip_name
from bot.skymap.job import SkyMapJob
from bot.skymap.release import SKY_MAP_NAME
from bot.validate.report import FieldStats, ValidationReport
from bot.zenodo import drafts
from bot.zenodo.drafts import DraftPlan, DraftRequest, DraftResult, UploadFile
from bot.zenodo.files import open_published_zip
from bot.zenodo.models import Record

# The steps of a release, in order; a test crashes the run after each and checks a rerun converges.
PREPARE_STEPS: tuple[str, ...] = (
    "validate", "build", "notes", *(f"zenodo:{s}" for s in drafts.STEPS), "summary",
)


# since-commit -> (merged pull requests since it, oldest first; the bot's last summary: body and state)
Gather = Callable[[str | None], tuple[list[PullInfo], tuple[str, PendingRelease] | None]]


class NothingToRelease(Finding):
    """No field file changed since the last release: there is nothing to draft (not a failure)."""

    def __init__(self, message: str, hint: str | None = None, pulls: Sequence[PullInfo] = ()) -> None:
        super().__init__(message, hint)
        self.pulls = list(pulls)


def _replaced_by_release(key: str) -> bool:
    """The previous version's files a release replaces: the catalog zip (its name holds the field count),
    fields.json and the sky map (drawn afresh, or dropped when it cannot be). The rest is imported unchanged."""
    return is_catalog_zip_name(key) or key in (FIELDS_JSON, SKY_MAP_NAME)


class InvalidFields(Finding):
    """The merged field files do not validate: nothing is built or sent to Zenodo."""

    def __init__(self, report: ValidationReport, pulls: Sequence[PullInfo] = ()) -> None:
        bad = [f.path for f in report.files if not f.valid]
        super().__init__(
            f"{len(bad)} field file(s) failed validation: {', '.join(bad)}",
            hint="fix the files in a new pull request; the release is rebuilt on the next merge",
        )
        self.report = report
        self.pulls = list(pulls)


@dataclass
class PreparedRelease:
    version: str
    previous_version: str | None
    changeset: ChangeSet
    build: CatalogBuild
    draft: DraftResult
    notes_markdown: str
    notes_html: str
    state: PendingRelease
    pulls: list[PullInfo] = field(default_factory=list)
    notes_kept: bool = False
    bot_notes_markdown: str = ""  # the bot's own draft of the notes (differs when a curator's edit was kept)
    validation: ValidationReport | None = None
    plan: ReleasePlan | None = None
    sky_map: Path | None = None  # the release's sky map (None: turned off, no matplotlib, or it failed)


def catalog_zip_key(record: Record) -> str:
    keys = [k for k in record.files if is_catalog_zip_name(k)]
    if len(keys) != 1:
        raise Finding(
            f"Zenodo record {record.id} holds {len(keys)} catalog zips ({', '.join(keys) or 'none'})",
            hint="the latest version must hold exactly one predictions_dnn_xgb_<N>_fields.zip",
        )
    return keys[0]


def open_published_catalog(ctx: RunContext, record: Record) -> PreviousCatalog:
    return open_published_zip(ctx.zenodo_url, record.id, catalog_zip_key(record), ctx.zenodo_token)


def recorded_commit(previous: PreviousCatalog, version: str | None) -> str | None:
    """The commit Zenodo's version ``version`` was built from, as its own MANIFEST.json records it.

    The manifest's ``release`` record first; manifests written before it existed still name the commit in
    each new field's ``source``. None for a version the bot did not build.
    """
    if previous.manifest_entry is not None:
        release = release_record(previous.read_member(previous.manifest_entry.name)) or {}
        if release.get("version") == version and isinstance(release.get("commit"), str):
            return str(release["commit"])
    recorded = {
        (m.get("source") or {}).get("commit")
        for m in (previous.manifest or {}).values()
        if (m.get("source") or {}).get("version") == version
    } - {None}
    return str(recorded.pop()) if len(recorded) == 1 else None


def tag_disagreement(ctx: RunContext, version: str | None, commit: str) -> str | None:
    """What is wrong with the release tag of ``version``, built from ``commit``; None when it agrees."""
    tag = f"{ctx.config.github.tag_prefix}{version}"
    try:
        tagged = gitrepo.resolve(ctx.repo_dir, tag)
    except gitrepo.GitError:
        return f"{version} is published but not tagged {tag} (approving again finishes the release)"
    if tagged != commit:
        return (f"tag {tag} points at {tagged[:12]}, but Zenodo's manifest says {version} was built from "
                f"{commit[:12]}: the manifest decides; re-point or delete the tag")
    return None


def release_base(ctx: RunContext, latest: Record, previous: PreviousCatalog) -> str | None:
    """The commit Zenodo's latest version was built from: where the next release's change set starts.

    Zenodo decides what the last release is, never git: the commit its MANIFEST.json records (a tag that
    disagrees is reported, not followed). Only a version made by hand, which has no such record, falls
    back on its tag; None for the first bot-made release on top of a hand-made version without one.
    """
    recorded = recorded_commit(previous, latest.version)
    if recorded is not None:
        try:
            base = gitrepo.resolve(ctx.repo_dir, recorded)
        except gitrepo.GitError:
            raise Finding(
                f"Zenodo's manifest says {latest.version} was built from {recorded[:12]}, which is not in the "
                "repository",
                hint="the default branch's history was rewritten; restore that commit (or fetch the full "
                "history) so the next release knows what it changes",
            ) from None
        problem = tag_disagreement(ctx, latest.version, base)
        if problem is not None:
            ctx.console.print(f"warning: {problem}")
        return base
    prefix = ctx.config.github.tag_prefix
    tag = f"{prefix}{latest.version}"
    try:
        return gitrepo.resolve(ctx.repo_dir, tag)  # a version made by hand: its tag is the only record
    except gitrepo.GitError:
        pass
    newest = gitrepo.latest_release_tag(ctx.repo_dir, prefix)
    if newest is None:
        return None
    raise Finding(
        f"Zenodo's latest version is {latest.version} (record {latest.id}) but the repository has no tag {tag} "
        f"and its newest release tag is {newest[0]}",
        hint=f"if {newest[0]} was made by mistake, delete it; if {latest.version} was published by hand, tag "
        f"the commit it was built from as {tag}",
    )


def _rows_before(previous: PreviousCatalog) -> dict[int, int]:
    manifest = previous.manifest or {}
    return {f: int(m["rows"]) for f, m in manifest.items() if isinstance(m.get("rows"), int)}


def _pull_refs(pulls: Sequence[PullInfo]) -> list[PullRef]:
    return [PullRef(p.number, p.title, p.author, p.html_url, tuple(p.labels)) for p in pulls]


def _field_owner(ctx: RunContext, pulls: Sequence[PullInfo]) -> dict[int, PullInfo]:
    """Which merged PR last touched each field (newest PR wins), for the manifest's provenance."""
    owner: dict[int, PullInfo] = {}
    if not pulls:
        return owner
    gh = ctx.github
    for pull in sorted(pulls, key=lambda p: p.number):
        for changed in gh.pull_files(pull.number):
            n = field_from_filename(Path(changed.path).name)
            if n is not None:
                owner[n] = pull
    return owner


def _bytes_upload(key: str, data: bytes) -> UploadFile:
    return UploadFile(key, len(data), hashlib.md5(data).hexdigest(), lambda: io.BytesIO(data))


def _new_fields(
    paths: dict[int, str], members: dict[int, CompressedMember], stats: dict[int, FieldStats],
    owners: dict[int, PullInfo],
    commit: str, version: str,
) -> list[NewField]:
    """The new members, with the validation pass's figures and where each came from (for the manifest)."""
    return [
        NewField(
            field=f, path=Path(path), rows=stats[f].rows, md5=stats[f].md5, size=stats[f].size,
            compressed=members[f],
            figures=field_figures(stats[f].class_counts, (stats[f].ra_min, stats[f].ra_max),
                                  (stats[f].dec_min, stats[f].dec_max), stats[f].sky),
            provenance={
                "pr": owners[f].number if f in owners else None,
                "contributor": owners[f].author if f in owners else None,
                "commit": commit,
                "version": version,
            },
        )
        for f, path in paths.items()
    ]


@dataclass(frozen=True)
class Notes:
    bot_markdown: str  # the bot's own notes
    markdown: str  # what the summary shows (a curator's edit when one was kept)
    html: str  # what Zenodo receives
    kept: bool  # a curator's edit of the last summary's notes was kept


class NotesOnce:
    """The release notes, written on first use and then remembered."""

    def __init__(self, write: Callable[[], tuple[str, str, str, bool]]) -> None:
        self._write = write
        self._notes: Notes | None = None

    def __call__(self) -> Notes:
        if self._notes is None:
            self._notes = Notes(*self._write())
        return self._notes


def _draft_notes(
    ctx: RunContext, changeset: ChangeSet, version: str, build: CatalogBuild,
    previous_summary: tuple[str, PendingRelease] | None,
) -> tuple[str, str, str, bool]:
    """(the bot's Markdown, the Markdown to show, the HTML for Zenodo, whether a curator's edit was kept).

    A curator's edit of the last summary's notes is kept, and is what Zenodo receives too: it is what they
    approve.
    """
    notes = build_notes(
        changeset, version, ctx.today,
        files={build.zip_name: (build.size, build.md5),
               FIELDS_JSON: (len(build.fields_json), hashlib.md5(build.fields_json).hexdigest())},
        catalog=build.manifest["fields"],
    )
    bot_markdown = render_markdown(notes)
    if previous_summary is not None:
        old_body, old_state = previous_summary
        kept_markdown, kept = merge_curator_edits(old_body, old_state.notes_digest or None, bot_markdown)
        if kept:
            return bot_markdown, kept_markdown, markdown_to_html(kept_markdown), True
    return bot_markdown, bot_markdown, render_html(notes), False


def _summary_state(
    ctx: RunContext, draft: DraftResult, latest: Record, version: str, commit: str,
    pulls: Sequence[PullInfo], zip_name: str, notes_digest: str,
) -> PendingRelease:
    """What the summary records for the approval to check against: the draft as Zenodo holds it."""
    # The previous version always holds a catalog zip (checked above) and usually a fields.json.
    changes = {zip_name: "replaced", FIELDS_JSON: "replaced" if FIELDS_JSON in latest.files else "added",
               SKY_MAP_NAME: "replaced" if SKY_MAP_NAME in latest.files else "added"}
    return PendingRelease(
        draft_id=draft.draft_id,
        version=version,
        doi=draft.doi or "",
        concept_record=ctx.config.zenodo.record,
        commit_sha=commit,
        files={
            key: DraftFile(md5=entry.md5 or "", size=entry.size or 0, change=changes.get(key, "carried"))
            for key, entry in sorted(draft.files.items())
        },
        prs=tuple(sorted({p.number for p in pulls})),
        notes_digest=notes_digest,
        removed=tuple(sorted(k for k in latest.files if k not in draft.files)),
        content_digest=content_digest(draft.record, {k: e.md5 for k, e in draft.files.items()})
        if draft.record else "",
    )


@dataclass
class Changes:
    """What changed in the fields since the last release, and who changed it."""

    since: str | None
    kinds: dict[int, tuple[ChangeKind, str | None]]  # field -> (added | replaced | removed, repository path)
    pulls: list[PullInfo]
    previous_summary: tuple[str, PendingRelease] | None


@dataclass
class ReleasePlan:
    """The next release, decided before anything is written: version, notes, catalog, Zenodo draft plan."""

    head: str
    latest: Record
    changes: Changes
    validation: ValidationReport
    changeset: ChangeSet
    version: str
    build: CatalogBuild
    notes: NotesOnce  # written on first use: after the upload, which learns the zip's md5 on the way
    request: DraftRequest
    draft: DraftPlan
    sky_map: SkyMapJob | None = None  # being drawn; None when the configuration turns the map off

    @property
    def bot_notes_markdown(self) -> str:
        return self.notes().bot_markdown

    @property
    def notes_markdown(self) -> str:
        return self.notes().markdown

    @property
    def notes_html(self) -> str:
        return self.notes().html

    @property
    def notes_kept(self) -> bool:
        return self.notes().kept


def _changes_since(
    ctx: RunContext, latest: Record, previous: PreviousCatalog, head: str, base: str | None, gather: Gather | None
) -> Changes:
    """The field changes to release (NothingToRelease when there are none)."""
    cfg = ctx.config
    since = gitrepo.resolve(ctx.repo_dir, base) if base else release_base(ctx, latest, previous)
    changed = gitrepo.changed_files(ctx.repo_dir, since or gitrepo.EMPTY_TREE, head, cfg.catalog.fields_dir)
    pulls, previous_summary = gather(since) if gather is not None else ([], None)
    kinds = classify_paths(changed, cfg.catalog.fields_dir, previous.fields)
    if not kinds:
        raise NothingToRelease(
            "nothing to release: no field file changed since the last release",
            hint=f"the last release is {latest.version}; field files live in {cfg.catalog.fields_dir}/",
            pulls=pulls,
        )
    return Changes(since, kinds, pulls, previous_summary)


def _validated(
    ctx: RunContext, head: str, changes: Changes, progress: bool
) -> tuple[dict[int, str], dict[int, CompressedMember], ValidationReport, dict[int, FieldStats]]:
    """Step 1: validate what is about to be released, exactly as merged (InvalidFields otherwise),
    compressing each valid file while it is on disk (one at a time: the disk holds the largest file plus
    the compressed members)."""
    new_paths = {f: path for f, (kind, path) in changes.kinds.items() if kind != "removed" and path}
    members, report = validate_and_compress(ctx, head, new_paths, progress=progress)
    if not report.valid:
        raise InvalidFields(report, changes.pulls)
    stats = {f: r.stats for f, r in zip(sorted(new_paths), report.files, strict=True) if r.stats is not None}
    steps.finished("validate")
    return new_paths, members, report, stats


def _changeset(
    ctx: RunContext, head: str, latest: Record, previous: PreviousCatalog, changes: Changes,
    stats: dict[int, FieldStats],
) -> ChangeSet:
    cfg = ctx.config
    return assemble_changeset(
        changes.kinds,
        merge_commit=head,
        fields_before=previous.fields,
        pulls=_pull_refs(changes.pulls),
        commit_authors=gitrepo.commit_authors(ctx.repo_dir, changes.since, head, cfg.catalog.fields_dir),
        stats=stats,
        rows_before=_rows_before(previous),
        previous_version=latest.version,
        repo_url=f"{ctx.github_server_url}/{ctx.github_repository}" if ctx.github_repository else None,
        ignore_logins=[cfg.github.bot_login],
    )


def _built(
    ctx: RunContext, previous: PreviousCatalog, latest: Record, new_fields: list[NewField], changes: Changes,
    version: str, head: str, progress: bool,
) -> CatalogBuild:
    """Step 2: the new catalog zip and fields.json, checked against Zenodo's record limits."""
    cfg = ctx.config
    removed = [f for f, (kind, _) in changes.kinds.items() if kind == "removed"]
    build_dir = ctx.workdir / "build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build = build_catalog(
        previous, new_fields, remove=removed, workdir=build_dir,
        compression_level=cfg.catalog.compression_level, progress=progress, version_label=version,
        # The release as a whole, in its own manifest: the next release starts from this commit.
        release={"version": version, "commit": head, "prs": sorted({p.number for p in changes.pulls})},
    )
    check_record_limits(_record_after(latest, build))
    steps.finished("build")
    return build


def _record_after(latest: Record, build: CatalogBuild) -> dict[str, int]:
    """The new version's files and sizes: what it keeps of the latest one, the new zip and fields.json."""
    record = {k: f.size or 0 for k, f in latest.files.items() if not _replaced_by_release(k)}
    return record | {build.zip_name: build.size, FIELDS_JSON: len(build.fields_json)}


def _sky_map(ctx: RunContext, job: SkyMapJob | None, latest: Record, build: CatalogBuild,
             version: str) -> list[UploadFile]:
    """Step 2b: hand the sky map's child process the new manifest; it draws while this process streams the
    catalog, and ``apply_release`` collects the picture. When the configuration puts the map on the Zenodo
    record, the draft needs its bytes: the run waits for it here and checks the record's limits with it."""
    if job is None:
        return []
    job.draw(build.manifest["fields"], version)
    if not ctx.config.pictures.sky_map_on_zenodo:
        return []
    drawn = job.wait(ctx.console)
    if drawn is None:
        return []
    check_record_limits(_record_after(latest, build) | {SKY_MAP_NAME: drawn.stat().st_size})
    return [_bytes_upload(SKY_MAP_NAME, drawn.read_bytes())]


def _draft_request(
    ctx: RunContext, build: CatalogBuild, version: str, notes: NotesOnce, extra: list[UploadFile]
) -> DraftRequest:
    """Step 4's input: one new-version draft holding exactly this release.

    The zip's md5 is learnt by the upload itself, which hashes the zip as it streams it (the previous zip's
    carried bytes are read once); the notes, which quote it, are written after it.
    """
    return DraftRequest(
        concept_record=ctx.config.zenodo.record,
        uploads=[UploadFile(build.zip_name, build.size, None, build.stream, hash_pass=lambda: build.md5),
                 _bytes_upload(FIELDS_JSON, build.fields_json), *extra],
        replaces=_replaced_by_release,
        version=version,
        notes_html=lambda: notes().html,
        publication_date=ctx.today,
    )


def plan_release(
    ctx: RunContext, *, head: str = "HEAD", base: str | None = None, gather: Gather | None = None,
    progress: bool = False,
) -> ReleasePlan:
    """Decide the next release for ``head``: validate, build, write the notes, plan the Zenodo draft.

    Writes nothing remotely (the catalog is built in the work folder). ``base`` overrides the start of the
    change set (by default the commit the latest published version was built from). ``gather(since)``
    returns the merged pull requests since that commit (newest last) and the bot's last summary for the
    pending draft (body and state), whose curator edits are kept.
    """
    # The sky map's child process starts first: it imports matplotlib while this one validates.
    job = SkyMapJob.start(ctx.workdir / SKY_MAP_NAME) if ctx.config.pictures.draw_sky_map else None
    try:
        return _plan_release(ctx, job, head, base, gather, progress)
    except BaseException:
        if job is not None:
            job.cancel()
        raise


def _plan_release(
    ctx: RunContext, job: SkyMapJob | None, head: str, base: str | None, gather: Gather | None, progress: bool
) -> ReleasePlan:
    head_sha = gitrepo.resolve(ctx.repo_dir, head)
    latest = drafts.latest_published(ctx.zenodo, ctx.config.zenodo.record)
    with open_published_catalog(ctx, latest) as previous:
        changes = _changes_since(ctx, latest, previous, head_sha, base, gather)
        new_paths, members, report, stats = _validated(ctx, head_sha, changes, progress)
        changeset = _changeset(ctx, head_sha, latest, previous, changes, stats)
        version = next_version(latest.version, changeset, ctx.config.versioning)
        owners = _field_owner(ctx, changes.pulls)
        new_fields = _new_fields(new_paths, members, stats, owners, head_sha, version)
        build = _built(ctx, previous, latest, new_fields, changes, version, head_sha, progress)
    sky_upload = _sky_map(ctx, job, latest, build, version)
    # Step 3: the notes, keeping a curator's edits of the last summary (written once the zip's md5 is known)
    notes = NotesOnce(lambda: _draft_notes(ctx, changeset, version, build, changes.previous_summary))
    steps.finished("notes")
    request = _draft_request(ctx, build, version, notes, sky_upload)
    return ReleasePlan(
        head=head_sha, latest=latest, changes=changes, validation=report, changeset=changeset, version=version,
        build=build, notes=notes, request=request, draft=drafts.plan_draft(ctx.zenodo, request), sky_map=job,
    )


def apply_release(ctx: RunContext, plan: ReleasePlan, *, progress: bool = False) -> PreparedRelease:
    """Step 4: make the Zenodo draft match the plan (a dry run stops at the plan and reports it)."""
    if ctx.dry_run:
        draft = drafts.planned_result(plan.draft)
    else:
        draft = drafts.apply_draft(ctx.zenodo, plan.request, plan.draft, progress=progress)
    previous_summary = plan.changes.previous_summary
    kept_digest = previous_summary[1].notes_digest if previous_summary else ""
    digest = kept_digest if plan.notes_kept else markdown_digest(plan.bot_notes_markdown)
    state = _summary_state(ctx, draft, plan.latest, plan.version, plan.head, plan.changes.pulls,
                           plan.build.zip_name, digest)
    return PreparedRelease(
        version=plan.version, previous_version=plan.latest.version, changeset=plan.changeset, build=plan.build,
        draft=draft, notes_markdown=plan.notes_markdown, notes_html=plan.notes_html, state=state,
        pulls=list(plan.changes.pulls), notes_kept=plan.notes_kept, bot_notes_markdown=plan.bot_notes_markdown,
        validation=plan.validation, plan=plan, sky_map=plan.sky_map.wait(ctx.console) if plan.sky_map else None,
    )


def prepare_release(
    ctx: RunContext, *, head: str = "HEAD", base: str | None = None, gather: Gather | None = None,
    progress: bool = False,
) -> PreparedRelease:
    """Plan the next release for ``head``, then bring Zenodo to its draft; returns what was done."""
    plan = plan_release(ctx, head=head, base=base, gather=gather, progress=progress)
    return apply_release(ctx, plan, progress=progress)
