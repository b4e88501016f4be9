"""Sanitised HTML of the release notes, for the ``notes`` description of the Zenodo version.

Every value that came from a pull request is escaped where it is inserted; the finished body then goes
through ``nh3`` with the tags Zenodo keeps, and ends with the digest footer that tells a later rebuild
whether a curator edited the notes on Zenodo.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

from bot.notes.changeset import is_login
from bot.notes.charts import strip_mermaid
from bot.notes.digest import notes_footer_html
from bot.notes.model import (
    ClassLine,
    ReleaseNotes,
    classes_caption,
    headline,
    plain_text,
    rows_text,
    short_commit,
    size_text,
    totals_text,
)

# A subset of InvenioRDM's default ALLOWED_HTML_TAGS (invenio-config): no thead, details or summary there.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {"h3", "p", "br", "ul", "ol", "li", "a", "strong", "em", "code", "table", "tbody", "tr", "th", "td"}
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}}
URL_SCHEMES: frozenset[str] = frozenset({"https"})


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute: control and bidi characters folded, markup escaped."""
    return html.escape(plain_text(value), quote=True)


def clean_html(markup: str) -> str:
    """Keep only the allowed tags and attributes, https links only, no comments."""
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


def _link(text_html: str, url: str | None) -> str:
    return f'<a href="{esc(url)}">{text_html}</a>' if url and url.startswith("https://") else text_html


def _person(login: str) -> str:
    return _link(f"@{esc(login)}", f"https://github.com/{login}") if is_login(login) else esc(login)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = "".join("\n<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tbody>\n{head}{body}\n</tbody></table>"


def _class_table(notes: ReleaseNotes, lines: tuple[ClassLine, ...]) -> str:
    return _table(
        ["class", *(m.upper() for m in notes.models)],
        [[f"{esc(c.label)} (<code>{esc(c.code)}</code>)", *(f"{n:,}" for n in c.counts)] for c in lines],
    )


def render_body_html(notes: ReleaseNotes) -> str:
    """The notes' HTML without the digest footer, already sanitised."""
    out: list[str] = [f"<h3>Catalog {esc(notes.version)} ({esc(notes.date)})</h3>"]
    since = f" since {esc(notes.previous_version)}" if notes.previous_version else " (first release)"
    out.append(f"<p><strong>{esc(headline(notes))}</strong>{since}: {esc(totals_text(notes))}.</p>")

    changed = [(k, ln) for k, ln in (("added", notes.added), ("replaced", notes.replaced),
                                      ("removed", notes.removed)) if ln]
    if changed:
        rows = [[str(ln.field), kind, esc(rows_text(ln, kind))] for kind, lines in changed for ln in lines]
        out.append(_table(["field", "change", "rows"], rows))

    if notes.classes is None:
        if notes.new_files:
            out.append("<p>Class counts are not available: the new field files have no statistics yet.</p>")
    else:
        out.append(f"<p>{esc(classes_caption(notes))}, top classes:</p>")
        out.append(_class_table(notes, notes.top_classes) if notes.top_classes
                   else "<p>(none above the threshold)</p>")
        out.append(f"<p>All {len(notes.classes)} classes:</p>")
        out.append(_class_table(notes, notes.classes))

    if notes.pulls:
        items = []
        for pr in notes.pulls:
            labels = f" ({esc(', '.join(pr.labels))})" if pr.labels else ""
            items.append(f"<li>{_link(f'#{pr.number}', pr.url)} {esc(pr.title)} by {_person(pr.author)}"
                         f"{labels}</li>")
        out.append("<p><strong>Pull requests</strong></p>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    people = [_person(x) for x in notes.contributors] + [esc(x) for x in notes.other_authors]
    credits = f"<br><strong>Contributors:</strong> {', '.join(people)}" if people else ""
    commit = _link(f"<code>{short_commit(notes.merge_commit)}</code>", notes.merge_commit_url)
    out.append(f"<p><strong>Merge commit:</strong> {commit}{credits}</p>")

    out.append("<p><strong>Files and md5 checksums</strong></p>")
    out.append(_table(
        ["file", "size", "md5"],
        [[esc(f.key), esc(size_text(f.size)), f"<code>{esc(f.md5)}</code>" if f.md5 else "not yet known"]
         for f in notes.files],
    ))
    return clean_html("\n".join(out))  # a block a line: readable in reviews, ignored by browsers


def render_html(notes: ReleaseNotes) -> str:
    """The notes' HTML for Zenodo, ending with the bot's digest footer."""
    body = render_body_html(notes)
    return body + "\n" + notes_footer_html(body)


def markdown_to_html(markdown: str) -> str:
    """A curator's Markdown notes as Zenodo HTML: rendered, sanitised to the allowed tags, digest footer.

    Raw HTML in the Markdown (e.g. ``<details>``) is passed to the sanitiser, which keeps its text and
    drops the tags Zenodo does not allow. Mermaid charts are left out: Zenodo would show their source.
    """
    body = clean_html(MarkdownIt("commonmark", {"html": True}).enable("table").render(strip_mermaid(markdown)))
    return body + notes_footer_html(body)
