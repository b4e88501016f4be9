"""The sky map of a release, drawn from its manifest, for the merge run, the publish run and ``status``.

The manifest holds every field's footprint, and the fields a version added or replaced name that version
as their source, so one manifest is all a map needs: the merge run draws it from the catalog it built,
the publish run and ``release-bot status --plot`` from the published version's. Without matplotlib the
picture is skipped and the run says so once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.skymap.draw import SKIP_NOTICE, plots_available, write_sky_map
from bot.skymap.footprints import catalog_sky, fields_of_version

SKY_MAP_NAME = "sky-map.png"
SKY_MAP_ARTIFACT = "sky-map"  # the merge workflow uploads RunContext.workdir / SKY_MAP_NAME under this name
_told: list[str] = []  # the skip notice, once it has been printed in this process


def tell_skipped(console: Console) -> None:
    """Say that the picture was skipped, once per process (a run may reach several pictures)."""
    if not _told:
        console.print(SKIP_NOTICE, markup=False, soft_wrap=True)
        _told.append(SKIP_NOTICE)


def map_title(version: str | None, fields: int, new: int) -> str:
    what = f"{fields} field{'s' if fields != 1 else ''}"
    if version is None:
        return f"SCoPe catalog: {what}"
    return f"SCoPe catalog {version}: {what}" + (f", {new} new or replaced" if new else "")


def draw_catalog_map(
    records: Iterable[Mapping[str, Any]], version: str | None, out: Path, console: Console, *,
    highlight_version: bool = True,
) -> Path | None:
    """Draw the catalog of these manifest records to ``out``; None (said once) without matplotlib.

    The fields whose manifest source is ``version`` are the highlighted new ones.
    """
    if not plots_available():
        tell_skipped(console)
        return None
    records = list(records)
    new = fields_of_version(records, version) if version and highlight_version else set()
    sky = catalog_sky(records, new)
    return write_sky_map(sky, map_title(version, len(records), len(new)), out)


def sky_map_summary(drawn: Path | None, run_url: str | None) -> str:
    """The job summary's line about the sky map: where to get it, or that it was skipped."""
    if drawn is None:
        return f"_{SKIP_NOTICE}._"
    where = f"[the run's artifacts]({run_url}#artifacts)" if run_url else "the run's artifacts"
    return f"**Sky map** of the release: the workflow artifact `{SKY_MAP_ARTIFACT}` ({where}); the GitHub " \
           "release carries it once the version is published."
