"""The package's modules import each other without a cycle (issue 34).

A cycle held apart by an import inside a function works until someone moves
that import; this reads every import of the package's own modules, at the
top of a module or inside a function, and fails naming the modules of any
cycle. It also holds the imports inside functions to the number they are
down to: the command line's, each keeping pandas, DuckDB or the sample
generator out of a command that does not need them (``receivables sql``
starts without them), and none elsewhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "src" / "receivables"
FUNCTION_LEVEL_IMPORTS = (
    12  # of the package's own modules, all in cli.py; was 74 (issue 34 asks fewer than 15)
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def own_imports(path: Path, modules: set[str]) -> Iterator[tuple[str, bool]]:
    """Each module of the package ``path`` imports, and whether it is imported outside any function
    (at the module's top, or under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_functions = {
        id(inner)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("receivables"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            targets = [name for name in names if name in modules] or [node.module]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names if alias.name.startswith("receivables")]
        else:
            continue
        for target in targets:
            yield target, id(node) not in in_functions


def import_graph() -> tuple[dict[str, set[str]], int]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    inside_functions = 0
    for path in paths:
        source = module_name(path)
        for target, at_top in own_imports(path, modules):
            if target in modules and target != source and not source.startswith(target + "."):
                graph[source].add(target)
            inside_functions += not at_top
    return graph, inside_functions


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.unit
def test_the_package_has_no_import_cycle():
    graph, _ = import_graph()
    assert cycles(graph) == []


@pytest.mark.unit
def test_a_cycle_is_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.unit
def test_imports_inside_functions_do_not_grow():
    _, inside_functions = import_graph()
    assert inside_functions <= FUNCTION_LEVEL_IMPORTS, (
        f"{inside_functions} imports of the package's own modules inside functions, more than "
        f"{FUNCTION_LEVEL_IMPORTS}: import at the module's top unless it keeps a heavy library out"
    )
