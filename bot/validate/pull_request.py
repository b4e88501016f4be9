"""``release-bot validate`` with no PATH, inside a GitHub ``pull_request`` run: the PR check's own selection."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.config import load_config
from bot.errors import UsageError
from bot.flow.pr_check import pull_range, pull_request_shas, validate_pull_request
from bot.flow.router import read_payload
from bot.validate.report import ValidationReport


def pull_request_report(config_path: Path) -> ValidationReport:
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
