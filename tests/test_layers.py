"""The packages depend one way: domain <- config <- pipeline / storage <- service <- cli."""

from __future__ import annotations

import ast

from tests.layers import ALLOWED, _imported, import_graph, violations


def test_no_package_imports_one_above_it() -> None:
    assert violations() == []


def test_the_bottom_layer_imports_nothing_of_ours() -> None:
    assert dict(import_graph().get("domain", {})) == {}


def test_the_checker_sees_lazy_imports_too() -> None:
    tree = ast.parse("def f():\n    from service.intake import poll_once\n    import storage.db\n")
    assert _imported(tree) >= {"service", "storage"}
    assert "service" not in ALLOWED["pipeline"]
