"""``release-bot validate [PATH ...] [--format text|github|json]``.

With PATHs: validate those files and folders. With none, inside a GitHub ``pull_request`` run: validate
the field files the pull request adds or modifies under ``catalog.fields_dir``.
Exit 0 when every file is valid, 1 when any is not, 2 for a usage or configuration error; warnings are
reported but never change the exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from bot.config import DEFAULT_CONFIG, ValidationSettings, load_config
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
from bot.flow.pr_check import pull_range, pull_request_shas, validate_pull_request
from bot.flow.router import read_payload
from bot.validate.engine import validate_paths
from bot.validate.formats import github_annotations, markdown_summary, render_json, render_text
from bot.validate.report import ValidationReport


def run(args: argparse.Namespace) -> int:
    config_path = Path(getattr(args, "config", None) or DEFAULT_CONFIG)
    paths = [Path(p) for p in args.paths]
    if paths:
        missing = [p for p in paths if not p.exists() and not p.is_symlink()]
        if missing:
            raise UsageError(f"{missing[0]}: no such file or folder",
                             hint="pass existing field files or folders")
        settings = load_config(config_path).validation if config_path.exists() else ValidationSettings()
        workspace = os.environ.get("GITHUB_WORKSPACE")
        root = Path(workspace) if workspace else Path.cwd()
        report = validate_paths(paths, settings=settings, progress=True, display_root=root)
    else:
        report = _pull_request_report(config_path)
    _emit(report, args.format)
    return EXIT_OK if report.valid else EXIT_FINDING


def _pull_request_report(config_path: Path) -> ValidationReport:
    """Inside a pull_request run: the same selection and checks as the PR workflow's handler."""
    if os.environ.get("GITHUB_EVENT_NAME") != "pull_request":
        raise UsageError("no PATH given",
                         hint="pass field files or folders, or run inside a GitHub pull_request workflow")
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or ".")
    base, head = pull_request_shas(read_payload(os.environ))
    if not config_path.is_absolute() and not config_path.exists():
        config_path = workspace / config_path
    config = load_config(config_path)
    base, head = pull_range(workspace, base, head)
    with tempfile.TemporaryDirectory(prefix="release-bot-validate-") as scratch:
        return validate_pull_request(workspace, config, Path(scratch), base=base, head=head, progress=True).report


def _emit(report: ValidationReport, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(render_json(report) + "\n")
        return
    if fmt == "github":
        for line in github_annotations(report):
            sys.stdout.write(line + "\n")
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as out:
                out.write(markdown_summary(report) + "\n")
        bad = sum(not f.valid for f in report.files)
        sys.stdout.write(f"{len(report.files)} file(s) checked, {bad} invalid, {report.error_count} error(s), "
                         f"{report.warning_count} warning(s)\n")
        return
    if not report.files:
        Console(highlight=False).print("no field files to validate")
        return
    render_text(report, Console(highlight=False, soft_wrap=False))
