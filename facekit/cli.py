"""The ``facekit`` command line.

Exit status, in every command: 0 success (for ``verify``: same person); 1 a negative answer
(``verify``: different people; ``models``: a file fails its check; ``audit``: a check failed;
``demo``: no face found; ``fuse``: the photo is not the person of ``--same-person-as``); 2 a usage or input error (bad arguments or option values, an
unreadable or unsupported image); 3 a runtime error (a damaged install such as a model that
fails its integrity check, or any other internal failure); ``video`` exits 130 when
interrupted (Ctrl-C), leaving no output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

_COVERS = ("pixelate", "blur", "solid", "mask")

__all__ = ["main", "EXIT_USAGE", "EXIT_RUNTIME"]

EXIT_USAGE = 2    # argparse's own code for bad arguments; also bad values and unreadable inputs
EXIT_RUNTIME = 3  # the command could not run: damaged install, internal failure


class _RuntimeFailure(Exception):
    """A command found the installation unusable (exit EXIT_RUNTIME)."""


def _info(args: argparse.Namespace) -> int:
    from . import SecureArena, __version__, cpu_features, telemetry_status

    with SecureArena() as arena:
        status = arena.status()
    report = {
        "facekit": __version__,
        "cpu": cpu_features(),
        "arena": {
            "locked": status.locked,
            "dontdump": status.dontdump,
            "wipeonfork": status.wipeonfork,
            "region_bytes": status.capacity,
        },
        "onnxruntime_telemetry": telemetry_status(),
    }
    print(json.dumps(report, indent=2))
    return 0


def _demo(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from PIL import Image

    from . import FaceLandmarker, FaceLandmarkerOptions, load_image
    from ._native import draw, landmarks

    source = Path(args.image) if args.image else Path(__file__).parent / "data" / "sample.jpg"
    image = load_image(source)
    annotated = image.copy()
    radius = max(1, round(max(image.shape[:2]) / 600))
    options = FaceLandmarkerOptions(iris=True, refine=args.refine, max_faces=4)
    with FaceLandmarker.create_from_options(options) as landmarker:
        landmarker.detect(image).close()  # warm-up: first-run allocations stay out of the timing
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            landmarker.detect(image).close()
            times.append((time.perf_counter() - start) * 1e3)
        with landmarker.detect(image) as result:
            faces = len(result.faces)
            for face in result.faces:  # drawn natively: no coordinate enters Python
                mesh = landmarks.MESH_POINTS
                draw.points(annotated, face.landmarks[:mesh], (40, 220, 90), radius)
                draw.points(annotated, face.landmarks[mesh:], (250, 60, 60), radius + 1)
    Image.fromarray(annotated).save(args.out)
    times.sort()
    print(f"facekit demo: {faces} face(s) in {source.name} ({image.shape[1]}x{image.shape[0]}), "
          f"478 landmarks each ({args.refine}); detect + landmarks p50 "
          f"{times[len(times) // 2]:.1f} ms over {len(times)} runs, 1 thread, SIMD {_simd()}; annotated image: {args.out}")
    return 0 if faces else 1


def _simd() -> str:
    from .cpu import active_simd

    return active_simd()


def _models(args: argparse.Namespace) -> int:
    from .models import list_models, verify_models

    status = verify_models()
    if not status:
        raise _RuntimeFailure("the model manifest lists no models; reinstall facekit")
    for info in list_models():
        print(f"{info.name:<34} {info.bytes / 1e6:7.2f} MB  {info.licence:<10} "
              f"{info.source['package']} {info.source['version']}  {status[info.name]}")
    return 0 if all(v == "ok" for v in status.values()) else 1


def _beauty_options(args: argparse.Namespace):
    import dataclasses

    from .beauty import PRESETS, BeautyOptions

    options = PRESETS[args.preset]
    changes = {}
    for f in dataclasses.fields(BeautyOptions):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        if f.name.endswith("_color"):
            try:
                value = tuple(int(v) for v in value.split(","))
            except ValueError:
                raise ValueError(f"--{f.name.replace('_', '-')} takes R,G,B") from None
        changes[f.name] = value
    return options.replace(**changes)


def _beautify(args: argparse.Namespace) -> int:
    import time

    from PIL import Image

    from . import load_image
    from .beauty import Beautifier

    options = _beauty_options(args)
    image = load_image(args.input)
    with Beautifier(options) as beautifier:
        start = time.perf_counter()
        out = beautifier.apply(image)
        elapsed = (time.perf_counter() - start) * 1e3
    Image.fromarray(out).save(args.output)
    changed = int((out != image).any(axis=2).sum())
    print(f"facekit beautify: {args.input} -> {args.output} ({changed} pixels changed, "
          f"{elapsed:.0f} ms including landmarks)")
    return 0


def _anonymize(args: argparse.Namespace) -> int:
    from PIL import Image

    from . import load_image
    from .anonymize import anonymize

    color: Any = tuple(int(v) for v in args.color.split(",")) if args.color else (0, 0, 0)
    image = load_image(args.input)
    out = anonymize(image, args.method, padding=args.padding, color=color,
                    mask_image=_mask_image(args.method, args.mask_image),
                    full_resolution=args.full_resolution)
    Image.fromarray(out).save(args.output)
    print(f"facekit anonymize: {args.input} -> {args.output} ({args.method}); no face the "
          f"detectors can find remains")
    return 0


def _mask_image(method: str | None, path: str | None) -> Any:
    """--mask-image: the picture of --method mask, loaded as RGB; refused with another method."""
    if (method == "mask") != (path is not None):
        raise ValueError("--mask-image PATH goes with the mask method, and the mask method "
                         "needs it")
    if path is None:
        return None
    import numpy as np

    from . import load_image

    return np.ascontiguousarray(load_image(path)[..., :3])  # RGB, as the images it covers


def _anonymizer_options(args: argparse.Namespace) -> Any:
    """`facekit video`'s --anonymize METHOD, --mask-image, --hold-frames and
    --centerface-every as options."""
    given = {name: value for name, value in (("hold_frames", args.hold_frames),
                                             ("centerface_every", args.centerface_every))
             if value is not None}
    if args.anonymize is None:
        if args.mask_image is not None or given:
            raise ValueError("--mask-image, --hold-frames and --centerface-every go with "
                             "--anonymize METHOD")
        return None
    from .anonymize import AnonymizerOptions

    return AnonymizerOptions(args.anonymize, mask_image=_mask_image(args.anonymize,
                                                                    args.mask_image), **given)


def _portrait_background(value: str | None) -> Any:
    """--background: "R,G,B" (a colour) or the path of an image (loaded as RGB)."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) == 3 and all(p.strip().lstrip("-").isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    from . import load_image

    return _rgb(load_image(value))


