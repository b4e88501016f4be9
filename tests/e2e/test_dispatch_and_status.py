"""Manual runs (workflow_dispatch), the weekly status check, and the maintainer's CLI commands."""

from __future__ import annotations

import json
import os

from release_helpers import CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release

from bot.cli import main
from bot.local.sample import field_csv_bytes
from bot.local.world import ZENODO_TOKEN


def test_status_reports_drift_until_the_release_is_published_and_tagged(world):
    # The seeded v1.0.0 has no catalog tag in the repository yet: that is drift.
    first = world.dispatch({"action": "status"})
    assert first.code == 1
    assert "no tag catalog-v1.0.0" in first.summary
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    assert world.approve(1, CURATOR, f"/release publish {draft_id}").code == 0
    after = world.dispatch({"action": "status"})
    assert after.code == 0, after.stdout + after.stderr
    assert "no drift" in after.summary


def test_dispatch_draft_dry_run_writes_nothing(world):
    world.open_pull(1, "Add field", "ada", {"fields/field_487.csv": b""})
    world.push_main({"fields/field_490.csv": field_csv_bytes(490, 20)}, "direct")
    calls = len(world.zenodo.calls)
    run = world.dispatch({"action": "draft", "dry_run": True})
    assert run.code == 0, run.stdout + run.stderr
    writes = [c for c in world.zenodo.calls[calls:] if c[0] != "GET"]
    assert writes == []
    assert world.zenodo.drafts_of(world.concept_id) == []
    assert "v1.1.0" in run.stdout


def test_dispatch_publish_needs_a_curator_and_then_announces(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    outsider = world.dispatch({"action": "publish", "draft_id": draft_id, "dry_run": False}, sender=OUTSIDER)
    assert outsider.code == 1
    assert "not on the curators list" in outsider.summary
    assert len(world.zenodo.published_versions(world.concept_id)) == 1
    dry = world.dispatch({"action": "publish", "draft_id": draft_id, "dry_run": True}, sender=CURATOR)
    assert dry.code == 0, dry.stdout + dry.stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 1
    run = world.dispatch({"action": "publish", "draft_id": draft_id, "dry_run": False}, sender=CURATOR)
    assert run.code == 0, run.stdout + run.stderr
    assert len(world.zenodo.published_versions(world.concept_id)) == 2
    # published by hand, announced as after an approval
    assert "catalog-v1.1.0" in world.github.tags()
    assert any("release-bot:published" in c["body"] for c in world.github.comments(1))
    bad = world.dispatch({"action": "publish", "draft_id": "12; rm -rf /"})
    assert bad.code == 2


def test_cli_status_json_against_the_local_servers(world, capsys, monkeypatch):
    world._checkout(world.git("rev-parse", "main"))
    monkeypatch.chdir(world.workspace)
    monkeypatch.setenv("ZENODO_TOKEN", ZENODO_TOKEN)
    code = main(["status", "--format", "json"])
    out = capsys.readouterr().out
    status = json.loads(out)
    assert status["latest"]["version"] == "v1.0.0"
    assert status["latest"]["fields"] == 3
    assert status["pending_draft"] is None
    assert code == 1 and status["drift"]
    assert ZENODO_TOKEN not in out


def test_cli_draft_then_publish(world, capsys, monkeypatch, tmp_path):

    world.push_main({"fields/field_490.csv": field_csv_bytes(490, 20)}, "direct")
    world._checkout(world.git("rev-parse", "main"))
    monkeypatch.chdir(world.workspace)
    monkeypatch.setenv("ZENODO_TOKEN", ZENODO_TOKEN)
    for name in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    assert main(["draft", "--workdir", str(tmp_path / "w")]) == 0
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    # Publishing tags and announces on GitHub too (the one publish path): without GitHub it is a usage error.
    assert main(["publish", "--draft", draft["id"]]) == 2
    assert "GitHub is not configured" in capsys.readouterr().err
    assert len(world.zenodo.published_versions(world.concept_id)) == 1
    assert main(["publish", "--draft", "abc"]) == 2


def test_cli_draft_dry_run_prints_the_plan_and_writes_nothing(world, capsys, monkeypatch, tmp_path):
    world.push_main({"fields/field_490.csv": field_csv_bytes(490, 20)}, "direct")
    world._checkout(world.git("rev-parse", "main"))
    monkeypatch.chdir(world.workspace)
    monkeypatch.setenv("ZENODO_TOKEN", ZENODO_TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    for name in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    calls = len(world.zenodo.calls)
    assert main(["draft", "--dry-run", "--workdir", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert [c for c in world.zenodo.calls[calls:] if c[0] != "GET"] == []
    assert world.zenodo.drafts_of(world.concept_id) == []
    assert "release plan" in out and "v1.1.0" in out
    assert "predictions_dnn_xgb_4_fields.zip" in out and "upload" in out and "carry over" in out
    assert f"POST /records/{world.concept_id}/versions" in out or "/versions" in out
    assert "/pids/doi" in out
