"""Reading the class charts and the class table back out of rendered Markdown, and Mermaid's own parser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MERMAID_DIR = Path(__file__).parent / "notes" / "mermaid"
_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)
_ROW = re.compile(r"^\| (?P<label>[^|]+?) \(`(?P<code>[a-z0-9]+)`\) \|(?P<cells>(?: [0-9,]+ \|)+)$", re.MULTILINE)


@dataclass
class ParsedChart:
    text: str
    title: str
    labels: list[str]
    series: dict[str, list[int]]  # "bar" / "line" -> values


def mermaid_blocks(markdown: str) -> list[str]:
    return [m.group(1) for m in _BLOCK.finditer(markdown)]


def parse_chart(text: str) -> ParsedChart:
    """The parts of an xychart this project writes (one statement a line), read independently of the writer."""
    title, labels, series = "", [], {}
    for line in text.splitlines()[1:]:
        key, _, rest = line.strip().partition(" ")
        if key == "title":
            title = json.loads(rest)
        elif key == "x-axis":
            labels = json.loads(rest)
        elif key in ("bar", "line"):
            series[key] = json.loads(rest)
    return ParsedChart(text, title, labels, series)


def class_table(markdown: str) -> dict[str, list[int]]:
    """label -> the numbers of its row in the class table (new DNN, new XGB[, catalog DNN, catalog XGB])."""
    return {m["label"]: [int(c.strip().replace(",", "")) for c in m["cells"].strip(" |").split("|")]
            for m in _ROW.finditer(markdown)}


def mermaid_parser() -> Path | None:
    """The Mermaid parser script when node and the npm packages are installed (npm ci in notes/mermaid)."""
    if shutil.which("node") is None or not (MERMAID_DIR / "node_modules" / "mermaid").is_dir():
        return None
    return MERMAID_DIR / "parse.mjs"


def parse_with_mermaid(script: Path, diagrams: list[str]) -> list[dict]:
    done = subprocess.run(["node", str(script)], input=json.dumps(diagrams), capture_output=True, text=True,
                          check=True, cwd=script.parent)
    return json.loads(done.stdout)
