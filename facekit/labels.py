"""Labels for AI-altered images: a visible mark drawn into the pixels and implicit labels written
into the file's metadata, as China's labelling measures (GB 45438-2025) and EU AI Act Art. 50 ask.

- :func:`draw_label` draws a text mark ("AI-generated" by default) on a filled, contrasting box in
  a corner of the image, in place.
- :func:`save_image` writes a PNG or JPEG with the implicit labels of a :class:`Provenance`: an
  XMP packet carrying the IPTC digital source type and the AIGC label of GB 45438-2025 (the JSON
  object of the TC260 practice guide's ``TC260:AIGC`` XMP property), plus the same JSON in a PNG
  ``AIGC`` iTXt chunk or a JPEG comment segment.
- :func:`read_labels` reads them back, opening the file for reading only.

Nothing here touches biometric data: labels describe the output image, never a face in it, and
``content_id`` is random (uuid4), never derived from pixels.
"""

from __future__ import annotations

import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = [
    "AIGC_NAMESPACE",
    "COMPOSITE_SYNTHETIC",
    "LabelOptions",
    "MIN_TEXT_HEIGHT",
    "Provenance",
    "draw_label",
    "read_labels",
    "save_image",
]

# The IPTC digital source type of a face fusion (why this one: see Provenance's docstring).
COMPOSITE_SYNTHETIC = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"
# The XMP namespace of the TC260 practice guide (TC260-PG-20258A) for GB 45438-2025's metadata
# label: one property, TC260:AIGC, whose value is the label's JSON object.
AIGC_NAMESPACE = "http://www.tc260.org.cn/ns/AIGC/1.0/"
# Smallest height, in pixels, of the label's text (its ink, ascenders to descenders) that stays
# legible; a short side too small for this, with the box around it, is refused.
MIN_TEXT_HEIGHT = 8
# The least text height as a fraction of the short side (GB 45438-2025 asks for a prominent mark;
# Tencent Cloud's and this project's promise is 5%). A larger requested height shrinks toward it
# when the text would not fit the image, never below it.
_MIN_FRACTION = 0.05

_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_FACEKIT_NS = "urn:facekit:ns:provenance:1"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMP_META = "adobe:ns:meta/"
_XMP_BASIC = "http://ns.adobe.com/xap/1.0/"
_PNG_XMP_KEY = "XML:com.adobe.xmp"
_PNG_AIGC_KEY = "AIGC"
# The AIGC fields of GB 45438-2025 (Annex E), in the standard's order; all values are strings.
_AIGC_FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
                "PropagateID", "ReservedCode2")
# A JPEG segment holds 65533 payload bytes, less the 29-byte XMP namespace header.
_JPEG_XMP_MAX = 65533 - 29
_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
_POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
_HEX32 = re.compile(r"[0-9a-f]{32}")

Position = Literal["top-left", "top-right", "bottom-left", "bottom-right"]

for _prefix, _uri in (("x", _XMP_META), ("rdf", _RDF), ("Iptc4xmpExt", _IPTC_EXT),
                      ("TC260", AIGC_NAMESPACE), ("xmp", _XMP_BASIC), ("facekit", _FACEKIT_NS)):
    ET.register_namespace(_prefix, _uri)


@lru_cache(maxsize=1)
def _facekit_version() -> str:
    # Read once: the metadata lookup costs ~0.25 ms, paid by every Provenance otherwise.
    return metadata.version("facekit")


