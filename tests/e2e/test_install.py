"""No code from the checkout runs: the workflows' own install and run commands, read from the YAML and run
as a runner would, leave every file a data PR planted unimported and unexecuted.

Each planted file writes a marker when Python or pip imports or runs it: ``setup.py`` (setuptools runs it
when the checkout is installed), ``pip/__main__.py`` (``python -m pip`` with the checkout first on
sys.path), ``sitecustomize.py`` (imported at start-up from sys.path) and a ``.pth`` (run from a site dir).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from release_helpers import CONTRIBUTOR

from bot.local.sample import field_csv_bytes
from bot.local.world import LocalWorld

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
INSTALL = "Install release-bot"


def planted(markers: Path) -> dict[str, bytes]:
    def writes(name: str) -> str:
        return f"open({str(markers / name)!r}, 'w').write('ran')"

    return {
        "setup.py": f"{writes('setup.py')}\nfrom setuptools import setup\nsetup()\n".encode(),
        "pip/__init__.py": b"",
        "pip/__main__.py": f"{writes('pip')}\n".encode(),
        "sitecustomize.py": f"{writes('sitecustomize')}\n".encode(),
        "usercustomize.py": f"{writes('usercustomize')}\n".encode(),
        "zz_planted.pth": f"import builtins; {writes('pth')}\n".encode(),
        "fields/sitecustomize.py": f"{writes('fields-sitecustomize')}\n".encode(),
    }


def bot_source() -> dict[str, bytes]:
    """The bot as the default branch holds it: bot/ and pyproject.toml."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "bot", "pyproject.toml"],
                            capture_output=True, text=True, check=True).stdout.split()
    return {rel: (ROOT / rel).read_bytes() for rel in listed if (ROOT / rel).is_file()}


def job_steps(workflow: str, job: str) -> list[dict[str, Any]]:
    return yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]["steps"]


def substitute(text: str, values: dict[str, str]) -> str:
    """``${{ expr }}`` as the runner expands it, for the expressions these steps use (others fail loudly)."""
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], text)


def run_step(step: dict[str, Any], env: dict[str, str], values: dict[str, str]) -> subprocess.CompletedProcess:
    """One ``run:`` step with the shell GitHub uses: ``bash -e`` by default, ``-eo pipefail`` for shell: bash."""
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"] if step.get("shell") == "bash" \
        else ["bash", "-e", "-c"]
    step_env = {k: substitute(str(v), values) for k, v in (step.get("env") or {}).items()}
    cwd = substitute(step.get("working-directory", env["GITHUB_WORKSPACE"]), values)
    return subprocess.run([*shell, substitute(step["run"], values)], cwd=cwd, env={**env, **step_env},
                          capture_output=True, text=True, check=False)


