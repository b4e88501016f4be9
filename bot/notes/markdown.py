"""GitHub Markdown rendering of the release notes (summary comment, GitHub Release, job summary).

Every value that came from a pull request (titles, names, labels) goes through ``md_text``, which makes
it inert: no HTML, no links, no mentions or issue references, no table breaks, no hidden markers.
"""

from __future__ import annotations

import re

from bot.notes.changeset import is_login
from bot.notes.charts import chart, charted_classes, mermaid_block
from bot.notes.model import (
    INLINE_FIELDS,
    FieldLine,
    ReleaseNotes,
    catalog_caption,
    classes_caption,
    headline,
    plain_text,
    rows_text,
    short_commit,
    size_text,
    totals_text,
)

# Characters with a meaning in (GitHub) Markdown inside a line: each is backslash-escaped.
_MD_SPECIAL = frozenset("\\`*_{}[]()+-!|~$^=")
_ZWSP = "&#8203;"  # a zero-width space: breaks @mentions, #refs and autolinks without visible change
_SAFE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~/%+-]*)?$")


def md_text(value: object) -> str:
    """Inline Markdown that displays ``value`` literally and does nothing else."""
    text = plain_text(value)
    out: list[str] = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in "@#":
            out.append(ch + _ZWSP)
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    # GitHub links bare URLs and www. names by itself: break the pattern, keep the look.
    return "".join(out).replace("://", ":" + _ZWSP + "//").replace("www.", "www" + _ZWSP + ".")


def md_link(text_md: str, url: str | None) -> str:
    """``[text](url)`` for an https URL of a plain shape; the bare text otherwise."""
    return f"[{text_md}]({url})" if url and _SAFE_URL.match(url) else text_md


def md_person(login: str) -> str:
    """``@login`` for a real GitHub login (credits them), inert text for anything else."""
    return f"@{login}" if is_login(login) else md_text(login)


def _commit(notes: ReleaseNotes) -> str:
    return md_link(f"`{short_commit(notes.merge_commit)}`", notes.merge_commit_url)


def _field_list(kind: str, lines: tuple[FieldLine, ...]) -> str:
    label = kind.capitalize()
    if len(lines) <= INLINE_FIELDS:
        items = ", ".join(f"field {ln.field} ({rows_text(ln, kind)})" for ln in lines)
        return f"- **{label}** ({len(lines)}): {items}"
    head = ", ".join(str(ln.field) for ln in lines[:10])
    return f"- **{label}** ({len(lines)}): fields {head} and {len(lines) - 10} more (all listed below)"


def _class_table(notes: ReleaseNotes) -> list[str]:
    """Every class: the new files' counts per model, then the catalog's after the release (when known)."""
    models = [m.upper() for m in notes.models]
    parts = [(scope, {c.code: c for c in lines}) for scope, lines in
             (("new", notes.classes), ("catalog", notes.catalog_classes)) if lines is not None]
    both = len(parts) > 1
    header = [f"{m} ({scope})" if both else m for scope, _ in parts for m in models]
    order = notes.classes or notes.catalog_classes or ()
    out = ["| class | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    for c in order:
        cells = [f"{n:,}" for _, by_code in parts for n in by_code[c.code].counts]
        out.append(f"| {c.label} (`{c.code}`) | " + " | ".join(cells) + " |")
    return out


def _class_section(notes: ReleaseNotes) -> list[str]:
    """A chart of the classes with the most positives (new files, then the catalog after the release),
    and below it, folded, the table of every class with the same numbers."""
    out: list[str] = []
    if notes.classes is None and notes.new_files:
        out += ["Class counts are not available: the new field files have no statistics yet.", ""]
    if notes.classes is None and notes.catalog_classes is None:
        return out
    codes = charted_classes(notes.classes, notes.catalog_classes)
    if notes.classes is not None:
        out += [f"{classes_caption(notes)}:", ""]
        out += [*mermaid_block(chart("New field files", notes.classes, codes)), ""] if codes else [
            "(none above the threshold)", ""]
    if notes.catalog_classes is not None and codes:
        out += [f"{catalog_caption(notes)}:", "",
                *mermaid_block(chart(f"Catalog {notes.version}", notes.catalog_classes, codes)), ""]
    if codes:
        bar, line = (m.upper() for m in notes.models[:2])
        out += [f"<sub>Bars: {bar}; line: {line}. The {len(codes)} classes with the most light curves scored "
                f"≥ {notes.threshold}; every class is in the table below.</sub>", ""]
    order = notes.classes or notes.catalog_classes or ()
    return [*out, *_details(f"All {len(order)} classes", _class_table(notes)), ""]


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def render_markdown(notes: ReleaseNotes) -> str:
    """The notes as GitHub Markdown (no trailing newline)."""
    out: list[str] = [f"### Catalog {md_text(notes.version)} ({notes.date})", ""]
    since = f" since {md_text(notes.previous_version)}" if notes.previous_version else " (first release)"
    out += [f"**{headline(notes)}**{since}: {totals_text(notes)}.", ""]

    changed = [(k, ln) for k, ln in (("added", notes.added), ("replaced", notes.replaced),
                                      ("removed", notes.removed)) if ln]
    out += [_field_list(kind, lines) for kind, lines in changed]
    if any(len(lines) > INLINE_FIELDS for _, lines in changed):
        table = ["| field | change | rows |", "|---:|---|---|"]
        table += [f"| {ln.field} | {kind} | {rows_text(ln, kind)} |"
                  for kind, lines in changed for ln in lines]
        out += ["", *_details(f"All {sum(len(x) for _, x in changed)} changed fields", table)]
    out.append("")

    out += _class_section(notes)

    if notes.pulls:
        out.append("**Pull requests**")
        out.append("")
        for pr in notes.pulls:
            labels = f" ({', '.join(md_text(lb) for lb in pr.labels)})" if pr.labels else ""
            link = md_link(f"#{pr.number}", pr.url)
            out.append(f"- {link} {md_text(pr.title)} by {md_person(pr.author)}{labels}")
        out.append("")
    out += [f"**Merge commit:** {_commit(notes)}", ""]
    people = [md_person(x) for x in notes.contributors] + [md_text(x) for x in notes.other_authors]
    if people:
        out += [f"**Contributors:** {', '.join(people)}", ""]

    table = ["| file | size | md5 |", "|---|---:|---|"]
    for f in notes.files:
        md5 = f"`{f.md5}`" if f.md5 and re.fullmatch(r"[0-9a-f]{32}", f.md5) else "not yet known"
        table.append(f"| {md_text(f.key)} | {size_text(f.size)} | {md5} |")
    out += _details("Files and md5 checksums", table)
    return "\n".join(out)

