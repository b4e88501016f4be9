"""The pictures of a release, through the real event handlers: class charts in the summary and the Release."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import yaml
from chart_helpers import class_table, mermaid_blocks, parse_chart
from release_helpers import CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release

from bot.local.world import LocalWorld
from bot.skymap.density import decode_cells


@pytest.fixture
def made_world(tmp_path):
    """A world whose first version was made by the bot: its manifest carries each field's figures."""
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER), seed_manifest=True) as w:
        yield w


@pytest.fixture
def chart_world(tmp_path):
    """The same world without the sky map (the charts need none)."""
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER), seed_manifest=True,
                    sky_map=False) as w:
        yield w


def _assert_charts_match_table(markdown: str, fields_after: int) -> None:
    table = class_table(markdown)
    charts = [parse_chart(b) for b in mermaid_blocks(markdown)]
    assert [c.title for c in charts] == ["New field files", "Catalog v1.1.0"]
    assert f"The catalog after v1.1.0: {fields_after} fields" in markdown
    for i, chart in enumerate(charts):
        assert chart.labels
        for j, label in enumerate(chart.labels):
            assert [chart.series["bar"][j], chart.series["line"][j]] == table[label][2 * i: 2 * i + 2]


def test_summary_and_release_body_carry_charts_with_the_tables_numbers(chart_world):
    world = chart_world
    run, _ = merged_release(world)
    assert run.code == 0, run.stderr
    body = bot_comments(world, 1)[0]["body"]
    _assert_charts_match_table(body, 5)
    _assert_charts_match_table(run.summary, 5)  # the job summary carries the same notes
    draft_id = draft_id_of(body)

    # the new version's manifest carries every field's class counts and footprint
    zpath = world.root / "draft.zip"
    zpath.write_bytes(world.zenodo.file_bytes(draft_id, "predictions_dnn_xgb_5_fields.zip"))
    with zipfile.ZipFile(zpath) as zf:
        manifest = json.loads(zf.read("MANIFEST.json"))
    for record in manifest["fields"]:
        assert record["classes"]["dnn"], record["field"]
        cells = decode_cells(record["footprint"]["cells"])
        assert sum(cells.values()) == record["rows"]
        ra_lo, ra_hi = record["footprint"]["ra"]
        assert all(int(ra_lo) <= ra <= ra_hi for ra, _ in cells)

    # the catalog column is the sum over all five fields' manifest records
    table = class_table(body)
    rrab = sum(r["classes"]["dnn"].get("rrab", 0) for r in manifest["fields"])
    assert table["RR Lyrae ab"][2] == rrab

    assert world.approve(1, CURATOR, f"/release publish {draft_id}").code == 0
    (release,) = world.github.releases()
    _assert_charts_match_table(release["body"], 5)


def test_the_published_release_carries_the_sky_map_shown_in_the_published_comment(made_world):
    pytest.importorskip("matplotlib")
    world = made_world
    run, _ = merged_release(world)
    # the merge run drew the map for the workflow to upload, and its job summary links the artifact
    assert "`sky-map`" in run.summary and "/actions/runs/" in run.summary and "#artifacts" in run.summary
    drawn = sorted(world.events_dir.glob("*-push/tmp/release-bot/sky-map.png"))
    assert drawn and drawn[-1].read_bytes().startswith(b"\x89PNG")
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    assert "sky-map.png" not in world.zenodo.drafts_of(world.concept_id)[0]["files"]["entries"]  # opt-in only
    assert world.approve(1, CURATOR, f"/release publish {draft_id}").code == 0
    (release,) = world.github.releases()
    (asset,) = release["assets"]
    assert asset["name"] == "sky-map.png" and asset["content_type"] == "image/png"
    png = world.github.release_asset_bytes("catalog-v1.1.0", "sky-map.png")
    assert png is not None and png.startswith(b"\x89PNG") and asset["size"] == len(png)
    (reply,) = [c["body"] for c in world.github.comments(1) if c["body"].startswith("Published")]
    assert f"![Sky map of the catalog v1.1.0]({asset['browser_download_url']})" in reply


