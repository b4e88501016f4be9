"""What a run knows about where it is: the repository, the config, the API endpoints and tokens.

Built once from the GitHub Actions environment (or CLI flags) and handed to the handlers, so no code
below reads ``os.environ`` itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from bot import gitrepo
from bot.config import DEFAULT_CONFIG, Config, load_config, parse_config
from bot.errors import UsageError
from bot.github.adapter import GitHubAdapter
from bot.redact import redact
from bot.zenodo.client import ZenodoClient
from bot.zenodo.retry import RetryPolicy

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
    step_output: Path | None = None  # $GITHUB_OUTPUT: what later jobs read as this job's outputs
    dry_run: bool = False
    today: str = field(default_factory=lambda: dt.date.today().isoformat())
    # The two platforms, built on first use and then shared by every stage of the run (tests pass fakes).
    github_client: GitHubAdapter | None = None
    zenodo_client: ZenodoClient | None = None

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
        """Append to the job summary ($GITHUB_STEP_SUMMARY) when there is one (nothing for empty text)."""
        if self.step_summary is not None and markdown.strip():
            with self.step_summary.open("a", encoding="utf-8") as out:
                out.write(redact(markdown.rstrip("\n"), self.secrets()) + "\n\n")

    def set_output(self, name: str, value: str) -> None:
        """A step output (``name=value`` in $GITHUB_OUTPUT); values here are the bot's own, one line each."""
        if "\n" in value or "\r" in value:
            raise ValueError(f"output {name!r} must be one line")
        if self.step_output is not None:
            with self.step_output.open("a", encoding="utf-8") as out:
                out.write(f"{name}={value}\n")

    @property
    def github(self) -> GitHubAdapter:
        """The GitHub adapter of this run (one per run)."""
        if self.github_client is None:
            if not (self.github_api_url and self.github_token and self.github_repository):
                raise UsageError(
                    "GitHub is not configured for this run",
                    hint="set GITHUB_API_URL, GITHUB_TOKEN and GITHUB_REPOSITORY (GitHub Actions sets them)",
                )
            self.github_client = GitHubAdapter(
                self.github_api_url, self.github_token, self.github_repository,
                bot_login=self.config.github.bot_login,
            )
        return self.github_client

    @property
    def zenodo(self) -> ZenodoClient:
        """The Zenodo client of this run (one per run, so its call count covers the whole run)."""
        if self.zenodo_client is None:
            if not self.zenodo_token:
                raise UsageError(
                    "ZENODO_TOKEN is not set",
                    hint="the release jobs run in the 'zenodo' environment, which holds the token",
                )
            settings = self.config.zenodo
            policy = RetryPolicy(rate_wait_budget=float(settings.rate_limit_wait), base_delay=settings.retry_delay)
            self.zenodo_client = ZenodoClient(self.zenodo_url, self.zenodo_token, policy=policy)
        return self.zenodo_client


def load_trusted_config(repo_dir: Path, ref: str | None, fallback: str | Path = DEFAULT_CONFIG) -> Config:
    """The config as committed at ``ref`` (the default branch), never the PR's working copy."""
    if ref is None:
        return load_config(fallback)
    try:
        text = gitrepo.show_file(repo_dir, ref, DEFAULT_CONFIG).decode("utf-8")
    except gitrepo.GitError:
        raise UsageError(
            f"{DEFAULT_CONFIG} is missing at {ref}", hint="commit the configuration on the default branch"
        ) from None
    return parse_config(text, f"{DEFAULT_CONFIG}@{ref[:12]}")


def context_from_env(env: Mapping[str, str], config: Config | None = None, **overrides: Any) -> RunContext:
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
        step_output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
    )
    for key, value in overrides.items():
        setattr(ctx, key, value)
    return ctx


def context_from_args(args: argparse.Namespace, **overrides: Any) -> RunContext:
    """A RunContext for a command run by hand: ``--config``, the environment, the current folder."""
    config = load_config(args.config)
    env = dict(os.environ)
    env.setdefault("GITHUB_WORKSPACE", str(Path.cwd()))
    return context_from_env(env, config, **overrides)
