"""Git LFS pointers, the configuration handed to one git-lfs call, and objects a clone already holds."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess

import pytest

from bot import lfs
from bot.flow.fields import committed_file
from bot.lfs import LfsAccess, Pointer, parse_pointer

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
V1 = b"version https://git-lfs.github.com/spec/v1\n"


def test_a_v1_pointer_is_read():
    assert parse_pointer(V1 + f"oid sha256:{OID}\nsize 12345\n".encode()) == Pointer(OID, 12345)
    assert parse_pointer(V1 + f"oid sha256:{OID}\nsize 0\n".encode()) == Pointer(OID, 0)


@pytest.mark.parametrize("data", [
    b"",
    b"_id,ra,dec\n1,2,3\n",
    V1 + f"oid sha256:{OID}\nsize 12345".encode(),  # no final newline
    V1 + f"oid sha256:{OID.upper()}\nsize 12345\n".encode(),
    V1 + f"oid sha256:{OID}\nsize 012\n".encode(),
    V1 + f"oid sha256:{OID}\r\nsize 12\r\n".encode(),
    V1 + f"oid md5:{OID[:32]}\nsize 12\n".encode(),
    b"version https://git-lfs.github.com/spec/v2\n" + f"oid sha256:{OID}\nsize 12\n".encode(),
    V1 + f"oid sha256:{OID}\nsize 12\n".encode() + b"x" * 1024,  # a pointer is a small file
])
def test_anything_else_is_content(data):
    assert parse_pointer(data) is None


def test_one_fetch_gets_the_endpoint_and_a_scoped_header_after_the_configuration_already_there():
    access = LfsAccess.for_repository("https://github.com/", "ztf/scope", "ghs_secret")
    assert access.endpoint == "https://github.com/ztf/scope.git/info/lfs"
    env = access.git_env({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"})
    pairs = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    basic = base64.b64encode(b"x-access-token:ghs_secret").decode()
    assert pairs == {
        "safe.directory": "*",
        "lfs.fetchexclude": "",
        "lfs.fetchrecentalways": "false",
        "lfs.url": "https://github.com/ztf/scope.git/info/lfs",
        "http.https://github.com/ztf/scope.git/info/lfs.extraheader": f"AUTHORIZATION: basic {basic}",
    }
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    bare = LfsAccess().git_env({})
    assert bare["GIT_CONFIG_COUNT"] == "2" and bare["GIT_CONFIG_KEY_0"] == "lfs.fetchexclude"


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("git-lfs") is None and not os.environ.get("CI"), reason="git-lfs not installed")
def test_an_object_the_clone_already_holds_is_used_and_kept(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    content = b"_id,ra\n1,2\n"
    oid = hashlib.sha256(content).hexdigest()
    (repo / "fields").mkdir()
    (repo / "fields" / "field_5.csv").write_bytes(V1 + f"oid sha256:{oid}\nsize {len(content)}\n".encode())
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "pointer")
    stored = lfs.media_dir(repo) / oid[:2] / oid[2:4] / oid
    stored.parent.mkdir(parents=True)
    stored.write_bytes(content)
    scratch = tmp_path / "scratch"
    with committed_file(repo, git(repo, "rev-parse", "HEAD").strip(), "fields/field_5.csv", scratch,
                        LfsAccess()) as local:
        assert local.name == "field_5.csv" and local.read_bytes() == content
    assert not local.exists() and stored.read_bytes() == content  # the developer's store is left as it was