def test_status_plot_draws_the_latest_versions_map(made_world, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from bot.cli import main
    from bot.local.world import ZENODO_TOKEN

    made_world._checkout(made_world.git("rev-parse", "main"))
    monkeypatch.chdir(made_world.workspace)
    monkeypatch.setenv("ZENODO_TOKEN", ZENODO_TOKEN)
    out = tmp_path / "maps" / "catalog.png"
    main(["status", "--plot", str(out)])
    assert out.read_bytes().startswith(b"\x89PNG")
    assert f"sky map of v1.0.0: {out}" in capsys.readouterr().err.replace("\n", "")


def test_opting_in_puts_the_sky_map_on_the_zenodo_record(made_world):
    pytest.importorskip("matplotlib")
    world = made_world
    config = yaml.safe_load(world.config_text()) | {"pictures": {"sky_map_on_zenodo": True}}
    world.push_main({"release-config.yaml": yaml.safe_dump(config).encode()}, "Show the sky map on Zenodo")
    run, _ = merged_release(world)
    assert run.code == 0, run.stderr
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    png = world.zenodo.file_bytes(draft["id"], "sky-map.png")
    assert png.startswith(b"\x89PNG")
    body = bot_comments(world, 1)[0]["body"]
    assert "sky-map.png" in body.replace("\\", "") and "| added |" in body  # listed (and checked) like every file
    # a rerun finds the same picture there: nothing uploaded again, one draft
    again = world.push(world.git("rev-parse", "main~1"), world.git("rev-parse", "main"))
    assert again.code == 0 and "uploaded nothing" in again.stdout, again.stdout


def test_the_demos_summary_and_release_carry_the_charts_and_its_workdir_the_map(tmp_path):
    """`release-bot demo`'s own script, on a world kept open to look at what it left behind."""
    pytest.importorskip("matplotlib")
    from rich.console import Console

    from bot.local import demo

    console = Console(file=io.StringIO(), width=100)
    with LocalWorld(tmp_path / "demo", curators=(demo.CURATOR,), writers=(demo.CURATOR, demo.OUTSIDER),
                    seed_manifest=True) as world:
        demo._demo(console, world)
        summary = next(c["body"] for c in world.github.comments(1) if "release-bot:summary" in c["body"])
        (release,) = world.github.releases()
    _assert_charts_match_table(summary, 5)
    _assert_charts_match_table(release["body"], 5)
    kept = tmp_path / "demo" / "sky-map.png"
    assert kept.read_bytes().startswith(b"\x89PNG")
    assert str(kept) in console.file.getvalue().replace("\n", "")


def test_a_sky_map_that_cannot_be_attached_never_fails_the_publish(made_world):
    pytest.importorskip("matplotlib")
    world = made_world
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    world.github.faults.add("POST", r"/releases/\d+/assets$", "500", times=20)  # the upload host is down
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 0, run.stderr
    assert "the sky map was not attached" in run.stderr
    (release,) = world.github.releases()
    assert release["assets"] == []
    (reply,) = [c["body"] for c in world.github.comments(1) if c["body"].startswith("Published")]
    assert "Sky map" not in reply and any("release-bot:published" in c["body"] for c in world.github.comments(1))


def test_turning_the_map_off_draws_nothing_and_attaches_nothing(tmp_path):
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER), seed_manifest=True,
                    sky_map=False) as world:
        run, _ = merged_release(world)
        assert run.code == 0, run.stderr
        assert not list(world.events_dir.rglob("sky-map.png"))
        assert "sky map" not in (run.summary + run.stdout + run.stderr).lower()  # neither drawn nor "skipped"
        draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
        assert world.approve(1, CURATOR, f"/release publish {draft_id}").code == 0
        (release,) = world.github.releases()
        assert release["assets"] == []
