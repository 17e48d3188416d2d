"""benchmarks/arm64_counts.py: the 5% growth check, the plugin's output parsing, and the
counting plugin (tools/arm64/insn_count.c) itself on a tiny aarch64 program.

The real emulated count of facekit's stages is CI's `arm64_counts.py --check`, not a test here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("arm64_counts", REPO / "benchmarks" / "arm64_counts.py")
assert _spec and _spec.loader
counts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(counts)
_spec = importlib.util.spec_from_file_location("instruction_counts",
                                               REPO / "benchmarks" / "instruction_counts.py")
assert _spec and _spec.loader
instruction_counts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(instruction_counts)


def test_growth_flags_six_percent_and_passes_four():
    baseline = {"landmarks": 1_000_000, "verify": 2_000_000}
    assert counts.growth(baseline, {"landmarks": 1_040_000, "verify": 2_000_000}) == []
    assert counts.growth(baseline, {"landmarks": 900_000, "verify": 2_000_000}) == []
    problems = counts.growth(baseline, {"landmarks": 1_060_000, "verify": 2_000_000})
    assert len(problems) == 1
    assert problems[0].startswith("landmarks: 1,060,000 instructions per frame, +6.0% over")


def test_growth_flags_a_stage_missing_on_either_side():
    problems = counts.growth({"landmarks": 10, "verify": 10}, {"landmarks": 10, "beauty": 10})
    assert problems == ["beauty: counted but not in the baseline (run --update)",
                        "verify: in the baseline but not counted"]


PLUGIN_OUTPUT = """mark 41 0 1000
mark 41 1 1500
mark 41 2 2000
mark 41 3 2500
mark 41 4 9500
mark 41 5 10000
mark 41 6 30500
exit 41 40000
mark 77 0 5
exit 77 9
"""


def test_parse_marks_reads_each_process_and_skips_exit_lines():
    marks = counts.parse_marks(PLUGIN_OUTPUT)
    assert marks[77] == {0: 5}
    assert marks[41][6] == 30500 and len(marks[41]) == 7


def test_parse_marks_refuses_a_repeated_label():
    with pytest.raises(ValueError, match="marker 1 appears twice in process 41"):
        counts.parse_marks("mark 41 1 10\nmark 41 1 20\n")


def test_interval_counts_take_the_empty_pair_off_every_call():
    events = {"empty": [[0, 1], [2, 3]],
              "stages": {"landmarks": [["photo:a", 3, 4], ["photo:b", 5, 6]]}}
    result = counts.interval_counts(counts.parse_marks(PLUGIN_OUTPUT)[41], events)
    assert result["marker_overhead"] == 500
    assert result["stages"]["landmarks"] == {"per_frame": {"photo:a": 6500, "photo:b": 20000},
                                             "mean": 13250}
    with pytest.raises(ValueError, match="marker 9 is missing"):
        counts.interval_counts({0: 1, 1: 2}, {"empty": [[0, 1]], "stages": {"x": [["f", 0, 9]]}})


def test_frame_means_use_only_the_frames_facekit_counted():
    mediapipe = {"facemesh_static": {"photo:a": 10, "clip:1": 20, "clip:2": 40}}
    assert counts.frame_means(mediapipe, {"facemesh_static": ["clip:1", "clip:2"]}) == \
        {"facemesh_static": 30}
    assert counts.frame_means(mediapipe, {}) == {"facemesh_static": 23}


def test_the_plugin_and_the_script_agree_on_the_marker():
    source = (REPO / "tools" / "arm64" / "insn_count.c").read_text()
    (base,) = re.findall(r"#define MARK_BASE (0x[0-9a-f]+)ull", source)
    assert int(base, 16) == counts.MARK_BASE


# A loop of exactly two instructions per iteration (subs, b.ne) between two markers: the counts
# of two runs that differ only in the iteration count must differ by exactly twice that.
GUEST = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    lseek(-1, 0x4641434500000000ll + 7, SEEK_SET);
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
    lseek(-1, 0x4641434500000000ll + 8, SEEK_SET);
    return 0;
}
"""


