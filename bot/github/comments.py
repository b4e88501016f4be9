"""Comments that fit: GitHub refuses an issue or pull-request comment over 65,536 characters.

The answer is HTTP 422 "Validation Failed" with "Body is too long (maximum is 65536 characters)" (seen in
PyGithub traces quoted in github.com/jmikedupont2/ai-ticket/issues/51 and reg-viz/reg-actions/issues/123;
REST docs: docs.github.com/rest/issues/comments#create-an-issue-comment). A run that hit it would lose its
report, so long parts are shortened here, with a link to the run that holds everything.
"""

from __future__ import annotations

from bot.github.summary import NOTES_END, NOTES_START
from bot.validate.formats import markdown_summary
from bot.validate.report import ValidationReport

MAX_COMMENT_CHARS = 65_536
COMMENT_BUDGET = 60_000  # what the bot aims for, leaving room for markers and the run link


def _run_note(run_url: str | None, what: str) -> str:
    where = f"the [job summary of the run]({run_url})" if run_url else "the job summary of the workflow run"
    return f"_{what}: {where} has everything._"


def failed_merge_comment(report: ValidationReport, heading: str, run_url: str | None) -> str:
    """A merge whose field files do not validate: the heading, then as much of the report as fits."""
    note = _run_note(run_url, "This comment shows the first problems of each file")
    room = COMMENT_BUDGET - len(heading) - len(note) - 8
    # markdown_summary bounds UTF-8 bytes, which are never fewer than characters.
    return f"{heading}\n\n{markdown_summary(report, limit=room)}\n\n{note}"


def fit_comment(body: str, run_url: str | None, limit: int = COMMENT_BUDGET) -> str:
    """``body`` unchanged when it fits; otherwise its release notes cut at a line, and a link to the run.

    Only the notes can grow with the catalog; the state block and the approval command around them are
    kept whole, since the approval reads them. Cut notes lose their markers: text between the markers is
    what a rebuild takes for the bot's own or a curator's notes, so it is either whole or not there, and
    a cut never passes for an edit that would reach Zenodo. The notes are then edited on the Zenodo draft.
    """
    if len(body) <= limit:
        return body
    start, end = body.find(NOTES_START), body.find(NOTES_END)
    if start < 0 or end < start:
        note = _run_note(run_url, "This comment was cut to fit")
        return body[: max(0, limit - len(note) - 2)].rsplit("\n", 1)[0] + "\n\n" + note
    note = _run_note(run_url, "The release notes are too long for a comment and were cut here, so they "
                              "cannot be edited in it (edit them on the Zenodo draft)")
    after = end + len(NOTES_END)
    outside = start + len(body) - after
    room = max(0, limit - outside - len(note) - 4)
    notes = body[start + len(NOTES_START) : end].strip("\n")
    cut = notes[:room].rsplit("\n", 1)[0] if len(notes) > room else notes
    return body[:start] + cut + "\n\n" + note + "\n" + body[after:]
