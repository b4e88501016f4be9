"""The sky map in the publish run and in ``status --plot``: drawn from a published version's manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import BotError
from bot.flow.context import RunContext
from bot.flow.plan import open_published_catalog
from bot.github.adapter import GitHubAdapter
from bot.skymap.release import SKY_MAP_NAME, draw_catalog_map
from bot.zenodo import drafts
from bot.zenodo.models import Record


def _manifest_records(ctx: RunContext, record: Record) -> list[dict[str, Any]]:
    """Every field of the version's catalog, with its manifest record where it has one."""
    with open_published_catalog(ctx, record) as catalog:
        manifest = catalog.manifest or {}
        return [manifest.get(f) or {"field": f} for f in catalog.fields]


def attach_sky_map(ctx: RunContext, gh: GitHubAdapter, version: str, record: Record) -> str | None:
    """Draw the published version's map and attach it to its GitHub release; its download URL.

    The picture decorates a release that is already published: when it cannot be drawn (no matplotlib,
    said once) or attached (Zenodo or GitHub failing), the run says so and goes on; None then.
    """
    if not ctx.config.pictures.draw_sky_map:
        return None
    try:
        drawn = draw_catalog_map(_manifest_records(ctx, record), version, ctx.workdir / SKY_MAP_NAME, ctx.console)
        if drawn is None:
            return None
        tag = f"{ctx.config.github.tag_prefix}{version}"
        return gh.upload_release_asset(tag, SKY_MAP_NAME, drawn.read_bytes(), "image/png")
    except BotError as exc:
        ctx.console.print(f"warning: the sky map was not attached to the GitHub release: {exc}", markup=False)
        return None


def plot_latest(ctx: RunContext, out: Path) -> Path | None:
    """The sky map of Zenodo's latest version (its new fields not singled out); None without matplotlib."""
    latest = drafts.latest_published(ctx.zenodo, ctx.config.zenodo.record)
    drawn = draw_catalog_map(_manifest_records(ctx, latest), latest.version, out, ctx.console,
                             highlight_version=False)
    if drawn is not None:
        ctx.console.print(f"sky map of {latest.version}: {drawn}")
    return drawn
