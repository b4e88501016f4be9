"""The ``release-bot`` command line: parse arguments, call one function, map errors to exit codes.

Every command's work lives in the package of its concern; this module only wires them up.
Exit codes: 0 success, 1 a finding (invalid data, refused approval, drift), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.exits import run_guarded

# command -> "module:function"; each function takes the parsed args and returns an exit code.
COMMANDS: dict[str, str] = {
    "validate": "bot.validate.command:run",
    "build": "bot.catalog.command:run",
    "notes": "bot.notes.command:run",
    "draft": "bot.flow.draft:run_draft",
    "publish": "bot.flow.approve:run_publish",
    "status": "bot.flow.status:run_status",
    "handle-event": "bot.events:run",
    "approve-filter": "bot.events:run_approve_filter",
    "approve-unprocessed": "bot.events:run_approve_unprocessed",
    "pr-plan": "bot.events:run_pr_plan",
    "pr-group": "bot.events:run_pr_group",
    "pr-gather": "bot.events:run_pr_gather",
    "demo": "bot.local.demo:run",
    "serve-zenodo": "bot.local.zenodo_server:run",
    "serve-github": "bot.local.github_server:run",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="release-bot",
        description="Validate SCoPe field files, build the catalog and release it on Zenodo.",
    )
    parser.add_argument("--version", action="version", version=f"release-bot {__version__}")
    parser.add_argument(
        "--config", default="release-config.yaml", metavar="FILE",
        help="release configuration (default: release-config.yaml in the current directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _data_commands(sub)
    _release_commands(sub)
    _local_commands(sub)
    return parser


def _data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands that work on files alone: validate, build, notes."""
    p = sub.add_parser("validate", help="check field files against the catalog schema")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="field files or folders; in a pull_request run, default: the PR's changed field files")
    p.add_argument("--format", choices=("text", "github", "json"), default="text",
                   help="text (tables), github (annotations + job summary) or json (one object on stdout)")

    p = sub.add_parser("build", help="build the catalog zip and fields.json from a previous zip plus new fields")
    p.add_argument("paths", nargs="*", metavar="PATH", help="new or replacing field_<N>.csv[.gz] files")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the zip and fields.json into")
    p.add_argument("--previous", metavar="ZIP_OR_URL", help="the previous release's catalog zip (path or URL)")
    p.add_argument("--remove", type=int, action="append", default=[], metavar="FIELD",
                   help="drop this field from the catalog (repeatable)")
    p.add_argument("--version-label", default=None, metavar="VERSION",
                   help="release version recorded in the manifest for new fields (e.g. v1.2.0)")

    p = sub.add_parser("notes", help="print the release notes for a range of commits")
    p.add_argument("--base", required=True, metavar="REF", help="the last released commit or tag")
    p.add_argument("--head", default="HEAD", metavar="REF", help="the commit to release (default HEAD)")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    p.add_argument("--repo", default=".", metavar="DIR", help="git repository (default: current directory)")
    p.add_argument("--previous-version", default=None, metavar="VERSION",
                   help="last published version (default: read from the latest tag)")


def _release_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The stages of a release, by hand or from the workflows: draft, publish, status, handle-event."""
    p = sub.add_parser("draft", help="prepare the Zenodo draft of the next version (no publishing)")
    p.add_argument("--base", default=None, metavar="REF", help="last released commit (default: latest tag)")
    p.add_argument("--head", default="HEAD", metavar="REF", help="commit to release (default HEAD)")
    p.add_argument("--workdir", default=None, metavar="DIR", help="where built files go (default: a temp dir)")
    p.add_argument("--dry-run", action="store_true", help="print the calls that would be made; write nothing")

    p = sub.add_parser("publish", help="publish a prepared Zenodo draft after verifying it")
    p.add_argument("--draft", required=True, metavar="ID", help="the draft record id")
    p.add_argument("--dry-run", action="store_true", help="verify and print the calls; publish nothing")

    p = sub.add_parser("status", help="show the concept record, any pending draft, and drift from the repo")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--plot", default=None, metavar="FILE",
                   help="also draw the latest version's sky map to FILE (PNG; needs the 'plots' extra)")

    sub.add_parser("handle-event", help="entry point of the GitHub workflows (reads the GITHUB_* environment)")
    sub.add_parser("approve-filter", help="approve workflow, first job: is this comment a curator's well-formed "
                   "approval? (step outputs approve, draft_id; replies to malformed or unpermitted ones)")
    p = sub.add_parser("approve-unprocessed", help="approve workflow, last job: reply to an approval whose "
                       "publishing job was cancelled or failed without replying")
    p.add_argument("--result", required=True, metavar="RESULT",
                   help="the publishing job's result (needs.<job>.result: cancelled, failure, skipped, ...)")

    sub.add_parser("pr-plan", help="pull_request check, first job: split the PR's field files into groups "
                   "(step output groups, JSON, for the workflow's matrix)")
    p = sub.add_parser("pr-group", help="pull_request check, matrix job: fetch and validate one group, "
                       "write its JSON report")
    p.add_argument("--group", type=int, required=True, metavar="N", help="the group number (from pr-plan)")
    p = sub.add_parser("pr-gather", help="pull_request check, last job: merge the groups' reports into the one "
                       "summary, annotations, JSON report and verdict")
    p.add_argument("--reports", required=True, metavar="DIR",
                   help="folder holding the groups' reports (searched recursively for group-report.json)")


def _local_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The bundled servers and the demo that runs a release against them."""
    p = sub.add_parser("demo", help="a whole release against the bundled local Zenodo and GitHub servers")
    p.add_argument("--workdir", default="demo-workdir", metavar="DIR",
                   help="where the demo keeps its state (default: ./demo-workdir)")

    p = sub.add_parser("serve-zenodo", help="run the bundled Zenodo-compatible server on loopback")
    p.add_argument("--port", type=int, default=5800, help="TCP port on 127.0.0.1 (default 5800; 0 picks one)")
    p.add_argument("--data", default=None, metavar="DIR", help="persist state here across restarts")
    p.add_argument("--seed-demo", action="store_true", help="start with a published v1.0.0 sample catalog")
    p.add_argument("--token", default=None, metavar="TOKEN",
                   help="the token clients must send (default: $ZENODO_TOKEN, else the demo token)")
    p.add_argument("--rate-limit", type=int, default=None, metavar="N", help="requests per minute (default 100)")
    p.add_argument("--api-range", action="store_true",
                   help="honour Range on the API's file content, as some InvenioRDM instances do "
                        "(zenodo.org ignores it)")

    p = sub.add_parser("serve-github", help="run the bundled GitHub-compatible server on loopback")
    p.add_argument("--port", type=int, default=5900, help="TCP port on 127.0.0.1 (default 5900; 0 picks one)")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    module_name, func_name = COMMANDS[args.command].split(":")
    return run_guarded(lambda: getattr(importlib.import_module(module_name), func_name)(args))


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(main())
