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

# What tests/oracle/_venv.sh needs besides venv, base_python and pins (it names the stamp,
# .facekit-deface-pins, and the messages); check() tells a working venv.
oracle=deface
check() {
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import deface, onnx, onnxruntime
from deface import deface as cli
from deface.centerface import CenterFace
assert deface.__version__ == "1.5.0", deface.__version__
assert "CPUExecutionProvider" in onnxruntime.get_available_providers()
PY
}
source "$repo/tests/oracle/_venv.sh"

reuse_current_venv
read_base_python_version
case "$pyver" in
  3.11|3.12|3.13) ;;
  *) fail "the pinned wheels (numpy 2.4, scipy 1.17) need CPython 3.11-3.13; $base_python is $pyver (set $python_variable)";;
esac

# deface itself is a pure-Python wheel; the closure is pinned whole, so pip resolves nothing.
install_venv --no-deps
"$venv/bin/python" -m pip check >&2 || { rm -rf "$venv"; fail "the pinned set is incomplete (pip check above)"; }
finish_venv "deface was installed but does not import; see: $venv/bin/python -c 'import deface.deface'"
