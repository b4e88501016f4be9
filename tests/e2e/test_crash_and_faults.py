"""A run that dies after any step, or meets any fault, is finished by a rerun: one draft, one DOI."""

from __future__ import annotations

import pytest
from release_helpers import CURATOR, bot_comments, draft_id_of, merged_release, two_fields

from bot.flow.plan import PREPARE_STEPS
from bot.flow.publish import PUBLISH_STEPS

EXPECTED_KEYS = {"predictions_dnn_xgb_5_fields.zip", "fields.json", "field_296_100rows.csv",
                 "SCoPe_classification_demo.ipynb"}


def assert_one_complete_draft(world) -> dict:
    drafts = world.zenodo.drafts_of(world.concept_id)
    assert len(drafts) == 1, [d["id"] for d in drafts]
    draft = drafts[0]
    assert set(draft["files"]["entries"]) == EXPECTED_KEYS
    assert all(e["status"] == "completed" for e in draft["files"]["entries"].values())
    assert draft["metadata"]["version"] == "v1.1.0"
    assert draft["pids"]["doi"]["identifier"]
    assert world.zenodo.dois_reserved == 1
    return draft


# The stage's own steps, and one inside the Zenodo applier: tests/zenodo/test_release.py crashes after every
# step of the applier (drafts.STEPS) against the same bundled server; here the whole stage must recover.
STAGE_STEPS = [s for s in PREPARE_STEPS if not s.startswith("zenodo:")] + ["zenodo:plan", "zenodo:upload"]


def test_the_stage_steps_crashed_here_are_the_stage_s_own() -> None:
    assert set(STAGE_STEPS) <= set(PREPARE_STEPS) and {"validate", "build", "notes", "summary"} <= set(STAGE_STEPS)


@pytest.mark.parametrize("step", STAGE_STEPS)
def test_crash_after_each_step_then_rerun_converges(world, step):
    crashed, merge_sha = merged_release(world, crash_after=step)
    assert crashed.code != 0 or step == PREPARE_STEPS[-1]
    rerun = world.push(world.git("rev-parse", "main~1"), merge_sha)
    assert rerun.code == 0, rerun.stderr + rerun.stdout
    draft = assert_one_complete_draft(world)
    (summary,) = bot_comments(world, 1)
    assert draft_id_of(summary["body"]) == draft["id"]


@pytest.mark.parametrize(
    ("method", "path", "kind", "options"),
    [
        ("POST", r"/versions$", "429", {"retry_after": 1}),
        ("POST", r"/draft/actions/files-import$", "502", {}),
        ("PUT", r"/content$", "drop", {}),
        ("POST", r"/commit$", "500", {}),
        ("PUT", r"/draft$", "504", {}),
        ("POST", r"/pids/doi$", "after", {"status": 504}),
        ("POST", r"/versions$", "after", {"status": 502}),
    ],
    ids=["429-new-version", "html-502-import", "dropped-upload", "500-commit", "504-metadata",
         "doi-reserved-then-504", "version-made-then-502"],
)
def test_faults_during_the_draft_still_converge(world, method, path, kind, options):
    world.zenodo.faults.add(method, path, kind, times=1, **options)
    run, _ = merged_release(world)
    assert run.code == 0, run.stderr + run.stdout
    assert_one_complete_draft(world)


def test_publish_that_succeeds_but_times_out_is_not_repeated(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    world.zenodo.faults.add("POST", r"/draft/actions/publish$", "after", times=1, status=504)
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 0, run.stderr + run.stdout
    versions = world.zenodo.published_versions(world.concept_id)
    assert [v["metadata"]["version"] for v in versions] == ["v1.0.0", "v1.1.0"]
    assert "catalog-v1.1.0" in world.github.tags()


def test_crash_after_publishing_is_finished_by_the_rerun(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    # GitHub fails right after Zenodo published: no tag, no DOI comment yet
    world.github.faults.add("POST", r"/git/refs$", "500", times=10)
    failed = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert failed.code != 0
    assert len(world.zenodo.published_versions(world.concept_id)) == 2
    world.github.faults.clear()
    rerun = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert rerun.code == 0, rerun.stderr + rerun.stdout
    assert "catalog-v1.1.0" in world.github.tags()
    assert len(world.zenodo.published_versions(world.concept_id)) == 2
    assert any("release-bot:published" in c["body"] for c in world.github.comments(1))


def test_two_merges_before_approval_give_one_release(world):
    merged_release(world, 1, {"fields/field_487.csv": two_fields()["fields/field_487.csv"]})
    run, _ = merged_release(world, 2, {"fields/field_488.csv.gz": two_fields()["fields/field_488.csv.gz"]},
                            author="bob-contributor")
    assert run.code == 0, run.stderr + run.stdout
    draft = assert_one_complete_draft(world)
    newest = bot_comments(world, 2)[0]["body"]
    assert draft_id_of(newest) == draft["id"]
    assert "#1" in newest and "#2" in newest
    older = bot_comments(world, 1)[0]["body"]
    assert "/release publish" not in older  # points to the newest summary instead


@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_crash_after_each_publish_step_then_rerun_finishes(world, step):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    crashed = world.approve(1, CURATOR, f"/release publish {draft_id}",
                            crash_after=step)
    assert crashed.code != 0
    rerun = world.approve(1, CURATOR, f"/release publish {draft_id}")
    finished_before = step == PUBLISH_STEPS[-1]
    assert rerun.code == (1 if finished_before else 0), rerun.stderr + rerun.stdout
    versions = world.zenodo.published_versions(world.concept_id)
    assert [v["metadata"]["version"] for v in versions] == ["v1.0.0", "v1.1.0"]
    assert world.zenodo.dois_reserved == 1
    assert "catalog-v1.1.0" in world.github.tags()
    assert [r["tag_name"] for r in world.github.releases()] == ["catalog-v1.1.0"]
    announcements = [c for c in world.github.comments(1) if "release-bot:published" in c["body"]]
    assert len(announcements) == 1
