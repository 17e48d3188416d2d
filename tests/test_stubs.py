"""The committed .pyi stubs describe what the extension really exports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import facekit
from facekit import _native

STUB = Path(facekit.__file__).with_name("_native.pyi")


def _stub_tree() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            names[node.name] = members
    return names


def _public(obj) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_") or n == "__init__"} - {"__init__"}


def test_stub_lists_every_submodule_and_function():
    stub = _stub_tree()
    submodules = {n for n in dir(_native) if inspect.ismodule(getattr(_native, n))}
    assert submodules == set(stub)
    for name in submodules:
        assert _public(getattr(_native, name)) == stub[name], name


def test_stub_lists_every_arena_method():
    stub_arena = next(
        node for node in ast.walk(ast.parse(STUB.read_text()))
        if isinstance(node, ast.ClassDef) and node.name == "Arena"
    )
    stubbed = {item.name for item in stub_arena.body if isinstance(item, ast.FunctionDef)}
    assert _public(_native.arena.Arena) == stubbed - {"__init__"}


def test_package_is_typed():
    assert Path(facekit.__file__).with_name("py.typed").exists()