def _new_content_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where an output image came from, written into its file by :func:`save_image`.

    Fields are keyword-only. ``consent`` is the attestation string the application gave (the
    people whose faces were used agreed); it is required. ``content_id`` is a fresh random uuid4
    hex per instance, never derived from pixels. ``label_text`` is the visible mark's text, None
    exactly when ``visible_label`` is False (a mark switched off explicitly, and recorded so).

    ``digital_source_type`` defaults to IPTC's :data:`COMPOSITE_SYNTHETIC` (NewsCodes
    vocabulary http://cv.iptc.org/newscodes/digitalsourcetype/), the composite type that fits a
    geometric and photometric fusion of two photos. "compositeCapture" would say every element
    is a capture of real life, which a warped, colour-transferred, blended face is not;
    "composite" says nothing about synthesis; "compositeWithTrainedAlgorithmicMedia" claims an
    element made by a trained generative model, and no model generates pixels here (the
    landmarker only locates points). "compositeSynthetic" -- a composite including at least one
    synthetic element -- is what this is: a face synthesized by algorithm, pasted into a captured
    scene; and readers of the type (search engines, C2PA tools) treat it as altered content,
    which is the label's purpose.
    """

    consent: str
    ai_generated: bool = True
    visible_label: bool = True
    label_text: str | None = "AI-generated"
    operation: str = "face_fusion"
    producer: str = "facekit"
    producer_version: str = field(default_factory=_facekit_version)
    content_id: str = field(default_factory=_new_content_id)
    digital_source_type: str = COMPOSITE_SYNTHETIC

    def __post_init__(self) -> None:
        for name in ("consent", "operation", "producer", "producer_version",
                     "digital_source_type"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Provenance.{name} must be a non-empty string, got {value!r}")
        for name in ("ai_generated", "visible_label"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"Provenance.{name} must be a bool")
        if self.visible_label != (self.label_text is not None):
            raise ValueError("Provenance.label_text must be the visible mark's text when "
                             "visible_label is True and None when it is False")
        if self.label_text is not None and (not isinstance(self.label_text, str)
                                            or not self.label_text.strip()):
            raise ValueError("Provenance.label_text must be a non-empty string or None")
        if not isinstance(self.content_id, str) or not _HEX32.fullmatch(self.content_id):
            raise ValueError("Provenance.content_id must be 32 lowercase hex digits (uuid4 hex)")

    def to_aigc(self) -> dict[str, str]:
        """The GB 45438-2025 metadata label (Annex E fields, all strings).

        ``Label`` "1" means AI-generated/synthesized content; ``ContentProducer`` is the producer;
        ``ProduceID`` the content id. The propagator fields are left empty for the platform that
        distributes the file to fill, and the reserved codes are unused. Raises ``ValueError``
        when ``ai_generated`` is False: such content carries no AIGC label.
        """
        if not self.ai_generated:
            raise ValueError("content not marked ai_generated carries no AIGC label")
        values = {"Label": "1", "ContentProducer": self.producer, "ProduceID": self.content_id}
        return {name: values.get(name, "") for name in _AIGC_FIELDS}

    def to_aigc_json(self) -> str:
        """:meth:`to_aigc` as compact JSON, the form files carry (PNG chunk, JPEG comment,
        XMP property, video metadata)."""
        return json.dumps(self.to_aigc(), ensure_ascii=False, separators=(",", ":"))

    def to_xmp(self) -> str:
        """An XMP packet: ``Iptc4xmpExt:DigitalSourceType``, ``TC260:AIGC`` (the
        :meth:`to_aigc` JSON, when ``ai_generated``), ``xmp:CreatorTool`` and the other
        provenance fields in facekit's namespace (``urn:facekit:ns:provenance:1``)."""
        root = ET.Element(f"{{{_XMP_META}}}xmpmeta")
        rdf = ET.SubElement(root, f"{{{_RDF}}}RDF")
        desc = ET.SubElement(rdf, f"{{{_RDF}}}Description", {f"{{{_RDF}}}about": ""})
        ET.SubElement(desc, f"{{{_IPTC_EXT}}}DigitalSourceType").text = self.digital_source_type
        if self.ai_generated:
            ET.SubElement(desc, f"{{{AIGC_NAMESPACE}}}AIGC").text = self.to_aigc_json()
        ET.SubElement(desc, f"{{{_XMP_BASIC}}}CreatorTool").text = (
            f"{self.producer} {self.producer_version}")
        for name, value in asdict(self).items():
            text = "" if value is None else str(value).lower() if isinstance(value, bool) else value
            ET.SubElement(desc, f"{{{_FACEKIT_NS}}}{name}").text = text
        body = ET.tostring(root, encoding="unicode")
        return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{body}'
                '<?xpacket end="r"?>')


