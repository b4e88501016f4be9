"""``release-bot serve-github``: the bundled GitHub-compatible server (its code is in bot/local/github/)."""

from __future__ import annotations

import argparse
import sys

from bot.local.github.sample import ACTIONS_TOKEN, PEOPLE, seed_sample
from bot.local.github.server import GitHubServer
from bot.local.github.state import ACTIONS_BOT

__all__ = ["GitHubServer", "run"]


def run(args: argparse.Namespace) -> int:
    """Serve a seeded sample repository on 127.0.0.1 until interrupted."""
    server = GitHubServer(port=args.port)
    sample = seed_sample(server)
    url = server.start()
    out = sys.stderr
    print(f"GitHub-compatible server for {server.owner}/{server.repo} at {url}", file=out)
    print(f"  GITHUB_API_URL={url}  (PyGithub: Github(base_url={url!r}))", file=out)
    print(f"  main at {sample.root_sha[:12]}, tag {sample.release_tag}, open pull #{sample.pr_number} "
          f"by {sample.pr_author}", file=out)
    # The tokens are made-up local strings; they live in bot/local/github/sample.py, not in this output.
    users = ", ".join([ACTIONS_BOT, *PEOPLE]) if ACTIONS_TOKEN else ""
    print(f"  users (tokens in bot/local/github/sample.py): {users}", file=out)
    print("  Ctrl-C stops it", file=out)
    server.serve_forever()
    return 0
