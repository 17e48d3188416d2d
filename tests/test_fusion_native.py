"""facekit._native.fusion on real photos (obama.jpg as the template, biden.jpg as the user):
identity at shape = features = 0, locality (nothing written beyond the blend margin), no fold,
the face changed at 1/1, the template's mouth opening kept, faces touching the border, and bad
arguments refused. The public API around it (FaceFuser) has its own tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit import _native
from facekit._pipeline import frame_of
from facekit.arena import native_arena
from facekit.beauty import _regions

fusion = _native.fusion


@lru_cache(maxsize=1)
def _triangles() -> np.ndarray:
    path = Path(facekit.__file__).resolve().parent / "data" / "face_triangles.json"
    return np.array(json.loads(path.read_text())["triangles"], dtype=np.int32)


def _photo(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(shared_face(name)).convert("RGB"))


REGIONS = [list(r) for r in _regions()]


@contextmanager
def _faces(template: np.ndarray, user: np.ndarray) -> Iterator[tuple]:
    """(template landmarks, template arena, prepared user) inside both results' scopes."""
    with facekit.FaceLandmarker() as a, facekit.FaceLandmarker() as b:
        with a.detect(user) as ur, b.detect(template) as tr:
            prepared = fusion.prepare_user(user, "rgb", ur.faces[0].landmarks, REGIONS,
                                           native_arena(frame_of(ur)))
            yield tr.faces[0].landmarks, native_arena(frame_of(tr)), prepared


def _fuse(template, landmarks, arena, user, fmt="rgb", trace=True, **params):
    out = template.copy()
    info = fusion.fuse(template, out, fmt, landmarks, user["texture"], user["mesh"], user["skin"],
                       _triangles(), REGIONS, params, arena, trace=trace)
    return out, info


@pytest.fixture(scope="module")
def photos():
    return _photo("obama.jpg"), _photo("biden.jpg")


def test_prepare_user_returns_bounded_read_only_arena_views(photos):
    template, user = photos
    with _faces(template, user) as (_, _, prepared):
        texture, mesh, skin = prepared["texture"], prepared["mesh"], prepared["skin"]
        assert texture.dtype == np.uint8 and texture.ndim == 3 and texture.shape[2] == 3
        assert max(texture.shape[:2]) <= fusion.MAX_TEXTURE_SIDE
        assert mesh.shape == (468, 2) and skin.shape == (fusion.SKIN_STATS,)
        assert not texture.flags.writeable and not mesh.flags.writeable
        assert 0 <= mesh[:, 0].min() and mesh[:, 0].max() < texture.shape[1]
        assert 20 < skin[0] < 95 and (skin[3:] > 0).all()  # skin lightness, spread


def test_zero_shape_and_features_is_the_identity(photos):
    template, user = photos
    with _faces(template, user) as (landmarks, arena, prepared):
        out, info = _fuse(template, landmarks, arena, prepared, shape=0.0, features=0.0)
        assert np.array_equal(out, template)
        assert info["min_area"] > 0


@pytest.mark.parametrize("blend", ["multiband", "poisson"])
@pytest.mark.parametrize("amount", [0.5, 1.0])
def test_fusion_changes_the_face_only_and_does_not_fold(photos, amount, blend):
    template, user = photos
    with _faces(template, user) as (landmarks, arena, prepared):
        out, info = _fuse(template, landmarks, arena, prepared, shape=amount, features=amount,
                          blend=blend)
        assert info["min_area"] > 0
        x0, y0, x1, y1 = info["region"]
        mask = info["mask"]
        assert mask.shape == (y1 - y0, x1 - x0)
        ys, xs = np.nonzero(mask)
        m = info["margin"]
        box = (x0 + xs.min() - m, y0 + ys.min() - m, x0 + xs.max() + m, y0 + ys.max() + m)
        changed = np.any(out != template, axis=2)
        cy, cx = np.nonzero(changed)
        assert cx.min() >= max(box[0], x0) and cx.max() <= min(box[2], x1 - 1)
        assert cy.min() >= max(box[1], y0) and cy.max() <= min(box[3], y1 - 1)
        # The blend has faded out before the region's edge: stopping the writes there is seamless.
        edges = [changed[y0, x0:x1], changed[y1 - 1, x0:x1], changed[y0:y1, x0], changed[y0:y1, x1 - 1]]
        assert not any(e.any() for e in edges)
        # Inside the face the user's appearance shows.
        inside = mask > 200
        region = (slice(y0, y1), slice(x0, x1))
        diff = np.abs(out[region].astype(int) - template[region].astype(int)).mean(axis=2)
        assert diff[inside].mean() > 6 * amount


def test_the_template_mouth_opening_is_kept(photos):
    template, user = photos  # obama.jpg smiles with his teeth showing; biden.jpg's mouth is shut
    with _faces(template, user) as (landmarks, arena, prepared):
        from PIL import Image, ImageDraw

        lips = np.array(landmarks)[REGIONS[2], :2]  # test-only copy, public photo
        centre = lips.mean(axis=0)
        inner = [tuple(centre + 0.6 * (p - centre)) for p in lips]
        canvas = Image.new("L", template.shape[1::-1])
        ImageDraw.Draw(canvas).polygon(inner, fill=1)
        mouth = np.asarray(canvas).astype(bool)
        kept, _ = _fuse(template, landmarks, arena, prepared, shape=0.0, features=1.0)
        pasted, _ = _fuse(template, landmarks, arena, prepared, shape=0.0, features=1.0,
                          keep_mouth=False)
        gap_kept = np.abs(kept[mouth].astype(int) - template[mouth]).mean()
        gap_pasted = np.abs(pasted[mouth].astype(int) - template[mouth]).mean()
        assert gap_kept < 3 and gap_pasted > 4 * gap_kept + 10


