"""A whole release world on one machine: local Zenodo and GitHub servers and real git repositories.

``origin`` plays the repository on GitHub (the servers' commits mirror it); ``workspace`` plays the
runner's checkout, fetched and checked out the way each workflow does before it runs
``release-bot handle-event``. The demo and the end-to-end tests both drive releases through this.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bot import events
from bot.catalog.manifest import build_manifest, dump_manifest, field_figures, field_record, source_record
from bot.exits import run_guarded
from bot.local import payloads
from bot.local.crash import crash_after as simulated_crash
from bot.local.github.lfs import pointer_bytes
from bot.local.github_server import GitHubServer
from bot.local.sample import field_csv_bytes
from bot.local.zenodo_server import ZenodoServer
from bot.scope import MANIFEST_NAME, catalog_zip_name, dump_fields_json, field_from_filename
from bot.validate.engine import validate_file

ZENODO_TOKEN = "zenodo-local-token-0123456789"
ACTIONS_TOKEN = "ghs_local-actions-token-0123456789"
READONLY_TOKEN = "ghs_local-readonly-token-0123456789"
BOT_LOGIN = "github-actions[bot]"
OWNER, REPO = "ztf-scope", "scope-catalog"
SEED_FIELDS = (296, 297, 423)


# The inputs of .github/workflows/dispatch.yml (name -> required); a test holds the two in step.
DISPATCH_INPUTS = {"action": True, "draft_id": False, "dry_run": False}


@dataclass
class EventRun:
    code: int
    stdout: str
    stderr: str
    summary: str  # what the run appended to $GITHUB_STEP_SUMMARY
    outputs: dict[str, str] = field(default_factory=dict)  # what it wrote to $GITHUB_OUTPUT
    outputs_dir: str = ""  # the job's folder (event.json, summary, $RUNNER_TEMP as tmp/)


def seed_manifest(csvs: Mapping[int, bytes], version: str = "v1.0.0") -> bytes:
    """The MANIFEST.json the bot would have written for these fields (figures from a validation pass)."""
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for field, data in sorted(csvs.items()):
            path = Path(tmp) / f"field_{field}.csv"
            path.write_bytes(data)
            st = validate_file(path).stats
            assert st is not None, f"the seed field {field} did not validate"
            figures = field_figures(st.class_counts, (st.ra_min, st.ra_max), (st.dec_min, st.dec_max), st.sky)
            records.append(field_record(field, path.name, rows=st.rows, md5=st.md5, size=st.size,
                                        source=source_record(None, version), figures=figures))
    return dump_manifest(build_manifest(catalog_zip_name(len(records)), records))


def seed_catalog(fields: tuple[int, ...] = SEED_FIELDS, rows: int = 120, manifest: bool = False) -> dict[str, bytes]:
    """The files of a small published first version, shaped like SCoPe's record: by default with no
    manifest (made by hand, before the bot); ``manifest`` as if the bot had made it."""
    return dict(_seed_catalog(tuple(fields), rows, manifest))


@functools.lru_cache(maxsize=16)
def _seed_catalog(fields: tuple[int, ...], rows: int, manifest: bool) -> dict[str, bytes]:
    # Cached: every test world starts from the same few catalogs (the bytes are immutable).
    csvs = {field: field_csv_bytes(field, rows, seed=1) for field in fields}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for field, data in csvs.items():
            zf.writestr(f"field_{field}.csv", data)
        if manifest:
            zf.writestr(MANIFEST_NAME, seed_manifest(csvs))
    return {
        catalog_zip_name(len(fields)): buffer.getvalue(),
        "fields.json": dump_fields_json(fields),
        "field_296_100rows.csv": field_csv_bytes(296, 100, seed=1),
        "SCoPe_classification_demo.ipynb": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
    }


SEED_PREVIEW = "SCoPe_classification_demo.ipynb"  # what the record page previews; new versions keep it
SEED_METADATA: dict[str, Any] = {
    "title": "SCoPe ZTF variable star classification catalog (local sample)",
    "resource_type": {"id": "dataset"},
    "creators": [{"person_or_org": {"type": "personal", "given_name": "Ada", "family_name": "Curator"}}],
    "description": "<p>Machine-learned variability classifications of ZTF light curves.</p>",
    "additional_descriptions": [{"description": "<p>First release.</p>", "type": {"id": "notes"}}],
}


class LocalWorld:
    """Servers + repositories for a scripted release; ``start()`` it, drive it, ``stop()`` it."""

    def __init__(
        self,
        root: Path,
        *,
        curators: tuple[str, ...] = ("carol",),
        writers: tuple[str, ...] = ("carol", "mallory"),
        seed_fields: tuple[int, ...] = SEED_FIELDS,
        seed_rows: int = 120,
        zenodo_options: Mapping[str, Any] | None = None,
        persist_zenodo: bool = False,
        seed_manifest: bool = False,
        lfs: bool = False,
        sky_map: bool = True,
    ) -> None:
        self.root = Path(root)
        self.origin = self.root / "origin"
        self.workspace = self.root / "workspace"
        self.events_dir = self.root / "events"
        self.curators = curators
        self.writers = writers
        self.seed_fields = seed_fields
        self.seed_rows = seed_rows
        self.seed_manifest = seed_manifest
        self.sky_map = sky_map  # the configuration's pictures.sky_map
        self.lfs = lfs  # field files are committed through Git LFS: pointers in git, content on the server
        zenodo_dir = self.root / "zenodo" if persist_zenodo else None
        self.zenodo = ZenodoServer(data_dir=zenodo_dir, tokens=(ZENODO_TOKEN,), **dict(zenodo_options or {}))
        self.github = GitHubServer(owner=OWNER, repo=REPO)
        self.concept_id = ""
        self.first_record_id = ""
        self._event_count = 0

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> LocalWorld:
        self.root.mkdir(parents=True, exist_ok=True)
        self.zenodo.start()
        self.github.start()
        self.concept_id, self.first_record_id = self.zenodo.seed_concept(
            seed_catalog(self.seed_fields, self.seed_rows, self.seed_manifest), SEED_METADATA, version="v1.0.0",
            default_preview=SEED_PREVIEW,
        )
        gh = self.github
        gh.add_token(ACTIONS_TOKEN, BOT_LOGIN)
        gh.add_token(READONLY_TOKEN, BOT_LOGIN, write=False)
        for login in self.writers:
            gh.set_permission(login, "write")
        gh.add_workflow("dispatch.yml", DISPATCH_INPUTS)
        self._init_origin()
        return self

    def stop(self) -> None:
        self.github.stop()
        self.zenodo.stop()

    def __enter__(self) -> LocalWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- git --------------------------------------------------------------------------------------------
    def git(self, *args: str, repo: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
               "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root)}
        done = subprocess.run(["git", "-C", str(repo or self.origin), *args], capture_output=True, text=True,
                              env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def config_text(self) -> str:
        return yaml.safe_dump({
            "catalog": {"fields_dir": "fields", "compression_level": 6},
            # The bundled servers answer at once: retries need not wait as they do for zenodo.org.
            "zenodo": {"api_url": self.zenodo.url, "record": self.concept_id, "community": "ztf-scope",
                       "retry_delay": 0.01},
            "github": {"bot_login": BOT_LOGIN, "tag_prefix": "catalog-"},
            "approval": {"command": "/release publish", "curators": list(self.curators)},
            "pictures": {"sky_map": self.sky_map},
        }, sort_keys=False)

    def _init_origin(self) -> None:
        self.origin.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Ada Maintainer")
        self.git("config", "user.email", "ada@example.org")
        (self.origin / "release-config.yaml").write_text(self.config_text())
        (self.origin / "fields").mkdir(exist_ok=True)
        (self.origin / "fields" / ".gitkeep").write_text("")
        setup = ["release-config.yaml", "fields/.gitkeep"]
        if self.lfs:  # what `git lfs track` writes
            (self.origin / ".gitattributes").write_text("".join(
                f"fields/{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in ("*.csv", "*.csv.gz")))
            setup.append(".gitattributes")
        sha = self._commit(setup, "Set up the catalog repository", "ada")
        self.github.add_commit(sha, [], files={"release-config.yaml": "added"}, author="ada",
                               message="Set up the catalog repository")
        self.github.set_branch("main", sha)

    def _commit(self, paths: list[str], message: str, author: str) -> str:
        self.git("add", "-A", "--", *paths)
        self.git("-c", f"user.name={author}", "-c", f"user.email={author}@users.noreply.github.com",
                 "commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def _changes(self, base: str, head: str) -> dict[str, str]:
        out = self.git("diff", "--name-status", "--no-renames", base, head)
        names = {"A": "added", "M": "modified", "D": "removed"}
        return {line.split("\t", 1)[1]: names.get(line[0], "modified") for line in out.splitlines() if line}

    def _write(self, files: Mapping[str, bytes | None]) -> list[str]:
        for path, content in files.items():
            target = self.origin / path
            if content is None:
                target.unlink()
            else:
                if self.lfs and field_from_filename(PurePosixPath(path).name) is not None:
                    # what the clean filter and the pre-push hook do: content to the server, pointer to git
                    content = pointer_bytes(self.github.lfs.add(content), len(content))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        return list(files)

    # -- pull requests ----------------------------------------------------------------------------------
    def open_pull(self, number: int, title: str, author: str, files: Mapping[str, bytes | None],
                  labels: tuple[str, ...] = ()) -> str:
        """Branch from main, commit ``files`` (None deletes), declare the PR; returns the head sha."""
        base = self.git("rev-parse", "main")
        self.git("checkout", "-q", "-b", f"pr-{number}", "main")
        head = self._commit(self._write(files), title, author)
        self.git("checkout", "-q", "main")
        self.github.add_commit(head, [base], files=self._changes(base, head), author=author, message=title)
        self.github.add_pull(number, title, author, head_sha=head, base_sha=base, labels=labels,
                             head_ref=f"pr-{number}")
        return head

    def push_to_pull(self, number: int, files: Mapping[str, bytes | None], message: str) -> str:
        pull = self.github.pull(number)
        assert pull is not None
        self.git("checkout", "-q", f"pr-{number}")
        head = self._commit(self._write(files), message, pull.author)
        self.git("checkout", "-q", "main")
        with self.github.lock:
            self.github.add_commit(head, [pull.head_sha], files=self._changes(pull.head_sha, head),
                                   author=pull.author, message=message)
            pull.head_sha = head
            self.github.commit_pulls.setdefault(head, set()).add(number)
        return head

    def merge(self, number: int) -> str:
        """Squash-merge the PR into main, as GitHub's button does; returns the new main sha."""
        pull = self.github.pull(number)
        assert pull is not None
        before = self.git("rev-parse", "main")
        self.git("merge", "-q", "--squash", f"pr-{number}")
        sha = self._commit(["."], f"{pull.title} (#{number})", pull.author)
        self.github.add_commit(sha, [before], files=self._changes(before, sha), author=pull.author,
                               message=f"{pull.title} (#{number})")
        self.github.merge_pull(number, sha)
        return sha

    def push_main(self, files: Mapping[str, bytes | None], message: str, author: str = "ada") -> str:
        before = self.git("rev-parse", "main")
        sha = self._commit(self._write(files), message, author)
        self.github.add_commit(sha, [before], files=self._changes(before, sha), author=author, message=message)
        self.github.set_branch("main", sha)
        return sha

    def comment(self, number: int, login: str, body: str) -> int:
        return int(self.github.post_comment_as(login, number, body)["id"])

    def sync_tags(self) -> None:
        """Tags the bot made through the API appear in the repository (as on GitHub)."""
        made = self.github.tags()
        known = set(self.git("tag", "--list").split()) if made else set()
        for name, sha in made.items():
            if name not in known:
                self.git("tag", name, self.github.peel(sha))

    # -- workflow runs ----------------------------------------------------------------------------------
    def _checkout(self, sha: str) -> None:
        """What actions/checkout does: a fresh fetch of origin (with tags) and a detached checkout."""
        self.sync_tags()
        if not (self.workspace / ".git").exists():
            self.workspace.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", repo=self.workspace)
            self.git("remote", "add", "origin", str(self.origin), repo=self.workspace)
        self.git("fetch", "-q", "--force", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*",
                 "+refs/pull/*:refs/remotes/pull/*", repo=self.workspace)
        self.git("checkout", "-q", "--force", "--detach", sha, repo=self.workspace)
        self.git("clean", "-q", "-fdx", repo=self.workspace)

    def env(self, event: str, payload: dict[str, Any], sha: str, token: str = ACTIONS_TOKEN,
            zenodo_token: str | None = ZENODO_TOKEN) -> dict[str, str]:
        self._event_count += 1
        folder = self.events_dir / f"{self._event_count:03d}-{event}"
        env = payloads.event_env(event, payload, api_url=self.github.url, token=token, workdir=folder, sha=sha,
                                 workspace=self.workspace)
        env["RUNNER_TEMP"] = str(folder / "tmp")
        env["GITHUB_WORKSPACE"] = str(self.workspace)
        if zenodo_token:
            env["ZENODO_TOKEN"] = zenodo_token
        return env

    def run(self, env: dict[str, str], *, checkout: str, in_process: bool = True,
            extra_env: Mapping[str, str] | None = None, crash_after: str | None = None,
            argv: tuple[str, ...] = ("handle-event",)) -> EventRun:
        """Check out ``checkout`` in the workspace and run ``release-bot <argv>`` (handle-event) with ``env``.

        ``crash_after`` names a step (see ``bot.steps``) after which the run dies, as a runner might.
        """
        self._checkout(checkout)
        full = {**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ZENODO_"))},
                **env, **dict(extra_env or {})}
        if crash_after is not None and not in_process:
            raise ValueError("a crash can be rehearsed only in process")
        for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):  # each job starts with its own, empty files
            Path(env[name]).write_text("", encoding="utf-8")
        if in_process:
            with simulated_crash(crash_after):
                code, out, err = _run_in_process(full, argv)
        else:
            done = subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=full, cwd=self.workspace,
                                  capture_output=True, text=True, check=False)
            code, out, err = done.returncode, done.stdout, done.stderr
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
        outputs = dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines() if line)
        return EventRun(code, out, err, summary, outputs, str(Path(env["GITHUB_STEP_SUMMARY"]).parent))

    # -- the four events --------------------------------------------------------------------------------
    def merge_ref(self, number: int) -> str:
        """``refs/pull/N/merge``: the PR merged into the current main, which pull_request runs check out."""
        self.git("checkout", "-q", "--detach", "main")
        self.git("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "-q", "--no-ff",
                 "--no-edit", f"pr-{number}")
        sha = self.git("rev-parse", "HEAD")
        self.git("update-ref", f"refs/pull/{number}/merge", sha)
        self.git("checkout", "-q", "main")
        return sha

    def pull_request(self, number: int, action: str = "opened", **kw: Any) -> EventRun:
        env = self.pull_request_env(number, action)
        return self.run(env, checkout=env["GITHUB_SHA"], **kw)

    def pull_request_env(self, number: int, action: str = "opened") -> dict[str, str]:
        """Check out ``refs/pull/N/merge`` as the pull_request workflow does; returns the run's environment."""
        pull = self.github.pull_payload(number)
        payload = payloads.pull_request_event(action, pull, self.github.repo_payload(), pull["user"]["login"])
        merge = self.merge_ref(number)
        self._checkout(merge)
        return self.env("pull_request", payload, merge, token=READONLY_TOKEN, zenodo_token=None)

    def pull_request_matrix(self, number: int, *, drop_groups: tuple[int, ...] = ()) -> dict[str, Any]:
        """validate.yml's jobs as GitHub runs them: ``plan``; one ``check`` per group of its output (a
        matrix), each uploading its report; ``report`` gathering the downloaded reports. ``drop_groups``:
        matrix jobs that die without a report. Returns {"plan": run, "groups": [runs], "report": run}."""
        pull = self.github.pull_payload(number)
        payload = payloads.pull_request_event("opened", pull, self.github.repo_payload(), pull["user"]["login"])
        merge = self.merge_ref(number)

        def job(*argv: str) -> EventRun:
            env = self.env("pull_request", payload, merge, token=READONLY_TOKEN, zenodo_token=None)
            return self.run(env, checkout=merge, argv=argv)

        plan = job("pr-plan")
        reports = self.root / "artifacts" / f"pr-{number}-{self._event_count}"
        groups: list[EventRun] = []
        for group in json.loads(plan.outputs["groups"]):
            run = job("pr-group", "--group", str(group["index"]))
            groups.append(run)
            written = Path(run.outputs_dir) / "tmp" / "release-bot" / "group-report.json"
            if group["index"] not in drop_groups and written.exists():  # upload-artifact, then download-artifact
                target = reports / f"group-report-{group['index']}" / written.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(written, target)
        reports.mkdir(parents=True, exist_ok=True)
        return {"plan": plan, "groups": groups, "report": job("pr-gather", "--reports", str(reports))}

    def push(self, before: str, after: str, **kw: Any) -> EventRun:
        return self.run(self.push_env(before, after), checkout=after, **kw)

    def push_env(self, before: str, after: str) -> dict[str, str]:
        """Check out ``after`` as the push workflow does; returns the run's environment."""
        payload = payloads.push_event("refs/heads/main", before, after, self.github.repo_payload(), "ada",
                                      commits=self.github.push_commits(before, after))
        self._checkout(after)
        return self.env("push", payload, after)

    def issue_comment(self, number: int, comment_id: int, body: str, login: str, action: str = "created",
                      **kw: Any) -> EventRun:
        payload = payloads.issue_comment_event(action, number, comment_id, body, login,
                                               repo=self.github.repo_payload())
        main = self.git("rev-parse", "main")
        return self.run(self.env("issue_comment", payload, main), checkout=main, **kw)

    def approve_workflow(self, number: int, login: str, body: str, *, publish: str = "run") -> dict[str, EventRun]:
        """Post a comment and run approve.yml's jobs as GitHub would: ``filter``; ``publish`` when the filter
        says so (``publish="cancelled"``: GitHub dropped it from the queue before it ran); ``unprocessed`` when
        publish did not reply. Returns the runs by job id."""
        comment_id = self.comment(number, login, body)
        payload = payloads.issue_comment_event("created", number, comment_id, body, login,
                                               repo=self.github.repo_payload(),
                                               comment=self.github.comment_payload(comment_id))
        main = self.git("rev-parse", "main")
        runs = {"filter": self.run(self.env("issue_comment", payload, main, zenodo_token=None), checkout=main,
                                   argv=("approve-filter",))}
        if runs["filter"].outputs.get("approve") != "true":
            return runs
        result = "cancelled"
        if publish == "run":
            runs["publish"] = self.run(self.env("issue_comment", payload, main), checkout=main)
            result = "success" if runs["publish"].code == 0 else "failure"
        if runs.get("publish") is None or runs["publish"].outputs.get("replied") != "true":
            env = self.env("issue_comment", payload, main, zenodo_token=None)
            runs["unprocessed"] = self.run(env, checkout=main, argv=("approve-unprocessed", "--result", result))
        return runs

    def schedule(self, **kw: Any) -> EventRun:
        """The weekly status workflow (``schedule``), on the default branch."""
        main = self.git("rev-parse", "main")
        payload = {"schedule": "17 6 * * 1", "repository": self.github.repo_payload()}
        return self.run(self.env("schedule", payload, main), checkout=main, **kw)

    def run_dispatches(self) -> list[EventRun]:
        """Run the workflow_dispatch runs the bot asked for (``github.dispatches``), oldest first, once each."""
        done: list[EventRun] = []
        while self.github.dispatches:
            asked = self.github.dispatches.pop(0)
            done.append(self.dispatch(asked["inputs"], sender=BOT_LOGIN))
        return done

    def approve(self, number: int, login: str, body: str, **kw: Any) -> EventRun:
        """Post a comment as ``login`` and run the comment workflow on it."""
        comment_id = self.comment(number, login, body)
        return self.issue_comment(number, comment_id, body, login, **kw)

    def dispatch(self, inputs: Mapping[str, Any], sender: str = "ada", **kw: Any) -> EventRun:
        main = self.git("rev-parse", "main")
        payload = payloads.workflow_dispatch_event(dict(inputs), "main", self.github.repo_payload(), sender)
        return self.run(self.env("workflow_dispatch", payload, main), checkout=main, **kw)


