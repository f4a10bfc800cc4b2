"""The import graph between the project's packages, and the layering it must keep.

    domain  <-  config  <-  pipeline, storage  <-  service  <-  scheduler, desk  <-  cli

`python -m tests.layers` prints which package imports which (and any import against the layers);
`tests/test_layers.py` fails on one. Imports are read from the source with `ast`, so a lazy
import inside a function counts the same as one at the top of a file.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What each layer may import of ours. `samples`, `tests` and `bench` stand outside the layers.
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "config": frozenset({"domain"}),
    "pipeline": frozenset({"domain", "config"}),
    "storage": frozenset({"domain", "config"}),
    "service": frozenset({"domain", "config", "pipeline", "storage"}),
    "scheduler": frozenset({"domain", "config", "service"}),
    "desk": frozenset({"domain", "config", "pipeline", "storage", "service"}),
    "cli": frozenset({"domain", "config", "pipeline", "storage", "service", "scheduler", "desk"}),
}


def _layer_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def import_graph() -> dict[str, dict[str, set[str]]]:
    """For each layer, which of our layers it imports, and from which of its files."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for layer in ALLOWED:
        paths = [ROOT / f"{layer}.py"] if (ROOT / f"{layer}.py").exists() else []
        paths += sorted((ROOT / layer).rglob("*.py")) if (ROOT / layer).is_dir() else []
        for path in paths:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name in _imported(tree) & set(ALLOWED):
                if name != layer:
                    graph[layer][name].add(str(path.relative_to(ROOT)))
    return graph


def violations() -> list[str]:
    found = []
    for layer, imports in import_graph().items():
        for target, files in sorted(imports.items()):
            if target not in ALLOWED[layer]:
                found.append(f"{layer} imports {target} ({', '.join(sorted(files))})")
    return found


def main() -> int:
    graph = import_graph()
    for layer in ALLOWED:
        print(f"{layer:<10} -> {', '.join(sorted(graph.get(layer, {}))) or '(nothing of ours)'}")
    bad = violations()
    for line in bad:
        print(f"AGAINST THE LAYERS: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