def _rgb(image: Any) -> Any:
    """A 3-channel RGB copy of a loaded image (gray expanded, alpha dropped)."""
    import numpy as np

    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[..., None], 3, axis=2))
    return np.ascontiguousarray(image[..., :3])


def _portrait(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    from PIL import Image

    from . import load_image
    from .portrait import Portrait, PortraitOptions

    options = PortraitOptions(blur=args.blur or 0.0, cutout=args.cutout,
                              background=_portrait_background(args.background))
    image = _rgb(load_image(args.input))
    with Portrait(options) as portrait:
        start = time.perf_counter()
        with portrait.segment(image) as result:
            out = np.array(result.image)  # the output the user asked for, written below
        elapsed = (time.perf_counter() - start) * 1e3
    Image.fromarray(out).save(args.output)
    print(f"facekit portrait: {args.input} -> {args.output} ({options.effect}, {elapsed:.0f} ms)")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from . import load_image
    from .verify import FaceVerifier

    with FaceVerifier(args.threshold, face_index=args.face_index) as verifier:
        result = verifier.verify(load_image(args.a), load_image(args.b))
    verdict = "same person" if result.same_person else "different people"
    print(f"facekit verify: {verdict} (distance {result.distance:.3f}, threshold "
          f"{result.threshold:g})")
    return 0 if result.same_person else 1


def _fuse(args: argparse.Namespace) -> int:
    from . import load_image
    from .errors import NotSamePersonError
    from .fusion import FaceFuser, FusionOptions
    from .labels import save_image

    changes = {name: getattr(args, name) for name in ("shape", "features")
               if getattr(args, name) is not None}
    base = FusionOptions.swap if args.swap else FusionOptions
    options = base(consent=args.consent, label=not args.no_label, **changes)
    template, photo = load_image(args.template), load_image(args.user)
    selfie = load_image(args.same_person_as) if args.same_person_as else None
    with FaceFuser.create_from_options(options) as fuser:
        try:
            user = fuser.user(photo, same_person_as=selfie)
        except NotSamePersonError as exc:
            print(f"facekit fuse: {exc}", file=sys.stderr)
            return 1
        with user:
            result = user.fuse(template)
    save_image(args.out, result)
    label = "no visible label (recorded in the metadata)" if args.no_label else \
        "labelled AI-generated"
    print(f"facekit fuse: {args.user} into {args.template} -> {args.out} (shape "
          f"{options.shape:g}, features {options.features:g}; {label})")
    return 0


def _video(args: argparse.Namespace) -> int:
    from .beauty import PRESETS
    from .fusion import FusionOptions
    from .video import process_video

    fusion = None
    if args.fuse is not None:
        changes = {name: getattr(args, name) for name in ("shape", "features")
                   if getattr(args, name) is not None}
        base = FusionOptions.swap if args.swap else FusionOptions
        fusion = base(consent=args.consent, label=not args.no_label, **changes)
    elif (args.consent is not None or args.swap or args.no_label or args.shape is not None
          or args.features is not None):
        raise ValueError("--consent, --swap, --shape, --features and --no-label go with "
                         "--fuse USER_PHOTO")
    try:
        report = process_video(
            args.input, args.output, beauty=PRESETS[args.beauty] if args.beauty else None,
            fuse_user=args.fuse, fusion=fusion, anonymize=_anonymizer_options(args),
            mesh=args.mesh,
            codec=args.codec, crf=args.crf, force=args.force,
            progress=sys.stderr.isatty())  # a bar on a terminal; the summary line below
    except KeyboardInterrupt:
        print(f"\nfacekit video: interrupted; {args.output} was not written", file=sys.stderr)
        return 130
    effects = [name for name, on in (("fusion", args.fuse), ("beauty " + str(args.beauty),
               args.beauty), ("mesh", args.mesh), (f"anonymize {args.anonymize}",
               args.anonymize)) if on]
    print(f"facekit video: {args.input} -> {args.output} ({', '.join(effects) or 'no effect'}"
          f"): {report.summary()}")
    return 0


def _gallery(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ._gallery import gallery

    source = Path(args.image) if args.image else None
    written = gallery(Path(args.out), source)
    print(f"facekit gallery: {len(written)} before/after images in {args.out}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .audit.auditor import CHECKS, run_audit, write_reports

    only = args.only.split(",") if args.only else None

    def progress(name: str) -> None:
        print(f"running {name} ...", file=sys.stderr, flush=True)

    if args.strace_seconds <= 0:
        raise ValueError(f"--strace-seconds must be positive, got {args.strace_seconds:g}")
    report = run_audit(only=only, debug_skip_wipe=args.debug_skip_wipe, progress=progress,
                       strace_seconds=args.strace_seconds)
    as_json, as_markdown = write_reports(report, Path(args.out))
    width = max(len(name) for name in CHECKS)
    for check in report["checks"]:
        print(f"{check['name']:<{width}}  {check['verdict'].upper():<7}  {check['detail']}")
    print(f"{'PASSED' if report['passed'] else 'FAILED'}: wrote {as_json} and {as_markdown}")
    return 0 if report["passed"] else 1


def _bench(args: argparse.Namespace) -> int:
    from .bench import run

    return run(args)


def _add_beauty_arguments(parser: argparse.ArgumentParser) -> None:
    import dataclasses

    from .beauty import PRESETS, BeautyOptions

    parser.add_argument("--preset", choices=sorted(PRESETS), default="natural",
                        help="starting point; the options below override it (default natural)")
    for f in dataclasses.fields(BeautyOptions):
        flag = "--" + f.name.replace("_", "-")
        if f.name.endswith("_color"):
            parser.add_argument(flag, metavar="R,G,B", help=f"colour for {f.name[:-6]}")
        elif f.name == "lut":
            parser.add_argument(flag, help="a .cube file or a preset (cool, film, warm)")
        else:
            parser.add_argument(flag, type=float, metavar="S", help=f"{f.name} strength")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``facekit`` console script."""
    from .beauty import PRESETS

    parser = argparse.ArgumentParser(prog="facekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="find the 478 landmarks on the bundled sample photo and draw them to a PNG"
    )
    demo.add_argument("--image", help="a photo of your own instead of the bundled sample")
    demo.add_argument("--out", default="facekit-demo.png", help="annotated PNG to write")
    demo.add_argument("--repeats", type=int, default=20, help="timed runs (default 20)")
    demo.add_argument("--refine", choices=("attention", "iris"), default="attention",
                      help="how the 478 points are found: the attention mesh (default) or the "
                           "mesh network plus the iris network")
    demo.set_defaults(run=_demo)
    info = commands.add_parser(
        "info", help="print the CPU features, the SIMD path in use and the arena's protections"
    )
    info.set_defaults(run=_info)
    listing = commands.add_parser(
        "models", help="list the shipped networks and check each file against its sha256"
    )
    listing.set_defaults(run=_models)
    beautify = commands.add_parser(
        "beautify", help="apply beauty effects to every face of a photo")
    beautify.add_argument("input", help="photo to read")
    beautify.add_argument("output", help="image to write (format from its extension)")
    _add_beauty_arguments(beautify)
    beautify.set_defaults(run=_beautify)
    anonymize = commands.add_parser(
        "anonymize", help="cover every face of a photo (pixelate, blur, solid or a mask image)",
        description="Cover every face with an ellipse that follows the head. Block-size rule: "
        "blocks grow with the face (its box's larger side): pixelate cells are a third of it, "
        "the blur's radius a third, so large faces get large blocks; a face still found after "
        "a round is covered again with blocks twice as large.")
    anonymize.add_argument("input", help="photo to read")
    anonymize.add_argument("output", help="image to write (format from its extension)")
    anonymize.add_argument("--method", choices=_COVERS, default="pixelate",
                           help="pixelate (cells of 1/3 of the face), blur (radius 1/3 of the "
                           "face), solid (--color) or mask (--mask-image)")
    anonymize.add_argument("--padding", type=float, default=0.25,
                           help="margin beyond the face's box, as a fraction of its size per "
                           "side (0.25); the cover is the ellipse inscribed in the padded box")
    anonymize.add_argument("--color", metavar="R,G,B", help="fill of --method solid (0,0,0)")
    anonymize.add_argument("--mask-image", metavar="PATH",
                           help="with --method mask: the picture scaled into each face's ellipse")
    anonymize.add_argument("--full-resolution", action="store_true",
                           help="also search at the photo's own resolution (tiles): faces down "
                           "to ~16-20 px in photos larger than 640 px, ~5x the time at 1080p")
    anonymize.set_defaults(run=_anonymize)
    portrait = commands.add_parser(
        "portrait", help="blur or replace the background of a photo, or cut the person out")
    portrait.add_argument("input", help="photo to read")
    portrait.add_argument("output", help="image to write (format from its extension; "
                                         "--cutout needs one with alpha, such as .png)")
    effect = portrait.add_mutually_exclusive_group(required=True)
    effect.add_argument("--blur", type=float, metavar="S", help="background blur strength, 0..1")
    effect.add_argument("--background", metavar="IMG_OR_R,G,B",
                        help="replace the background with an image (resized) or a colour")
    effect.add_argument("--cutout", action="store_true",
                        help="write RGBA: the photo with the person's matte as alpha")
    portrait.set_defaults(run=_portrait)
    verify = commands.add_parser(
        "verify", help="do two photos show the same person? (exit 0: yes, 1: no, 2: bad "
        "input, 3: runtime error)")
    verify.add_argument("a", help="first photo")
    verify.add_argument("b", help="second photo")
    verify.add_argument("--threshold", type=float, default=0.6,
                        help="distances below it mean the same person (0.6)")
    verify.add_argument("--face-index", type=int, default=None,
                        help="which face of each photo, by size (default: the largest)")
    verify.set_defaults(run=_verify)
    fuse = commands.add_parser(
        "fuse", help="fuse the face of USER into the largest face of TEMPLATE (labelled as "
        "AI-generated; exit 1: USER is not the person of --same-person-as)")
    fuse.add_argument("template", help="image whose face receives the user's face")
    fuse.add_argument("user", help="photo of the user's face")
    fuse.add_argument("out", help="image to write (.png or .jpg, with the AI-content labels)")
    fuse.add_argument("--shape", type=float, metavar="S",
                      help="0..1: how much of the user's face shape (default 0.5)")
    fuse.add_argument("--features", type=float, metavar="F",
                      help="0..1: how much of the user's features (default 0.5)")
    fuse.add_argument("--swap", action="store_true",
                      help="the face-swap preset (--shape/--features still override it)")
    fuse.add_argument("--same-person-as", metavar="SELFIE",
                      help="first check that USER shows the person in this selfie")
    fuse.add_argument("--no-label", action="store_true",
                      help="leave out the visible mark (the metadata labels stay)")
    fuse.add_argument("--consent", required=True, metavar="TEXT",
                      help="attestation that the people whose faces are used agreed (Deep "
                           "Synthesis Provisions Art. 14); recorded in the file's metadata")
    fuse.set_defaults(run=_fuse)
    video = commands.add_parser(
        "video", help="run effects on every frame of a video file (the `video` extra: PyAV); "
        "frames, timestamps, rotation and audio kept")
    video.add_argument("input", help="video to read")
    video.add_argument("output", help="video to write (container from its suffix: .mp4, "
                       ".mov, .mkv); written only once complete")
    video.add_argument("--beauty", choices=sorted(PRESETS), metavar="PRESET",
                       help=f"beauty preset ({', '.join(sorted(PRESETS))})")
    video.add_argument("--fuse", metavar="USER_PHOTO",
                       help="fuse this person's face into the video's faces (needs --consent; "
                            "labelled as AI-generated on every frame and in the metadata)")
    video.add_argument("--consent", metavar="TEXT",
                       help="with --fuse: attestation that the people whose faces are used "
                            "agreed (recorded in the file's metadata)")
    video.add_argument("--swap", action="store_true", help="with --fuse: the face-swap preset")
    video.add_argument("--shape", type=float, metavar="S", help="with --fuse: 0..1 (0.5)")
    video.add_argument("--features", type=float, metavar="F", help="with --fuse: 0..1 (0.5)")
    video.add_argument("--no-label", action="store_true",
                       help="with --fuse: leave out the visible mark (the metadata labels stay)")
    video.add_argument("--anonymize", choices=_COVERS, metavar="METHOD",
                       help="cover every face (pixelate, blur, solid or mask)")
    video.add_argument("--mask-image", metavar="PATH",
                       help="with --anonymize mask: the picture scaled into each face's ellipse")
    video.add_argument("--hold-frames", type=int, metavar="N",
                       help="with --anonymize: keep a face covered N frames after its detection "
                       "is lost (default 5)")
    video.add_argument("--centerface-every", type=int, metavar="N",
                       help="with --anonymize: CenterFace checks every Nth frame, BlazeFace "
                       "every frame (default 2; 1: every frame; at most hold frames + 1)")
    video.add_argument("--mesh", action="store_true",
                       help="draw the 478 landmarks (mesh green, irises red) as `facekit demo`")
    video.add_argument("--codec", default="libx264", help="video encoder (default libx264)")
    video.add_argument("--crf", type=int, help="encoder quality, lower is better (libx264 "
                       "default 18: a frame with no face comes back above 45 dB PSNR)")
    video.add_argument("--force", action="store_true", help="replace an existing output")
    video.set_defaults(run=_video)
    gallery = commands.add_parser(
        "gallery", help="write before/after images of every effect at 0.5 and 1.0, and fusion "
        "strips (0, 0.5, 1, swap) of the shared test pairs or the sample")
    gallery.add_argument("--out", default="facekit-gallery", help="folder for the PNGs")
    gallery.add_argument("--image", help="a photo of your own instead of the bundled sample")
    gallery.set_defaults(run=_gallery)
    audit = commands.add_parser(
        "audit", help="prove the privacy promises on this machine; write audit.json and audit.md"
    )
    audit.add_argument("--out", default="facekit-audit", help="folder for the reports")
    audit.add_argument("--only", help="comma-separated check names (default: all)")
    audit.add_argument("--debug-skip-wipe", action="store_true",
                       help="self-test: run the audited children with every wipe disabled; "
                            "the memory scans must then fail")
    audit.add_argument("--strace-seconds", type=float, default=120.0, metavar="S",
                       help="how long the whole-process strace check runs the pipelines "
                            "(default 120; shorter only for quick runs)")
    audit.set_defaults(run=_audit)
    from .bench import add_arguments as add_bench_arguments

    bench = commands.add_parser(
        "bench", help="time every stage on this device (p50/p95/p99 ms), or a sustained run "
        "(fps per window, temperature); --compare two JSON reports")
    add_bench_arguments(bench)
    bench.set_defaults(run=_bench)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, OSError) as exc:
        print(f"facekit {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001  one line and a distinct code, never "1: no"
        kind = "" if isinstance(exc, _RuntimeFailure) else f"{type(exc).__name__}: "
        print(f"facekit {args.command}: error: {kind}{exc}", file=sys.stderr)
        return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
