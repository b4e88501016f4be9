"""``release-bot validate [PATH ...] [--format text|github|json]``.

With PATHs: validate those files and folders. With none, inside a GitHub ``pull_request`` run: validate
the field files the pull request adds or modifies under ``catalog.fields_dir``.
Exit 0 when every file is valid, 1 when any is not, 2 for a usage or configuration error; warnings are
reported but never change the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from rich.console import Console

from bot.config import DEFAULT_CONFIG, ValidationSettings, load_config
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
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
        report = _pull_request_mode()(config_path)
    _emit(report, args.format)
    return EXIT_OK if report.valid else EXIT_FINDING


def _pull_request_mode() -> Callable[[Path], ValidationReport]:
    """The no-PATH mode, loaded by name as bot.cli loads commands: it needs git, PyGithub and the release flow,
    which checking files never uses, so `validate PATH` starts without them."""
    module = importlib.import_module("bot.validate.pull_request")
    return cast(Callable[[Path], ValidationReport], module.pull_request_report)


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