@pytest.mark.skipif(not all(shutil.which(t) for t in ("gcc", "aarch64-linux-gnu-g++",
                                                      "qemu-aarch64")),
                    reason="needs gcc, aarch64-linux-gnu-g++ and qemu-aarch64 (as .ci/run has)")
def test_the_plugin_counts_exactly(tmp_path):
    plugin = tmp_path / "insn_count.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-fvisibility=hidden", "-o", plugin, REPO / "tools/arm64/insn_count.c"],
                   check=True)
    (tmp_path / "loop.cc").write_text(GUEST)  # C that is also C++: .ci/run installs g++
    subprocess.run(["aarch64-linux-gnu-g++", "-O1", "-static", "-o", tmp_path / "loop",
                    tmp_path / "loop.cc"], check=True)

    runs = iter(range(100))

    def between_marks(n: int) -> int:
        out = tmp_path / f"marks-{next(runs)}.txt"  # the plugin appends: one file per run
        subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", "-plugin", f"{plugin},out={out}",
                        tmp_path / "loop", str(n)], check=True)
        (process,) = counts.parse_marks(out.read_text()).values()
        assert "exit " in out.read_text()
        return process[8] - process[7]

    assert between_marks(1000) == between_marks(1000)
    assert between_marks(3000) - between_marks(1000) == 4000

    # The whole run's count equals the independent log method of instruction_counts.py.
    out, log = tmp_path / "marks-log.txt", tmp_path / "qemu.log"
    subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", "-plugin", f"{plugin},out={out}",
                    tmp_path / "loop", "500"], check=True)
    subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", "-d", "in_asm,exec,nochain", "-D", log,
                    tmp_path / "loop", "500"], check=True)
    (exit_line,) = [line for line in out.read_text().splitlines() if line.startswith("exit ")]
    with open(log, "rb") as stream:
        assert int(exit_line.split()[2]) == instruction_counts.parse_qemu_log(stream)["instructions"]


def test_check_against_baseline_reads_the_committed_layout(tmp_path, monkeypatch):
    baseline = tmp_path / "arm64_counts.json"
    baseline.write_text('{"facekit": {"cpu": "cortex-a53", "mean": {"landmarks": 100}}}')
    monkeypatch.setattr(counts, "BASELINE", baseline)
    assert counts.check_against_baseline({"landmarks": 104}, "cortex-a53") == []
    (problem,) = counts.check_against_baseline({"landmarks": 106}, "cortex-a53")
    assert problem.startswith("landmarks: 106 instructions per frame, +6.0% over the baseline 100")
    assert counts.check_against_baseline({"landmarks": 100}, "max") == \
        ["the baseline was counted on cortex-a53, not max"]


def test_the_committed_baseline_has_every_stage_on_both_sides():
    committed = json.loads(counts.BASELINE.read_text())
    assert set(committed["facekit"]["mean"]) == set(counts.FACEKIT_STAGES)
    assert set(committed["mediapipe"]["mean"]) == set(counts.MEDIAPIPE_STAGES)
    assert committed["facekit"]["cpu"] == committed["mediapipe"]["cpu"] == counts.CPU


def test_ratios_pair_each_stage_with_its_mediapipe_mode():
    assert counts.ratios({"landmarks": 150, "verify": 9, "landmarks_iris": 7},
                         {"facemesh_static": 100}) == {"landmarks": 1.5}


def test_a_stage_subset_is_checked_alone(tmp_path, monkeypatch):
    baseline = tmp_path / "arm64_counts.json"
    baseline.write_text('{"facekit": {"cpu": "cortex-a53", "mean": {"a": 100, "b": 100}}}')
    monkeypatch.setattr(counts, "BASELINE", baseline)
    assert counts.check_against_baseline({"a": 100}, "cortex-a53", subset=True) == []
    assert counts.check_against_baseline({"a": 100}, "cortex-a53") == \
        ["b: in the baseline but not counted"]
