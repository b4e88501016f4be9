"""Comments that fit in GitHub's 65,536 characters, shortened where they can grow and nowhere else."""

from __future__ import annotations

from bot.github.comments import COMMENT_BUDGET, MAX_COMMENT_CHARS, failed_merge_comment, fit_comment
from bot.github.models import DraftFile, PendingRelease
from bot.github.summary import NOTES_END, NOTES_START, extract_notes, parse_state, render_summary
from bot.validate.report import FileReport, Problem, ValidationReport

STATE = PendingRelease(
    draft_id="1234567", version="v1.2.0", doi="10.5281/zenodo.1234567", concept_record="8410825",
    commit_sha="c0ffee" + "0" * 34,
    files={"predictions_dnn_xgb_78_fields.zip": DraftFile("a" * 32, 20_100_000_000, "added")},
    prs=(12, 15), notes_digest="0123456789abcdef",
)

RUN = "https://github.com/ztf-scope/scope-catalog/actions/runs/42"


def test_a_summary_that_fits_is_left_alone():
    body = render_summary(STATE, "## What changed\n- field 298 added")
    assert fit_comment(body, RUN) == body


def test_huge_notes_are_cut_at_a_line_and_the_state_and_command_stay_whole():
    notes = "\n".join(f"- field {n}: {'x' * 90}" for n in range(3000))  # ~300,000 characters
    body = render_summary(STATE, notes)
    fitted = fit_comment(body, RUN)
    assert len(body) > MAX_COMMENT_CHARS and len(fitted) <= COMMENT_BUDGET
    assert parse_state(fitted) == STATE  # the approval still reads the same state
    assert fitted.rstrip().endswith(body.rstrip().rsplit("\n", 1)[1])
    # Cut notes are shown without their markers: a rebuild never takes the cut for the bot's notes or
    # a curator's edit, so what reaches Zenodo is never the cut text.
    assert extract_notes(fitted) is None and NOTES_START not in fitted and NOTES_END not in fitted
    shown = fitted[fitted.index("- field 0: "):fitted.index(RUN)]
    assert "- field 1: " in shown and "- field 2999: " not in shown
    assert all(line.startswith("- field ") or not line.strip() or line.startswith("_")
               for line in shown.splitlines())


def test_the_failed_merge_comment_fits_whatever_the_number_of_bad_files():
    files = []
    for n in range(1, 301):
        path = f"fields/field_{n}.csv"
        problems = [Problem(path, line, "pnp_dnn", "out-of-range", "x" * 120) for line in range(2, 52)]
        files.append(FileReport(path, n, 50, False, problems, 80, None))
    text = failed_merge_comment(ValidationReport(files), "### The release was not drafted", RUN)
    assert len(text) < MAX_COMMENT_CHARS and RUN in text
    assert text.startswith("### The release was not drafted")
