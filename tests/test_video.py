"""Video files end to end (facekit.video, `facekit video`): the output keeps the input's frames,
timestamps, time base, rotation, audio packets and, where no effect ran, its pictures; landmarks
are found once per frame for every effect; a fused video is labelled on every frame and in its
metadata; errors are clear and never leave a file behind; memory stays flat.

Synthetic clips are made here with PyAV from the shared face photos (small, few frames)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from support import facekit_script, shared_face, shared_video

import facekit
from facekit import FaceDetector, FusionOptions, Provenance
from facekit.beauty import PRESETS
from facekit.labels import COMPOSITE_SYNTHETIC, LabelOptions, draw_label
from facekit.video import (
    DEFAULT_CRF,
    EFFECT_ORDER,
    VideoProcessor,
    _convert,
    _native_format,
    _sws_colorspace,
    _ToRgb,
    _yuv_planes,
    process_frames,
    process_video,
    read_video_labels,
)

av = pytest.importorskip("av", reason="PyAV comes with the test extra (and the video extra)")

CONSENT = "test: both people in these public test photos agreed"


# ---- the native yuv420p <-> RGB conversion ---------------------------------------------------

def exact_flags():
    flags = av.video.reformatter.Interpolation
    return flags.BILINEAR | flags.ACCURATE_RND | flags.FULL_CHR_H_INT


def yuv_frame(width: int, height: int, seed: int, colorspace: int, color_range: int):
    """A yuv420p frame of noise (every pixel's chroma differs: the siting shows), kept to
    colours near the RGB cube (swscale wraps far-out ones: 255 for 0)."""
    frame = av.VideoFrame(width, height, "yuv420p")
    rng = np.random.default_rng(seed)
    for plane, (low, high) in zip(_yuv_planes(frame), ((32, 224), (80, 176), (80, 176))):
        plane[:] = rng.integers(low, high, plane.shape, dtype=np.uint8)
    frame.colorspace, frame.color_range = colorspace, color_range
    return frame


TAGS = [(1, 1), (1, 2), (5, 1), (6, 2), (2, 0)]  # (AVColorSpace, AVColorRange) pairs


@pytest.mark.parametrize("path", facekit.cpu_features()["available"])
@pytest.mark.parametrize("colorspace,color_range", TAGS)
def test_native_yuv420p_conversion_is_within_1_of_pyavs_accurate_one(path, colorspace,
                                                                      color_range):
    from facekit._native import cpu

    matrix, full = _native_format("yuv420p", colorspace, color_range, 64, 48)
    saved = cpu.active()
    cpu.force(path)
    try:
        for width, height in ((64, 48), (38, 22), (8, 8)):
            frame = yuv_frame(width, height, width, colorspace, color_range)
            reference = frame.reformat(format="rgb24", interpolation=exact_flags()).to_ndarray()
            before = sum(cpu.kernel_calls().values())
            ours = _convert.yuv420_to_rgb(*_yuv_planes(frame), matrix, full, "centre")
            assert sum(cpu.kernel_calls().values()) > before  # through the dispatcher
            assert np.abs(ours.astype(int) - reference).max() <= 1
            rgb = np.random.default_rng(height).integers(0, 256, (height, width, 3), np.uint8)
            expected = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace=_sws_colorspace(colorspace),
                dst_color_range=color_range or None, interpolation=exact_flags())
            out = av.VideoFrame(width, height, "yuv420p")
            _convert.rgb_to_yuv420(rgb, *_yuv_planes(out), matrix, full)
            for a, b in zip(_yuv_planes(out), _yuv_planes(expected)):
                assert np.abs(a.astype(int) - b).max() <= 1
    finally:
        cpu.force(saved)


def test_decoding_picks_the_streams_chroma_siting_and_stays_within_1_of_pyav():
    """H.264 puts chroma on even columns ("left"); the first frame tells the sitings apart,
    and every later frame converts natively within 1 of PyAV's accurate conversion."""
    to_rgb = _ToRgb(av)
    with av.open(str(shared_video("short_hamilton_clip.mp4"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            pixels = to_rgb(frame)
            reference = frame.reformat(format="rgb24", interpolation=exact_flags()).to_ndarray()
            assert np.abs(pixels.astype(int) - reference).max() <= 1
            if index == 0:
                assert to_rgb.sitings == ["left"]
            if index == 20:
                break


def test_only_what_changed_is_converted_back_and_the_rest_stays_as_decoded():
    rng = np.random.default_rng(4)
    before = rng.integers(0, 256, (48, 64, 3), np.uint8)
    after = before.copy()
    after[11:19, 13:29] = 255 - after[11:19, 13:29]
    decoded = [rng.integers(0, 256, shape, np.uint8) for shape in ((48, 64), (24, 32), (24, 32))]
    full = [np.zeros_like(p) for p in decoded]
    _convert.rgb_to_yuv420(after, *full, "bt709", False)
    planes = [p.copy() for p in decoded]
    _convert.rgb_changes_to_yuv420(before, after, *planes, "bt709", False)
    # Changed rows 11-18 feed chroma rows 5-9 (each reads luma rows 2j-1..2j+2), whose luma rows
    # are 10-19; changed columns 13-28 widen to the chroma pairs' 12-29.
    for plane, whole, source, (rows, cols) in zip(
            planes, full, decoded, ((slice(10, 20), slice(12, 30)), (slice(5, 10), slice(6, 15)),
                                    (slice(5, 10), slice(6, 15)))):
        assert np.array_equal(plane[rows, cols], whole[rows, cols])
        kept = np.ones(plane.shape, bool)
        kept[rows, cols] = False
        assert np.array_equal(plane[kept], source[kept])
    unchanged = [p.copy() for p in decoded]
    _convert.rgb_changes_to_yuv420(before, before.copy(), *unchanged, "bt601", True)
    assert all(np.array_equal(a, b) for a, b in zip(unchanged, decoded))


def test_a_changed_frame_keeps_its_pixels_away_from_the_faces_exactly(clip, tmp_path):
    """Lossless (crf 0): in frames the beauty effects changed, the luma away from the face (the
    left 100 of 640 columns; the face comes to column 118 at the closest) comes back bit for
    bit as decoded."""
    report = process_video(clip, tmp_path / "out.mp4", beauty=PRESETS["natural"], crf=0)
    source, result = probe(clip), probe(tmp_path / "out.mp4")
    changed = [i for i, n in enumerate(report.faces_per_frame) if n]
    assert len(changed) > 150
    for i in changed:
        assert not np.array_equal(source["pictures"][i], result["pictures"][i])
        assert np.array_equal(source["pictures"][i][:360, :100], result["pictures"][i][:360, :100])


def test_odd_sizes_and_other_tags_are_left_to_pyav():
    # swscale scales odd-sized chroma by other than 2 (19 samples to 37 pixels), and shortens
    # its filters under 8 pixels: those are PyAV's.
    assert _native_format("yuv420p", 1, 1, 64, 48) == ("bt709", False)
    assert _native_format("yuv420p", 2, 2, 8, 8) == ("bt601", True)
    for args in (("yuv420p", 1, 1, 37, 48), ("yuv420p", 1, 1, 64, 47), ("yuv420p", 1, 1, 64, 6),
                 ("yuv422p", 1, 1, 64, 48),
                 ("yuv420p", 9, 1, 64, 48), ("yuvj420p", 5, 2, 64, 48)):
        assert _native_format(*args) is None


def test_the_native_conversion_refuses_bad_planes():
    frame = av.VideoFrame(16, 8, "yuv420p")
    y, u, v = _yuv_planes(frame)
    with pytest.raises(ValueError, match="smaller than"):
        _convert.yuv420_to_rgb(y, u[:, :7], v, "bt601", False)
    with pytest.raises(ValueError, match="matrix"):
        _convert.yuv420_to_rgb(y, u, v, "bt2020", False)
    with pytest.raises(ValueError, match="siting"):
        _convert.yuv420_to_rgb(y, u, v, "bt601", False, "top")
    frozen = np.zeros((4, 8), np.uint8)
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _convert.rgb_to_yuv420(np.zeros((8, 16, 3), np.uint8), y, u, frozen, "bt601", False)


# ---- clips ------------------------------------------------------------------------------------

def face_frames(name: str, count: int, width: int | None = None) -> list[np.ndarray]:
    """`count` RGB frames of a shared photo (resized to `width`, even sides), moving a little."""
    from PIL import Image

    picture = Image.open(shared_face(name)).convert("RGB")
    if width is not None:
        picture = picture.resize((width, round(picture.height * width / picture.width)))
    image = np.asarray(picture)
    image = image[:image.shape[0] // 2 * 2, :image.shape[1] // 2 * 2]
    return [np.ascontiguousarray(np.roll(image, 2 * i, axis=1)) for i in range(count)]


def make_clip(path: Path, frames, pts=None, time_base=Fraction(1, 1000), rotation=0,
              audio=False, fps=25, faststart=False, full_range=False) -> Path:
    """An H.264 MP4 of `frames` at `pts` (in `time_base`), with a display rotation, an AAC
    tone, the index before the frames and full-range BT.601 YUV if asked."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", container_options=options) as out:
        video = out.add_stream("libx264", rate=fps, options={"crf": "12", "preset": "ultrafast"})
        first = frames[0]
        video.width, video.height, video.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
        video.time_base = video.codec_context.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=16000, layout="mono")
        pts = pts or [round(i / fps / time_base) for i in range(len(frames))]
        if full_range:
            video.codec_context.color_range = 2  # JPEG (full) range
            video.codec_context.colorspace = 6  # SMPTE 170M (BT.601)
        for image, stamp in zip(frames, pts):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if full_range:
                frame = frame.reformat(format="yuv420p", dst_colorspace="ITU601",
                                       dst_color_range="JPEG")
            frame.pts, frame.time_base = stamp, time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            seconds = (pts[-1] * time_base) + Fraction(1, fps)
            samples = int(seconds * 16000)
            t = np.arange(samples) / 16000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[:, start:start + 1024], format="fltp",
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = 16000, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path


def probe(path: Path) -> dict:
    """Frames (yuv420p planes as one array), timestamps, rotation, stream facts, audio
    packet checksums."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        facts = {"time_base": stream.time_base, "rate": stream.average_rate,
                 "pix_fmt": stream.codec_context.pix_fmt,
                 "color_range": stream.codec_context.color_range,
                 "colorspace": stream.codec_context.colorspace,
                 "color_tags": (stream.codec_context.color_primaries,
                                stream.codec_context.color_trc),
                 "metadata": dict(container.metadata)}
        pts, pictures, rotations = [], [], set()
        for frame in container.decode(stream):
            pts.append(frame.pts)
            rotations.add(frame.rotation)
            pictures.append(frame.to_ndarray(format="yuv420p"))
    with av.open(str(path)) as container:
        audio = [(p.pts, p.dts, hashlib.sha256(bytes(p)).hexdigest())
                 for p in container.demux(audio=0) if p.size] if container.streams.audio else []
    return {**facts, "pts": pts, "pictures": pictures, "rotations": rotations, "audio": audio}


def rgb_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def leftovers(folder: Path) -> list[str]:
    """Temporary files process_video may have left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


@pytest.fixture(scope="module")
def clip() -> Path:
    return shared_video("short_hamilton_clip.mp4")


@pytest.fixture(scope="module")
def beautified(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("beauty") / "out.mp4"
    report = process_video(clip, out, beauty=PRESETS["natural"])
    return report, probe(clip), probe(out)


# ---- faithful output (shared clip) ------------------------------------------------------------

def test_shared_clip_keeps_frames_timestamps_time_base_and_audio(beautified, clip):
    report, source, result = beautified
    assert report.frames_in == report.frames_out == len(source["pts"]) == 275
    assert result["pts"] == source["pts"]  # every timestamp, not shifted (the clip starts late)
    assert source["pts"][0] > 0
    assert result["time_base"] == source["time_base"] == Fraction(1, 11988)
    assert result["rate"] == source["rate"]
    assert (result["pix_fmt"], result["color_range"], result["colorspace"]) == \
        (source["pix_fmt"], source["color_range"], source["colorspace"])
    assert result["color_tags"] == source["color_tags"] == (1, 1)  # BT.709
    assert len(source["audio"]) == 431 and result["audio"] == source["audio"]
    assert report.audio_packets == 431


def test_frames_without_a_face_come_back_visually_unchanged(beautified):
    report, source, result = beautified
    faces = report.faces_per_frame
    assert len(faces) == 275 and 150 < report.frames_with_faces < 275
    empty = [i for i, n in enumerate(faces) if n == 0]
    values = [psnr(source["pictures"][i], result["pictures"][i]) for i in empty]
    assert min(values) > 45, f"PSNR of frames without a face: min {min(values):.2f} dB"
    changed = [i for i, n in enumerate(faces) if n]
    assert np.mean([psnr(source["pictures"][i], result["pictures"][i]) for i in changed]) < \
        min(values)  # the beauty effects did change the frames with a face
    # Those frames went through RGB and back: away from the face (the left 120 of 640 columns)
    # the luma stays close (the input's colour space and range both ways).
    away = [psnr(source["pictures"][i][:360, :120], result["pictures"][i][:360, :120])
            for i in changed]
    assert min(away) > 40, f"luma away from the face: min {min(away):.2f} dB"
    print(f"no-face frames: {len(empty)}, PSNR min {min(values):.2f} dB, mean "
          f"{np.mean(values):.2f} dB at crf {DEFAULT_CRF}")


def test_report_holds_counts_stage_times_and_fps(beautified):
    report = beautified[0]
    assert set(report.stage_seconds) == {"decode", "landmarks", "beauty", "convert", "encode"}
    assert all(v > 0 for v in report.stage_seconds.values())
    assert report.fps > 0 and report.seconds > 0
    assert all(isinstance(n, int) for n in report.faces_per_frame)
    assert "275 frames" in report.summary()


# ---- synthetic clips ----------------------------------------------------------------------------

def test_vfr_rotation_and_audio_are_kept(tmp_path):
    frames = face_frames("obama_small.jpg", 12)
    pts = [0, 40, 80, 90, 200, 210, 400, 433, 500, 733, 734, 900]  # 1 ms apart, gaps, jumps
    source = make_clip(tmp_path / "vfr.mp4", frames, pts, rotation=90, audio=True)
    out = tmp_path / "out.mp4"
    report = process_video(source, out, beauty=PRESETS["natural"])
    before, after = probe(source), probe(out)
    assert [p * before["time_base"] * 1000 for p in before["pts"]] == pts  # in ms
    assert after["pts"] == before["pts"] and after["time_base"] == before["time_base"]
    assert before["rotations"] == after["rotations"] == {90}
    assert len(before["audio"]) > 5 and after["audio"] == before["audio"]
    assert report.frames_out == 12 and report.frames_with_faces >= 10


def test_full_range_bt601_video_keeps_its_range_and_its_colours(tmp_path):
    frames = face_frames("obama_small.jpg", 4)
    source = make_clip(tmp_path / "full.mp4", frames, full_range=True)
    out = tmp_path / "out.mp4"
    report = process_video(source, out, mesh=True)
    before, after = probe(source), probe(out)
    assert before["color_range"] == after["color_range"] == 2  # JPEG (full) range
    assert before["colorspace"] == after["colorspace"] == 6  # BT.601
    assert report.faces_per_frame == (1, 1, 1, 1)
    for a, b in zip(before["pictures"], after["pictures"]):
        assert psnr(a, b) < 40  # the mesh is drawn...
        assert psnr(a[:240, :60], b[:240, :60]) > 40  # ...and away from it nothing shifts
    # Decoded to RGB, no colour moved away from the face: a range or matrix mix-up would
    # shift the mean of a channel by several levels; compression noise leaves it in place.
    for a, b in zip(rgb_frames(source), rgb_frames(out)):
        shift = (b[:, :60].astype(float) - a[:, :60]).reshape(-1, 3).mean(axis=0)
        assert np.abs(shift).max() < 1, shift


def test_a_raw_stream_without_timestamps_gets_one_frame_interval_apart(tmp_path):
    raw = tmp_path / "raw.h264"
    with av.open(str(raw), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i, image in enumerate(face_frames("obama_small.jpg", 5)):
            frame = av.VideoFrame.from_ndarray(image[:120, :160].copy(), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(raw)) as container:
        assert [f.pts for f in container.decode(video=0)] == [None] * 5
    report = process_video(raw, tmp_path / "out.mp4", mesh=True)
    after = probe(tmp_path / "out.mp4")
    assert report.frames_out == 5
    assert [p * after["time_base"] for p in after["pts"]] == [Fraction(i, 25) for i in range(5)]


def test_mpeg4_encodes_at_a_quality_that_keeps_frames_without_a_face(tmp_path, clip):
    # Left to its default bit rate, FFmpeg's mpeg4 encoder drops to ~36 dB on this clip.
    short = make_clip(tmp_path / "short.mp4", rgb_frames(clip)[:30])
    report = process_video(short, tmp_path / "out.mp4", codec="mpeg4")
    assert report.frames_out == 30
    before, after = probe(short), probe(tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as written:
        assert written.streams.video[0].codec_context.name == "mpeg4"
    assert min(psnr(a, b) for a, b in zip(before["pictures"], after["pictures"])) > 44


def test_a_clip_without_a_face_is_unchanged_and_two_faces_are_both_covered(tmp_path):
    blank = [np.full((120, 160, 3), (40 + 10 * i, 90, 160), np.uint8) for i in range(6)]
    for image in blank:
        image[30:90, 40:120] = (200, 180, 60)
    source = make_clip(tmp_path / "blank.mp4", blank)
    report = process_video(source, tmp_path / "blank_out.mp4", anonymize="pixelate", mesh=True)
    assert report.faces_per_frame == (0,) * 6
    before, after = probe(source), probe(tmp_path / "blank_out.mp4")
    assert min(psnr(a, b) for a, b in zip(before["pictures"], after["pictures"])) > 45

    pair = make_clip(tmp_path / "two.mp4", face_frames("two_people.jpg", 4, width=564))
    report = process_video(pair, tmp_path / "two_out.mp4", anonymize="pixelate")
    assert report.faces_per_frame == (2, 2, 2, 2)
    with FaceDetector() as detector:
        for image in rgb_frames(pair):
            with detector.detect(image) as found:
                assert len(found.faces) == 2  # the input shows both
        for image in rgb_frames(tmp_path / "two_out.mp4"):
            with detector.detect(image) as found:
                assert not found.faces  # the output shows neither


# ---- landmarks once per frame ---------------------------------------------------------------

def test_every_effect_shares_one_landmark_run_per_frame(runs):
    frames = face_frames("obama_small.jpg", 5)
    user = facekit.load_image(shared_face("biden.jpg"))
    alone = list(process_frames(((40 * i, f) for i, f in enumerate(frames)), mesh=True))
    landmarks_alone, regions_alone = runs["attention_mesh_trunk"], runs["attention_mesh_regions"]
    with VideoProcessor(beauty=PRESETS["studio"], fuse_user=user, consent=CONSENT,
                        mesh=True) as processor:
        runs.clear()  # the user's photo was landmarked once, at start
        done = [processor.process_frame(f, 40 * i) for i, f in enumerate(frames)]
    assert [d.faces for d in done] == [d.faces for d in alone] == [1] * 5
    # one mesh run per frame for all effects (the 478-point attention mesh: trunk, regions)
    assert runs["attention_mesh_trunk"] == landmarks_alone == 5
    assert runs["attention_mesh_regions"] == regions_alone == 5
    assert runs["face_landmark"] == runs["iris_landmark"] == 0
    assert all(d.changed for d in done)
    assert all(not np.array_equal(a.image, b.image) for a, b in zip(alone, done))
    for frame, result in zip(frames, done):
        assert result.image is not frame and result.image.shape == frame.shape
    assert EFFECT_ORDER == ("fusion", "beauty", "mesh", "anonymize", "label")


def test_each_frames_landmarks_end_before_the_next_frame(monkeypatch):
    """The landmarker result of a frame (the arena frame holding its mesh) has ended by the
    time process_frame returns, so no frame's landmarks outlive it (PRIVACY.md)."""
    results = []
    detect = facekit.FaceLandmarker.detect_for_video

    def kept(self, image, timestamp_ms):
        results.append(detect(self, image, timestamp_ms))
        return results[-1]

    monkeypatch.setattr(facekit.FaceLandmarker, "detect_for_video", kept)
    with VideoProcessor(beauty=PRESETS["natural"], mesh=True) as processor:
        for i, frame in enumerate(face_frames("obama_small.jpg", 3)):
            assert processor.process_frame(frame, 40 * i).faces == 1
            assert results[-1].expired
    assert len(results) == 3


def test_the_iterator_returns_an_unchanged_frame_as_is_and_checks_its_input():
    blank = np.full((64, 64, 3), 128, np.uint8)
    with VideoProcessor(beauty=PRESETS["natural"]) as processor:
        done = processor.process_frame(blank, 0)
        assert done.image is blank and not done.changed and done.faces == 0
        with pytest.raises(ValueError, match="increase"):
            processor.process_frame(blank, 0)
        with pytest.raises(ValueError, match="RGB"):
            processor.process_frame(blank[..., 0], 10)
    with pytest.raises(ValueError, match="fuse_user"):
        VideoProcessor(fusion=FusionOptions.swap())
    with pytest.raises(facekit.errors.ConsentRequiredError):
        VideoProcessor(fuse_user=blank)


# ---- fusion: labels on every frame and in the container ---------------------------------------

def mp4_metadata(path: Path) -> dict[str, str]:
    """The moov/meta keys and values of an MP4, read from its boxes (no ffmpeg)."""
    data = path.read_bytes()

    def boxes(start: int, end: int):
        while start + 8 <= end:
            size, kind = struct.unpack(">I4s", data[start:start + 8])
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", data[start + 8:start + 16])[0], 16
            elif size == 0:
                size = end - start
            yield kind.decode("latin-1"), start + header, start + size
            start += size

    moov = next((b, e) for k, b, e in boxes(0, len(data)) if k == "moov")
    udta = [(b, e) for k, b, e in boxes(*moov) if k == "udta"]
    metas = [(b, e) for k, b, e in [*boxes(*moov), *(m for u in udta for m in boxes(*u))]
             if k == "meta"]
    for meta in metas:  # the one of ffmpeg's use_metadata_tags: handler "mdta", keys, ilst
        begin = meta[0] if data[meta[0] + 4:meta[0] + 8] == b"hdlr" else meta[0] + 4
        children = {k: (b, e) for k, b, e in boxes(begin, meta[1])}
        if data[children["hdlr"][0] + 8:children["hdlr"][0] + 12] == b"mdta":
            break
    else:
        return {}
    b, e = children["keys"]
    count = struct.unpack(">I", data[b + 4:b + 8])[0]
    names, at = [], b + 8
    for _ in range(count):
        size = struct.unpack(">I", data[at:at + 4])[0]
        assert data[at + 4:at + 8] == b"mdta"
        names.append(data[at + 8:at + size].decode("utf-8"))
        at += size
    values = {}
    b, e = children["ilst"]
    for kind, body, end in boxes(b, e):
        index = struct.unpack(">I", kind.encode("latin-1"))[0]
        (_, dbody, dend), = list(boxes(body, end))
        values[names[index - 1]] = data[dbody + 8:dend].decode("utf-8")
    return values


def test_a_fused_video_is_labelled_on_every_frame_and_in_its_metadata(tmp_path):
    frames = face_frames("obama_small.jpg", 6)
    source = make_clip(tmp_path / "in.mp4", frames, audio=True)
    out = tmp_path / "fused.mp4"
    report = process_video(source, out, fuse_user=shared_face("biden.jpg"),
                           fusion=FusionOptions.swap(), consent=CONSENT)
    assert report.frames_out == 6 and "fusion" in report.stage_seconds
    # The mark, drawn on the decoded input, is what every output frame shows in its corner.
    decoded_in, decoded_out = rgb_frames(source), rgb_frames(out)
    for before, after in zip(decoded_in, decoded_out):
        marked = before.copy()
        draw_label(marked, LabelOptions())
        box = np.any(marked != before, axis=2)
        ys, xs = np.nonzero(box)
        region = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        assert psnr(after[region], marked[region]) > 30 > psnr(before[region], marked[region])
    # The implicit labels: parsed from the MP4's boxes and read back by facekit.
    tags = mp4_metadata(out)
    assert tags["DigitalSourceType"] == COMPOSITE_SYNTHETIC
    aigc = json.loads(tags["AIGC"])
    assert aigc["Label"] == "1" and aigc["ContentProducer"] == "facekit"
    assert COMPOSITE_SYNTHETIC in tags["XMP"] and aigc["ProduceID"] in tags["XMP"]
    labels = read_video_labels(out)
    assert labels["aigc"] == aigc and labels["digital_source_type"] == COMPOSITE_SYNTHETIC
    provenance = labels["provenance"]
    assert isinstance(provenance, Provenance)
    assert provenance.consent == CONSENT and provenance.visible_label
    assert read_video_labels(source) == {}
    assert "AIGC" not in mp4_metadata(make_clip(tmp_path / "plain.mp4", frames[:2]))


# ---- errors: clear, and nothing written ---------------------------------------------------------

def test_bad_inputs_raise_clear_errors_and_leave_nothing(tmp_path, clip):
    out = tmp_path / "out.mp4"
    with pytest.raises(FileNotFoundError, match="no such video"):
        process_video(tmp_path / "missing.mp4", out)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    with pytest.raises(ValueError, match="not a video"):
        process_video(text, out)
    with pytest.raises(ValueError, match="still image"):
        process_video(shared_face("obama_small.jpg"), out)
    tone = tmp_path / "tone.m4a"
    with av.open(str(tone), "w") as container:
        sound = container.add_stream("aac", rate=16000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        chunk.sample_rate, chunk.pts = 16000, 0
        container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))
    with pytest.raises(ValueError, match="no video stream"):
        process_video(tone, out)
    # Only the P-frames of a clip: a video stream whose packets decode to no picture.
    whole = make_clip(tmp_path / "whole.mp4", face_frames("obama_small.jpg", 4))
    empty = tmp_path / "empty.mp4"
    with av.open(str(whole)) as source, av.open(str(empty), "w") as container:
        stream = container.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.size and not packet.is_keyframe:
                packet.stream = stream
                container.mux(packet)
    with pytest.raises(ValueError, match="no video frames"):
        process_video(empty, out)
    with pytest.raises(ValueError, match="unsupported codec 'nope'"):
        process_video(clip, out, codec="nope")
    with pytest.raises(ValueError, match="not a video encoder"):
        process_video(clip, out, codec="aac")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        process_video(clip, tmp_path / "no" / "out.mp4")
    with pytest.raises(ValueError, match="no container format"):
        process_video(make_clip(tmp_path / "tiny.mp4", face_frames("obama_small.jpg", 1)),
                      tmp_path / "out.unknown-suffix")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "empty.mp4", "notes.mp4", "tiny.mp4", "tone.m4a", "whole.mp4"]


def test_an_existing_output_is_kept_unless_forced(tmp_path):
    source = make_clip(tmp_path / "in.mp4", face_frames("obama_small.jpg", 2))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"a good earlier result")
    with pytest.raises(FileExistsError, match="force"):
        process_video(source, out)
    assert out.read_bytes() == b"a good earlier result"
    process_video(source, out, force=True)
    assert len(probe(out)["pts"]) == 2
    with pytest.raises(ValueError, match="another file"):
        process_video(source, source, force=True)


def test_an_unwritable_folder_is_refused(tmp_path, clip):
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o555)
        code = ("import sys\nfrom facekit.video import process_video\n"
                "try:\n    process_video(sys.argv[1], sys.argv[2])\n"
                "except PermissionError as exc:\n    print('refused:', exc)\n")
        # Root writes anywhere: check as root without the capability that allows it.
        drop = (["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
                if os.geteuid() == 0 else [])
        done = subprocess.run([*drop, sys.executable, "-c", code, str(clip),
                               str(folder / "out.mp4")], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        assert "refused: cannot write 'out.mp4'" in done.stdout, done.stderr[-2000:]
        assert "is not writable" in done.stdout
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
        folder.rmdir()


def test_a_clip_cut_off_mid_stream_leaves_no_output(tmp_path, clip):
    out = tmp_path / "out.mp4"
    # The index first (a file made for streaming), the frames cut off half way.
    whole = make_clip(tmp_path / "whole.mp4", face_frames("obama_small.jpg", 20),
                      faststart=True)
    data = whole.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="is cut off.*its index lists 20 frames"):
        process_video(cut, out)
    # The index at the end (the shared clip; a recorder that was stopped): nothing to read.
    data = clip.read_bytes()
    assert data.find(b"mdat") < data.find(b"moov")
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="not a video facekit can read"):
        process_video(cut, out)
    assert not out.exists() and leftovers(tmp_path) == []


