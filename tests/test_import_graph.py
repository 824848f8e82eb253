"""The package's layering, read from its source: every import (function-level ones included)
goes to a lower layer, so there is no cycle; no module uses another module's ``_private`` names.

Layers, lowest first. A new module must be placed here (the test fails until it is)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "git_credential_hf"
LAYERS = [
    "output", "urls", "protocol", "settings", "files", "state", "guard", "tokens", "hub", "accounts",
    "permissions", "oauth", "gitconfig", "manage", "helper", "notebook", "_login", "commands", "cli",
    "__main__", "__init__",
]


def imports_of(source: str) -> tuple[set[str], list[str]]:
    """``(package modules imported anywhere in source, uses of other modules' _private names)``."""
    tree = ast.parse(source)
    targets: set[str] = set()
    aliases: dict[str, str] = {}
    private: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.module:  # from .x import y
                module = node.module.split(".")[0]
                targets.add(module)
                private += [f"from .{module} import {a.name}" for a in node.names
                            if _is_private(a.name)]
            else:  # from . import x, y
                for alias in node.names:
                    targets.add(alias.name)
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("git_credential_hf"):
            module = (node.module or "").split(".")[1:2]
            names = [a.name for a in node.names]
            targets.update(module or names)
            if not module:
                aliases.update({a.asname or a.name: a.name for a in node.names})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "git_credential_hf" and len(parts) > 1:
                    targets.add(parts[1])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and _is_private(node.attr)):
            private.append(f"{aliases[node.value.id]}.{node.attr}")
    return targets, private


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def problems(sources: dict[str, str]) -> list[str]:
    """Every upward edge, cycle, unplaced module and private use in ``{module: source}``."""
    found = []
    graph = {}
    for module, source in sorted(sources.items()):
        if module not in LAYERS:
            found.append(f"{module}: not placed in LAYERS")
            continue
        targets, private = imports_of(source)
        graph[module] = targets - {module}
        found += [f"{module} uses {name}" for name in private]
        for target in sorted(graph[module]):
            if target not in LAYERS:
                found.append(f"{module} imports {target}, which is not placed in LAYERS")
            elif LAYERS.index(target) >= LAYERS.index(module):
                found.append(f"{module} imports {target}: an upward edge")
    found += [f"cycle: {' -> '.join(c)}" for c in _cycles(graph)]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def package_sources() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py")}


def test_the_package_imports_only_downwards_and_no_privates() -> None:
    assert problems(package_sources()) == []


def test_every_module_is_seen() -> None:
    assert {"cli", "commands", "helper", "urls", "output", "_login", "notebook"} <= set(package_sources())


@pytest.mark.parametrize(("sources", "expected"), [
    pytest.param({"commands": "def f():\n    from . import cli\n", "cli": "from . import commands\n"},
                 ["commands imports cli: an upward edge", "cycle: cli -> commands -> cli"],
                 id="function-level import making a cycle"),
    pytest.param({"_login": "from . import notebook\n", "notebook": "from . import _login\nx = _login._save()\n"},
                 ["notebook uses _login._save", "notebook imports _login: an upward edge",
                  "cycle: _login -> notebook -> _login"], id="private use and cycle"),
    pytest.param({"helper": "from .cli import _tty\n"},
                 ["helper uses from .cli import _tty", "helper imports cli: an upward edge"],
                 id="from-import of a private name"),
    pytest.param({"helper": "import git_credential_hf.commands\n"}, ["helper imports commands: an upward edge"],
                 id="absolute import"),
    pytest.param({"newthing": ""}, ["newthing: not placed in LAYERS"], id="unplaced module"),
    pytest.param({"cli": "from . import helper\nfrom .output import PREFIX\n"}, [], id="downward is fine"),
])
def test_the_checker_catches(sources: dict[str, str], expected: list[str]) -> None:
    assert sorted(problems(sources)) == sorted(expected)
