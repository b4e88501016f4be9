"""What a run knows about where it is: the repository, the config, the API endpoints and tokens.

Built once from the GitHub Actions environment (or CLI flags) and handed to the handlers, so no code
below reads ``os.environ`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bot.config import DEFAULT_CONFIG, Config, load_config, parse_config
from bot.errors import UsageError

DEFAULT_ZENODO_TOKEN_ENV = "ZENODO_TOKEN"


@dataclass
class RunContext:
    config: Config
    repo_dir: Path
    workdir: Path
    console: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    github_api_url: str | None = None
    github_token: str | None = None
    github_repository: str | None = None
    github_server_url: str = "https://github.com"
    github_run_id: str | None = None
    zenodo_api_url: str | None = None
    zenodo_token: str | None = None
    step_summary: Path | None = None
    dry_run: bool = False
    today: str = field(default_factory=lambda: dt.date.today().isoformat())
    crash_after: str | None = None  # test hook: stop right after this step (see release.steps)

    @property
    def zenodo_url(self) -> str:
        return self.zenodo_api_url or self.config.zenodo.api_url

    @property
    def run_url(self) -> str | None:
        """This workflow run's page, where its job summaries and artifacts are (None outside Actions)."""
        if not (self.github_repository and self.github_run_id):
            return None
        return f"{self.github_server_url.rstrip('/')}/{self.github_repository}/actions/runs/{self.github_run_id}"

    def secrets(self) -> list[str]:
        """Values that must never be printed."""
        return [s for s in (self.github_token, self.zenodo_token) if s]

    def write_summary(self, markdown: str) -> None:
        """Append to the job summary ($GITHUB_STEP_SUMMARY) when there is one."""
        if self.step_summary is not None:
            from bot.redact import redact

            with self.step_summary.open("a", encoding="utf-8") as out:
                out.write(redact(markdown.rstrip("\n"), self.secrets()) + "\n\n")

    def github(self):  # -> GitHubAdapter
        from bot.github.adapter import GitHubAdapter

        if not (self.github_api_url and self.github_token and self.github_repository):
            raise UsageError(
                "GitHub is not configured for this run",
                hint="set GITHUB_API_URL, GITHUB_TOKEN and GITHUB_REPOSITORY (GitHub Actions sets them)",
            )
        return GitHubAdapter(
            self.github_api_url, self.github_token, self.github_repository, bot_login=self.config.github.bot_login
        )

    def zenodo(self):  # -> ZenodoClient
        from bot.zenodo.client import ZenodoClient

        if not self.zenodo_token:
            raise UsageError(
                "ZENODO_TOKEN is not set",
                hint="the release jobs run in the 'zenodo' environment, which holds the token",
            )
        return ZenodoClient(self.zenodo_url, self.zenodo_token)


def crash_point(ctx: RunContext, step: str) -> None:
    """Test hook: die right after ``step`` when RELEASE_BOT_CRASH_AFTER names it (rehearses a dying run)."""
    if ctx.crash_after == step:
        from bot.zenodo.drafts import SimulatedCrash

        raise SimulatedCrash(f"simulated crash after step {step}")


def load_trusted_config(repo_dir: Path, ref: str | None, fallback: str | Path = DEFAULT_CONFIG) -> Config:
    """The config as committed at ``ref`` (the default branch), never the PR's working copy."""
    if ref is None:
        return load_config(fallback)
    from bot import gitrepo

    try:
        text = gitrepo.show_file(repo_dir, ref, DEFAULT_CONFIG).decode("utf-8")
    except gitrepo.GitError:
        raise UsageError(
            f"{DEFAULT_CONFIG} is missing at {ref}", hint="commit the configuration on the default branch"
        ) from None
    return parse_config(text, f"{DEFAULT_CONFIG}@{ref[:12]}")


def context_from_env(env: Mapping[str, str], config: Config | None = None, **overrides) -> RunContext:
    """A RunContext from the standard GitHub Actions variables plus ZENODO_TOKEN / ZENODO_API_URL."""
    repo_dir = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
    workdir = Path(env.get("RUNNER_TEMP") or repo_dir / ".release-bot").resolve() / "release-bot"
    summary = env.get("GITHUB_STEP_SUMMARY")
    ctx = RunContext(
        config=config if config is not None else load_config(repo_dir / DEFAULT_CONFIG),
        repo_dir=repo_dir,
        workdir=workdir,
        github_api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        github_token=env.get("GITHUB_TOKEN") or None,
        github_repository=env.get("GITHUB_REPOSITORY") or None,
        github_server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
        github_run_id=env.get("GITHUB_RUN_ID") or None,
        zenodo_api_url=env.get("ZENODO_API_URL") or None,
        zenodo_token=env.get(DEFAULT_ZENODO_TOKEN_ENV) or None,
        step_summary=Path(summary) if summary else None,
        crash_after=env.get("RELEASE_BOT_CRASH_AFTER") or None,
    )
    for key, value in overrides.items():
        setattr(ctx, key, value)
    return ctx
