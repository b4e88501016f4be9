"""A small sample repository for the bundled GitHub server: the demo and the test fixtures seed it.

The tokens below are fixed, made-up strings valid only against the local server.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.local.github.state import ACTIONS_BOT, GitHubState, fake_sha


@dataclass(frozen=True)
class SampleRepo:
    """What :func:`seed_sample` put in the repository, so tests can name it."""

    root_sha: str
    pr_head_sha: str
    pr_number: int
    pr_author: str
    release_tag: str


ACTIONS_TOKEN = "ghs_local_actions_token"
READONLY_TOKEN = "ghs_local_readonly_token"  # like a fork pull request's Actions token
# login -> (token, role); None: no access beyond a public repository's
PEOPLE: dict[str, tuple[str, str | None]] = {
    "bfhealy": ("ghp_local_bfhealy", "admin"),
    "mcoughlin": ("ghp_local_mcoughlin", "maintain"),
    "dwarrick": ("ghp_local_dwarrick", "write"),
    "tess": ("ghp_local_tess", "triage"),
    "bob": ("ghp_local_bob", "read"),
    "alice": ("ghp_local_alice", None),
}


def token_for(login: str) -> str:
    return ACTIONS_TOKEN if login == ACTIONS_BOT else PEOPLE[login][0]


def seed_sample(state: GitHubState) -> SampleRepo:
    """An initial catalog commit tagged and released as v1.0.0, and alice's open pull request #1 adding
    field 298 and replacing field 297."""
    state.add_token(ACTIONS_TOKEN, ACTIONS_BOT)
    state.add_token(READONLY_TOKEN, ACTIONS_BOT, write=False)
    for login, (token, role) in PEOPLE.items():
        state.add_token(token, login)
        state.set_permission(login, role)
    root = state.add_commit(
        fake_sha("sample", "root"), [],
        {"fields/field_296.csv": "added", "fields/field_297.csv": "added", "release-config.yaml": "added"},
        author="bfhealy", message="Initial SCoPe catalog: fields 296 and 297",
    )
    state.set_branch(state.default_branch, root)
    tag = "catalog-v1.0.0"
    state.add_tag(tag, root, message="SCoPe catalog v1.0.0")
    head = state.add_commit(
        fake_sha("sample", "pr1"), [root],
        {"fields/field_298.csv": "added", "fields/field_297.csv": "modified"},
        author="alice", message="Add field 298, rerun field 297",
    )
    state.add_pull(1, "Add field 298 and rerun field 297", "alice", head_sha=head, base_sha=root,
                   labels=["catalog"],
                   body="New predictions for field 298; field 297 rerun with the new model.",
                   head_ref="field-298")
    sample = SampleRepo(root, head, 1, "alice", tag)
    state.sample = sample
    return sample