def test_bgr_and_rgba_templates_match_rgb(photos):
    template, user = photos
    with _faces(template, user) as (landmarks, arena, prepared):
        rgb, _ = _fuse(template, landmarks, arena, prepared, shape=0.7, features=0.7)
        bgr, _ = _fuse(np.ascontiguousarray(template[..., ::-1]), landmarks, arena, prepared,
                       fmt="bgr", shape=0.7, features=0.7)
        rgba_in = np.dstack([template, np.full(template.shape[:2], 77, np.uint8)])
        rgba, _ = _fuse(rgba_in, landmarks, arena, prepared, fmt="rgba", shape=0.7, features=0.7)
        assert np.array_equal(bgr[..., ::-1], rgb)
        assert np.array_equal(rgba[..., :3], rgb) and (rgba[..., 3] == 77).all()


def test_a_face_touching_the_border_fuses(photos):
    template, user = photos
    with facekit.FaceLandmarker() as a:
        with a.detect(template) as tr:
            nose_x = int(tr.faces[0].landmarks[1, 0])
            nose_y = int(tr.faces[0].landmarks[1, 1])
    # The image's edge cuts through the face: left of the nose, above the eyes, below the mouth.
    for crop in (template[:, nose_x - 60:], template[nose_y - 100:, :], template[:nose_y + 60, :nose_x + 50],
                 template[:nose_y + 50]):
        crop = np.ascontiguousarray(crop)
        with _faces(crop, user) as (landmarks, arena, prepared):
            out, info = _fuse(crop, landmarks, arena, prepared, shape=1.0, features=1.0)
            x0, y0, x1, y1 = info["region"]
            assert 0 <= x0 < x1 <= crop.shape[1] and 0 <= y0 < y1 <= crop.shape[0]
            assert not np.array_equal(out, crop)


def test_bad_arguments_are_refused(photos):
    template, user = photos
    with _faces(template, user) as (landmarks, arena, prepared):
        for params, message in [({"shape": 1.5}, "shape"), ({"features": -0.1}, "features"),
                                ({"smoothing": float("nan")}, "smoothing"),
                                ({"strength": 1.0}, "strength"), ({"blend": "alpha"}, "blend")]:
            with pytest.raises(ValueError, match=message):
                _fuse(template, landmarks, arena, prepared, **params)
        with pytest.raises(TypeError, match="features"):
            _fuse(template, landmarks, arena, prepared, features="1")
        with pytest.raises(TypeError, match="keep_mouth"):
            _fuse(template, landmarks, arena, prepared, keep_mouth=1)
        out = template.copy()
        with pytest.raises(ValueError, match="triangles"):
            fusion.fuse(template, out, "rgb", landmarks, prepared["texture"], prepared["mesh"],
                        prepared["skin"], _triangles().astype(np.int64), REGIONS, {}, arena)
        with pytest.raises(ValueError, match="triangle index"):
            fusion.fuse(template, out, "rgb", landmarks, prepared["texture"], prepared["mesh"],
                        prepared["skin"], _triangles() + 400, REGIONS, {}, arena)
        with pytest.raises(ValueError, match="state"):
            fusion.fuse(template, out, "rgb", landmarks, prepared["texture"], prepared["mesh"],
                        prepared["skin"], _triangles(), REGIONS, {}, arena,
                        state=np.zeros(3, np.float32))
        frozen = np.zeros(8, np.float32)
        frozen.flags.writeable = False
        with pytest.raises(ValueError, match="state must be writable"):
            fusion.fuse(template, out, "rgb", landmarks, prepared["texture"], prepared["mesh"],
                        prepared["skin"], _triangles(), REGIONS, {"features": 1.0}, arena,
                        state=frozen)
    # A face too small to fuse: the message states the minimum.
    small = np.ascontiguousarray(user[::8, ::8])
    with facekit.FaceLandmarker() as a, a.detect(small) as result:
        if not result.faces:
            pytest.skip("no face found in the 1/8 scale photo")
        with pytest.raises(ValueError, match=f"{fusion.MIN_FACE_WIDTH} pixels"):
            fusion.prepare_user(small, "rgb", result.faces[0].landmarks, REGIONS,
                                native_arena(frame_of(result)))


def test_video_state_holds_the_template_statistics_and_a_still_frame_repeats(photos):
    from facekit.arena import allocate

    template, user = photos
    with facekit.FaceLandmarker() as a, facekit.FaceLandmarker() as b:
        with a.detect(user) as ur, b.detect(template) as tr:
            user_frame = frame_of(ur)
            prepared = fusion.prepare_user(user, "rgb", ur.faces[0].landmarks, REGIONS,
                                           native_arena(user_frame))
            state = allocate(user_frame, (fusion.STATE_SIZE,))
            outputs = []
            for _ in range(3):
                out = template.copy()
                fusion.fuse(template, out, "rgb", tr.faces[0].landmarks, prepared["texture"],
                            prepared["mesh"], prepared["skin"], _triangles(), REGIONS,
                            {"shape": 0.5, "features": 1.0, "smoothing": 0.8},
                            native_arena(frame_of(tr)), state=state)
                outputs.append(out)
            assert state[7] == 1.0 and 20 < state[0] < 95
            assert np.array_equal(outputs[0], outputs[1]) and np.array_equal(outputs[1], outputs[2])
