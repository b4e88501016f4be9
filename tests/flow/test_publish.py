"""The publish stage alone, against recording fakes of Zenodo and GitHub: what it does, in which order."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import RecordingGitHub, RecordingZenodo, record

from bot import steps
from bot.config import parse_config
from bot.errors import Finding
from bot.flow.context import RunContext
from bot.flow.publish import PUBLISH_STEPS, publish_release
from bot.github.approval import Approval
from bot.github.models import DraftFile, PendingRelease
from bot.zenodo.models import Draft

CONFIG = (Path(__file__).resolve().parents[2] / "release-config.yaml").read_text()
FILES = {"predictions_dnn_xgb_4_fields.zip": "0" * 32, "fields.json": "1" * 32}
COMMIT = "c" * 40


def _world() -> tuple[RunContext, RecordingGitHub, RecordingZenodo, Approval, PendingRelease]:
    latest = record("7", "v1.0.0", {"fields.json": "2" * 32}, published=True, doi="10.5281/zenodo.7")
    draft = record("9", "v1.1.0", FILES, published=False, doi="10.5281/zenodo.9")
    assert isinstance(draft, Draft)
    zenodo = RecordingZenodo(latest, {"9": draft})
    gh = RecordingGitHub()
    ctx = RunContext(parse_config(CONFIG), Path("."), Path("."), github_client=gh,
                     zenodo_client=zenodo, today="2026-01-01")
    pending = PendingRelease("9", "v1.1.0", "10.5281/zenodo.9", "8410825", COMMIT,
                             {k: DraftFile(m, 10, "added") for k, m in FILES.items()}, prs=(3, 5))
    approval = Approval("9", "v1.1.0", "10.5281/zenodo.9", COMMIT, "carol", (3, 5))
    return ctx, gh, zenodo, approval, pending


def test_publish_then_tag_release_status_and_the_approving_pr_last() -> None:
    ctx, gh, zenodo, approval, pending = _world()
    seen: list[str] = []
    with steps.watching(seen.append):
        published = publish_release(ctx, gh, approval, pending, notes="notes", approving_pr=3)
    assert seen == list(PUBLISH_STEPS)
    assert published.is_published and ("publish", "9") in zenodo.calls
    kinds = [c[0] for c in gh.calls]
    assert kinds == ["tag_commit", "create_tag", "release", "status", "sticky", "sticky"]
    assert gh.tags == {"catalog-v1.1.0": COMMIT}
    assert [c[1] for c in gh.calls if c[0] == "sticky"] == [5, 3]  # the approving PR's DOI comment marks "done"


def test_a_tag_on_another_commit_stops_before_zenodo_is_touched() -> None:
    ctx, gh, zenodo, approval, pending = _world()
    gh.tags["catalog-v1.1.0"] = "d" * 40
    with pytest.raises(Finding, match="already points at"):
        publish_release(ctx, gh, approval, pending, notes="")
    assert zenodo.calls == [] and [c[0] for c in gh.calls] == ["tag_commit"]


def test_a_draft_that_no_longer_matches_is_not_published() -> None:
    ctx, gh, zenodo, approval, pending = _world()
    zenodo.drafts["9"] = record("9", "v1.1.0", {**FILES, "fields.json": "f" * 32}, published=False,
                                doi="10.5281/zenodo.9")
    with pytest.raises(Finding, match="not the approved release"):
        publish_release(ctx, gh, approval, pending, notes="")
    assert ("publish", "9") not in zenodo.calls and "create_tag" not in [c[0] for c in gh.calls]
