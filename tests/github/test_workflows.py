"""The GitHub workflows: triggers, least privilege, pinned actions, no event data in shells."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
WRITE_FORBIDDEN_WITHOUT_NEED = {
    "actions",
    "checks",
    "deployments",
    "id-token",
    "packages",
    "pages",
    "security-events",
    "attestations",
    "discussions",
    "repository-projects",
}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as True
    return data


def all_workflows() -> list[str]:
    return sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


BOT = '"$RUNNER_TEMP/release-bot-venv/bin/release-bot"'  # installed outside the checkout (test_install.py)


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_one_workflow_per_event():
    assert all_workflows() == ["approve.yml", "dispatch.yml", "release.yml", "status.yml", "validate.yml"]
    triggers = {name: set(load(name)["on"]) for name in all_workflows()}
    assert triggers == {
        "validate.yml": {"pull_request"},
        "release.yml": {"push"},
        "approve.yml": {"issue_comment"},
        "dispatch.yml": {"workflow_dispatch"},
        "status.yml": {"schedule"},
    }


def test_trigger_details():
    assert load("validate.yml")["on"]["pull_request"]["paths"] == ["fields/**"]
    push = load("release.yml")["on"]["push"]
    assert push["branches"] == ["main"] and push["paths"] == ["fields/**"]
    assert load("approve.yml")["on"]["issue_comment"]["types"] == ["created"]  # edits never count
    inputs = load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]
    assert inputs["action"]["options"] == ["draft", "publish", "status"]
    assert inputs["dry_run"]["type"] == "boolean" and "draft_id" in inputs
    assert len(load("status.yml")["on"]["schedule"]) == 1


# Jobs that may start a new draft run through workflow_dispatch (a run dropped from the queue is redone).
REDRAFTERS = {("approve.yml", "publish"), ("release.yml", "draft"), ("dispatch.yml", "draft"),
              ("status.yml", "status")}


@pytest.mark.parametrize("name", all_workflows())
def test_least_privilege_and_hygiene(name):
    wf = load(name)
    assert wf["permissions"] == {}, "top-level permissions must be empty; grant per job"
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, f"{job_id}: per-job permissions"
        assert "write-all" not in str(perms) and "read-all" not in str(perms)
        allowed = {"actions"} if (name, job_id) in REDRAFTERS else set()
        assert not (WRITE_FORBIDDEN_WITHOUT_NEED - allowed) & set(perms), f"{job_id}: {perms}"
        if allowed:
            assert perms["actions"] == "write", f"{job_id}: {perms}"
        assert isinstance(job.get("timeout-minutes"), int), f"{job_id}: timeout-minutes"
        for step in steps(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{job_id}: {step['uses']} is not pinned to a commit"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False
            assert "${{" not in step.get("run", ""), f"{job_id}: expressions in run: go through env:"
        assert "secrets." not in str(job.get("steps", [])).replace("secrets.ZENODO_TOKEN", ""), job_id


@pytest.mark.parametrize("name", all_workflows())
def test_actions_carry_a_version_comment(name):
    for line in (WORKFLOWS / name).read_text().splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_validate_runs_for_forks_without_secrets():
    assert "secrets." not in (WORKFLOWS / "validate.yml").read_text()
    for job_id, job in load("validate.yml")["jobs"].items():
        assert job["permissions"] == {"contents": "read"} and "environment" not in job, job_id
        checkout = steps(job)[0]["with"]
        assert checkout["fetch-depth"] == 0 and checkout["lfs"] is False  # the bot fetches the changed objects
        # the bot comes from the default branch, not from the pull request (its config too: events.py)
        install = next(s for s in steps(job) if s.get("name", "").startswith("Install release-bot"))
        assert install["env"]["BOT_REF"] == "refs/remotes/origin/${{ github.event.repository.default_branch }}"
        assert f"{BOT} pr-" in runs(job)


def test_validate_fans_out_as_a_matrix_and_gathers_into_one_check():
    jobs = load("validate.yml")["jobs"]
    assert list(jobs) == ["plan", "check", "report"]
    assert jobs["plan"]["outputs"] == {"groups": "${{ steps.plan.outputs.groups }}"}
    assert f"{BOT} pr-plan" in runs(jobs["plan"])
    check = jobs["check"]
    assert check["needs"] == "plan" and check["strategy"]["fail-fast"] is False
    assert check["strategy"]["matrix"] == {"group": "${{ fromJSON(needs.plan.outputs.groups) }}"}
    run_step = next(st for st in steps(check) if "pr-group" in st.get("run", ""))
    assert run_step["env"]["GROUP"] == "${{ matrix.group.index }}"  # a number; file names never reach a shell
    assert run_step["run"] == f'{BOT} pr-group --group "$GROUP"'
    (upload,) = [st for st in steps(check) if st.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "group-report-${{ matrix.group.index }}"
    from bot.flow.fanout import GROUP_REPORT

    assert upload["with"]["path"] == "${{ runner.temp }}/release-bot/" + GROUP_REPORT
    report = jobs["report"]
    assert report["needs"] == ["plan", "check"] and report["if"] == "${{ !cancelled() }}"
    assert report["name"] == "validate field files"  # the one check result, under the check's old name
    (download,) = [st for st in steps(report) if st.get("uses", "").startswith("actions/download-artifact@")]
    assert download["with"] == {"pattern": "group-report-*", "path": "${{ runner.temp }}/group-reports"}
    gather = next(st for st in steps(report) if "pr-gather" in st.get("run", ""))
    assert gather["env"]["REPORTS"] == download["with"]["path"]


@pytest.mark.parametrize(
    ("name", "job_id"),
    [
        ("release.yml", "draft"),
        ("approve.yml", "publish"),
        ("dispatch.yml", "draft"),
        ("dispatch.yml", "publish"),
    ],
)
def test_catalog_writers_share_one_queue_and_the_zenodo_environment(name, job_id):
    job = load(name)["jobs"][job_id]
    assert job["environment"] == "zenodo"
    assert job["concurrency"] == {"group": "release-catalog", "cancel-in-progress": False}
    step = next(s for s in steps(job) if "handle-event" in s.get("run", ""))
    assert step["env"]["ZENODO_TOKEN"] == "${{ secrets.ZENODO_TOKEN }}"


def test_release_may_comment_but_not_write_contents():
    perms = load("release.yml")["jobs"]["draft"]["permissions"]
    assert perms == {"actions": "write", "contents": "read", "pull-requests": "write", "statuses": "write"}


def test_approve_checks_out_the_default_branch_and_filters_cheaply_outside_the_queue():
    jobs = load("approve.yml")["jobs"]
    assert list(jobs) == ["filter", "publish", "unprocessed"]
    condition = " ".join(jobs["filter"]["if"].split())
    assert condition == "github.event.issue.pull_request && contains(github.event.comment.body, '/release')"
    # who may approve is the permission API's answer: author_association hides private organisation members
    assert all("author_association" not in str(job) for job in jobs.values())
    assert "concurrency" not in jobs["filter"] and "concurrency" not in jobs["unprocessed"]
    assert "environment" not in jobs["filter"] and "environment" not in jobs["unprocessed"]
    assert jobs["filter"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["filter"]["outputs"]["approve"] == "${{ steps.filter.outputs.approve }}"
    assert f"{BOT} approve-filter" in runs(jobs["filter"])
    publish = jobs["publish"]
    assert publish["needs"] == "filter" and publish["if"] == "needs.filter.outputs.approve == 'true'"
    assert publish["permissions"] == {"actions": "write", "contents": "write", "pull-requests": "write",
                                      "statuses": "write"}
    assert publish["outputs"]["replied"] == "${{ steps.publish.outputs.replied }}"
    last = jobs["unprocessed"]
    assert last["needs"] == ["filter", "publish"]
    assert " ".join(last["if"].split()) == ("always() && needs.filter.outputs.approve == 'true' "
                                            "&& needs.publish.outputs.replied != 'true'")
    assert last["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert f'{BOT} approve-unprocessed --result "$PUBLISH_RESULT"' in runs(last)
    for job in jobs.values():
        checkout = steps(job)[0]
        assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
        assert "github.event.comment" not in runs(job) and "head" not in str(checkout["with"])


def test_dispatch_gives_each_action_only_its_permissions():
    jobs = load("dispatch.yml")["jobs"]
    assert {j: jobs[j]["if"] for j in jobs} == {
        a: f"inputs.action == '{a}'" for a in ("draft", "publish", "status")
    }
    assert jobs["status"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"]["contents"] == "write"
    assert jobs["draft"]["permissions"]["contents"] == "read"


@pytest.mark.parametrize("name", ["validate.yml", "release.yml", "approve.yml", "dispatch.yml", "status.yml"])
def test_event_workflows_are_thin_calls_of_handle_event(name):
    for job in load(name)["jobs"].values():
        assert re.search(f"^{re.escape(BOT)} (handle-event|approve-filter|approve-unprocessed .*|pr-.*)$",
                         runs(job), re.MULTILINE)
        assert any(
            s.get("uses", "").startswith("actions/setup-python@") and s["with"]["python-version"] == "3.11"
            for s in steps(job)
        )
        assert "pip install" in runs(job)


def test_status_runs_the_status_command_weekly():
    wf = load("status.yml")
    cron = wf["on"]["schedule"][0]["cron"].split()
    assert len(cron) == 5 and cron[2] == "*" and cron[3] == "*" and cron[4] != "*"  # one day a week
    job = wf["jobs"]["status"]
    assert re.search(f"^{re.escape(BOT)} handle-event$", runs(job), re.MULTILINE)  # the schedule handler
    assert steps(job)[-1]["env"]["GITHUB_TOKEN"] == "${{ github.token }}"  # to start a draft run


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:  # a test dependency (pyproject's [test] extra): missing means the check never ran
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return which


def test_zizmor_finds_nothing():
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_githubs_schema():
    files = [str(p) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_approve_filter_matches_the_configured_command():
    from bot.config import load_config

    config = load_config(WORKFLOWS.parents[1] / "release-config.yaml")
    job = load("approve.yml")["jobs"]["filter"]
    assert f"contains(github.event.comment.body, '{config.approval.command.split()[0]}')" in job["if"]


@pytest.mark.parametrize("name", all_workflows())
def test_every_checkout_the_bot_reads_has_full_history(name):
    """The bot diffs against release tags and the PR base: a shallow checkout would see no history."""
    for job in load(name)["jobs"].values():
        if re.search(f"^{re.escape(BOT)} approve-(filter|unprocessed)", runs(job), re.MULTILINE):
            continue  # they read the configuration and the comment, never history
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@") and "path" not in step.get("with", {}):
                assert step["with"].get("fetch-depth") == 0, (name, step.get("name"))


@pytest.mark.parametrize(("name", "job_id"), [("validate.yml", "report"), ("release.yml", "draft")])
def test_the_whole_report_is_uploaded_as_an_artifact_even_when_the_check_fails(name, job_id):
    from bot.github.checkreport import REPORT_FILE
    from bot.validate.formats import REPORT_ARTIFACT

    job = load(name)["jobs"][job_id]
    (upload,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@")
                 and s["with"]["name"] == REPORT_ARTIFACT]
    assert upload["if"] == "${{ !cancelled() }}"  # the bot's step fails on invalid files: upload anyway
    # the bot writes it under $RUNNER_TEMP/release-bot (RunContext.workdir)
    assert upload["with"]["path"] == "${{ runner.temp }}/release-bot/" + REPORT_FILE


def test_the_bundled_server_knows_the_dispatch_workflows_inputs():
    from bot.local.world import DISPATCH_INPUTS

    inputs = load("dispatch.yml")["on"]["workflow_dispatch"]["inputs"]
    assert {name: bool(spec.get("required")) for name, spec in inputs.items()} == DISPATCH_INPUTS
    from bot.flow.redraft import DRAFT_WORKFLOW

    assert DRAFT_WORKFLOW == "dispatch.yml" and "draft" in inputs["action"]["options"]


def test_jobs_that_start_a_draft_run_may():
    for name, job_id in REDRAFTERS:
        assert load(name)["jobs"][job_id]["permissions"]["actions"] == "write"


def test_the_merge_run_draws_the_sky_map_and_uploads_it_as_an_artifact():
    from bot.skymap.release import SKY_MAP_ARTIFACT, SKY_MAP_NAME

    job = load("release.yml")["jobs"]["draft"]
    assert "release-bot-src[plots]" in runs(job)
    (upload,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@")
                 and s["with"]["name"] == SKY_MAP_ARTIFACT]
    assert upload["with"]["path"] == "${{ runner.temp }}/release-bot/" + SKY_MAP_NAME
    for name, job_id in (("approve.yml", "publish"), ("dispatch.yml", "publish")):
        assert "release-bot-src[plots]" in runs(load(name)["jobs"][job_id]), name  # the GitHub release gets the map