def _interruptible() -> None:
    """In the child: Ctrl-C's default action, which a run started in the background (nohup,
    `cmd &` without job control) inherits as ignored, and Python then never raises."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_processing_leaves_no_output_and_keeps_an_old_one(tmp_path, clip):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the previous good output")
    code = ("import sys\nfrom facekit.video import process_video\nfrom facekit.beauty import "
            "PRESETS\ndef tick(state):\n    print('frame', state.frames, flush=True)\n"
            "process_video(sys.argv[1], sys.argv[2], beauty=PRESETS['studio'], "
            "anonymize='blur', force=True, progress=tick)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(clip), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path, preexec_fn=_interruptible)
    try:
        for line in child.stdout:  # wait until frames are being processed
            if line.startswith("frame 20"):
                break
        else:
            pytest.fail(f"the child ended early: {child.communicate()[1][-2000:]}")
        assert leftovers(tmp_path), "the temporary output should exist while processing"
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr
    assert out.read_bytes() == b"the previous good output"
    assert leftovers(tmp_path) == []


def test_ctrl_c_stops_the_command_with_status_130_and_no_output(tmp_path, clip):
    out = tmp_path / "out.mp4"
    child = subprocess.Popen([facekit_script(), "video", str(clip), str(out), "--beauty",
                              "studio", "--anonymize", "blur"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)
    try:
        deadline = time.monotonic() + 120
        while not leftovers(tmp_path) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the temporary file appears once decoding has begun
        assert leftovers(tmp_path), child.communicate()[1][-2000:]
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130 and "interrupted" in stderr
    assert not out.exists() and leftovers(tmp_path) == []


def test_the_video_extra_is_named_when_pyav_is_missing(tmp_path):
    code = ("import sys\nsys.modules['av'] = None\nfrom facekit.video import process_video\n"
            "process_video('in.mp4', 'out.mp4')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert "ImportError: facekit's video support needs PyAV: pip install 'facekit[video]'" in \
        done.stderr, done.stderr


# ---- streaming: memory stays flat ---------------------------------------------------------------

MEMORY_CHILD = """
import json, sys
from facekit.beauty import PRESETS
from facekit.video import process_video

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096

