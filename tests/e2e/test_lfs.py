"""Field files in Git LFS: each run fetches exactly the objects of the files it changes, with the real git-lfs
client talking to the bundled GitHub server's LFS batch API, and holds one of them on disk at a time."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile

import pytest
import yaml
from release_helpers import CONTRIBUTOR, CURATOR, OUTSIDER

from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld
from bot.scope import is_catalog_zip_name

CATALOG = tuple(range(300, 340))  # 40 fields, each one LFS object


def _git_lfs_present() -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "lfs", "version"], capture_output=True, check=False).returncode == 0


if not _git_lfs_present():
    if os.environ.get("CI"):
        pytest.fail("git-lfs is missing: .ci/run installs it", pytrace=False)
    pytest.skip("git-lfs is not installed (apt-get install git-lfs)", allow_module_level=True)


def csv(field: int, seed: int = 1) -> bytes:
    return field_csv_bytes(field, 20, seed=seed)


@pytest.fixture
def world(tmp_path):
    """A repository whose fields/ holds the 40 fields of the published v1.0.0, all through LFS."""
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER), seed_fields=CATALOG,
                    seed_rows=20, lfs=True) as w:
        w.push_main({f"fields/field_{f}.csv": csv(f) for f in CATALOG}, "The catalog as published in v1.0.0")
        w.git("tag", "catalog-v1.0.0", "main")
        yield w


def oid(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_field_files(world: LocalWorld) -> list[str]:
    """Field contents on the runner's disk outside the checkout (whose files are pointers): the bot's
    scratch folders and the LFS store."""
    scratch = [p for p in world.events_dir.rglob("field_*.csv*") if p.is_file()]
    store = [p for p in (world.workspace / ".git" / "lfs" / "objects").rglob("*") if p.is_file()]
    return [str(p) for p in scratch + store]


def test_the_repository_holds_pointers_and_the_server_the_content(world):
    pointer = world.git("show", "main:fields/field_300.csv")
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1")
    assert len(world.github.lfs.objects) == 40


def test_a_pr_check_touching_one_field_fetches_one_object(world):
    new = csv(487, seed=3)
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": new})
    run = world.pull_request(1)
    assert run.code == 0, run.stdout + run.stderr
    assert world.github.lfs.downloads == [(oid(new), len(new))]
    assert [len(b["objects"]) for b in world.github.lfs.batches] == [1]
    assert raw_field_files(world) == []  # validated, then deleted


def test_a_merge_fetches_only_the_changed_fields_one_at_a_time(world):
    replaced, added = csv(301, seed=7), csv(487, seed=3)
    on_disk_at_each_download: list[list[str]] = []
    world.github.lfs.on_download = lambda _oid: on_disk_at_each_download.append(raw_field_files(world))
    world.open_pull(1, "Two fields", CONTRIBUTOR, {"fields/field_301.csv": replaced, "fields/field_487.csv": added})
    before = world.git("rev-parse", "main")
    run = world.push(before, world.merge(1))
    assert run.code == 0, run.stdout + run.stderr
    assert sorted(world.github.lfs.downloads) == sorted([(oid(replaced), len(replaced)), (oid(added), len(added))])
    assert on_disk_at_each_download == [[], []]  # the first file was gone before the second came
    assert raw_field_files(world) == []
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    key = next(k for k in draft["files"]["entries"] if is_catalog_zip_name(k))
    with zipfile.ZipFile(io.BytesIO(world.zenodo.file_bytes(draft["id"], key))) as zf:
        assert len([n for n in zf.namelist() if n.startswith("field_")]) == 41
        assert zf.read("field_301.csv") == replaced and zf.read("field_487.csv") == added


def test_a_missing_lfs_object_is_reported_on_the_file(world):
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": csv(487, seed=3)})
    world.github.lfs.objects.pop(oid(csv(487, seed=3)))  # the contributor never pushed it
    run = world.pull_request(1)
    assert run.code == 1
    assert "::error file=fields/field_487.csv,title=lfs-object-missing" in run.stdout
    assert "Traceback" not in run.stderr


def test_a_committed_lfsconfig_cannot_redirect_the_fetch_or_the_token(world):
    world.push_main({".lfsconfig": b"[lfs]\n\turl = http://127.0.0.1:9/elsewhere.git/info/lfs\n"
                                   b"\tfetchexclude = fields/*\n\tfetchrecentalways = true\n"}, "lfsconfig")
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": csv(487, seed=3)})
    run = world.pull_request(1)
    assert run.code == 0, run.stdout + run.stderr
    assert len(world.github.lfs.downloads) == 1


def test_a_field_near_the_lfs_object_limit_gets_a_warning_with_the_gzip_command(world):
    big, small = csv(487, seed=3), field_csv_bytes(488, 5, seed=3)
    config = yaml.safe_load(world.config_text())
    config["catalog"]["max_file_bytes"] = int(len(big) / 0.95)  # big is within 10% of it, small far below
    world.push_main({"release-config.yaml": yaml.safe_dump(config).encode()}, "LFS limit")
    world.open_pull(1, "Two fields", CONTRIBUTOR, {"fields/field_487.csv": big, "fields/field_488.csv": small})
    run = world.pull_request(1)
    assert run.code == 0, run.stdout  # a warning, not an error
    assert "::warning file=fields/field_487.csv,title=near-size-limit" in run.stdout
    assert "gzip -9k fields/field_487.csv" in run.stdout
    assert "field_488.csv,title=near-size-limit" not in run.stdout
