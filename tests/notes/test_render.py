"""Both renderings of the notes: snapshots of representative releases, and hostile text made inert."""

from __future__ import annotations

import hashlib
import html as htmllib
import re

import nh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from notes_factories import assert_snapshot, changeset, pull

from bot.config import VersioningSettings
from bot.notes.digest import is_unedited_bot_notes
from bot.notes.html import ALLOWED_TAGS, render_body_html, render_html
from bot.notes.markdown import md_text, render_markdown
from bot.notes.model import build_notes, plain_text
from bot.notes.version import next_version
from bot.scope import catalog_zip_name, dump_fields_json

SCOPE_FIELDS = (247, 248, 295, 296, 297, 298, 346, 347, 371, 372, 422, 423, 424, 425, 436, 468, 474, 475, 486,
                487, 488, 489, 511, 512, 538, 539, 561, 562, 563, 564, 612, 613, 636, 637, 654, 674, 681, 682,
                683, 684, 698, 699, 700, 701, 716, 717, 718, 719, 724, 725, 740, 741, 756, 776, 777, 778, 779,
                791, 809, 817)

PULLS = (pull(41, "Add fields 296 and 297", "bfhealy", ("catalog",)),
         pull(42, "Add field 423", "mcoughlin"))


# Each case is built when a test asks for it: the sample files behind the statistics take a while to make,
# and collection (once per xdist worker) should not pay for them.
CASES = {
    "added_only": lambda: changeset(added=(296, 297, 423), pulls=PULLS),
    "replaced_only": lambda: changeset(replaced=(247, 248), pulls=(pull(50, "Retrained predictions", "bfhealy"),)),
    "mixed": lambda: changeset(added=(296,), replaced=(247,), removed=(295,), pulls=PULLS,
                               authors=("Brian Healy", "Jane Curator <jane@example.org>")),
    "removal": lambda: changeset(removed=(248,), pulls=(pull(60, "Drop field 248", "mcoughlin"),)),
    "first_release": lambda: changeset(added=(296, 297, 423), before=(), previous_version=None, pulls=PULLS),
    "many_fields": lambda: changeset(added=SCOPE_FIELDS[3:], replaced=SCOPE_FIELDS[:3], rows=20,
                                     pulls=(pull(70, "SCoPe III fields", "bfhealy", ("release:major",)),)),
}


def case(name: str):
    return CASES[name]()


def notes_of(changes):
    version = next_version(changes.previous_version, changes, VersioningSettings())
    fields_json = dump_fields_json(changes.fields_after)
    files = {
        catalog_zip_name(len(changes.fields_after)): (123_456_789, hashlib.md5(b"zip").hexdigest()),
        "fields.json": (len(fields_json), hashlib.md5(fields_json).hexdigest()),
    }
    return build_notes(changes, version, "2026-03-14", files)


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshots(name: str) -> None:
    notes = notes_of(case(name))
    assert_snapshot(f"{name}.md", render_markdown(notes))
    assert_snapshot(f"{name}.html", render_html(notes))


def test_versions_of_the_cases_follow_the_rules() -> None:
    got = {name: notes_of(case(name)).version for name in CASES}
    assert got == {"added_only": "v1.3.0", "replaced_only": "v1.2.1", "mixed": "v1.3.0",
                   "removal": "v1.3.0", "first_release": "v1.0.0", "many_fields": "v2.0.0"}


def test_numbers_agree_between_renderings_and_model() -> None:
    notes = notes_of(case("mixed"))
    md, page = render_markdown(notes), render_html(notes)
    added = notes.added[0]
    assert f"field 296 ({added.rows:,} rows)" in md
    assert f"<td>296</td><td>added</td><td>{added.rows:,} rows</td>" in page
    replaced = notes.replaced[0]
    assert f"{replaced.rows_before:,} → {replaced.rows:,} rows" in md
    for line in notes.top_classes:
        assert f"| {line.label} (`{line.code}`) | {line.counts[0]:,} | {line.counts[1]:,} |" in md
    lc = f"light curves {notes.light_curves_before:,} → {notes.light_curves_after:,}"
    assert lc in md and lc in page


