"""How the previous zip is read and the new one sent, on each kind of site the bundled Zenodo can be.

zenodo.org: the record page's link answers byte ranges (the API's content ignores Range). A site without
the record page: its API answers ranges (``--api-range``) or not, and then the zip is read front to back.
Every mode releases the same bytes; the crash and fault tests of the suite run here in the other modes.
"""

from __future__ import annotations

import pytest
from release_helpers import ZENODO_MODES, bot_comments, draft_id_of, merged_release, zenodo_modes

from bot.local.world import LocalWorld

CARRIED_RUN_SLACK = 1 << 16  # the tail read for the directories may hold the last carried bytes too


def _content_reads(traffic: list[tuple[str, str, int, int, int]]) -> tuple[int, list[str]]:
    """Bytes the server sent for file content (API content, or the record page's link), and the paths."""
    hits = [(p, sent) for m, p, status, _got, sent in traffic if m == "GET" and status in (200, 206)
            and (p.endswith("/content") or (not p.startswith("/api/") and "/files/" in p))]
    return sum(sent for _p, sent in hits), [p for p, _sent in hits]


@zenodo_modes
def test_the_previous_zip_is_read_once_by_the_path_the_site_allows(world: LocalWorld, request) -> None:
    mode = request.node.callspec.params["world"]
    old_zip = next(k for k in world.zenodo.record(world.first_record_id)["files"]["entries"]
                   if k.startswith("predictions_"))
    old_size = world.zenodo.record(world.first_record_id)["files"]["entries"][old_zip]["size"]
    mark = len(world.zenodo.traffic)
    run, _ = merged_release(world)
    assert run.code == 0, run.stderr + run.stdout
    downloaded, paths = _content_reads(world.zenodo.traffic[mark:])
    ranged = mode != "api-no-range"
    assert ("byte ranges" if ranged else "front to back") in run.summary
    assert all(p.startswith("/api/") != (mode == "zenodo.org") for p in paths)  # the page link on zenodo.org
    # Every field of v1.0.0 is carried: its bytes cross the network once with ranges, at most twice without.
    assert downloaded <= (old_size + CARRIED_RUN_SLACK if ranged else 2 * old_size)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    entries = world.zenodo.record(draft_id)["files"]["entries"]
    uploaded = sum(got for m, p, _status, got, _sent in world.zenodo.traffic[mark:]
                   if m == "PUT" and p.endswith("/content"))
    assert uploaded == entries["predictions_dnn_xgb_5_fields.zip"]["size"] + entries["fields.json"]["size"]


@pytest.mark.parametrize("world", [m for m in ZENODO_MODES if m != "zenodo.org"], indirect=True)
@pytest.mark.parametrize("step", ["zenodo:upload", "zenodo:metadata"])
def test_a_crash_then_a_rerun_converge_in_every_mode(world: LocalWorld, step: str) -> None:
    crashed, merge_sha = merged_release(world, crash_after=step)
    assert crashed.code != 0
    rerun = world.push(world.git("rev-parse", "main~1"), merge_sha)
    assert rerun.code == 0, rerun.stderr + rerun.stdout
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    assert draft["metadata"]["version"] == "v1.1.0" and world.zenodo.dois_reserved == 1
    assert all(e["status"] == "completed" for e in draft["files"]["entries"].values())
    assert draft["files"]["default_preview"] == "SCoPe_classification_demo.ipynb"


@pytest.mark.parametrize("world", [m for m in ZENODO_MODES if m != "zenodo.org"], indirect=True)
def test_a_dropped_upload_is_sent_again_in_every_mode(world: LocalWorld) -> None:
    world.zenodo.faults.add("PUT", r"/content$", "drop", times=1)
    run, _ = merged_release(world)
    assert run.code == 0, run.stderr + run.stdout
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    assert set(draft["files"]["entries"]) >= {"predictions_dnn_xgb_5_fields.zip", "fields.json"}
