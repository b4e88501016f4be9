"""Without the 'plots' extra every command still works and says once that the sky map was skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from release_helpers import CURATOR, OUTSIDER

from bot.local.blockers import without_matplotlib
from bot.local.world import ZENODO_TOKEN, LocalWorld
from bot.skymap.draw import SKIP_NOTICE


@pytest.fixture
def no_matplotlib_env(tmp_path):
    blocker = without_matplotlib(tmp_path / "blocker")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ZENODO_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), str(Path(__file__).parents[2])])
    check = subprocess.run([sys.executable, "-c", "import matplotlib"], env=env, capture_output=True, text=True)
    assert check.returncode != 0, "the blocker must make matplotlib unimportable"
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_the_demo_runs_and_says_once_that_the_picture_was_skipped(no_matplotlib_env, tmp_path):
    done = _run(["demo", "--workdir", str(tmp_path / "demo")], no_matplotlib_env, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert out.count(SKIP_NOTICE) == 1, out[-3000:]
    assert "verified" in out
    assert not list((tmp_path / "demo").rglob("sky-map.png"))


def test_status_plot_says_it_skipped_the_picture(no_matplotlib_env, tmp_path):
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER), seed_manifest=True) as w:
        w._checkout(w.git("rev-parse", "main"))
        env = {**no_matplotlib_env, "ZENODO_TOKEN": ZENODO_TOKEN}
        done = _run(["status", "--plot", str(tmp_path / "map.png")], env, w.workspace)
    out = done.stdout + done.stderr
    assert done.returncode in (0, 1), out  # 1: the sample's v1.0.0 is not tagged (drift), which status reports
    assert "latest version" in out and out.count(SKIP_NOTICE) == 1
    assert not (tmp_path / "map.png").exists()
