"""The audit watches the pipelines through facekit._observe, never by patching them: the events
fire with names, shapes and arena addresses only, a listener can stop a run, nothing stays
registered afterwards, and no audit module assigns to a library object's attribute."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import facekit
from facekit import _observe
from facekit.audit.memscan_child import SAMPLE

AUDIT = Path(facekit.__file__).parent / "audit"

# Assignments that patch a library object: a private attribute reached through a dot
# (`landmarker._iris.run = ...`), a replaced `run` method, or any attribute of a name bound to
# a facekit module (`_native.verify.chip_points = ...`, `verify_module.SecureArena = ...`).
PRIVATE_OR_RUN = re.compile(r"\w+(\.\w+)*\._\w+(\.\w+)*\s*=[^=]|\.run\s*=[^=]")
# Library settings an audit child may choose, read when a pipeline is created.
SETTINGS = {"_inference.DEFAULT_SCRUB"}


def _facekit_names(tree: ast.AST) -> set[str]:
    """Names a module binds to facekit modules or objects (absolute or relative imports)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names
                      if a.name.split(".")[0] == "facekit"}
        elif isinstance(node, ast.ImportFrom) and (
                (node.module or "").split(".")[0] == "facekit" or node.level >= 2
                or (node.level == 1 and node.module is None)):
            names |= {a.asname or a.name for a in node.names}
    return names


def patches(source: str) -> list[str]:
    """The lines of `source` (a facekit.audit module) that assign to a library attribute."""
    tree = ast.parse(source)
    library = _facekit_names(tree)
    found = []
    for node in ast.walk(tree):
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            if not isinstance(target, ast.Attribute):
                continue
            text = ast.unparse(target)
            root = text.split(".")[0]
            if text in SETTINGS:
                continue
            if root in library or PRIVATE_OR_RUN.search(f"{text} = x"):
                found.append(f"line {node.lineno}: {text} = ...")
    return found


def test_the_patch_finder_catches_the_old_monkeypatches():
    """The finder below flags each way the audit used to patch the pipelines."""
    old = '''
from facekit import _native, verify as verify_module
from . import memscan
def child(landmarker, verifier, network, Recorded, failing, spied, spy_detect, points):
    landmarker._iris.run = failing
    verifier._network.run = spied
    network.run = spied
    landmarker._detector.detect = spy_detect
    _native.verify.chip_points = points
    verify_module.SecureArena = Recorded
    memscan.KIND_ARENA = "x"
'''
    assert len(patches(old)) == 7, patches(old)
    fine = '''
from facekit import _inference
def own(check, report, options, local):
    check.verdict = "pass"
    report.child = {}
    options.intra_op_num_threads = 1
    local.active = True
    _inference.DEFAULT_SCRUB = "rerun"
    x = landmarker._mesh.name
'''
    assert patches(fine) == []


@pytest.mark.parametrize("path", sorted(AUDIT.rglob("*.py")), ids=lambda p: p.name)
def test_no_audit_module_patches_the_library(path):
    assert patches(path.read_text()) == []


def test_network_run_fires_names_shapes_and_arena_addresses_only():
    image = facekit.load_image(SAMPLE)
    seen = []

    def listener(*args):
        seen.append(args)

    with facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True)) as landmarker:
        with _observe.listening("network-run", listener):
            with landmarker.detect(image) as result:
                assert len(result.faces) == 1
                regions = [(int(r["start"]), int(r["start"]) + int(r["size"]))
                           for r in landmarker._arena.regions()]
                events = list(seen)
    assert [name for name, _ in events] == [
        "face_detection_short_range", "attention_mesh_trunk", "attention_mesh_regions"]
    for name, where in events:
        assert isinstance(name, str) and "input" in where and len(where) >= 2
        for address, shape in where.values():
            assert isinstance(address, int) and all(isinstance(n, int) for n in shape)
            size = 4 * int(np.prod(shape))  # float32 arena memory, inside one region
            assert any(lo <= address and address + size <= hi for lo, hi in regions), name
    assert not _observe._listeners  # nothing left registered: the no-listener cost again


def test_arena_event_sees_every_arena_created():
    made = []
    with _observe.listening("arena", made.append):
        with facekit.SecureArena() as first, facekit.FaceDetector() as detector:
            pass
    assert made[0] is first and detector._arena in made and len(made) == 2
    with facekit.SecureArena():
        pass
    assert len(made) == 2 and not _observe._listeners


def test_a_listener_that_raises_fails_the_run_and_the_frame_is_wiped():
    """The audit's failure injection: the error leaves detect() and the arena is wiped."""
    image = facekit.load_image(SAMPLE)

    class Injected(RuntimeError):
        pass

    def fail_after_mesh(name, where):
        if name == "face_landmark":
            raise Injected("injected")

    with facekit.FaceLandmarker() as landmarker:
        with _observe.listening("network-run", fail_after_mesh), pytest.raises(Injected):
            landmarker.detect(image)
        assert landmarker._arena.status().used == 0
        with landmarker.detect(image) as result:  # not listening: runs normally again
            assert len(result.faces) == 1


def test_listeners_stack_and_unregister_in_any_order():
    calls = []
    first, second = (lambda *a: calls.append(("first", a))), (lambda *a: calls.append(("2", a)))
    with _observe.listening("e", first):
        with _observe.listening("e", second):
            _observe.fire("e", "x")
        _observe.fire("e", "y")
    _observe.fire("e", "z")
    assert calls == [("first", ("x",)), ("2", ("x",)), ("first", ("y",))]
    assert "e" not in _observe._listeners
