"""One publish path: a curator's comment, the dispatch workflow and ``release-bot publish --draft`` all
publish through ``bot.flow.publish.publish_release``: Zenodo, then the tag, the GitHub release, the status
and the DOI on every pull request of the release."""

from __future__ import annotations

import os

from release_helpers import CURATOR, bot_comments, draft_id_of, merged_release, one_field

from bot import steps
from bot.cli import main
from bot.flow.publish import PUBLISH_STEPS
from bot.github.summary import published_marker
from bot.local.world import ACTIONS_TOKEN, OWNER, REPO, ZENODO_TOKEN


def _published_everywhere(world, number: int, version: str) -> None:
    assert f"catalog-{version}" in world.github.tags()
    assert any(r["tag_name"] == f"catalog-{version}" for r in world.github.releases())
    assert any(published_marker(version) in c["body"] for c in bot_comments(world, number))


def _merged(world, number: int, field: int) -> str:
    run, _ = merged_release(world, number, files=one_field(field))
    assert run.code == 0, run.stderr
    return draft_id_of(bot_comments(world, number)[0]["body"])


def test_comment_dispatch_and_cli_take_the_same_publish_path(world, monkeypatch):
    seen: list[str] = []
    with steps.watching(seen.append):
        draft = _merged(world, 1, 487)
        seen.clear()
        assert world.approve(1, CURATOR, f"/release publish {draft}").code == 0
        assert [s for s in seen if s in PUBLISH_STEPS] == list(PUBLISH_STEPS)
        _published_everywhere(world, 1, "v1.1.0")

        draft = _merged(world, 2, 488)
        seen.clear()
        run = world.dispatch({"action": "publish", "draft_id": draft, "dry_run": False}, sender=CURATOR)
        assert run.code == 0, run.stderr
        assert [s for s in seen if s in PUBLISH_STEPS] == list(PUBLISH_STEPS)
        _published_everywhere(world, 2, "v1.2.0")

        draft = _merged(world, 3, 489)
        world._checkout(world.git("rev-parse", "main"))
        monkeypatch.chdir(world.workspace)
        for name in [k for k in os.environ if k.startswith(("GITHUB_", "RUNNER_"))]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("ZENODO_TOKEN", ZENODO_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", world.github.url)
        monkeypatch.setenv("GITHUB_TOKEN", ACTIONS_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", f"{OWNER}/{REPO}")
        assert main(["publish", "--draft", draft, "--dry-run"]) == 0
        assert "catalog-v1.3.0" not in world.github.tags()
        assert len(world.zenodo.published_versions(world.concept_id)) == 3
        seen.clear()
        assert main(["publish", "--draft", draft]) == 0
        assert [s for s in seen if s in PUBLISH_STEPS] == list(PUBLISH_STEPS)
        _published_everywhere(world, 3, "v1.3.0")