@dataclass(frozen=True)
class LabelOptions:
    """The visible mark: ``text`` drawn at ``position`` with its ink ``min_height`` (0.05..0.5)
    of the image's short side high, and at least :data:`MIN_TEXT_HEIGHT` pixels. A text too wide
    for the image at the requested height is scaled down to fit, but never below 5% of the short
    side. ``font`` is a TrueType/OpenType file for scripts Pillow's default font lacks; None uses
    Pillow's scalable default font."""

    text: str = "AI-generated"
    position: Position = "bottom-right"
    font: str | os.PathLike[str] | None = None
    min_height: float = 0.05

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"LabelOptions.text must be a non-empty string, got {self.text!r}")
        if "\n" in self.text:
            raise ValueError("LabelOptions.text must be a single line")
        if self.position not in _POSITIONS:
            raise ValueError(f"LabelOptions.position must be one of {', '.join(_POSITIONS)}, "
                             f"got {self.position!r}")
        if self.font is not None and not isinstance(self.font, (str, os.PathLike)):
            raise TypeError("LabelOptions.font must be a font file path or None")
        if (isinstance(self.min_height, bool) or not isinstance(self.min_height, (int, float))
                or not _MIN_FRACTION <= self.min_height <= 0.5):
            raise ValueError("LabelOptions.min_height must be a fraction of the short side "
                             f"from 0.05 to 0.5, got {self.min_height!r}")


def _load_font(options: LabelOptions, size: int) -> Any:
    from PIL import ImageFont

    if options.font is None:
        font = ImageFont.load_default(size=size)
        if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
            raise ValueError("this Pillow has no FreeType, so its default font cannot be scaled; "
                             "pass LabelOptions(font=...) with a TrueType/OpenType file")
        return font
    path = Path(options.font)
    if not path.is_file():
        raise FileNotFoundError(f"label font file {str(path)!r} does not exist")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as exc:
        raise ValueError(f"cannot read label font {str(path)!r} as a TrueType/OpenType font: "
                         f"{exc}") from None


