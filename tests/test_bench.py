"""`facekit bench`: per-stage latency, sustained runs, device info, --compare and --plot.

Tiny run counts keep the file fast; no assertion is about speed, only about what the report
holds and how bad options are refused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile

import numpy as np
import onnxruntime
import pytest
from PIL import Image
from support import DATA, facekit_script, require

import facekit
from facekit import bench, cli
from facekit._inference import Network

QUICK = ["bench", "--runs", "3", "--warmup", "1"]


def _report(tmp_path, *args: str) -> dict:
    out = tmp_path / "report.json"
    assert cli.main([*QUICK, *args, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["schema"] == bench.SCHEMA == 1
    return report


def test_every_stage_reports_ordered_percentiles_and_the_device(tmp_path, capsys):
    report = _report(tmp_path)
    assert list(report["stages"]) == list(bench.STAGES)
    assert {"detector_short", "detector_full", "landmarks", "landmarks_video",
            "landmarks_iris", "beauty", "verify", "anonymize"} <= set(report["stages"])
    for stage in report["stages"].values():
        assert stage["runs"] == 3
        assert 0 < stage["min_ms"] <= stage["p50_ms"] <= stage["p95_ms"] <= stage["p99_ms"] \
            <= stage["max_ms"]
        assert stage["min_ms"] <= stage["mean_ms"] <= stage["max_ms"]
        assert stage["setup_ms"] > 0
    device = report["device"]
    assert device["facekit"] == facekit.__version__
    assert device["onnxruntime"] == onnxruntime.__version__
    assert device["python"] == platform.python_version()
    assert device["machine"] == platform.machine()
    assert device["cores"] == os.cpu_count()
    assert device["affinity"] == sorted(os.sched_getaffinity(0))
    assert device["simd_active"] == facekit.cpu_features()["active"]
    assert device["simd_active"] in device["simd_available"]
    assert set(device["features"]) == set(facekit.cpu_features()["features"])
    with open("/proc/cpuinfo") as f:
        assert device["cpu_model"] == bench.cpu_model(f.read())
    assert {"governor", "freq_mhz", "temp_c", "system"} <= set(device)
    assert report["sustained"] is None
    settings = report["settings"]
    assert (settings["image"], settings["threads"], settings["cpus"]) == ("sample.jpg", 1, None)
    with Image.open(bench.SAMPLE) as sample:
        assert (settings["width"], settings["height"]) == sample.size
    out = capsys.readouterr().out
    for name in bench.STAGES:
        assert f"\n{name} " in out
    assert "verify: the photo compared with itself" in out
    assert f"SIMD {device['simd_active']}" in out


def test_stages_threads_and_cpus_are_applied_and_the_pin_undone(tmp_path, runs, monkeypatch):
    threads = []
    opened = Network.__init__

    def spy(self, name, intra_op_threads=1, *args, **kwargs):
        threads.append(intra_op_threads)
        opened(self, name, intra_op_threads, *args, **kwargs)

    monkeypatch.setattr(Network, "__init__", spy)
    before = os.sched_getaffinity(0)
    cpu = min(before)
    report = _report(tmp_path, "--stages", "detector_full,landmarks_iris", "--threads", "2",
                     "--cpus", str(cpu), "--image", str(DATA / "obama.jpg"))
    assert list(report["stages"]) == ["detector_full", "landmarks_iris"]
    # Each stage ran its networks warm-up + timed times (1 + 3), with the threads asked for
    # (the face check before the stages runs one landmarker call: 1 thread, no iris).
    assert runs["attention_mesh_regions"] == 4 and runs["face_detection_full_range_sparse"] == 4
    assert sorted(threads) == [1, 1, 2, 2, 2, 2]  # the face check's 2, the stages' 4
    assert report["settings"]["threads"] == 2 and report["settings"]["cpus"] == [cpu]
    assert report["settings"]["image"] == "obama.jpg"
    assert report["device"]["affinity"] == [cpu]  # read back from the OS during the run
    assert os.sched_getaffinity(0) == before


def test_the_console_script_runs_without_pytest(tmp_path):
    out = tmp_path / "a.json"
    cpu = min(os.sched_getaffinity(0))
    result = subprocess.run([facekit_script(), "bench", "--stages", "detector_full", "--runs",
                             "2", "--warmup", "0", "--cpus", str(cpu), "--json", str(out)],
                            capture_output=True, text=True, timeout=120,
                            cwd=tempfile.gettempdir())
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert list(report["stages"]) == ["detector_full"] and report["device"]["affinity"] == [cpu]
    assert "detector_full" in result.stdout and f"wrote {out}" in result.stdout


def test_sustained_run_reports_fps_per_window(tmp_path, capsys):
    report = _report(tmp_path, "--sustained", "0.02", "--window", "0.4")
    assert report["stages"] == {}
    sustained = report["sustained"]
    assert sustained["stage"] == bench.SUSTAINED_STAGE == "beauty_video"
    windows = sustained["windows"]
    assert len(windows) >= 2
    for w in windows:
        assert w["frames"] > 0 and w["fps"] > 0
        assert w["fps"] == pytest.approx(w["frames"] / w["seconds"])
        assert w["temp_c"] is None or isinstance(w["temp_c"], float)
        assert w["freq_mhz"] is None or isinstance(w["freq_mhz"], float)
    assert [w["start_s"] for w in windows] == sorted(w["start_s"] for w in windows)
    assert sum(w["seconds"] for w in windows) >= 0.02 * 60 - 1e-9
    assert sustained["frames"] == sum(w["frames"] for w in windows)
    assert f"{sustained['frames']} frames" in capsys.readouterr().out


def test_sustained_runs_the_stage_given(tmp_path):
    report = _report(tmp_path, "--sustained", "0.005", "--window", "0.1", "--stages",
                     "detector_short")
    assert report["sustained"]["stage"] == "detector_short"
    assert all(w["fps"] > 0 for w in report["sustained"]["windows"])


def test_plot_draws_the_sustained_run(tmp_path):
    require("matplotlib", "matplotlib comes with the test and bench extras")
    png = tmp_path / "run.png"
    assert cli.main([*QUICK, "--sustained", "0.01", "--window", "0.2", "--stages",
                     "landmarks_video", "--plot", str(png)]) == 0
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (800, 400)
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # something drawn
    # With temperatures the second axis is drawn too: more red than without it.
    windows = [{"start_s": float(i), "seconds": 1.0, "frames": 30 - i, "fps": 30.0 - i,
                "temp_c": 40.0 + 3 * i, "freq_mhz": None} for i in range(5)]
    sustained = {"stage": "beauty_video", "window_s": 1.0, "windows": windows}

    def reddish(path):
        rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
        return int(((rgb[..., 0] > 180) & (rgb[..., 1] < 100) & (rgb[..., 2] < 100)).sum())

    bench.plot_sustained(sustained, tmp_path / "hot.png")
    cold = [dict(w, temp_c=None) for w in windows]
    bench.plot_sustained(dict(sustained, windows=cold), tmp_path / "cold.png")
    assert reddish(tmp_path / "hot.png") > reddish(tmp_path / "cold.png") + 100


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # import fails
    png = tmp_path / "run.png"
    assert cli.main([*QUICK, "--sustained", "0.01", "--plot", str(png)]) == 2
    assert "pip install 'facekit[bench]'" in capsys.readouterr().err
    assert not png.exists()


def _hand_made(path, stages, sustained_fps=None):
    report = {"schema": 1, "settings": {}, "device": {},
              "stages": {name: {"p50_ms": p50, "p95_ms": p95} for name, (p50, p95)
                         in stages.items()},
              "sustained": None if sustained_fps is None else
              {"stage": "beauty_video", "fps": sustained_fps, "windows": []}}
    path.write_text(json.dumps(report))
    return str(path)


def test_compare_prints_b_speedup_over_a_per_stage(tmp_path, capsys):
    a_stages = {"landmarks": (8.0, 12.0), "verify": (80.0, 95.0), "beauty": (20.0, 30.0)}
    b_stages = {"landmarks": (4.0, 10.0), "verify": (100.0, 95.0), "anonymize": (30.0, 40.0)}
    a = _hand_made(tmp_path / "a.json", a_stages, sustained_fps=20.0)
    b = _hand_made(tmp_path / "b.json", b_stages, sustained_fps=30.0)
    assert cli.main(["bench", "--compare", a, b]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    for name in ("landmarks", "verify"):
        (a50, a95), (b50, b95) = a_stages[name], b_stages[name]
        assert rows[name] == [f"{a50:.2f}", f"{b50:.2f}", f"{a50 / b50:.2f}x",
                              f"{a95:.2f}", f"{b95:.2f}", f"{a95 / b95:.2f}x"]
    assert rows["landmarks"][2] == "2.00x" and rows["verify"][2] == "0.80x"
    assert rows["beauty"] == ["only", "in", "A"] and rows["anonymize"] == ["only", "in", "B"]
    assert rows["sustained"][-1] == f"{30.0 / 20.0:.2f}x"


def test_compare_refuses_a_missing_file_and_another_schema(tmp_path, capsys):
    a = _hand_made(tmp_path / "a.json", {"landmarks": (8.0, 12.0)})
    missing = str(tmp_path / "nothing.json")
    assert cli.main(["bench", "--compare", a, missing]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": 2, "stages": {}}))
    assert cli.main(["bench", "--compare", str(other), a]) == 2
    assert "schema 2" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert cli.main(["bench", "--compare", a, str(broken)]) == 2
    assert "not a facekit bench report" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--stages", "landmarks,warp"], "unknown stage 'warp'"),
    (["--cpus", "zero"], "--cpus takes CPU numbers"),
    (["--cpus", "3-1"], "bad range '3-1'"),
    (["--cpus", "100000"], "the system refused"),
    (["--runs", "0"], "--runs must be at least 1"),
    (["--threads", "0"], "--threads and --runs must be at least 1"),
    (["--sustained", "0"], "--sustained and --window must be positive"),
    (["--sustained", "1", "--window", "-1"], "--sustained and --window must be positive"),
    (["--sustained", "1", "--stages", "beauty,verify"], "--sustained runs one stage"),
    (["--plot", "x.png"], "--plot draws a sustained run"),
    (["--image", "/nonexistent/photo.jpg"], "photo.jpg"),
])
def test_bad_options_exit_2_with_the_problem_named(args, message, capsys):
    before = os.sched_getaffinity(0)
    assert cli.main(["bench", *args]) == 2
    assert message in capsys.readouterr().err
    assert os.sched_getaffinity(0) == before


def test_a_photo_without_a_face_is_refused(tmp_path, capsys):
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((480, 640, 3), 128, np.uint8)).save(blank)
    assert cli.main([*QUICK, "--image", str(blank)]) == 2
    assert "no face found" in capsys.readouterr().err


def test_cpus_is_refused_where_affinity_is_unsupported(monkeypatch, capsys):
    monkeypatch.delattr(os, "sched_setaffinity")
    assert cli.main([*QUICK, "--cpus", "0", "--stages", "detector_short"]) == 2
    assert "--cpus is not supported on this platform" in capsys.readouterr().err


def test_defaults():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.runs, args.warmup, args.threads, args.window) == (50, 5, 1, 10.0)
    assert args.cpus is None and args.image is None and args.stages is None


def test_cpus_ranges():
    assert bench.parse_cpus("0,1") == {0, 1}
    assert bench.parse_cpus("4-7") == {4, 5, 6, 7}
    assert bench.parse_cpus("0, 4-5") == {0, 4, 5}


X86 = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.80GHz\nflags\t: sse4_1 avx2\n\n" \
      "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.80GHz\n"
ARM = "".join(f"processor\t: {i}\nBogoMIPS\t: 38.40\nCPU implementer\t: 0x41\n"
              f"CPU part\t: {'0xd05' if i < 4 else '0xd0b'}\n\n" for i in range(8)) + \
      "Hardware\t: Qualcomm Technologies, Inc SM8250\n"


def test_cpu_model_from_x86_and_arm_cpuinfo():
    assert bench.cpu_model(X86) == "Intel(R) Xeon(R) CPU @ 2.80GHz"
    assert bench.cpu_model(ARM) == \
        "Qualcomm Technologies, Inc SM8250, 4x Cortex-A55 + 4x Cortex-A76"
    assert bench.cpu_model(ARM.replace("0xd0b", "0xfff").split("Hardware")[0]) == \
        "4x Cortex-A55 + 4x part 0xfff"
    assert bench.cpu_model("") is None


def _sysfs(root, temps=(), freqs=None, governors=None):
    for i, temp in enumerate(temps):
        zone = root / f"sys/class/thermal/thermal_zone{i}"
        zone.mkdir(parents=True)
        (zone / "temp").write_text(f"{temp}\n")
    for cpu, khz in (freqs or {}).items():
        folder = root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scaling_cur_freq").write_text(f"{khz}\n")
    for cpu, governor in (governors or {}).items():
        folder = root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scaling_governor").write_text(f"{governor}\n")


def test_temperature_and_frequency_where_sys_exposes_them(tmp_path):
    # Zones in millidegrees; a sensor reporting nonsense (-273 °C, 200 °C) is left out.
    _sysfs(tmp_path, temps=(45000, 61500, -273000, 200000),
           freqs={0: 1800000, 1: 2400000, 4: 600000})
    assert bench.temperature_c(tmp_path) == 61.5
    assert bench.frequency_mhz([0, 1], tmp_path) == 2100.0
    assert bench.frequency_mhz([4], tmp_path) == 600.0


def test_device_info_reads_the_governor_and_is_none_where_sys_is_bare(tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    bare = bench.device_info(tmp_path)
    assert bare["temp_c"] is None and bare["freq_mhz"] is None and bare["governor"] is None
    assert bare["cpu_model"] is None
    _sysfs(tmp_path, temps=(52000,), freqs={c: 1000000 for c in cpus},
           governors={c: "performance" for c in cpus})
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(ARM)
    info = bench.device_info(tmp_path)
    assert info["governor"] == "performance" and info["freq_mhz"] == 1000.0
    assert info["temp_c"] == 52.0 and info["cpu_model"].endswith("4x Cortex-A76")
    if len(cpus) > 1:
        _sysfs(tmp_path, governors={cpus[-1]: "schedutil"})
        assert bench.device_info(tmp_path)["governor"] == "performance,schedutil"
