"""The README's two set-up commands are the ones CI and newcomers run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md must open with a bash block of set-up commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_setup_commands():
    demo, tests = readme_commands()
    assert demo.endswith("release-bot demo")
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_ci_script_is_executable_and_runs_the_static_checks():
    path = ROOT / ".ci" / "run"
    assert path.stat().st_mode & 0o111
    text = path.read_text()
    for check in ("ruff check", "zizmor --offline .github/workflows",
                  "check-jsonschema --builtin-schema vendor.github-workflows"):
        assert check in text
