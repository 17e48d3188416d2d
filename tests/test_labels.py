"""AI-content labels (facekit.labels): the visible mark sits in the chosen corner with text at least
5% of the short side and changes nothing else; save_image writes the implicit labels (XMP with the
IPTC digital source type, GB 45438 AIGC JSON) into PNG and JPEG, read back by read_labels and by an
independent parse of the file's bytes here; bad inputs fail clearly; saving and reading open no
network and leave nothing but the target file."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import facekit
from facekit.audit.io_guard import record_io
from facekit.labels import (
    AIGC_NAMESPACE,
    COMPOSITE_SYNTHETIC,
    MIN_TEXT_HEIGHT,
    LabelOptions,
    Provenance,
    draw_label,
    read_labels,
    save_image,
)

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
AIGC_FIELDS = ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
               "PropagateID", "ReservedCode2"]


def photo(h: int = 360, w: int = 480, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A textured test image (smooth gradient plus noise), so a label changes visible pixels."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 200 // max(w, 1) + y * 40 // max(h, 1)).astype(np.int32)
    shape = (h, w) if channels == 1 else (h, w, channels)
    noise = rng.integers(0, 30, size=shape)
    img = (base if channels == 1 else base[..., None]) + noise
    return np.clip(img, 0, 255).astype(np.uint8)


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    ys, xs = np.nonzero(diff)
    assert ys.size, "the label changed no pixel"
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def ink_height(after: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Height of the text's ink: rows inside the label box with pixels unlike the box's fill."""
    y0, y1, x0, x1 = box
    region = after[y0:y1, x0:x1]
    gray = region if region.ndim == 2 else region[..., 0]
    fill = gray[0, 0]  # the box's corner pixel is fill (the padding holds no ink)
    rows = np.nonzero((gray != fill).any(axis=1))[0]
    assert rows.size, "the label box holds no text"
    return int(rows.max() - rows.min() + 1)


# --- visible mark -------------------------------------------------------------------------------

@pytest.mark.parametrize("position", POSITIONS)
def test_label_sits_in_its_corner_and_changes_nothing_else(position):
    before = photo()
    after = before.copy()
    draw_label(after, LabelOptions(position=position))
    y0, y1, x0, x1 = changed_box(before, after)
    h, w = before.shape[:2]
    top, left = position.startswith("top"), position.endswith("left")
    # In its corner: the box's near edges are within a small margin of the image's edges.
    assert (y0 <= 0.05 * h) if top else (h - y1 <= 0.05 * h)
    assert (x0 <= 0.05 * w) if left else (w - x1 <= 0.05 * w)
    assert y0 >= 1 and x0 >= 1 and y1 <= h - 1 and x1 <= w - 1  # inside, with a margin
    outside = np.ones((h, w), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(before[outside], after[outside])
    assert ink_height(after, (y0, y1, x0, x1)) >= 0.05 * min(h, w)


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.2])
def test_text_height_is_at_least_the_requested_fraction_of_the_short_side(fraction):
    for h, w in ((360, 800), (600, 1000), (1080, 1920)):
        before = photo(h, w)
        after = before.copy()
        draw_label(after, LabelOptions(min_height=fraction))
        assert ink_height(after, changed_box(before, after)) >= fraction * min(h, w)


def test_text_too_wide_at_the_requested_height_shrinks_to_fit_but_not_below_5_percent():
    before = photo(800, 300)  # "AI-generated" at 20% of 300 px is wider than 300 px
    after = before.copy()
    draw_label(after, LabelOptions(min_height=0.2))
    y0, y1, x0, x1 = changed_box(before, after)
    height = ink_height(after, (y0, y1, x0, x1))
    assert 0.05 * 300 <= height < 0.2 * 300 and x0 >= 1 and x1 <= 299
    with pytest.raises(ValueError, match="too small to carry a readable label"):
        draw_label(photo(800, 300), LabelOptions(text="AI-generated content, " * 3))


