#!/usr/bin/env bash
# The native tests, then a pytest subset that drives the native core, under AddressSanitizer and
# UndefinedBehaviorSanitizer; any finding aborts and fails the run.
#   native/tests/run_sanitizers.sh [PYTHON]
# PYTHON: an interpreter with the test dependencies (default .venv/bin/python; dlib-bin too, unless
# FACEKIT_DLIB_FIXTURE already names the dlib fixture). Builds into build/native-asan (the
# native-asan preset, whose LTO link also checks the ODR) and build/asan (the extension, installed
# into build/asan-site and imported from there). ONNX Runtime and NumPy are not instrumented.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
python=${1:-.venv/bin/python}

if [ -z "${FACEKIT_DLIB_FIXTURE:-}" ]; then
  # dlib-bin's answers for the sample photo, for the dlib parity case (as .ci/run does).
  [ -f build/dlib_fixture.bin ] || "$python" tests/dlib_fixture.py build/dlib_fixture.bin
  export FACEKIT_DLIB_FIXTURE="$root/build/dlib_fixture.bin"
fi

echo "== native tests under ASan + UBSan"
start=$(date +%s)
cmake --preset native-asan >/dev/null
cmake --build --preset native-asan -j"$(nproc)"
ctest --preset native-asan --verbose
echo "native: $(( $(date +%s) - start )) s"

echo "== pytest subset under ASan + UBSan"
start=$(date +%s)
isolation=()
# Reuse the interpreter's build backend when it has one; otherwise pip fetches it.
"$python" -c "import scikit_build_core, pybind11" 2>/dev/null && isolation=(--no-build-isolation)
"$python" -m pip install -q --no-deps --upgrade "${isolation[@]}" --target build/asan-site \
  -C build-dir=build/asan -C cmake.build-type=RelWithDebInfo -C cmake.define.FACEKIT_SANITIZE=ON .
# An uninstrumented Python loads the instrumented extension: the runtimes come first. Python
# keeps objects until exit by design (no leak check); the arena tests' children die by SIGSEGV.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:handle_segv=0 UBSAN_OPTIONS=print_stacktrace=1
export PYTHONPATH="$root/build/asan-site"
native=$("$python" -P -c "import facekit._native as n; print(n.__file__)")
case $native in
  "$root/build/asan-site/"*) ;;
  *) echo "imported $native, not the sanitized build" >&2; exit 1 ;;
esac
# Each file calls into the native code: the arena and its views, every kernel on every SIMD path,
# the networks' pre/post-processing, beauty, anonymize, the dlib ports, bad inputs' validation.
# (test_memscan is left out: it reads the whole address space, which ASan's shadow makes huge.)
"$python" -P -m pytest -q -p no:cacheprovider \
  tests/test_arena.py tests/test_ephemeral.py tests/test_dispatch.py tests/test_crop_normalize.py \
  tests/test_detector.py tests/test_landmarker.py tests/test_beauty.py tests/test_anonymize.py \
  tests/test_verify.py tests/test_refusal_matrix.py
echo "pytest: $(( $(date +%s) - start )) s"