samples = {}

def sample(state):
    if state.frames % 50 == 0:
        samples[state.frames] = rss()

report = process_video(sys.argv[1], sys.argv[2], beauty=PRESETS["natural"], progress=sample)
print(json.dumps({"frames": report.frames_out, "rss": samples}))
"""


def test_memory_stays_flat_over_a_long_clip(tmp_path):
    """600 frames of 320x240 (138 MB of RGB in all), in a fresh process: resident memory
    after the first 100 frames grows by less than a quarter of what keeping the next 500
    frames would add (thread timing moves the allocator's high-water mark by a few MiB:
    measured 0.9-10.4 MiB, against 28.8 MiB here and 115 MiB for a list of frames)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    long_clip = tmp_path / "long.mp4"
    with av.open(str(long_clip), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(600):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i, axis=0), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(long_clip),
                           str(tmp_path / "out.mp4")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["frames"] == 600
    samples = {int(k): v for k, v in result["rss"].items()}
    growth = max(samples.values()) - samples[100]
    print(f"RSS at frame 100: {samples[100] / 2**20:.1f} MiB, most after: "
          f"{max(samples.values()) / 2**20:.1f} MiB (growth {growth / 2**20:.2f} MiB)")
    assert growth < 125 * 320 * 240 * 3, {k: v // 2**20 for k, v in samples.items()}


# ---- the command line ---------------------------------------------------------------------------

def test_cli_writes_a_video_and_prints_one_summary_line(tmp_path):
    source = make_clip(tmp_path / "in.mp4", face_frames("obama_small.jpg", 4), audio=True)
    out = tmp_path / "out.mkv"
    done = subprocess.run([facekit_script(), "video", str(source), str(out), "--mesh",
                           "--beauty", "natural", "--crf", "20"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facekit video: ")
    assert "4 frames (4 in)" in lines[0] and "beauty natural, mesh" in lines[0]
    assert done.stderr == ""  # no progress bar without a terminal
    assert len(probe(out)["pts"]) == 4
    again = subprocess.run([facekit_script(), "video", str(source), str(out)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--force" in again.stderr
    for bad, message in ((["--codec", "nope"], "unsupported codec"),
                         (["--crf", "99"], "crf must be"),
                         (["--consent", "x"], "go with --fuse"),
                         (["--shape", "0.3"], "go with --fuse"),
                         (["--fuse", str(shared_face("biden.jpg"))], "consent")):
        refused = subprocess.run([facekit_script(), "video", str(source),
                                  str(tmp_path / "x.mp4"), *bad], capture_output=True,
                                 text=True, timeout=300)
        assert refused.returncode == 2 and message in refused.stderr, (bad, refused.stderr)
    assert not (tmp_path / "x.mp4").exists() and leftovers(tmp_path) == []


def test_cli_draws_a_progress_bar_on_a_terminal(tmp_path):
    import pty

    source = make_clip(tmp_path / "in.mp4", face_frames("obama_small.jpg", 3))
    primary, secondary = pty.openpty()
    child = subprocess.Popen([facekit_script(), "video", str(source), str(tmp_path / "o.mp4")],
                             stdout=subprocess.PIPE, stderr=secondary, text=True)
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    child.wait(timeout=120)
    os.close(primary)
    assert child.returncode == 0
    text = output.decode()
    assert "3/3 frames" in text and "fps" in text and "ETA" in text


def test_the_public_names_are_documented_and_their_hints_resolve():
    import typing

    import facekit.video as video

    for name in video.__all__:
        obj = getattr(video, name)
        if callable(obj):
            assert obj.__doc__, name
            typing.get_type_hints(obj)
    typing.get_type_hints(VideoProcessor.__init__)
    typing.get_type_hints(VideoProcessor.process_frame)