def test_box_contrasts_with_light_and_dark_backgrounds():
    for shade, fill in ((250, 0), (5, 255)):
        img = np.full((200, 300, 3), shade, np.uint8)
        before = img.copy()
        draw_label(img, LabelOptions())
        y0, y1, x0, x1 = changed_box(before, img)
        assert img[y0, x0, 0] == fill
        text = img[y0:y1, x0:x1, 0].astype(int)
        assert np.abs(text - fill).max() >= 200  # the text has the opposite shade


def test_the_mark_is_rendered_once_per_size_and_options_and_copied_after():
    from facekit import labels

    labels._rendered_mark.cache_clear()
    options = LabelOptions(text="cache check")
    marked = []
    for shade in (250, 5, 250, 5):  # both renderings (light and dark under the box), twice
        img = np.full((210, 320, 3), shade, np.uint8)
        draw_label(img, options)
        marked.append(img)
    info = labels._rendered_mark.cache_info()
    assert (info.misses, info.hits) == (1, 3)  # rendered for the first image only
    assert np.array_equal(marked[0], marked[2]) and np.array_equal(marked[1], marked[3])
    labels._rendered_mark.cache_clear()  # a fresh rendering draws the same pixels
    again = np.full((210, 320, 3), 5, np.uint8)
    draw_label(again, options)
    assert np.array_equal(again, marked[1])
    shades = labels._rendered_mark((210, 320), options)[4]
    assert not any(shade.flags.writeable for shade in shades)  # callers cannot alter the mark


@pytest.mark.parametrize("color_format,channels", [("rgb", 1), ("rgb", 3), ("bgr", 3),
                                                   ("rgba", 4), ("bgra", 4)])
def test_gray_rgb_bgr_and_alpha_images_are_labelled_in_place(color_format, channels):
    before = photo(channels=channels)
    if channels == 4:
        before[..., 3] = 0  # fully transparent: the label must still show
    after = before.copy()
    draw_label(after, LabelOptions(), color_format=color_format)
    y0, y1, x0, x1 = changed_box(before, after)
    assert ink_height(after, (y0, y1, x0, x1)) >= 0.05 * min(before.shape[:2])
    if channels == 4:
        assert (after[y0:y1, x0:x1, 3] == 255).all()
    if channels >= 3:  # black and white: every colour channel alike
        region = after[y0:y1, x0:x1, :3]
        assert (region == region[..., :1]).all()


def test_custom_text_changes_the_mark():
    a, b = photo(), photo()
    draw_label(a, LabelOptions(text="AI-generated"))
    draw_label(b, LabelOptions(text="Synthetic image"))
    assert changed_box(photo(), b) != changed_box(photo(), a)  # a longer text, a wider box


def _font_file() -> Path:
    for folder in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        found = sorted(folder.rglob("DejaVuSans.ttf")) or sorted(folder.rglob("*.ttf"))
        if found:
            return found[0]
    pytest.skip("no TrueType font on this machine (the missing-font error is tested anyway)")


def test_a_font_file_renders_other_scripts():
    font = _font_file()
    before = photo()
    after = before.copy()
    draw_label(after, LabelOptions(text="ИИ-изображение", font=font))  # Cyrillic
    box = changed_box(before, after)
    assert ink_height(after, box) >= 0.05 * min(before.shape[:2])
    default = before.copy()
    draw_label(default, LabelOptions(text="ИИ-изображение"))
    assert not np.array_equal(after, default)  # the font file was used


def test_missing_or_unreadable_font_fails_clearly(tmp_path):
    img = photo()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        draw_label(img, LabelOptions(font=tmp_path / "absent.ttf"))
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font")
    with pytest.raises(ValueError, match="TrueType/OpenType"):
        draw_label(img, LabelOptions(font=bogus))
    assert np.array_equal(img, photo())  # nothing drawn


