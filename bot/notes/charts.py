"""Mermaid class charts for the GitHub renderings of the notes (summary comment, GitHub Release).

GitHub renders a fenced ``mermaid`` block as a diagram wherever it renders Markdown, comments and release
bodies included, with no extra permission (docs.github.com, "Creating diagrams":
https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/creating-diagrams).
The charts use Mermaid's ``xychart-beta`` (https://mermaid.js.org/syntax/xyChart): a categorical axis of
classes, one ``bar`` series (DNN) and one ``line`` series (XGB). Two ``bar`` series would be drawn on top
of each other, and xychart has no legend, so the caption under each chart says which is which.

Every number in a chart is a cell of the class table the notes carry below it (in a ``<details>``, for
screen readers and copy-paste); the tests hold the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.notes.model import ClassLine

CHART_CLASSES = 12  # classes charted (the most positives); the table below lists all of them
_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:()+/≥-]")  # what may appear inside a quoted Mermaid string
_FENCE = re.compile(r"^```mermaid\n.*?^```\n?", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Chart:
    """One chart: a title, the classes on its axis, and per model the counts of those classes."""

    title: str
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    series: tuple[tuple[int, ...], ...]  # one tuple of counts per model, in the notes' model order


def quoted(text: str) -> str:
    """A Mermaid string literal: double quotes around text with nothing that could end or break it."""
    return '"' + " ".join(_UNSAFE.sub(" ", text).split()) + '"'


def charted_classes(
    new: tuple[ClassLine, ...] | None, catalog: tuple[ClassLine, ...] | None, n: int = CHART_CLASSES
) -> tuple[str, ...]:
    """The codes of the ``n`` classes with the most positives in the new files (then in the catalog), most
    first, zeros left out; ties in SCoPe's class order. Both charts share this axis."""
    order = [c.code for c in (new or catalog or ())]
    new_total = {c.code: c.total for c in new or ()}
    cat_total = {c.code: c.total for c in catalog or ()}
    ranked = sorted(
        (code for code in order if new_total.get(code, 0) or cat_total.get(code, 0)),
        key=lambda code: (-new_total.get(code, 0), -cat_total.get(code, 0), order.index(code)),
    )
    return tuple(ranked[:n])


def chart(title: str, lines: tuple[ClassLine, ...], codes: Sequence[str]) -> Chart:
    by_code = {c.code: c for c in lines}
    shown = [by_code[code] for code in codes]
    models = len(shown[0].counts) if shown else 0
    return Chart(
        title=title,
        codes=tuple(codes),
        labels=tuple(c.label for c in shown),
        series=tuple(tuple(c.counts[m] for c in shown) for m in range(models)),
    )


def xychart(c: Chart) -> str:
    """The chart's Mermaid text (without the fence): horizontal, so long class names stay readable."""
    kinds = ("bar", "line")
    out = [
        "xychart-beta horizontal",
        f"    title {quoted(c.title)}",
        f"    x-axis [{', '.join(quoted(label) for label in c.labels)}]",
        f"    y-axis {quoted('light curves')}",
    ]
    out += [f"    {kinds[i]} [{', '.join(str(n) for n in counts)}]" for i, counts in enumerate(c.series[:2])]
    return "\n".join(out)


def mermaid_block(c: Chart) -> list[str]:
    return ["```mermaid", xychart(c), "```"]


def strip_mermaid(markdown: str) -> str:
    """The Markdown without its Mermaid blocks (for renderers that would show them as code, e.g. Zenodo)."""
    return _FENCE.sub("", markdown)