def runner_env(event_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """What a step sees: the event's GITHUB_* variables, and `python` on PATH as setup-python leaves it."""
    shims = tmp_path / "setup-python"
    shims.mkdir(parents=True, exist_ok=True)
    if not (shims / "python").exists():
        (shims / "python").symlink_to(sys.executable)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ZENODO_", "PYTHON", "VIRTUAL_ENV"))}
    env = {**base, **event_env, "PATH": f"{shims}{os.pathsep}{base['PATH']}"}
    # Speed only: the new venv gets the bot alone and finds its dependencies in this test's environment, a
    # folder outside the checkout (entries of PYTHONPATH are not site dirs: their .pth files never run).
    env["PIP_NO_DEPS"] = "1"
    env["RELEASE_BOT_TEST_DEPS"] = next(p for p in sys.path if p.endswith("site-packages"))
    Path(env["RUNNER_TEMP"]).mkdir(parents=True, exist_ok=True)
    return env


def install(workflow: str, job: str, event_env: dict[str, str], tmp_path: Path,
            values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Run the job's install step as the runner would; the environment and values its later steps see.

    Every job's install step is the same script (``test_every_job_installs_the_bot_the_same_way``), so the
    jobs here share one install: each job on GitHub runs that same script on a fresh runner.
    """
    env = runner_env(event_env, tmp_path)
    values = {"runner.temp": env["RUNNER_TEMP"], **values}
    (step,) = [s for s in job_steps(workflow, job) if s.get("name", "").startswith(INSTALL)]
    done = run_step(step, env, values)
    assert done.returncode == 0, done.stdout + done.stderr
    venv = Path(env["RUNNER_TEMP"]) / "release-bot-venv"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
                           capture_output=True, text=True, check=True, cwd=env["GITHUB_WORKSPACE"],
                           env={**env, "PYTHONSAFEPATH": "1"}).stdout
    assert where.startswith(str(venv)), where  # the installed bot, not the checkout's
    return env, values


def run_job(workflow: str, job: str, command: str, env: dict[str, str],
            values: dict[str, str]) -> subprocess.CompletedProcess:
    """The job's ``release-bot <command>`` step, with the installed bot."""
    steps = job_steps(workflow, job)
    (bot_step,) = [s for s in steps if f"release-bot {command}" in s.get("run", "").replace('" ', " ")]
    return run_step(bot_step, {**env, "PYTHONPATH": env["RELEASE_BOT_TEST_DEPS"]}, values)


def planted_pull(world: LocalWorld, markers: Path) -> dict[str, bytes]:
    world.push_main(bot_source(), "The bot")
    files = {"fields/field_487.csv": field_csv_bytes(487, 20, seed=3), **planted(markers)}
    world.open_pull(1, "Add field 487", CONTRIBUTOR, files)
    return files


def test_a_data_prs_planted_code_never_runs_in_the_pr_check_nor_after_the_merge(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    with LocalWorld(tmp_path / "world") as world:
        files = planted_pull(world, markers)
        # the pull request's check, on refs/pull/1/merge: its three jobs (plan, one group, gather)
        payload_env = world.pull_request_env(1)
        env, values = install("validate.yml", "plan", dict(payload_env), tmp_path / "pr",
                              {"github.event.repository.default_branch": "main", "github.token": "unused",
                               "matrix.group.index": "0"})
        for job, command in (("plan", "pr-plan"), ("check", "pr-group")):
            done = run_job("validate.yml", job, command, env, values)
            assert done.returncode == 0, done.stdout + done.stderr
        temp = Path(payload_env["RUNNER_TEMP"])  # upload-artifact, then download-artifact
        (temp / "group-reports" / "group-report-0").mkdir(parents=True)
        (temp / "release-bot" / "group-report.json").rename(temp / "group-reports" / "group-report-0" /
                                                             "group-report.json")
        check = run_job("validate.yml", "report", "pr-gather", env, values)
        assert check.returncode == 1  # the planted files are refused by name
        for path in files:
            if not path.startswith("fields/field_"):
                assert f"::error file={path}," in check.stdout, path
        assert sorted(p.name for p in markers.iterdir()) == []

        # a maintainer merges it anyway: the release job, with the Zenodo token, runs the bot on a checkout
        # holding every planted file. Its install step is the same script on the same bot/ (the planted files
        # are outside what `git archive` takes), so the install above serves it: the venv moves to its runner.
        before = world.git("rev-parse", "main")
        push_env = world.push_env(before, world.merge(1))
        push_temp = Path(push_env["RUNNER_TEMP"])
        push_temp.mkdir(parents=True, exist_ok=True)
        (push_temp / "release-bot-venv").symlink_to(temp / "release-bot-venv")
        release = run_job("release.yml", "draft", "handle-event", runner_env(push_env, tmp_path / "push"),
                          {"runner.temp": str(push_temp), "github.token": push_env["GITHUB_TOKEN"],
                           "secrets.ZENODO_TOKEN": push_env["ZENODO_TOKEN"]})
        assert release.returncode == 0, release.stdout + release.stderr
        assert "drafted" in release.stdout
        assert (push_temp / "release-bot" / "sky-map.png").is_file()  # drawn by the installed bot's child
        assert sorted(p.name for p in markers.iterdir()) == []


def test_every_job_installs_the_bot_the_same_way():
    """The two jobs run above stand for all: every install step is the same script."""
    scripts = set()
    for path in WORKFLOWS.glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            steps = job.get("steps", [])
            for step in steps:  # no other way in: no bare `release-bot`, no pip install of the checkout
                for line in step.get("run", "").splitlines():
                    assert not re.match(r"\s*(release-bot\s|python3? -m pip install \.)", line), (path.name, line)
            uses_bot = any("release-bot-venv/bin/release-bot" in s.get("run", "") for s in steps)
            installs = [s for s in steps if s.get("name", "").startswith(INSTALL)]
            if uses_bot:
                (install,) = installs
                assert install["env"]["PYTHONSAFEPATH"] == "1" and install["shell"] == "bash"
                assert install["working-directory"] == "${{ runner.temp }}"
                scripts.add(install["run"])
                for step in steps:
                    if "release-bot-venv/bin/release-bot" in step.get("run", ""):
                        assert step["env"]["PYTHONSAFEPATH"] == "1"
    assert len(scripts) == 1
