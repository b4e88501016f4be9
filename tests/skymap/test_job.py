"""The merge run's sky map is drawn by a child process: what the child gets, and what the run is told."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bot.skymap.draw import SKIP_NOTICE
from bot.skymap.job import SkyMapJob

RECORDS = [{"field": 1, "rows": 3}, {"field": 2, "rows": 4}]  # no footprints: a frame, a legend, a footnote


def _console() -> Console:
    return Console(file=io.StringIO(), width=200)


def _drawn(out, console):
    job = SkyMapJob.start(out)
    job.draw(RECORDS, "v1.2.0")
    return job.wait(console)


def test_the_child_draws_the_same_png_as_drawing_in_the_run(tmp_path):
    pytest.importorskip("matplotlib")
    from bot.skymap.release import draw_catalog_map

    console = _console()
    drawn = _drawn(tmp_path / "child" / "sky-map.png", console)
    here = draw_catalog_map(RECORDS, "v1.2.0", tmp_path / "here.png", console)
    assert drawn is not None and here is not None
    assert drawn.read_bytes() == here.read_bytes()  # a rerun finds the picture it uploaded before
    assert console.file.getvalue() == ""


def test_the_child_sees_no_credential(tmp_path, monkeypatch):
    """The child is started with the run's environment minus anything named like a secret."""
    monkeypatch.setenv("ZENODO_TOKEN", "zenodo-secret-value")
    monkeypatch.setenv("GITHUB_TOKEN", "github-secret-value")
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", "runtime-secret-value")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    probe = tmp_path / "probe"
    probe.mkdir()
    # Runs in the child at start-up (sitecustomize), writes the environment it was given, then draws as usual.
    (probe / "sitecustomize.py").write_text(
        f"import json, os\njson.dump(dict(os.environ), open({str(tmp_path / 'env.json')!r}, 'w'))\n")
    monkeypatch.setenv("PYTHONPATH", str(probe))
    _drawn(tmp_path / "sky-map.png", _console())
    seen = json.loads((tmp_path / "env.json").read_text())
    assert seen["HARMLESS_SETTING"] == "kept"
    assert not [v for v in seen.values() if "secret-value" in v]


def test_a_child_that_fails_is_a_warning_and_no_picture(tmp_path, monkeypatch):
    breaker = tmp_path / "breaker"
    breaker.mkdir()
    (breaker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Broken:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'bot.skymap.release':\n"
        "            raise RuntimeError('the drawing library broke')\n"
        "sys.meta_path.insert(0, _Broken())\n")
    monkeypatch.setenv("PYTHONPATH", str(breaker))
    out = tmp_path / "sky-map.png"
    out.write_bytes(b"an older run's picture")
    console = _console()
    job = SkyMapJob.start(out)
    job.draw(RECORDS, "v1.2.0")
    assert job.wait(console) is None
    assert job.wait(console) is None  # asking again neither waits nor warns again
    said = console.file.getvalue()
    assert said.count("warning: the sky map was not drawn: RuntimeError: the drawing library broke") == 1, said
    assert not out.exists()  # an older picture never passes for this run's


def test_without_matplotlib_the_run_is_told_once(tmp_path, monkeypatch):
    import bot.skymap.job as job_module
    import bot.skymap.release as release_module

    monkeypatch.setattr(job_module, "_matplotlib_installed", lambda: False)
    monkeypatch.setattr(release_module, "_told", [])
    console = _console()
    for name in ("a.png", "b.png"):
        assert _drawn(tmp_path / name, console) is None
    assert console.file.getvalue().count(SKIP_NOTICE) == 1


def test_a_run_that_stops_before_the_records_ends_the_child_without_a_map(tmp_path):
    pytest.importorskip("matplotlib")
    console = _console()
    job = SkyMapJob.start(tmp_path / "sky-map.png")
    job.cancel()
    assert job.wait(console) is None and not (tmp_path / "sky-map.png").exists()
    assert console.file.getvalue() == ""  # nothing to say: there was no map to draw
