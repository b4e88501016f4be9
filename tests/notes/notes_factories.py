"""Change sets for the notes tests, with statistics measured on bot.local.sample's synthetic field files."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.local.sample import field_csv_bytes
from bot.notes.changeset import FieldChange, PullRef, assemble_changeset
from bot.scope import CLASSES, MODELS, POSITIVE_THRESHOLD

SNAPSHOTS = Path(__file__).parent / "snapshots"
REPO_URL = "https://github.com/scope-test/catalog"
MERGE = "3f2a9c1d4e5b6a7980a1b2c3d4e5f60718293a4b"


@dataclass(frozen=True)
class Stats:
    """What the validation pass reports per field, measured here by reading the CSV."""

    rows: int
    class_counts: dict[str, dict[str, int]]
    md5: str
    size: int


@lru_cache(maxsize=256)
def sample_stats(field: int, rows: int, seed: int = 0) -> Stats:
    data = field_csv_bytes(field, rows, seed)
    reader = csv.DictReader(io.StringIO(data.decode()))
    counts = {m: dict.fromkeys(CLASSES, 0) for m in MODELS}
    n = 0
    for row in reader:
        n += 1
        for m in MODELS:
            for cls in CLASSES:
                if float(row[f"{cls}_{m}"]) >= POSITIVE_THRESHOLD:
                    counts[m][cls] += 1
    return Stats(n, counts, hashlib.md5(data).hexdigest(), len(data))


def pull(number: int, title: str, author: str, labels: tuple[str, ...] = ()) -> PullRef:
    return PullRef(number, title, author, f"{REPO_URL}/pull/{number}", labels)


def changeset(
    added=(), replaced=(), removed=(), *, before=(247, 248, 295), rows_before=None, pulls=(),
    authors=(), previous_version="v1.2.0", rows=120,
):
    """A change set over a previous catalog ``before``; new files get ``rows`` rows of sample data."""
    rows_before = dict(rows_before if rows_before is not None else {f: 100 + f % 37 for f in before})
    kinds = {f: ("added", f"fields/field_{f}.csv") for f in added}
    kinds |= {f: ("replaced", f"fields/field_{f}.csv") for f in replaced}
    kinds |= {f: ("removed", f"fields/field_{f}.csv") for f in removed}
    stats = {f: sample_stats(f, rows + f % 7) for f in (*added, *replaced)}
    return assemble_changeset(
        kinds, merge_commit=MERGE, fields_before=before, pulls=pulls, commit_authors=authors,
        stats=stats, rows_before=rows_before, previous_version=previous_version, repo_url=REPO_URL,
    )


def field_change(field: int, kind: str = "added") -> FieldChange:
    return FieldChange(field, kind)  # type: ignore[arg-type]


def assert_snapshot(name: str, text: str) -> None:
    """Compare with tests/notes/snapshots/<name>. UPDATE_SNAPSHOTS=1 rewrites a snapshot that differs and
    still fails the test, so a rewrite is never silent: review the diff, then run again."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" and (not path.exists() or path.read_text("utf-8") != text + "\n"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        raise AssertionError(f"{name} rewritten: review the diff, then run again without UPDATE_SNAPSHOTS")
    assert path.exists(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text + "\n" == expected, f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 if meant)"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
                "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z", **(env or {})}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True, env=full_env)
    return done.stdout.decode()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Alice Smith")
    git(path, "config", "user.email", "1001+alice-s@users.noreply.github.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(tmp_path: Path) -> Path:
    """A catalog repository: fields 296 and 297 released as catalog-v1.0.0, then a merge that adds field
    423 (with a co-author), replaces 296 and removes 297."""
    from bot.local.sample import write_field_csv

    repo = init_repo(tmp_path / "catalog")
    (repo / "release-config.yaml").write_text(CONFIG, encoding="utf-8")
    write_field_csv(repo / "fields" / "field_296.csv", 296, 40)
    write_field_csv(repo / "fields" / "field_297.csv", 297, 30)
    (repo / "README.md").write_text("catalog\n")
    commit_all(repo, "first catalog")
    git(repo, "tag", "catalog-v1.0.0")
    write_field_csv(repo / "fields" / "field_423.csv", 423, 25)
    write_field_csv(repo / "fields" / "field_296.csv", 296, 45, seed=1)
    (repo / "fields" / "field_297.csv").unlink()
    (repo / "README.md").write_text("catalog, updated\n")
    commit_all(repo, "Update fields\n\nCo-authored-by: Bob Jones <2002+bobj@users.noreply.github.com>\n")
    return repo


CONFIG = """\
catalog:
  fields_dir: fields
zenodo:
  api_url: https://zenodo.org/api
  record: "8410825"
github:
  tag_prefix: catalog-
approval:
  command: /release publish
  curators: [bfhealy]
"""
