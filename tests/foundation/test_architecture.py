"""The shape of the code: no import cycles, the product never imports its test scaffolding (bot/local),
and imports sit at the top of modules except for optional dependencies.

Imports are read with ``ast`` from the source, including those inside functions and under
``if TYPE_CHECKING``, so a cycle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
# Third-party packages every install has (pyproject's dependencies): importing them late buys nothing.
CORE = {"github", "requests", "yaml", "jsonschema", "rich", "pyarrow", "numpy", "nh3", "markdown_it"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The bot module ``name`` refers to (a module, or the package/module holding that attribute)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


@functools.cache
def tree_of(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


@functools.cache
def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported name, line, inside a function?) for every import in ``module``."""
    tree = tree_of(module)
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.extend((f"{base}.{alias.name}", child.lineno, in_function) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for name, _line, _inner in imports(module):
            target = _resolve(name)
            if target is not None and target != module and target != "bot":
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_the_walker_sees_imports_inside_functions() -> None:
    """A late import is an edge too (the walker would miss cycles otherwise)."""
    edges = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(edges) == [["a", "b"]]
    tree_module = next(m for m in MODULES if m.endswith("flow.router"))
    assert any(name.startswith("bot.") for name, _, _ in imports(tree_module))


def test_no_import_cycle_between_modules() -> None:
    found = cycles(graph())
    assert not found, "import cycles (break them with a leaf module): " + "; ".join(" <-> ".join(c) for c in found)


def test_no_product_module_imports_the_local_servers() -> None:
    bad = [
        f"{MODULES[m].relative_to(ROOT)}:{line}: imports {name}"
        for m in MODULES if not m.startswith("bot.local")
        for name, line, _ in imports(m)
        if (_resolve(name) or "").startswith("bot.local")
    ]
    assert not bad, "bot/local is test and demo scaffolding; the product must not import it:\n" + "\n".join(bad)


def test_imports_inside_functions_only_for_optional_dependencies() -> None:
    bad = []
    for m in MODULES:
        for name, line, inner in imports(m):
            top = name.split(".")[0]
            if inner and (top == "bot" or top in CORE or top in sys.stdlib_module_names):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: imports {name} inside a function")
    assert not bad, "move these imports to the top of the module:\n" + "\n".join(bad)


def test_every_command_names_a_function() -> None:
    """The CLI imports each command's module by name (so ``--help`` stays fast): the names must resolve."""
    import importlib

    from bot.cli import COMMANDS

    for command, target in COMMANDS.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), command


MAX_FUNCTION_LINES = 60


def test_no_function_over_60_lines_outside_the_local_servers() -> None:
    """Long functions hide their steps: name the steps instead (bot/local, the test scaffolding, is exempt)."""
    long = []
    for module, path in MODULES.items():
        if module.startswith("bot.local"):
            continue
        for node in ast.walk(tree_of(module)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} has {lines} lines")
    assert not long, f"split these into named steps (at most {MAX_FUNCTION_LINES} lines each):\n" + "\n".join(long)


LEAVES = ("bot.errors", "bot.scope", "bot.versions", "bot.steps", "bot.filesets", "bot.trailers")


def test_leaf_modules_import_nothing_of_the_bot_but_its_errors() -> None:
    edges = graph()
    assert {leaf: sorted(edges[leaf] - {"bot.errors"}) for leaf in LEAVES} == {leaf: [] for leaf in LEAVES}
