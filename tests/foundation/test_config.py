"""release-config.yaml: the shipped file loads; each kind of mistake is named with its path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
catalog:
  fields_dir: fields
zenodo:
  api_url: https://zenodo.org/api
  record: "8410825"
approval:
  command: /release publish
  curators: [alice, bob]
"""


def test_shipped_config_is_valid_and_points_at_the_real_catalog():
    config = load_config(ROOT / "release-config.yaml")
    assert config.zenodo.record == "8410825"
    assert config.zenodo.community == "ztf-scope"
    assert config.catalog.fields_dir == "fields"
    assert config.approval.command == "/release publish"
    assert config.approval.curators


def test_minimal_config_gets_defaults():
    config = parse_config(GOOD)
    assert config.approval.curators == ("alice", "bob")
    assert config.github.bot_login == "github-actions[bot]"
    assert config.versioning.added == "minor"
    assert config.validation.max_errors_per_file == 50
    assert config.catalog.max_file_bytes == 2 * 1024**3  # GitHub's largest LFS object on Free and Pro


def test_the_lfs_object_limit_is_configurable_and_checked():
    assert parse_config(GOOD.replace("fields_dir: fields", "fields_dir: fields\n  max_file_bytes: 4000000000")
                        ).catalog.max_file_bytes == 4_000_000_000
    with pytest.raises(ConfigError):
        parse_config(GOOD.replace("fields_dir: fields", "fields_dir: fields\n  max_file_bytes: 0"))


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (GOOD.replace("curators: [alice, bob]", "curators: alice"), 8, "approval.curators",
         "expected a list of GitHub logins"),
        (GOOD.replace('record: "8410825"', "record: 8410825"), 5, "zenodo.record", "expected a string"),
        (GOOD + "  colour: blue\n", 9, "approval.colour", "unknown key"),
        (GOOD.replace("fields_dir: fields", "fields_dir: fields\n  zip_level: 3"), 3, "catalog.zip_level",
         "unknown key"),
        (GOOD.replace("api_url: https://zenodo.org/api", "api_url: ftp://zenodo.org"), 4, "zenodo.api_url",
         "must be an https:// URL"),
        (GOOD.replace("api_url: https://zenodo.org/api", "api_url: http://evil.example/api"), 4, "zenodo.api_url",
         "must be an https:// URL"),
        (GOOD.replace("api_url: https://zenodo.org/api", "api_url: https://token@zenodo.org/api"), 4,
         "zenodo.api_url", "must be an https:// URL"),  # no credentials in the URL
        (GOOD.replace("fields_dir: fields", "fields_dir: /etc"), 2, "catalog.fields_dir",
         "does not match the expected form"),  # relative to the repository, never absolute
        (GOOD.replace('record: "8410825"', 'record: "zenodo-8410825"'), 5, "zenodo.record",
         "not a Zenodo record id"),
        (GOOD.replace("command: /release publish", "command: release publish"), 7, "approval.command",
         "does not match the expected form"),
        (GOOD.replace("curators: [alice, bob]", "curators: [alice, 'bad login!']"), 8,
         "approval.curators[1]", "not a GitHub login"),
    ],
)
def test_each_problem_has_path_line_and_explanation(text, line, key, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "release-config.yaml")
    problems = info.value.problems
    assert [(p.line, p.key) for p in problems] == [(line, key)]
    assert words in problems[0].message
    assert str(problems[0]).startswith(f"release-config.yaml:{line}: {key}: ")


def test_all_problems_reported_at_once():
    text = GOOD.replace("curators: [alice, bob]", "curators: 3").replace("fields_dir: fields", "fields_dir: 5")
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert [p.key for p in info.value.problems] == ["catalog.fields_dir", "approval.curators"]


def test_missing_section_is_named():
    text = GOOD.split("approval:")[0]
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert "'approval' is required" in str(info.value)


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace("  fields_dir: fields", "  fields_dir: [fields"), "cfg.yaml")
    (problem,) = info.value.problems
    assert problem.line is not None and problem.line >= 2
    assert "YAML syntax error" in problem.message


@pytest.mark.parametrize("mutation", ["curators: alice", "curators: []", "curators: [alice, alice]"])
def test_cli_exits_2_on_a_bad_config(tmp_path, capsys, mutation):
    cfg = tmp_path / "release-config.yaml"
    cfg.write_text(GOOD.replace("curators: [alice, bob]", mutation))
    code = main(["--config", str(cfg), "status"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{cfg}:8: approval.curators" in err.replace("\n", "")


def test_missing_config_file_is_a_usage_error(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.yaml"), "status"]) == 2
    assert "configuration file not found" in capsys.readouterr().err