def _command(argv: tuple[str, ...]) -> int:
    """The release-bot commands the workflows run, as the command line would call them."""
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    if argv[0] == "approve-filter":
        return events.approve_filter(os.environ)
    if argv[0] == "approve-unprocessed":
        return events.approve_unprocessed(os.environ, options["--result"])
    if argv[0] == "pr-plan":
        return events.run_pr_plan(argparse.Namespace())
    if argv[0] == "pr-group":
        return events.run_pr_group(argparse.Namespace(group=int(options["--group"])))
    if argv[0] == "pr-gather":
        return events.run_pr_gather(argparse.Namespace(reports=options["--reports"]))
    return events.handle(os.environ)


def _run_in_process(env: dict[str, str], argv: tuple[str, ...] = ("handle-event",)) -> tuple[int, str, str]:
    """``release-bot <argv>`` in this process, with ``env`` as its whole environment."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    cwd = os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    try:
        os.chdir(env["GITHUB_WORKSPACE"])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_guarded(lambda: _command(argv))
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def reset_dir(path: Path, marker: str = ".release-bot-world") -> None:
    """Empty a folder this module made before (it carries ``marker``); refuse any other non-empty one."""
    if path.exists() and any(path.iterdir()):
        if not (path / marker).exists():
            raise FileExistsError(f"{path} exists and was not made by release-bot; choose another --workdir")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / marker).write_text("made by release-bot; safe to delete\n")
