"""Git LFS: recognise a pointer blob and fetch exactly its object with the real ``git-lfs`` client.

The workflows check out with ``lfs: false`` (a checkout with LFS downloads every object of the commit, the
whole catalog), so a field file committed through LFS arrives as its pointer. The bot resolves each pointer
it needs, one at a time: ``git lfs fetch --include=<path> origin <commit>`` downloads that one object into
the LFS store, and the bot moves it out of the store into its scratch folder, so the store never grows.

The token is handed to that one ``git-lfs`` call through its environment (``GIT_CONFIG_*``, never argv or
``.git/config``), as an ``http.<lfs-url>.extraheader`` scoped to the repository's LFS endpoint, the header
actions/checkout itself uses (src/git-auth-helper.ts: ``AUTHORIZATION: basic base64(x-access-token:T)``).
The endpoint is set as ``lfs.url`` the same way: git configuration outranks a committed ``.lfsconfig``
(git-lfs docs/spec.md, "The Server"), so a file in the checkout cannot send the token elsewhere.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import Finding, UsageError

# git-lfs docs/spec.md: "version" first, then sorted keys; sha256 oids; pointers are small text files.
POINTER_MAX_BYTES = 1024
_VERSION = b"version https://git-lfs.github.com/spec/v1\n"
_POINTER = re.compile(rb"oid sha256:([0-9a-f]{64})\nsize (0|[1-9][0-9]{0,18})\n")


@dataclass(frozen=True)
class Pointer:
    oid: str
    size: int


def parse_pointer(data: bytes) -> Pointer | None:
    """The LFS object a blob points to, or None when the blob is content (the strict v1 form only)."""
    if len(data) >= POINTER_MAX_BYTES or not data.startswith(_VERSION):
        return None
    m = _POINTER.fullmatch(data[len(_VERSION):])
    return Pointer(m.group(1).decode(), int(m.group(2))) if m else None


@dataclass(frozen=True)
class LfsAccess:
    """Where the repository's LFS objects live and the token to read them (both None: git-lfs's defaults)."""

    endpoint: str | None = None
    token: str | None = None

    @classmethod
    def for_repository(cls, server_url: str, repository: str | None, token: str | None) -> LfsAccess:
        """GitHub's LFS endpoint of ``owner/name`` (git-lfs docs/api/batch.md: ``<remote>.git/info/lfs``)."""
        if not repository:
            return cls(None, token)
        return cls(f"{server_url.rstrip('/')}/{repository}.git/info/lfs", token)

    def git_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` plus the configuration of one fetch, added after any ``GIT_CONFIG_*`` already there."""
        # a committed .lfsconfig must not hide the file asked for, nor widen the fetch to recent refs
        settings = [("lfs.fetchexclude", ""), ("lfs.fetchrecentalways", "false")]
        if self.endpoint:
            settings.append(("lfs.url", self.endpoint))
            if self.token:
                basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
                settings.append((f"http.{self.endpoint}.extraheader", f"AUTHORIZATION: basic {basic}"))
        env = dict(base)
        start = int(env.get("GIT_CONFIG_COUNT") or 0)
        for i, (key, value) in enumerate(settings, start):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(start + len(settings))
        env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password on a runner
        return env


class LfsFetchError(Finding):
    """The LFS object of a committed pointer could not be had (not pushed, refused, wrong size)."""


def _lfs(repo: Path, args: list[str], env: Mapping[str, str]) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), "lfs", *args], capture_output=True, env=dict(env),
                              check=False, timeout=6 * 3600)
    except FileNotFoundError:
        raise UsageError("git is not installed", hint="install git and git-lfs") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        if "'lfs' is not a git command" in err:
            raise UsageError("a field file is stored in Git LFS but git-lfs is not installed",
                             hint="install it (apt-get install git-lfs; GitHub's runners have it)")
        last = err.splitlines()[-1] if err else f"exit {done.returncode}"
        raise LfsFetchError(f"git lfs {args[0]} failed: {last}",
                      hint="check that the LFS object was pushed (git lfs push --all origin) and readable")
    return done.stdout.decode("utf-8", "replace")


def media_dir(repo: Path) -> Path:
    """The LFS object store git-lfs uses for ``repo`` (``.git/lfs/objects`` unless configured otherwise)."""
    for line in _lfs(repo, ["env"], os.environ).splitlines():
        if line.startswith("LocalMediaDir="):
            return Path(line.split("=", 1)[1])
    raise UsageError(f"git lfs env names no object store for {repo}", hint="check the git-lfs install")


def fetch_object(
    repo: Path, commit: str, path: str, pointer: Pointer, dest: Path, access: LfsAccess
) -> Path:
    """Fetch the one LFS object ``path`` points to at ``commit`` and hand it over at ``dest``.

    An object the store already held (a developer's clone) stays there and ``dest`` is a link to it (a copy
    across file systems); one this call downloaded is moved out of the store, so deleting ``dest`` frees
    the disk. Either way ``dest`` carries the file's name, which says which field it is.
    """
    store = media_dir(repo)
    stored = store / pointer.oid[:2] / pointer.oid[2:4] / pointer.oid
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    if stored.is_file() and stored.stat().st_size == pointer.size:
        try:
            os.link(stored, dest)
        except OSError:
            shutil.copyfile(stored, dest)
        return dest
    env = access.git_env(os.environ)
    _lfs(repo, ["fetch", f"--include={path}", "--exclude=", "origin", commit], env)
    # git-lfs checks each download against its sha256 oid before it enters the store (tq/transfer_queue).
    if not stored.is_file():
        raise LfsFetchError(f"{path}: the Git LFS object {pointer.oid[:12]} was not fetched",
                      hint="push it with `git lfs push --all origin`, then run the check again")
    if stored.stat().st_size != pointer.size:
        stored.unlink()
        raise LfsFetchError(f"{path}: the Git LFS object {pointer.oid[:12]} has the wrong size",
                      hint="push the file again through Git LFS")
    shutil.move(stored, dest)
    return dest