def test_many_fields_are_summarised_inline_and_listed_in_full() -> None:
    notes = notes_of(case("many_fields"))
    md = render_markdown(notes)
    added_line = next(line for line in md.splitlines() if line.startswith("- **Added**"))
    assert "and 47 more" in added_line
    assert all(f"| {f} | added |" in md for f in SCOPE_FIELDS[3:])
    assert md.count("<details>") == md.count("</details>") == 3


HOSTILE = (
    "<script>alert(1)</script> [click](javascript:alert(1)) @octocat `rm -rf` a|b "
    "<!-- release-bot:notes-end --> &lt;b&gt; ![x](https://evil.example/x.png) #12 https://evil.example "
    "<img src=x onerror=alert(1)> **bold** $x^2$\n# heading\u202e"
)


def hostile_notes():
    bad = pull(66, HOSTILE, "mallory", (HOSTILE,))
    changes = changeset(added=(296,), pulls=(bad,), authors=(HOSTILE + " <x@example.org>",))
    return notes_of(changes)


def _rendered_text(md: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(md)


def test_hostile_pr_text_is_inert_in_markdown() -> None:
    md = render_markdown(hostile_notes())
    assert "<script" not in md and "<img" not in md and "<!-- release-bot" not in md
    page = _rendered_text(md)
    assert "<script" not in page and "<img" not in page
    assert 'href="javascript' not in page and "evil.example/x.png\"" not in page
    # The only links are the bot's own (PRs, the merge commit, people).
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("https://github.com/") for h in hrefs)
    assert "<strong>bold</strong>" not in page and "<h1>" not in page.split("Pull requests")[1]
    assert "@octocat" not in htmllib.unescape(page)  # no mention: a zero-width space breaks it
    assert "\u202e" not in md


def test_hostile_pr_text_is_inert_in_html() -> None:
    page = render_html(hostile_notes())
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", page))
    assert tags <= ALLOWED_TAGS | {"small"}  # small: the digest footer
    assert "javascript" not in page.split("Pull requests")[0]
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith("https://github.com/") for h in hrefs)
    assert "&lt;script&gt;" in page and "<!--" not in page
    assert is_unedited_bot_notes(page)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_md_text_displays_any_text_literally(text: str) -> None:
    rendered = _rendered_text(f"- x {md_text(text)}")
    m = re.fullmatch(r"<ul>\n<li>x ?(.*)</li>\n</ul>\n", rendered, re.S)
    assert m, rendered
    inner = m.group(1)
    assert "<" not in inner.replace("&lt;", "")  # no element came out of the text
    shown = htmllib.unescape(inner).replace("\u200b", "")
    assert shown == plain_text(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.text(max_size=20))
def test_html_keeps_only_allowed_tags_and_its_digest(title: str, author: str) -> None:
    changes = changeset(added=(296,), pulls=(pull(7, title, author),), authors=(author,))
    notes = notes_of(changes)
    body = render_body_html(notes)
    assert nh3.clean(body, tags=set(ALLOWED_TAGS), attributes={"a": {"href"}}, link_rel=None) == body
    assert f"</a> {plain_text(title)} by " in htmllib.unescape(body)  # shown as text, whole
    assert is_unedited_bot_notes(render_html(notes))


def test_any_edit_of_the_html_notes_is_seen_and_a_footer_alone_proves_nothing() -> None:
    page = render_html(notes_of(case("mixed")))
    assert is_unedited_bot_notes(page) and is_unedited_bot_notes(page + "\n")
    body, footer = page[: page.rindex("<p><em>Drafted by release-bot")], page[page.rindex("<p><em>Drafted"):]
    assert not is_unedited_bot_notes(body)  # no footer: not the bot's text
    assert not is_unedited_bot_notes(body.replace("<td>296</td>", "<td>297</td>", 1) + footer)
    assert not is_unedited_bot_notes("<p>curated by hand</p>" + footer)  # a footer copied under other text
    assert not is_unedited_bot_notes(page + "<p>one more line</p>")  # text after the footer
