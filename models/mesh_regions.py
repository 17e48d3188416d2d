"""Face regions of the 468-point mesh as closed polygons of landmark indices.

The beauty engine masks skin, lips, eyes, brows and nostrils by filling polygons through mesh
points. The polygons come from the edge lists MediaPipe ships for drawing the mesh
(``mediapipe/python/solutions/face_mesh_connections.py`` in the pinned 0.10.14 wheel, Apache-2.0):
each region's edges are chained into a loop here and written to
``facekit/data/mesh_regions.json``. Only the mesh topology is used (which index follows which),
never a face's coordinates.

    python -m models.mesh_regions            # rewrite facekit/data/mesh_regions.json
    python -m models.mesh_regions --check    # compare with the committed file
"""

from __future__ import annotations

import ast
import json
import sys
from collections import defaultdict
from pathlib import Path

from . import generated, sources

MEMBER = "mediapipe/python/solutions/face_mesh_connections.py"
OUT = Path(__file__).resolve().parents[1] / "facekit" / "data" / "mesh_regions.json"
# The nostrils: the arc of the lower nose outline between the two alar creases (points 48 and
# 278), closed straight across above the nostrils.
NOSTRIL_ARC = (48, 278)


def _edge_sets(source: str) -> dict[str, list[tuple[int, int]]]:
    """Every ``NAME = frozenset([(a, b), ...])`` of the module, read without running it."""
    sets = {}
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "frozenset" and node.value.args
                and isinstance(node.value.args[0], ast.List)):
            sets[node.targets[0].id] = [tuple(ast.literal_eval(e)) for e in node.value.args[0].elts]
    return sets


def _neighbours(edges) -> dict[int, list[int]]:
    graph: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
        graph[b].append(a)
    return graph


def _loops(edges) -> list[list[int]]:
    """The closed loops of a graph where every vertex has two neighbours, each started at its
    smallest index and walked toward the smaller neighbour (a canonical order)."""
    graph = _neighbours(edges)
    if any(len(n) != 2 for n in graph.values()):
        raise ValueError("edges do not form disjoint loops")
    seen: set[int] = set()
    loops = []
    for start in sorted(graph):
        if start in seen:
            continue
        loop, previous, current = [start], start, min(graph[start])
        while current != start:
            loop.append(current)
            previous, current = current, next(v for v in graph[current] if v != previous)
        seen.update(loop)
        loops.append(loop)
    return loops


def _paths(edges) -> list[list[int]]:
    """The open paths of a graph of disjoint chains, each from its smaller end."""
    graph = _neighbours(edges)
    ends = sorted(v for v, n in graph.items() if len(n) == 1)
    seen: set[int] = set()
    paths = []
    for start in ends:
        if start in seen:
            continue
        path, previous = [start], None
        while True:
            options = [v for v in graph[path[-1]] if v != previous]
            if not options:
                break
            previous = path[-1]
            path.append(options[0])
        seen.update(path)
        paths.append(path)
    return paths


def _brow(edges) -> list[int]:
    """A brow is drawn as two open lines (upper and lower edge); its polygon is one line
    followed by the other reversed, joined at the ends that lie nearest in index order."""
    first, second = _paths(edges)
    return first + second[::-1]


def _nostrils(edges) -> list[int]:
    graph = _neighbours(edges)
    # The outline is the cycle through both alar points; walk it from 48 to 278 the way that
    # passes point 2 (the base of the columella).
    start, end = NOSTRIL_ARC
    best = None
    for first in graph[start]:
        path, previous = [start, first], start
        while path[-1] != end and len(path) < 64:
            options = [v for v in graph[path[-1]] if v != previous and v not in path]
            if not options:
                break
            previous = path[-1]
            path.append(min(options, key=lambda v: (v not in (2, 97, 98, 326, 327), v)))
        if path[-1] == end and 2 in path:
            best = path
    if best is None:
        raise ValueError("the nose outline has no arc through point 2")
    return best


def regions(source: str) -> dict[str, list[int]]:
    sets = _edge_sets(source)
    lips = sorted(_loops(sets["FACEMESH_LIPS"]), key=len)
    if len(lips) != 2:
        raise ValueError("expected the outer and inner lip loops")
    outer, inner = (lips[1], lips[0]) if 61 in lips[1] else (lips[0], lips[1])
    return {
        "face_oval": _loops(sets["FACEMESH_FACE_OVAL"])[0],
        "lips_outer": outer,
        "lips_inner": inner,
        "left_eye": _loops(sets["FACEMESH_LEFT_EYE"])[0],
        "right_eye": _loops(sets["FACEMESH_RIGHT_EYE"])[0],
        "left_brow": _brow(sets["FACEMESH_LEFT_EYEBROW"]),
        "right_brow": _brow(sets["FACEMESH_RIGHT_EYEBROW"]),
        "nostrils": _nostrils(sets["FACEMESH_NOSE"]),
    }


def build(cache: Path = sources.DEFAULT_CACHE) -> str:
    """The JSON text of the regions, from the pinned wheel."""
    package = next(m.package for m in sources.MODELS if m.package.name == "mediapipe")
    text = sources.read_member(sources.fetch(package, cache), MEMBER).decode()
    document = {
        "source": {"package": package.name, "version": package.version, "path": MEMBER,
                   "licence": package.licence},
        "note": "closed polygons of 468-point mesh indices; see models/mesh_regions.py",
        "regions": regions(text),
    }
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated.main("models.mesh_regions", build, OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
