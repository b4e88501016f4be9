"""The CLI contract: commands, flags, help and exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert "usage: release-bot" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "flags"),
    [("validate", ["--format", "text|github|json"]), ("build", ["--out", "--previous", "--remove"]),
     ("publish", ["--draft", "--dry-run"]), ("draft", ["--dry-run"]), ("notes", ["--base", "--head", "--format"])],
)
def test_documented_flags_exist(command, flags, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for flag in flags:
        assert flag.split("|")[0] in out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.startswith("release-bot ")
