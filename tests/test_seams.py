"""Internal seams instead of private attributes: no facekit module reads another module's
objects' private attributes (``landmarker._arena._native``) or imports another module's private
names (``from .detector import _BlazeFace``); pipelines go through the seam functions of
facekit/arena.py and facekit/_pipeline.py instead.

The check reads the source tree (facekit/*.py, not the audit package, which inspects the
pipelines on purpose). An attribute ``x._name`` is allowed when ``x`` is ``self`` or ``cls``
(a class using its own or its base classes' members) or when ``_name`` is defined in the same
file (a module's classes working together); dunder names are not private.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "facekit"
PRIVATE = re.compile(r"_[A-Za-z0-9]\w*")  # one underscore: dunders are not private


def _own_private_names(tree: ast.Module) -> set[str]:
    """Private names a file defines: functions, classes, assignments (module, class and
    ``self.x = ...``) and ``__slots__`` entries."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
                    if target.id == "__slots__" and node.value is not None:
                        names.update(c.value for c in ast.walk(node.value)
                                     if isinstance(c, ast.Constant) and isinstance(c.value, str))
                elif isinstance(target, ast.Attribute):
                    names.add(target.attr)
    return {n for n in names if PRIVATE.fullmatch(n)}


def violations(source: str) -> list[str]:
    """Reads of another module's private attributes and imports of its private names."""
    tree = ast.parse(source)
    own = _own_private_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and PRIVATE.fullmatch(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if node.attr not in own:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and node.level > 0:  # facekit's own modules
            for alias in node.names:
                if PRIVATE.fullmatch(alias.name) and node.module is not None:
                    found.append(f"line {node.lineno}: from {'.' * node.level}{node.module} "
                                 f"import {alias.name}")
    return found


MODULES = sorted(SOURCE.glob("*.py"))


def test_the_check_sees_every_module():
    names = {path.name for path in MODULES}
    assert {"detector.py", "landmarker.py", "beauty.py", "verify.py", "anonymize.py",
            "arena.py", "_pipeline.py", "_blazeface.py", "_inference.py", "cli.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_reads_another_modules_private_attributes(path):
    assert violations(path.read_text()) == []


def test_the_check_catches_the_old_cross_module_reads():
    # Lines of the code before the seams existed: each must be caught.
    old = '''
from .detector import _MODELS, _BlazeFace
class Beautifier:
    def _apply(self, source, result):
        with self._landmarker._exclusive():
            arena = self._landmarker._arena._native
            frame = result._frame
            crop = frame._crop(source)
            result._faces.append(crop)
'''
    found = violations(old)
    for text in ("import _MODELS", "import _BlazeFace", "self._landmarker._exclusive",
                 "self._landmarker._arena", "result._frame", "frame._crop", "result._faces"):
        assert any(text in line for line in found), text


def test_the_check_allows_a_modules_own_privates_and_self():
    allowed = '''
class Frame:
    __slots__ = ("_arena",)
    def end(self):
        self._arena.wipe()
def native_arena(frame):
    return frame._arena
'''
    assert violations(allowed) == []
