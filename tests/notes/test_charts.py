"""The class charts of the notes: Mermaid that GitHub renders, with the class table's numbers."""

from __future__ import annotations

import pytest
from chart_helpers import class_table, mermaid_blocks, mermaid_parser, parse_chart, parse_with_mermaid
from hypothesis import given, settings
from hypothesis import strategies as st
from notes_factories import changeset

from bot.notes.charts import CHART_CLASSES, chart, charted_classes, quoted, strip_mermaid, xychart
from bot.notes.html import markdown_to_html
from bot.notes.markdown import render_markdown
from bot.notes.model import ClassLine, build_notes
from bot.scope import CLASS_LABELS, CLASSES


def _catalog_records(fields: dict[int, dict[str, dict[str, int]]]) -> list[dict]:
    return [{"field": f, "classes": counts} for f, counts in fields.items()]


def _notes_with_catalog():
    cs = changeset(added=(296, 297))
    new = {c.field: c.class_counts for c in cs.changes}
    carried = {247: {"dnn": {"rrab": 900, "ew": 40}, "xgb": {"rrab": 800, "mir": 7}}}
    return build_notes(cs, "v1.3.0", "2026-03-14", catalog=_catalog_records({**new, **carried}))


def test_charts_carry_the_class_tables_numbers():
    notes = _notes_with_catalog()
    md = render_markdown(notes)
    table = class_table(md)
    assert len(table) == len(CLASSES)
    charts = [parse_chart(b) for b in mermaid_blocks(md)]
    assert [c.title for c in charts] == ["New field files", "Catalog v1.3.0"]
    for i, c in enumerate(charts):
        assert 0 < len(c.labels) <= CHART_CLASSES
        for j, label in enumerate(c.labels):
            row = table[label]
            assert c.series["bar"][j] == row[2 * i] and c.series["line"][j] == row[2 * i + 1], label
    # the catalog's numbers add the carried field to the new ones
    rrab = table["RR Lyrae ab"]
    assert rrab[2:] == [rrab[0] + 900, rrab[1] + 800]
    # the chart sits above the table, which is folded away
    assert md.index("```mermaid") < md.index("<details><summary>All 44 classes")


def test_the_charted_classes_are_the_ones_with_most_positives():
    notes = _notes_with_catalog()
    codes = charted_classes(notes.classes, notes.catalog_classes)
    totals = {c.code: c.total for c in notes.classes}
    left_out = [code for code in CLASSES if code not in codes]
    assert min(totals[c] for c in codes) >= max(totals[c] for c in left_out)
    assert [totals[c] for c in codes] == sorted((totals[c] for c in codes), reverse=True)


def test_without_catalog_counts_only_the_new_files_are_charted():
    notes = build_notes(changeset(added=(296,)), "v1.3.0", "2026-03-14")
    md = render_markdown(notes)
    (block,) = mermaid_blocks(md)
    c = parse_chart(block)
    table = class_table(md)
    assert all(len(row) == 2 for row in table.values())
    assert [table[label][0] for label in c.labels] == c.series["bar"]


def test_a_removal_only_release_has_no_chart_of_new_files():
    notes = build_notes(changeset(removed=(247,)), "v1.3.0", "2026-03-14")
    assert mermaid_blocks(render_markdown(notes)) == []


def test_nothing_in_a_label_or_title_can_break_out_of_the_string():
    text = quoted('v1 "]\n```\n<script>x</script> `rm`')
    assert text.count('"') == 2 and "\n" not in text and "`" not in text and "<" not in text


def test_zenodo_html_leaves_the_mermaid_source_out():
    md = render_markdown(_notes_with_catalog())
    assert "xychart" not in markdown_to_html(md)
    assert "xychart" not in strip_mermaid(md) and "All 44 classes" in strip_mermaid(md)


_counts = st.lists(st.integers(0, 10**9), min_size=len(CLASSES), max_size=len(CLASSES))


@settings(max_examples=25, deadline=None)
@given(dnn=_counts, xgb=_counts)
def test_any_counts_make_a_chart_of_the_documented_shape(dnn, xgb):
    lines = tuple(ClassLine(c, CLASS_LABELS[c], (a, b)) for c, a, b in zip(CLASSES, dnn, xgb, strict=True))
    codes = charted_classes(lines, None)
    text = xychart(chart("t", lines, codes))
    head = text.splitlines()[0]
    assert head == "xychart-beta horizontal"
    parsed = parse_chart(text)
    by_label = {ln.label: ln.counts for ln in lines}
    assert [by_label[x][0] for x in parsed.labels] == parsed.series.get("bar", [])
    assert [by_label[x][1] for x in parsed.labels] == parsed.series.get("line", [])


def test_mermaids_own_parser_reads_every_chart():
    script = mermaid_parser()
    if script is None:
        pytest.skip("node and Mermaid are not installed (npm ci --prefix tests/notes/mermaid)")
    md = render_markdown(_notes_with_catalog())
    diagrams = [*mermaid_blocks(md), "xychart-beta\n    bar [1,,2]"]  # the last one must fail: the check works
    results = parse_with_mermaid(script, diagrams)
    assert [r["ok"] for r in results] == [True, True, False], results
    assert results[0]["type"] == "xychart"
