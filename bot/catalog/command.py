"""``release-bot build``: write the catalog zip and fields.json into a folder, then print a summary."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.catalog.build import CatalogBuild, NewField, build_catalog
from bot.catalog.errors import CatalogError, CatalogUsageError
from bot.catalog.previous import PreviousCatalog, open_previous
from bot.config import load_config
from bot.errors import EXIT_OK
from bot.scope import field_from_filename

TOKEN_ENV = "ZENODO_TOKEN"


def _field_files(paths: list[str]) -> list[NewField]:
    """Each PATH is a field file, or a folder whose field files are all taken."""
    out: list[NewField] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and field_from_filename(p.name) is not None
            )
            if not found:
                raise CatalogError(
                    "holds no field_<N>.csv or field_<N>.csv.gz files",
                    hint="pass field files or their folder",
                    location=text,
                )
            out += [NewField(field_from_filename(p.name), p) for p in found]  # type: ignore[arg-type]
            continue
        if not path.exists():
            raise CatalogUsageError(f"{text}: no such file or folder", hint="check the path")
        field = field_from_filename(path.name)
        if field is None:
            raise CatalogError(
                "is not a field file",
                location=text,
                hint="name it field_<N>.csv or field_<N>.csv.gz, N the ZTF field number without zero padding",
            )
        out.append(NewField(field, path))
    return out


def _settings(config_path: str) -> tuple[int, str]:
    """Compression level and the zip folder for builds from scratch; defaults when there is no config."""
    if not Path(config_path).is_file():
        return 6, ""
    config = load_config(config_path)
    return config.catalog.compression_level, config.catalog.zip_folder


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _summary(build: CatalogBuild, previous: PreviousCatalog | None, out_dir: Path) -> Table:
    sizes = {r["field"]: r["size"] for r in build.manifest["fields"]}
    old_sizes = {f: e.size for f, e in previous.field_entries.items()} if previous else {}
    table = Table(title=f"catalog build: {build.zip_name}", title_justify="left")
    table.add_column("change")
    table.add_column("fields", justify="right")
    table.add_column("CSV size", justify="right")
    table.add_column("field numbers")

    def row(label: str, fields: list[int], size_of: dict[int, int]) -> None:
        listed = ", ".join(map(str, fields[:12])) + (f", … (+{len(fields) - 12})" if len(fields) > 12 else "")
        table.add_row(label, str(len(fields)), _size(sum(size_of.get(f, 0) for f in fields)), listed or "-")

    row("added", build.added, sizes)
    row("replaced", build.replaced, sizes)
    row("carried", build.carried, sizes)
    row("removed", build.removed, old_sizes)
    table.add_section()
    table.add_row("zip", str(len(build.fields)), _size(build.size), str(out_dir / build.zip_name))
    table.add_row("md5", "", "", build.md5)
    table.add_row("fields.json", "", _size(len(build.fields_json)), str(out_dir / "fields.json"))
    return table


def run(args: argparse.Namespace) -> int:
    new_fields = _field_files(list(args.paths))
    if not new_fields and not args.previous:
        raise CatalogUsageError(
            "nothing to build: no field files and no --previous zip",
            hint="pass field files, and --previous ZIP_OR_URL to start from the last release",
        )
    level, scratch_folder = _settings(args.config)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = None
    if args.previous:
        is_url = re.match(r"^https?://", args.previous, re.IGNORECASE) is not None
        previous = open_previous(args.previous, token=os.environ.get(TOKEN_ENV) if is_url else None)
    try:
        # Compressed new members live beside the output: same disk, renamed or removed at the end.
        with tempfile.TemporaryDirectory(prefix=".build-", dir=out_dir) as workdir:
            build = build_catalog(
                previous,
                new_fields,
                remove=args.remove,
                workdir=Path(workdir),
                folder=None if previous else scratch_folder,
                compression_level=level,
                progress=True,
                version_label=args.version_label,
            )
            build.write_to(out_dir / build.zip_name, progress=True)
            build.write_fields_json(out_dir / "fields.json")
        Console(highlight=False).print(_summary(build, previous, out_dir))
    finally:
        if previous is not None:
            previous.close()
    return EXIT_OK