def test_small_images_get_a_readable_label_and_tiny_ones_a_clear_error():
    before = photo(40, 120)  # 5% would be 2 px: the text is raised to the legible minimum
    after = before.copy()
    draw_label(after, LabelOptions())
    assert ink_height(after, changed_box(before, after)) >= MIN_TEXT_HEIGHT
    for h, w in ((10, 10), (6, 200), (200, 30)):
        img = photo(h, w)
        with pytest.raises(ValueError, match=r"too small to carry a readable label.*needs a \d+x\d+"):
            draw_label(img, LabelOptions())
        assert np.array_equal(img, photo(h, w))


def test_bad_label_inputs_fail_clearly():
    with pytest.raises(ValueError, match="position"):
        LabelOptions(position="middle")
    with pytest.raises(ValueError, match="min_height"):
        LabelOptions(min_height=0.01)
    with pytest.raises(ValueError, match="text"):
        LabelOptions(text="  ")
    with pytest.raises(ValueError, match="dtype"):
        draw_label(photo().astype(np.float32), LabelOptions())
    with pytest.raises(ValueError, match="shape"):
        draw_label(np.zeros((50, 50, 2), np.uint8), LabelOptions())
    with pytest.raises(TypeError, match="numpy"):
        draw_label([[0]], LabelOptions())
    with pytest.raises(ValueError, match="color_format"):
        draw_label(photo(), LabelOptions(), color_format="hsv")
    with pytest.raises(ValueError, match="HxWx4"):
        draw_label(photo(), LabelOptions(), color_format="rgba")
    frozen = photo()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        draw_label(frozen, LabelOptions())


# --- provenance ---------------------------------------------------------------------------------

