"""``release-bot build`` through bot.cli.main: outputs, exit codes, messages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.local.zenodo_server import ZenodoServer
from bot.scope import MANIFEST_NAME

from .conftest import Served

CONFIG = """\
catalog:
  fields_dir: fields
  zip_folder: {folder}
  compression_level: 9
zenodo:
  api_url: https://zenodo.org/api
  record: "8410825"
approval:
  command: /release publish
  curators: [curator]
"""


def _build(tmp_path: Path, *args: str) -> int:
    # Point --config at a missing file unless a test gives one: defaults apply.
    config = [] if "--config" in args else ["--config", str(tmp_path / "no-config.yaml")]
    return main([*config, "build", *args])


def test_build_then_incremental_build(
    field_pool: dict[int, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out1, out2 = tmp_path / "v1", tmp_path / "v2"
    assert (
        _build(
            tmp_path,
            "--out",
            str(out1),
            "--version-label",
            "v1.0.0",
            str(field_pool[296]),
            str(field_pool[297]),
        )
        == 0
    )
    zip1 = out1 / "predictions_dnn_xgb_2_fields.zip"
    assert sorted(p.name for p in out1.iterdir()) == ["fields.json", zip1.name]
    assert (out1 / "fields.json").read_bytes() == b"[296, 297]"
    summary = capsys.readouterr().out
    assert "added" in summary and zip1.name in summary

    code = _build(
        tmp_path,
        "--out",
        str(out2),
        "--previous",
        str(zip1),
        "--remove",
        "297",
        "--version-label",
        "v1.1.0",
        str(field_pool[1001]),
        str(field_pool[423]),
    )
    assert code == 0
    zip2 = out2 / "predictions_dnn_xgb_3_fields.zip"
    assert (out2 / "fields.json").read_bytes() == b"[296, 423, 1001]"
    with zipfile.ZipFile(zip2) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["field_296.csv", "field_423.csv", "field_1001.csv", MANIFEST_NAME]
        manifest = json.loads(zf.read(MANIFEST_NAME))
    versions = {r["field"]: r["source"]["version"] for r in manifest["fields"]}
    assert versions == {296: "v1.0.0", 423: "v1.1.0", 1001: "v1.1.0"}
    summary = capsys.readouterr().out
    for word in ("added", "replaced", "carried", "removed", "md5"):
        assert word in summary


def test_folder_of_field_files_and_config_folder(field_pool: dict[int, Path], tmp_path: Path) -> None:
    config = tmp_path / "release-config.yaml"
    config.write_text(CONFIG.format(folder="preds_dnn_xgb"))
    out = tmp_path / "out"
    assert main(["--config", str(config), "build", "--out", str(out), str(field_pool[296].parent)]) == 0
    (zip_path,) = out.glob("*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert len(names) == len(field_pool) + 1 and names[0] == "preds_dnn_xgb/field_247.csv"


def test_build_from_a_url(
    http_server: Served, field_pool: dict[int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out1 = tmp_path / "v1"
    assert _build(tmp_path, "--out", str(out1), str(field_pool[296])) == 0
    zip1 = out1 / "predictions_dnn_xgb_1_fields.zip"
    http_server.files[zip1.name] = zip1.read_bytes()
    http_server.token = "tok"
    monkeypatch.setenv("ZENODO_TOKEN", "tok")
    out2 = tmp_path / "v2"
    assert (
        _build(tmp_path, "--out", str(out2), "--previous", http_server.url(zip1.name), str(field_pool[297]))
        == 0
    )
    with zipfile.ZipFile(out2 / "predictions_dnn_xgb_2_fields.zip") as zf:
        assert zf.read("field_296.csv") == field_pool[296].read_bytes()


def test_refusals_exit_1_and_leave_no_zip(
    field_pool: dict[int, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out1 = tmp_path / "v1"
    assert _build(tmp_path, "--out", str(out1), str(field_pool[296]), str(field_pool[297])) == 0
    prev = out1 / "predictions_dnn_xgb_2_fields.zip"
    capsys.readouterr()

    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    assert _build(tmp_path, "--out", str(tmp_path / "o1"), str(stray)) == 1
    err = capsys.readouterr().err
    assert "notes.txt" in err and "is not a field file" in err and "hint:" in err

    assert _build(tmp_path, "--out", str(tmp_path / "o2"), "--previous", str(prev), "--remove", "881") == 1
    assert "881" in capsys.readouterr().err

    raw = bytearray(prev.read_bytes())
    raw[100] ^= 0xFF  # inside field_296.csv's deflate data
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    out3 = tmp_path / "o3"
    assert _build(tmp_path, "--out", str(out3), "--previous", str(bad), str(field_pool[423])) == 1
    err = capsys.readouterr().err
    assert "field_296.csv" in err and "bad.zip" in err
    assert list(out3.iterdir()) == []  # no zip, no fields.json, no temp files


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "OUT"],  # nothing to build
        ["--out", "OUT", "missing/field_296.csv"],
        ["--out", "OUT", "--remove", "x", "F296"],
        ["F296"],  # --out is required
        ["--out", "OUT", "--previous", "PREV", "--remove", "296", "F296"],
    ],
)
def test_usage_errors_exit_2(field_pool: dict[int, Path], tmp_path: Path, args: list[str]) -> None:
    prev_dir = tmp_path / "prev"
    assert _build(tmp_path, "--out", str(prev_dir), str(field_pool[296])) == 0
    prev = str(prev_dir / "predictions_dnn_xgb_1_fields.zip")
    subst = {"OUT": str(tmp_path / "out"), "F296": str(field_pool[296]), "PREV": prev}
    assert _build(tmp_path, *[subst.get(a, a) for a in args]) == 2


@pytest.mark.parametrize("api_range", [False, True], ids=["zenodo.org", "api-range"])
def test_build_from_the_record_page_and_from_the_api_gives_the_same_bytes(
    field_pool: dict[int, Path], tmp_path: Path, api_range: bool
) -> None:
    first = tmp_path / "v1"
    assert _build(tmp_path, "--out", str(first), *(str(field_pool[f]) for f in (247, 296, 297, 423))) == 0
    (zip_path,) = first.glob("predictions_*.zip")
    with ZenodoServer(tokens={"t"}, api_range=api_range) as server:
        _, record = server.seed_concept({zip_path.name: zip_path}, {
            "title": "Catalog", "resource_type": {"id": "dataset"},
            "creators": [{"person_or_org": {"type": "organizational", "name": "Org"}}]})
        site = server.url.removesuffix("/api")
        urls = {"page": f"{site}/records/{record}/files/{zip_path.name}?download=1",
                "api": f"{server.url}/records/{record}/files/{zip_path.name}/content"}
        outs = {}
        for name, url in urls.items():
            outs[name] = tmp_path / name
            assert _build(tmp_path, "--out", str(outs[name]), "--previous", url, str(field_pool[1001])) == 0
        reads = [p for m, p, status, _got, _sent in server.traffic if m == "GET" and status in (200, 206)]
        statuses = {status for m, p, status, _got, _sent in server.traffic if p.endswith("/content")}
    built = {name: sorted(out.iterdir()) for name, out in outs.items()}
    assert [p.name for p in built["page"]] == [p.name for p in built["api"]]
    for page_file, api_file in zip(built["page"], built["api"], strict=True):
        assert page_file.read_bytes() == api_file.read_bytes()  # byte-identical, whichever way it was read
    assert any(not p.startswith("/api/") for p in reads) and any(p.endswith("/content") for p in reads)
    assert statuses == ({206} if api_range else {200})  # the API ignored Range, unless told otherwise
