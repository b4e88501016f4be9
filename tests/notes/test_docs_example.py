"""docs/release-notes-example.md is what docs/make_examples.py generates today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_notes_are_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "make_examples.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = (ROOT / "docs" / "release-notes-example.md").read_text(encoding="utf-8")
    assert "**3 fields added**" in text and "@alice-astro, @bob-ztf" in text
