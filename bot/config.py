"""Load ``release-config.yaml`` and check it against ``schemas/config.schema.json``.

Every problem is reported with its YAML path and line, so a maintainer can fix all of them in one go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.errors import UsageError

DEFAULT_CONFIG = "release-config.yaml"


@dataclass(frozen=True)
class ConfigProblem:
    path: str  # the file
    line: int | None
    key: str  # dotted YAML path, "" for the document
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


class ConfigError(UsageError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class CatalogSettings:
    fields_dir: str
    zip_folder: str = ""
    compression_level: int = 6
    # The largest file GitHub's Git LFS takes on Free and Pro: 2 GiB (github/docs data/variables/large_files.yml,
    # max_lfs_size); Team 4 GB, Enterprise Cloud 5 GB.
    max_file_bytes: int = 2 * 1024**3


@dataclass(frozen=True)
class ZenodoSettings:
    api_url: str
    record: str
    community: str | None = None
    rate_limit_wait: int = 600  # seconds a run may wait for Zenodo's rate limits before it stops
    retry_delay: float = 0.5  # seconds before the first retry of a 5xx or dropped connection (doubling)


@dataclass(frozen=True)
class GitHubSettings:
    bot_login: str = "github-actions[bot]"
    tag_prefix: str = "catalog-"


@dataclass(frozen=True)
class ApprovalSettings:
    command: str
    curators: tuple[str, ...]
    min_permission: str = "write"
    allow_author: bool = False


@dataclass(frozen=True)
class VersioningSettings:
    added: str = "minor"
    replaced: str = "patch"
    removed: str = "minor"
    major_label: str = "release:major"


@dataclass(frozen=True)
class ValidationSettings:
    max_errors_per_file: int = 50
    max_gzip_ratio: int = 50
    max_file_bytes: int | None = None
    # A pull request's check fans out over several jobs (a GitHub Actions matrix) above either of these:
    # each job checks at most group_files files holding at most group_bytes (one bigger file goes alone).
    group_files: int = 10
    group_bytes: int = 4_000_000_000


@dataclass(frozen=True)
class PicturesSettings:
    sky_map: bool = True  # draw the release's sky map (needs the `plots` extra; skipped, said once, without it)
    sky_map_on_zenodo: bool = False  # also put the sky map on the Zenodo record (one of its 100 files)

    @property
    def draw_sky_map(self) -> bool:
        """A map on the Zenodo record is drawn whatever ``sky_map`` says."""
        return self.sky_map or self.sky_map_on_zenodo


@dataclass(frozen=True)
class Config:
    catalog: CatalogSettings
    zenodo: ZenodoSettings
    approval: ApprovalSettings
    github: GitHubSettings = field(default_factory=GitHubSettings)
    versioning: VersioningSettings = field(default_factory=VersioningSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    source: str = DEFAULT_CONFIG
    pictures: PicturesSettings = field(default_factory=PicturesSettings)

    def with_zenodo_url(self, api_url: str) -> Config:
        """A copy aimed at another Zenodo (the sandbox, or the bundled local server)."""
        return replace(self, zenodo=replace(self.zenodo, api_url=api_url))


def _schema() -> dict[str, Any]:
    text = resources.files("bot.schemas").joinpath("config.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _node_at(root: yaml.Node | None, path: list[Any]) -> yaml.Node | None:
    """Follow a jsonschema error path through the composed YAML tree."""
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_node(root: yaml.Node | None, path: list[Any], key: str) -> yaml.Node | None:
    parent = _node_at(root, path)
    if isinstance(parent, yaml.MappingNode):
        return next((k for k, _ in parent.value if k.value == key), None)
    return parent


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _explain(error: jsonschema.ValidationError) -> str:
    """Turn a jsonschema message into one that says what is expected."""
    v = error.validator
    where = _dotted(list(error.absolute_path))
    if v == "type":
        expected = error.validator_value
        if where.endswith("curators"):
            return "expected a list of GitHub logins"
        return f"expected {'a ' if isinstance(expected, str) else 'one of '}{expected}, got {error.instance!r}"
    if v == "required":
        return str(error.message).replace("is a required property", "is required but missing")
    if v == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, _as_list(error.validator_value)))}"
    if v == "pattern":
        if "curators" in where:
            return f"{error.instance!r} is not a GitHub login"
        if where.endswith("api_url"):
            return f"{error.instance!r} must be an https:// URL (plain http only to 127.0.0.1 or localhost)"
        if where.endswith("record"):
            return f"{error.instance!r} is not a Zenodo record id (digits only, quoted)"
        return f"{error.instance!r} does not match the expected form {error.validator_value}"
    if v == "minItems":
        return "must list at least one entry"
    return str(error.message)


def parse_config(text: str, source: str = DEFAULT_CONFIG) -> Config:
    """Parse and check a configuration document; raise ConfigError listing every problem."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem(source, line, "", f"YAML syntax error: {problem}")]) from None
    if data is None:
        data = {}
    problems: list[ConfigProblem] = []
    validator = jsonschema.Draft202012Validator(_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(k for k in error.instance if k not in allowed):
                known = ", ".join(sorted(allowed))
                problems.append(
                    ConfigProblem(
                        source, _line(_key_node(root, path, key)), _dotted([*path, key]),
                        f"unknown key (known keys here: {known})",
                    )
                )
            continue
        problems.append(ConfigProblem(source, _line(_node_at(root, path)), _dotted(path), _explain(error)))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.key))
        raise ConfigError(problems)
    return _build(data, source)


def _build(data: dict[str, Any], source: str) -> Config:
    cat = data["catalog"]
    appr = data["approval"]
    return Config(
        catalog=CatalogSettings(
            fields_dir=cat["fields_dir"].rstrip("/"),
            zip_folder=cat.get("zip_folder", ""),
            compression_level=cat.get("compression_level", 6),
            max_file_bytes=cat.get("max_file_bytes", CatalogSettings.max_file_bytes),
        ),
        zenodo=ZenodoSettings(**data["zenodo"]),
        approval=ApprovalSettings(
            command=appr["command"],
            curators=tuple(appr["curators"]),
            min_permission=appr.get("min_permission", "write"),
            allow_author=appr.get("allow_author", False),
        ),
        github=GitHubSettings(**data.get("github", {})),
        versioning=VersioningSettings(**data.get("versioning", {})),
        validation=ValidationSettings(**data.get("validation", {})),
        source=source,
        pictures=PicturesSettings(**data.get("pictures", {})),
    )


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path}: configuration file not found",
            hint="run from the repository root or pass --config FILE",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_config(text, str(path))


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
