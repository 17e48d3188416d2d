"""anonymize() on a 1080p frame with one face, each method, 1 thread (detection with the three
networks, the cover, and the re-detection check included)."""

from __future__ import annotations

from facekit.anonymize import Anonymizer


def test_anonymize_1080p(compare, frame_1080p):
    workers = {m: Anonymizer(m) for m in ("pixelate", "blur", "solid")}
    cases = {f"anonymize {m}": (lambda w=w: w.apply(frame_1080p)) for m, w in workers.items()}
    report = compare("anonymize 1080p", cases, rounds=30)
    assert all(row["p50_us"] > 0 for row in report.values())
    for worker in workers.values():
        worker.close()
