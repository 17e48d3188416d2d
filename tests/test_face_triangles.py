"""The committed triangle table of the 468-point mesh (facekit/data/face_triangles.json, made by
models/face_triangles.py): a consistently wound surface over every mesh point whose only holes
are the mouth slit and the two eye openings, positively wound on detected faces, and what the
generator gives from the pinned MediaPipe wheel."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from support import models_package, shared_face

import facekit

TABLE = Path(facekit.__file__).resolve().parent / "data" / "face_triangles.json"
REGIONS = Path(facekit.__file__).resolve().parent / "data" / "mesh_regions.json"


def _triangles() -> np.ndarray:
    return np.array(json.loads(TABLE.read_text())["triangles"], dtype=np.int64)


def _directed_edges(triangles: np.ndarray) -> Counter:
    return Counter((int(t[i]), int(t[(i + 1) % 3])) for t in triangles for i in range(3))


def _boundary_loops(triangles: np.ndarray) -> list[set[int]]:
    directed = _directed_edges(triangles)
    boundary = [e for e in directed if (e[1], e[0]) not in directed]
    following = defaultdict(list)
    for a, b in boundary:
        following[a].append(b)
    assert all(len(v) == 1 for v in following.values()), "the boundary is not a set of loops"
    loops, seen = [], set()
    for start in following:
        if start in seen:
            continue
        loop, current = {start}, following[start][0]
        while current != start:
            loop.add(current)
            current = following[current][0]
        seen |= loop
        loops.append(loop)
    return loops


def test_852_distinct_triangles_over_every_mesh_point():
    triangles = _triangles()
    assert triangles.shape == (852, 3)
    assert len({frozenset(t) for t in triangles.tolist()}) == 852
    assert all(len(set(t)) == 3 for t in triangles.tolist())
    assert set(triangles.ravel().tolist()) == set(range(468))


def test_interior_edges_are_shared_by_two_triangles_wound_opposite_ways():
    triangles = _triangles()
    directed = _directed_edges(triangles)
    assert max(directed.values()) == 1  # no edge walked twice the same way: consistent winding
    undirected = Counter(frozenset(e) for e in directed.elements())
    assert set(undirected.values()) <= {1, 2}
    interior = [e for e, n in undirected.items() if n == 2]
    for edge in interior:
        a, b = tuple(edge)
        assert directed[(a, b)] == 1 and directed[(b, a)] == 1
    # Euler characteristic of a sphere with 4 holes: V - E + F = 2 - 4.
    assert 468 - len(undirected) + len(triangles) == -2


def test_the_holes_are_the_mouth_and_the_eyes():
    regions = json.loads(REGIONS.read_text())["regions"]
    loops = _boundary_loops(_triangles())
    expected = [set(regions[n]) for n in ("face_oval", "lips_inner", "left_eye", "right_eye")]
    assert sorted(map(sorted, loops)) == sorted(map(sorted, expected))


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "rose_leslie_img1.jpg",
                                  "kit_harington_john1.jpeg"])
def test_triangles_are_positively_wound_on_detected_faces(name):
    from PIL import Image

    image = np.asarray(Image.open(shared_face(name)).convert("RGB"))
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        points = np.array(result.faces[0].landmarks)[:, :2]  # test-only copy, public photo
    t = _triangles()
    a, b, c = points[t[:, 0]], points[t[:, 1]], points[t[:, 2]]
    area = 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    # Positive in image coordinates (y down), except slivers where the projected 3D mesh folds
    # over itself (mouth corners, nose wings, the sides of the jaw).
    assert (area > 0).mean() >= 0.95
    assert -area[area < 0].sum() < 0.03 * area[area > 0].sum()


def test_generator_check_passes_and_drops_only_the_two_spurious_cliques(capsys):
    models_package()
    from models import face_triangles, mesh_regions, sources

    archive = sources.archive_path(sources.MEDIAPIPE)
    if archive is None:
        pytest.skip(f"{sources.MEDIAPIPE.requirement} is not in {sources.DEFAULT_CACHE}; run "
                    "`python -m models.build --fetch-only`")
    assert face_triangles.main(["--check"]) == 0
    assert "matches" in capsys.readouterr().out
    # The 3-cliques of the edge graph: the table's 852 and two more, each of whose edges two
    # listed triangles already share (so they overlap the surface).
    source = sources.read_member(archive, mesh_regions.MEMBER).decode()
    edges = mesh_regions._edge_sets(source)["FACEMESH_TESSELATION"]
    neighbours = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    cliques = {frozenset((a, b, c)) for a in neighbours for b in neighbours[a]
               for c in neighbours[a] & neighbours[b]}
    listed = {frozenset(t) for t in _triangles().tolist()}
    assert len(cliques) == 854 and listed < cliques
    undirected = Counter(frozenset(e) for e in _directed_edges(_triangles()).elements())
    for extra in cliques - listed:
        a, b, c = sorted(extra)
        assert all(undirected[frozenset(e)] == 2 for e in ((a, b), (b, c), (a, c)))