def test_provenance_defaults_and_unique_random_content_ids():
    ids = {Provenance(consent="ok").content_id for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    p = Provenance(consent="ok")
    assert p.ai_generated and p.visible_label and p.label_text == "AI-generated"
    assert p.operation == "face_fusion" and p.producer == "facekit"
    assert p.producer_version == facekit.__version__
    assert p.digital_source_type == COMPOSITE_SYNTHETIC
    aigc = p.to_aigc()
    assert list(aigc) == AIGC_FIELDS and all(isinstance(v, str) for v in aigc.values())
    assert aigc["Label"] == "1" and aigc["ContentProducer"] == "facekit"
    assert aigc["ProduceID"] == p.content_id


def test_bad_provenance_fails_clearly():
    with pytest.raises(TypeError):
        Provenance()  # consent is required
    with pytest.raises(ValueError, match="consent"):
        Provenance(consent="")
    with pytest.raises(ValueError, match="label_text"):
        Provenance(consent="ok", visible_label=False)  # a switched-off mark has no text
    with pytest.raises(ValueError, match="content_id"):
        Provenance(consent="ok", content_id="face-of-someone")
    with pytest.raises(ValueError, match="AIGC"):
        Provenance(consent="ok", ai_generated=False).to_aigc()


# --- implicit labels: an independent reader of the bytes ---------------------------------------

def png_itxt(data: bytes) -> dict[str, str]:
    """The iTXt chunks of a PNG (uncompressed ones), parsed from the bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert zlib.crc32(kind + body) == crc
        if kind == b"iTXt":
            key, rest = body.split(b"\0", 1)
            compressed, rest = rest[0], rest[2:]
            _lang, rest = rest.split(b"\0", 1)
            _tkey, text = rest.split(b"\0", 1)
            chunks[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text
                                             ).decode("utf-8")
        pos += 12 + length
    return chunks


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of the JPEG's segments up to the scan, parsed from the bytes."""
    assert data[:2] == b"\xff\xd8"
    out, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, data[pos + 4:pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def xmp_aigc(xmp: str) -> dict:
    match = re.search(r"<TC260:AIGC>(.*?)</TC260:AIGC>", xmp, re.S)
    assert match and AIGC_NAMESPACE in xmp
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_png_carries_xmp_and_aigc_itxt_read_back_both_ways(tmp_path):
    p = Provenance(consent="user attested consent")
    path = tmp_path / "out.png"
    save_image(path, photo(), p)
    chunks = png_itxt(path.read_bytes())
    xmp = chunks["XML:com.adobe.xmp"]
    assert f"<Iptc4xmpExt:DigitalSourceType>{COMPOSITE_SYNTHETIC}<" in xmp
    assert xmp_aigc(xmp) == p.to_aigc() == json.loads(chunks["AIGC"])
    # The labels hold the provenance and nothing else (no pixel- or face-derived value).
    properties = set(re.findall(r"<(\w+:\w+)>", xmp)) - {"rdf:RDF"}
    assert properties == {"Iptc4xmpExt:DigitalSourceType", "TC260:AIGC", "xmp:CreatorTool"} | {
        f"facekit:{name}" for name in Provenance.__dataclass_fields__}
    labels = read_labels(path)
    assert labels["digital_source_type"] == COMPOSITE_SYNTHETIC
    assert labels["aigc"] == p.to_aigc()
    assert labels["xmp"] == xmp
    assert labels["provenance"] == p


def test_jpeg_carries_app1_xmp_and_a_comment_read_back_both_ways(tmp_path):
    p = Provenance(consent="user attested consent")
    path = tmp_path / "out.jpg"
    save_image(path, photo(), p, quality=90)
    segments = jpeg_segments(path.read_bytes())
    xmp_header = b"http://ns.adobe.com/xap/1.0/\0"
    app1 = [body for marker, body in segments if marker == 0xE1 and body.startswith(xmp_header)]
    comments = [body for marker, body in segments if marker == 0xFE]
    assert len(app1) == 1 and len(comments) == 1
    xmp = app1[0][len(xmp_header):].decode("utf-8")
    assert f"<Iptc4xmpExt:DigitalSourceType>{COMPOSITE_SYNTHETIC}<" in xmp
    assert xmp_aigc(xmp) == p.to_aigc() == json.loads(comments[0])
    labels = read_labels(path)
    assert labels["digital_source_type"] == COMPOSITE_SYNTHETIC
    assert labels["aigc"] == p.to_aigc() and labels["provenance"] == p


def test_every_provenance_field_round_trips(tmp_path):
    p = Provenance(consent="Zoë & Li agreed <2026>", visible_label=False, label_text=None,
                   operation="face_swap", producer="Acme Camera", producer_version="9.9",
                   digital_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/composite")
    for name in ("a.png", "a.jpeg"):
        save_image(tmp_path / name, photo(channels=1), p)
        labels = read_labels(tmp_path / name)
        assert labels["provenance"] == p
        assert labels["aigc"]["ContentProducer"] == "Acme Camera"
        assert labels["digital_source_type"].endswith("/composite")


def test_a_result_object_is_saved_with_its_provenance(tmp_path):
    p = Provenance(consent="ok")
    result = SimpleNamespace(image=photo(), provenance=p)
    save_image(tmp_path / "r.png", result)
    assert read_labels(tmp_path / "r.png")["aigc"]["ProduceID"] == p.content_id
    with pytest.raises(ValueError, match="not both"):
        save_image(tmp_path / "r2.png", result, p)


def test_images_without_provenance_are_saved_plainly(tmp_path):
    img = photo()
    for name in ("plain.png", "plain.jpg"):
        save_image(tmp_path / name, img)
        data = (tmp_path / name).read_bytes()
        assert b"AIGC" not in data and b"xap/1.0" not in data
        assert read_labels(tmp_path / name) == {}
    from PIL import Image

    with Image.open(tmp_path / "plain.png") as back:
        assert np.array_equal(np.asarray(back), img)  # PNG is lossless


def test_bgr_images_are_saved_in_rgb_order(tmp_path):
    rgb = photo()
    save_image(tmp_path / "c.png", np.ascontiguousarray(rgb[..., ::-1]), color_format="bgr")
    from PIL import Image

    with Image.open(tmp_path / "c.png") as back:
        assert np.array_equal(np.asarray(back), rgb)


def test_bad_save_inputs_fail_clearly_and_leave_no_file(tmp_path):
    img = photo()
    with pytest.raises(ValueError, match="suffix"):
        save_image(tmp_path / "out.gif", img)
    with pytest.raises(ValueError, match="dtype"):
        save_image(tmp_path / "out.png", img.astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        save_image(tmp_path / "out.png", np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        save_image(tmp_path / "out.jpg", photo(channels=4))
    with pytest.raises(ValueError, match="quality"):
        save_image(tmp_path / "out.jpg", img, quality=0)
    with pytest.raises(TypeError, match="provenance"):
        save_image(tmp_path / "out.png", img, {"consent": "ok"})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_image(tmp_path / "missing" / "out.png", img)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        save_image(tmp_path / "file" / "out.png", img)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    save_image(path, photo(seed=1))
    old = path.read_bytes()
    from PIL import Image

    def broken(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_image(path, photo(seed=2), Provenance(consent="ok"))
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_the_content_id_is_random_not_derived_from_pixels(tmp_path):
    img = photo()
    ids = set()
    for i in range(3):
        save_image(tmp_path / f"{i}.png", img, Provenance(consent="ok"))
        ids.add(read_labels(tmp_path / f"{i}.png")["aigc"]["ProduceID"])
    assert len(ids) == 3  # the same pixels, three ids


def test_another_tools_xmp_is_not_taken_for_a_label(tmp_path):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
                  '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""/>'
                  "</rdf:RDF></x:xmpmeta>")
    Image.fromarray(photo()).save(tmp_path / "camera.png", pnginfo=info)
    assert read_labels(tmp_path / "camera.png") == {}
    hostile = PngImagePlugin.PngInfo()
    hostile.add_itxt("XML:com.adobe.xmp", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    Image.fromarray(photo()).save(tmp_path / "hostile.png", pnginfo=hostile)
    with pytest.raises(ValueError, match="DOCTYPE"):
        read_labels(tmp_path / "hostile.png")


def test_an_oversized_provenance_is_refused_for_jpeg(tmp_path):
    p = Provenance(consent="x" * 70000)
    with pytest.raises(ValueError, match="APP1"):
        save_image(tmp_path / "big.jpg", photo(), p)
    save_image(tmp_path / "big.png", photo(), p)  # PNG chunks have no such limit
    assert read_labels(tmp_path / "big.png")["provenance"] == p
    assert sorted(q.name for q in tmp_path.iterdir()) == ["big.png"]


def test_read_labels_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_labels(tmp_path / "absent.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        read_labels(tmp_path / "notes.png")


def test_saving_and_reading_use_no_network_and_write_only_the_target(tmp_path):
    p = Provenance(consent="ok")
    img = photo()
    (tmp_path / "keep.txt").write_text("x")
    for name in ("o.png", "o.jpg"):
        before = {q.name for q in tmp_path.iterdir()}
        with record_io() as events:
            save_image(tmp_path / name, img, p)
        assert {q.name for q in tmp_path.iterdir()} == before | {name}
        assert not [e for e in events if e.event.startswith(("socket.", "http", "urllib"))]
        # Opened for writing by path (os.fdopen's event carries the descriptor, an int): only
        # the temporary in the target folder, renamed onto the target.
        written = {e.args[0] for e in events if e.event == "open" and isinstance(e.args[0], str)}
        assert len(written) == 1 and Path(written.pop()).parent == tmp_path
        renames = [e.args for e in events if e.event == "os.rename"]
        assert len(renames) == 1 and renames[0][1] == str(tmp_path / name)
        with record_io() as events:
            read_labels(tmp_path / name)
        assert events == []  # no write, rename, socket or process of any kind
        assert {q.name for q in tmp_path.iterdir()} == before | {name}
    assert (tmp_path / "keep.txt").read_text() == "x"
