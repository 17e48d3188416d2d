"""The facekit command line."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from support import facekit_script

from facekit import cli


def test_info_prints_cpu_and_arena_protections(capsys):
    assert cli.main(["info"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cpu"]["active"] in report["cpu"]["available"]
    assert report["arena"]["dontdump"] is True and report["arena"]["wipeonfork"] is True


def test_console_script_is_installed():
    result = subprocess.run([facekit_script(), "info"], capture_output=True, text=True, timeout=120,
                            cwd=tempfile.gettempdir())
    assert result.returncode == 0 and '"active"' in result.stdout


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_entry_point():
    # Outside the source tree, so that the installed package is the one imported.
    result = subprocess.run([sys.executable, "-m", "facekit.cli", "info"], capture_output=True,
                            text=True, timeout=120, cwd=tempfile.gettempdir())
    assert result.returncode == 0 and '"arena"' in result.stdout


def test_models_lists_and_verifies_every_model(capsys):
    from facekit.models import list_models

    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok") == len(list_models()) >= 7
    assert "face_landmark" in out and "dlib_shape_predictor_5" in out and "CC0-1.0" in out


def test_beautify_writes_a_changed_image_and_refuses_bad_options(tmp_path):
    from PIL import Image

    from facekit.audit.memscan_child import SAMPLE

    out = tmp_path / "out.png"
    assert cli.main(["beautify", str(SAMPLE), str(out), "--preset", "studio",
                     "--lipstick", "0.8", "--lipstick-color", "200,30,80"]) == 0
    before = np.asarray(Image.open(SAMPLE).convert("RGB"))
    after = np.asarray(Image.open(out))
    assert after.shape == before.shape
    assert np.count_nonzero(np.any(after != before, axis=2)) > 10_000
    assert cli.main(["beautify", str(SAMPLE), str(out), "--smoothing", "3"]) == 2
    assert cli.main(["beautify", str(SAMPLE), str(out), "--blush-color", "red"]) == 2


def test_gallery_writes_every_effect_side_by_side(tmp_path):
    from PIL import Image

    import facekit
    from facekit._gallery import (
        CHANGE_GAIN,
        FUSION_PAIRS,
        PORTRAIT_PHOTO,
        SHARED_FACES,
        SKIN_PHOTOS,
    )
    from facekit.beauty import EFFECTS

    assert cli.main(["gallery", "--out", str(tmp_path)]) == 0
    names = {p.stem for p in tmp_path.glob("*.png")}
    expected = {e for e in EFFECTS if e != "lut"} | {"lut_warm", "preset_natural",
                                                     "preset_studio"}
    shared = SHARED_FACES.exists()  # the shared pairs, else the bundled sample and its mirror
    fusion = ({f"fusion_{t.rsplit('.', 1)[0]}_{u.rsplit('.', 1)[0]}" for t, u in FUSION_PAIRS}
              if shared else {"fusion_sample_mirrored"})
    skin = {f"skin_{n.rsplit('.', 1)[0]}" for n in SKIN_PHOTOS} if shared else {"skin_sample"}
    portrait = {f"portrait_{PORTRAIT_PHOTO.rsplit('.', 1)[0]}" if shared else "portrait_sample"}
    assert names == expected | fusion | skin | portrait
    for name in skin:  # before, studio, and where whitening changed it (grey, amplified)
        strip = np.asarray(Image.open(tmp_path / f"{name}.png"))
        third = strip.shape[1] // 3
        before, after, change = (strip[:, i * third:(i + 1) * third] for i in range(3))
        assert not np.array_equal(before, after)
        assert (change == change[..., :1]).all()  # grey
        assert (change[..., 0] >= CHANGE_GAIN).mean() > 0.05  # the skin, lifted
        corners = np.concatenate([change[:20, :20], change[:20, -20:]])
        assert not corners.any()  # the background above the head untouched
    [name] = portrait  # photo, blurred, replaced by a colour, cut out: each differs from it
    strip = np.asarray(Image.open(tmp_path / f"{name}.png"))
    quarter = strip.shape[1] // 4
    photo, *effects = (strip[:, i * quarter:(i + 1) * quarter] for i in range(4))
    assert all(not np.array_equal(photo, panel) for panel in effects)
    strip = np.asarray(Image.open(tmp_path / "smoothing.png"))
    third = strip.shape[1] // 3
    before, half, full = (strip[:, i * third:(i + 1) * third] for i in range(3))
    assert not np.array_equal(before, half) and not np.array_equal(half, full)
    for name in fusion:  # template, shape = features = 0, 0.5, 1, swap; labelled
        strip = np.asarray(Image.open(tmp_path / f"{name}.png"))
        fifth = strip.shape[1] // 5
        template, zero, half, full, swap = (strip[:, i * fifth:(i + 1) * fifth]
                                            for i in range(5))
        assert np.array_equal(template[:fifth // 2], zero[:fifth // 2])
        assert not np.array_equal(zero, half) and not np.array_equal(half, full)
        assert facekit.read_labels(tmp_path / f"{name}.png")["aigc"]


def test_fuse_command_writes_a_labelled_image(tmp_path, capsys):
    from PIL import Image

    import facekit
    from facekit.audit.memscan_child import SAMPLE

    mirrored = tmp_path / "mirrored.png"
    Image.fromarray(np.ascontiguousarray(facekit.load_image(SAMPLE)[:, ::-1])).save(mirrored)
    out = tmp_path / "fused.jpg"
    consent = "test: the bundled public-domain sample"
    assert cli.main(["fuse", str(SAMPLE), str(mirrored), str(out), "--swap",
                     "--consent", consent]) == 0
    assert "labelled AI-generated" in capsys.readouterr().out
    labels = facekit.read_labels(out)
    assert labels["aigc"] and consent in labels["xmp"]
    plain = tmp_path / "plain.png"
    assert cli.main(["fuse", str(SAMPLE), str(mirrored), str(plain), "--shape", "0.3",
                     "--features", "0.4", "--no-label", "--consent", consent]) == 0
    assert np.asarray(Image.open(plain)).shape == facekit.load_image(SAMPLE).shape
    assert cli.main(["fuse", str(SAMPLE), str(mirrored), str(plain), "--consent", ""]) == 2
    assert "Art. 14" in capsys.readouterr().err
    assert cli.main(["fuse", str(SAMPLE), str(mirrored), str(plain), "--shape", "2",
                     "--consent", consent]) == 2
    with pytest.raises(SystemExit):  # --consent is required
        cli.main(["fuse", str(SAMPLE), str(mirrored), str(plain)])


def test_fuse_command_refuses_another_persons_photo(tmp_path, capsys):
    from support import shared_face

    obama, obama2, biden = (str(shared_face(n)) for n in ("obama.jpg", "obama2.jpg",
                                                           "biden.jpg"))
    out = str(tmp_path / "out.png")
    assert cli.main(["fuse", obama, biden, out, "--same-person-as", obama2,
                     "--consent", "test"]) == 1
    assert "selfie" in capsys.readouterr().err
    assert cli.main(["fuse", biden, obama, out, "--same-person-as", obama2,
                     "--consent", "test"]) == 0


def test_anonymize_command_covers_the_face(tmp_path):
    from PIL import Image

    from facekit.audit.memscan_child import SAMPLE

    out = tmp_path / "anon.png"
    assert cli.main(["anonymize", str(SAMPLE), str(out), "--method", "blur"]) == 0
    image = np.asarray(Image.open(out))
    import facekit

    with facekit.FaceDetector() as detector, detector.detect(image) as result:
        assert len(result.faces) == 0
    assert cli.main(["anonymize", str(SAMPLE), str(out), "--padding", "9"]) == 2


def test_portrait_command_writes_each_effect(tmp_path, capsys):
    """Blur, colour and image backgrounds and the cut-out, each checked against the image
    Portrait itself gives (a PNG round trip is lossless); bad values exit 2 with one line."""
    from PIL import Image

    import facekit
    from facekit.audit.memscan_child import SAMPLE

    image = facekit.load_image(SAMPLE)

    def expected(**options):
        with facekit.Portrait(**options) as portrait, portrait.segment(image) as result:
            return np.array(result.image)

    backdrop = tmp_path / "backdrop.png"
    Image.fromarray(np.full((30, 40, 3), (10, 20, 200), np.uint8)).save(backdrop)
    cases = [(["--blur", "0.7"], {"blur": 0.7}),
             (["--background", "0,255,0"], {"background": (0, 255, 0)}),
             (["--background", str(backdrop)],
              {"background": np.full((30, 40, 3), (10, 20, 200), np.uint8)}),
             (["--cutout"], {"cutout": True})]
    for flags, options in cases:
        out = tmp_path / "out.png"
        assert cli.main(["portrait", str(SAMPLE), str(out), *flags]) == 0
        written = np.asarray(Image.open(out))
        assert np.array_equal(written, expected(**options)), flags
        assert "facekit portrait:" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape[2] == 4  # the cut-out is RGBA
    for flags in (["--blur", "1.5"], ["--background", "300,0,0"]):
        assert cli.main(["portrait", str(SAMPLE), str(tmp_path / "x.png"), *flags]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "must" in err
    with pytest.raises(SystemExit):  # argparse: exactly one effect
        cli.main(["portrait", str(SAMPLE), str(tmp_path / "x.png"), "--blur", "1", "--cutout"])


def test_verify_command_prints_decision_and_distance_only(capsys):
    from support import shared_face

    a, b, c = (str(shared_face(n)) for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    assert cli.main(["verify", a, b]) == 0
    out = capsys.readouterr().out
    assert "same person" in out and "distance 0." in out and out.count("\n") == 1
    assert cli.main(["verify", a, c]) == 1
    assert "different people" in capsys.readouterr().out


def test_beautify_refuses_a_16_bit_photo_with_a_one_line_message(tmp_path, capsys):
    from PIL import Image

    source, out = tmp_path / "deep.png", tmp_path / "out.png"
    Image.fromarray(np.full((64, 64), 40000, np.uint16)).save(source)
    assert Image.open(source).mode == "I;16"
    assert cli.main(["beautify", str(source), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'I;16'" in err and "16/32-bit" in err
    assert not out.exists()


def test_models_exits_with_an_error_when_the_manifest_lists_none(tmp_path, monkeypatch, capsys):
    from facekit import models

    (tmp_path / "manifest.json").write_text('{"format": 1, "models": []}')
    monkeypatch.setattr(models, "_default_directory", lambda: tmp_path)
    assert cli.main(["models"]) == 3
    assert "lists no models" in capsys.readouterr().err


def _models_with_shape_predictor(folder, blob: bytes, update_manifest: bool):
    """A models folder like the installed one (links) whose shape predictor is `blob`; with
    update_manifest its hash and size are rewritten to match (a consistent tamper)."""
    import hashlib

    from facekit import models

    installed = models.model_info("dlib_shape_predictor_5").path.parent
    for path in installed.iterdir():
        if path.name not in ("manifest.json", "dlib_shape_predictor_5.bin"):
            (folder / path.name).symlink_to(path)
    (folder / "dlib_shape_predictor_5.bin").write_bytes(blob)
    manifest = json.loads((installed / "manifest.json").read_text())
    if update_manifest:
        for entry in manifest["models"]:
            if entry["name"] == "dlib_shape_predictor_5":
                entry["sha256"], entry["bytes"] = hashlib.sha256(blob).hexdigest(), len(blob)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _verify_with_models(folder) -> subprocess.CompletedProcess:
    """`facekit verify` on two photos in a child process whose models folder is `folder` (a
    child: a crash in native code must fail the test, not kill pytest)."""
    from support import shared_face

    code = ("import sys, pathlib; from facekit import cli, models; "
            f"models._default_directory = lambda: pathlib.Path({str(folder)!r}); "
            f"sys.exit(cli.main(['verify', {str(shared_face('obama.jpg'))!r}, "
            f"{str(shared_face('biden.jpg'))!r}]))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=tempfile.gettempdir())


def test_verify_exits_3_not_1_when_a_model_fails_its_hash(tmp_path):
    from facekit.models import read_verified

    blob = bytearray(read_verified("dlib_shape_predictor_5"))
    blob[len(blob) // 2] ^= 0x01
    _models_with_shape_predictor(tmp_path, bytes(blob), update_manifest=False)
    result = _verify_with_models(tmp_path)
    assert result.returncode == 3, result.stderr[-2000:]
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "ModelIntegrityError" in result.stderr and "altered or truncated" in result.stderr


def test_verify_exits_3_for_a_consistently_tampered_shape_predictor(tmp_path):
    """A NaN in the mean shape, with the manifest's hash rewritten to match: the parser must
    refuse it (it used to segfault in predict) and the CLI report a runtime error."""
    import struct

    from facekit.models import read_verified

    blob = bytearray(read_verified("dlib_shape_predictor_5"))
    struct.pack_into("<f", blob, 28, float("nan"))  # the mean shape's first x
    _models_with_shape_predictor(tmp_path, bytes(blob), update_manifest=True)
    result = _verify_with_models(tmp_path)
    assert result.returncode == 3, (result.returncode, result.stderr[-2000:])
    assert result.stderr.count("\n") == 1
    assert "dlib_shape_predictor_5 is malformed" in result.stderr
    assert "non-finite" in result.stderr
