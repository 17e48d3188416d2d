"""Triangles of the 468-point mesh, for the piecewise-affine warp of face fusion.

MediaPipe ships no triangle list, but its drawing edges ``FACEMESH_TESSELATION``
(``mediapipe/python/solutions/face_mesh_connections.py`` in the pinned 0.10.14 wheel,
Apache-2.0) are written as three chained edges per triangle: ``(a, b), (b, c), (c, a)``. Read in
source order, that gives 852 triangles. Searching the edge graph for 3-cliques instead finds 854:
the two extra cliques are spurious, since they overlap listed triangles and no chained triple
lists them. The rule used here is the listing order: a triangle is three consecutive edges that
close a loop, and the generator fails if any group of three does not.

Winding: the listing is consistently oriented (every interior edge is walked once each way by
its two triangles), and on a face in image coordinates (x right, y down) its triangles have
negative signed area, (b - a) x (c - a) < 0. Each triangle is written here as (a, c, b), so
that triangles have positive signed area in image coordinates (counter-clockwise as seen in
the y-down frame). The exceptions are slivers where the 2D projection of the 3D mesh folds
over itself (mouth corners, nose wings, the sides of the jaw): on frontal photos they are a
few percent of the triangles and under 3% of the area; tests/test_face_triangles.py checks
both on detected faces. The holes of the mesh are the mouth slit and the two eye openings.
Only the mesh topology is read, never a face's coordinates.

    python -m models.face_triangles            # rewrite facekit/data/face_triangles.json
    python -m models.face_triangles --check    # compare with the committed file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import generated, sources
from .mesh_regions import MEMBER, _edge_sets

OUT = Path(__file__).resolve().parents[1] / "facekit" / "data" / "face_triangles.json"
EXPECTED = 852


def triangles(source: str) -> list[list[int]]:
    """The tesselation's triangles, each (a, c, b) of a listed (a, b), (b, c), (c, a)."""
    edges = _edge_sets(source)["FACEMESH_TESSELATION"]
    if len(edges) % 3:
        raise ValueError("FACEMESH_TESSELATION does not hold three edges per triangle")
    out = []
    for i in range(0, len(edges), 3):
        (a, b), (b2, c), (c2, a2) = edges[i:i + 3]
        if (b, c, a) != (b2, c2, a2):
            raise ValueError(f"edges {i}..{i + 2} of FACEMESH_TESSELATION do not close a triangle")
        out.append([a, c, b])
    if len(out) != EXPECTED or len({frozenset(t) for t in out}) != EXPECTED:
        raise ValueError(f"expected {EXPECTED} distinct triangles, found {len(out)}")
    return out


def build(cache: Path = sources.DEFAULT_CACHE) -> str:
    """The JSON text of the triangle table, from the pinned wheel."""
    package = sources.MEDIAPIPE
    text = sources.read_member(sources.fetch(package, cache), MEMBER).decode()
    document = {
        "source": {"package": package.name, "version": package.version, "path": MEMBER,
                   "licence": package.licence},
        "note": "triangles of 468-point mesh indices, wound to positive signed area in image "
                "coordinates (x right, y down) on a frontal face; see models/face_triangles.py",
        "triangles": triangles(text),
    }
    return json.dumps(document, indent=1, separators=(",", ": ")).replace(
        "[\n   ", "[").replace(",\n   ", ", ").replace("\n  ]", "]") + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated.main("models.face_triangles", build, OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