def _fit_font(options: LabelOptions, height: int) -> tuple[Any, tuple[int, int, int, int]]:
    """The font size whose ink for the text is at least `height` pixels high, and that ink box."""
    size = height
    for _ in range(64):
        font = _load_font(options, size)
        box = font.getbbox(options.text)
        ink = box[3] - box[1]
        if ink >= height:
            return font, box
        size = max(size + 1, size * height // max(ink, 1))
    raise ValueError(f"the label font cannot render {options.text!r} (no visible glyphs)")


def _layout(shape: tuple[int, int], ink: tuple[int, int], position: str
            ) -> tuple[int, int, int, int, int]:
    """Box (x0, y0, x1, y1) and padding for ink of size (w, h) in an image of shape (H, W).

    Padding and margin shrink on small images so the box still fits; the text never does (its
    height is the promise). Raises ValueError, with the size needed, when it cannot fit."""
    rows, cols = shape
    ink_w, ink_h = ink
    pad = max(1, round(ink_h * 0.25))
    margin = max(1, round(min(rows, cols) * 0.02))
    while pad + margin > 1 and (ink_w + 2 * (pad + margin) > cols
                                or ink_h + 2 * (pad + margin) > rows):
        pad, margin = (pad - 1, margin) if pad > 1 else (pad, margin - 1)
    box_w, box_h = ink_w + 2 * pad, ink_h + 2 * pad
    if box_w + 2 * margin > cols or box_h + 2 * margin > rows:
        raise ValueError(
            f"image of {cols}x{rows} pixels is too small to carry a readable label: its text "
            f"needs a {box_w + 2 * margin}x{box_h + 2 * margin} box (text at least "
            f"{MIN_TEXT_HEIGHT} px high and the requested fraction of the short side); use a "
            "larger image or a shorter text")
    x0 = margin if position.endswith("left") else cols - margin - box_w
    y0 = margin if position.startswith("top") else rows - margin - box_h
    return x0, y0, x0 + box_w, y0 + box_h, pad


def draw_label(image: np.ndarray, options: LabelOptions | None = None,
               color_format: str = "rgb") -> None:
    """Draw the visible AI-content mark into ``image`` in place.

    ``image``: writable uint8 HxW, HxWx1, HxWx3 or HxWx4 array; ``color_format``: "rgb", "bgr",
    "rgba" or "bgra" (the channel order of 3/4-channel images; gray ignores it). The text's ink
    is ``options.min_height`` of the short side high (scaled down, when it would not fit, only as
    far as 5%) and at least :data:`MIN_TEXT_HEIGHT` pixels, on a filled box whose shade contrasts
    with what it covers (dark text on white over dark pixels, white text on black over light
    ones); 4-channel images get an opaque box. Only the box's pixels change. Raises
    ``ValueError`` for a wrong array or an image too small for the mark (stating the size the
    mark needs), ``FileNotFoundError`` for a missing font file.
    """
    options = LabelOptions() if options is None else options
    if not isinstance(options, LabelOptions):
        raise TypeError(f"options must be a LabelOptions, got {type(options).__name__}")
    if color_format not in ("rgb", "bgr", "rgba", "bgra"):
        raise ValueError(f"color_format must be 'rgb', 'bgr', 'rgba' or 'bgra', got "
                         f"{color_format!r}")
    channels = _check_pixels(image)
    if color_format.endswith("a") and channels != 4:
        raise ValueError(f"color_format {color_format!r} needs an HxWx4 image, got shape "
                         f"{image.shape}")
    if not image.flags.writeable:
        raise ValueError("image is read-only; draw_label draws in place (pass a writable copy)")
    x0, y0, x1, y1, shades = _rendered_mark(image.shape[:2], options)
    region = image[y0:y1, x0:x1]
    shade = shades[_luma(region, color_format, channels) < 128]  # H x W x 3, channels equal
    if channels == 1:
        region[...] = shade[..., :1].reshape(region.shape)
    elif channels == 3:
        region[...] = shade
    else:
        region[..., :3] = shade
        region[..., 3] = 255


@lru_cache(maxsize=16)
def _rendered_mark(shape: tuple[int, int], options: LabelOptions
                   ) -> tuple[int, int, int, int, tuple[np.ndarray, np.ndarray]]:
    """The mark's box (x0, y0, x1, y1) in an image of `shape` (rows, cols) and its two
    renderings (white text on black, black text on white), read-only. Cached: rendering the
    text costs about a millisecond per image, and the mark holds no pixel of the image."""
    rows, cols = shape
    floor = max(MIN_TEXT_HEIGHT, int(np.ceil(_MIN_FRACTION * min(rows, cols))))
    height = max(floor, int(np.ceil(options.min_height * min(rows, cols))))
    while True:
        font, ink = _fit_font(options, height)
        ink_w, ink_h = ink[2] - ink[0], ink[3] - ink[1]
        try:
            x0, y0, x1, y1, pad = _layout((rows, cols), (ink_w, ink_h), options.position)
            break
        except ValueError:
            if height == floor:
                raise
            # Too wide or tall: shrink the text toward the floor, never below it.
            height = max(floor, min(height - 1, height * (cols - 2) // (ink_w + 2),
                                    height * (rows - 2) // (ink_h + 2)))

    from PIL import Image, ImageDraw

    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(mask).text((pad - ink[0], pad - ink[1]), options.text, fill=255, font=font)
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    # Index False: light pixels under the box (white text on black); True: dark ones. Stored
    # with three equal channels: a contiguous copy is ~40x faster than a broadcast one.
    shades = tuple(np.repeat(np.rint(box + (text - box) * alpha).astype(np.uint8)[..., None],
                             3, axis=2) for box, text in ((0, 255), (255, 0)))
    for shade in shades:
        shade.flags.writeable = False
    return x0, y0, x1, y1, (shades[0], shades[1])


def _check_pixels(image: Any) -> int:
    """The channel count of a uint8 HxW/HxWx1/HxWx3/HxWx4 array; ValueError/TypeError if not."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy uint8 array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image dtype must be uint8, got {image.dtype}")
    if image.ndim == 2:
        channels = 1
    elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
        channels = image.shape[2]
    else:
        raise ValueError(f"image shape {image.shape} is not HxW, HxWx1, HxWx3 or HxWx4")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    return channels


def _luma(region: np.ndarray, color_format: str, channels: int) -> float:
    """Mean luma (BT.601) of a region of an image (its gray channel for 1-channel images)."""
    # Exact integer sums, column by column over the rows then per channel: a strided region's
    # rows are contiguous, so this copies nothing (numpy's mean over a view does).
    columns = region.reshape(region.shape[0], -1).sum(axis=0, dtype=np.uint64)
    sums = columns.reshape(-1, channels).sum(axis=0) / (region.shape[0] * region.shape[1])
    if channels == 1:
        return float(sums[0])
    r, g, b = sums[:3] if color_format.startswith("rgb") else sums[2::-1]
    return float(0.299 * r + 0.587 * g + 0.114 * b)


def save_image(path: str | os.PathLike[str], image_or_result: Any,
               provenance: Provenance | None = None, *, quality: int = 95,
               color_format: str = "rgb") -> None:
    """Save an image as PNG or JPEG (by the path's suffix) with its implicit labels.

    ``image_or_result``: a uint8 HxW, HxWx1, HxWx3 or HxWx4 array (``color_format`` "rgb" or
    "bgr" gives the channel order), or a result object with ``.image`` and ``.provenance`` (a
    ``FusionResult``). With a provenance, a PNG gets iTXt chunks ``XML:com.adobe.xmp`` (the
    :meth:`Provenance.to_xmp` packet) and ``AIGC`` (the :meth:`Provenance.to_aigc` JSON); a JPEG
    gets the XMP packet in its APP1 segment and the AIGC JSON in a COM segment. Without one the
    image is saved plainly. ``quality`` (1..95) applies to JPEG.

    The file is written to a temporary name in the target folder and renamed over ``path``, so
    an error never leaves a half-written file. Raises ``ValueError`` for an unknown suffix, a
    wrong array, alpha in a JPEG or a bad quality; ``FileNotFoundError`` / ``NotADirectoryError``
    / ``PermissionError`` when the folder cannot take the file.
    """
    path = Path(path)
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save {path.name!r}: the suffix must be .png, .jpg or .jpeg")
    image = image_or_result
    if hasattr(image_or_result, "image") and hasattr(image_or_result, "provenance"):
        if provenance is not None:
            raise ValueError("pass either a result (which carries its provenance) or an image "
                             "with provenance=, not both")
        image, provenance = image_or_result.image, image_or_result.provenance
    if provenance is not None and not isinstance(provenance, Provenance):
        raise TypeError(f"provenance must be a Provenance or None, got "
                        f"{type(provenance).__name__}")
    if color_format not in ("rgb", "bgr"):
        raise ValueError(f"color_format must be 'rgb' or 'bgr', got {color_format!r}")
    channels = _check_pixels(image)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"quality must be an int from 1 to 95, got {quality!r}")
    if fmt == "JPEG" and channels == 4:
        raise ValueError("JPEG cannot store an alpha channel; save as .png or drop channel 3")
    folder = path.parent
    if not folder.exists():
        raise FileNotFoundError(f"cannot save {path.name!r}: folder {str(folder)!r} does not "
                                "exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot save {path.name!r}: {str(folder)!r} is not a folder")
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {str(path)!r}: it is a folder")

    from PIL import Image, PngImagePlugin

    pixels = np.ascontiguousarray(image.reshape(image.shape[:2]) if channels == 1 else image)
    if channels >= 3 and color_format == "bgr":
        pixels = np.ascontiguousarray(pixels[..., [2, 1, 0, 3][:channels]])
    picture = Image.fromarray(pixels, {1: "L", 3: "RGB", 4: "RGBA"}[channels])
    options: dict[str, Any] = {}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if provenance is not None:
            info.add_itxt(_PNG_XMP_KEY, provenance.to_xmp())
            if provenance.ai_generated:
                info.add_itxt(_PNG_AIGC_KEY, provenance.to_aigc_json())
        options["pnginfo"] = info
    else:
        options["quality"] = quality
        if provenance is not None:
            options["xmp"] = provenance.to_xmp().encode("utf-8")
            if len(options["xmp"]) > _JPEG_XMP_MAX:
                raise ValueError(f"the provenance's XMP packet ({len(options['xmp'])} bytes) "
                                 f"exceeds a JPEG APP1 segment ({_JPEG_XMP_MAX} bytes); shorten "
                                 "its strings or save as .png")
            if provenance.ai_generated:
                options["comment"] = provenance.to_aigc_json().encode("utf-8")

    temp = folder / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except PermissionError as exc:
        raise PermissionError(f"cannot save {path.name!r}: folder {str(folder)!r} is not "
                              f"writable ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            picture.save(out, fmt, **options)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def read_labels(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The implicit labels :func:`save_image` wrote, read back from a PNG or JPEG.

    Returns ``{}`` when the file has no facekit/IPTC labels, else a dict with
    ``"digital_source_type"`` (the IPTC URI, or None), ``"aigc"`` (the GB 45438 fields; ``{}``
    if absent), ``"xmp"`` (the packet's text) and ``"provenance"`` (the :class:`Provenance` the
    file records, or None when its facekit fields are missing or incomplete). Opens the file for
    reading only. Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file
    that is not an image or whose labels are malformed.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such image file: {str(path)!r}")
    try:
        with Image.open(path) as picture:
            fmt, info = picture.format, dict(picture.info)
    except UnidentifiedImageError:
        raise ValueError(f"{str(path)!r} is not an image Pillow can read") from None
    if fmt == "PNG":
        xmp, extra = info.get(_PNG_XMP_KEY), info.get(_PNG_AIGC_KEY)
    elif fmt == "JPEG":
        xmp, extra = info.get("xmp"), info.get("comment")
    else:
        return {}
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", errors="replace")
    if isinstance(extra, bytes):
        extra = extra.decode("utf-8", errors="replace")
    return parse_labels(xmp, extra)


def parse_labels(xmp: str | None, aigc: str | None = None) -> dict[str, Any]:
    """The labels in an XMP packet and a standalone AIGC JSON text (either may be None), as
    :func:`read_labels` returns them: ``{}`` when neither carries the IPTC digital source type
    or an AIGC label. Containers other than images (video metadata) read through this too.
    ValueError for a malformed packet or AIGC JSON."""
    fields = _parse_xmp(xmp) if xmp else {}
    aigc_text = fields.pop(f"{{{AIGC_NAMESPACE}}}AIGC", None) or _aigc_candidate(aigc)
    dst = fields.get(f"{{{_IPTC_EXT}}}DigitalSourceType")
    if not dst and not aigc_text:  # no XMP, or another tool's XMP without these labels
        return {}
    return {"digital_source_type": dst, "aigc": _parse_aigc(aigc_text) if aigc_text else {},
            "xmp": xmp or "", "provenance": _provenance_from(fields)}


def _parse_xmp(xmp: str) -> dict[str, str]:
    """The simple properties of the packet's rdf:Description elements, by {namespace}name."""
    if re.search(r"<!(DOCTYPE|ENTITY)", xmp, re.IGNORECASE):
        raise ValueError("XMP packet declares a DOCTYPE or entities; refusing to parse it")
    body = re.sub(r"<\?xpacket[^>]*\?>", "", xmp).strip()
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XMP packet: {exc}") from None
    fields: dict[str, str] = {}
    for desc in root.iter(f"{{{_RDF}}}Description"):
        for name, value in desc.attrib.items():  # properties may be written as attributes
            fields.setdefault(name, value)
        for child in desc:
            if len(child) == 0:
                fields.setdefault(child.tag, child.text or "")
    return fields


def _aigc_candidate(text: str | None) -> str | None:
    """A standalone AIGC chunk/comment, if it is a JSON object with a Label."""
    if not text or not text.lstrip().startswith("{"):
        return None
    return text if '"Label"' in text else None


def _parse_aigc(text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed AIGC label JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValueError("malformed AIGC label: not a JSON object")
    return value


def _provenance_from(fields: dict[str, str]) -> Provenance | None:
    prefix = f"{{{_FACEKIT_NS}}}"
    values: dict[str, Any] = {k[len(prefix):]: v for k, v in fields.items()
                              if k.startswith(prefix)}
    names = {f for f in Provenance.__dataclass_fields__}
    if set(values) != names:
        return None
    for name in ("ai_generated", "visible_label"):
        values[name] = values[name] == "true"
    values["label_text"] = values["label_text"] or None
    try:
        return Provenance(**values)
    except (TypeError, ValueError):
        return None
