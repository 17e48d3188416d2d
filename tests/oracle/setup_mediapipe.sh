#!/usr/bin/env bash
# Creates (idempotently) the virtual environment that runs tests/oracle/mediapipe_oracle.py:
# MediaPipe 0.10.14 with every dependency pinned, kept apart from facekit's own environment
# because mediapipe pins protobuf<5 and pulls about 1 GB (jax, scipy, matplotlib, opencv-contrib).
#
#   bash tests/oracle/setup_mediapipe.sh      # prints the venv's path on stdout
#
# Environment:
#   FACEKIT_MEDIAPIPE_VENV    where the venv goes (default: <repo>/.venv-mediapipe)
#   FACEKIT_MEDIAPIPE_PYTHON  interpreter that creates it (default: python3; must be 3.9-3.12,
#                             the CPython versions that mediapipe 0.10.14 ships wheels for)
#
# A venv whose stamp matches the pins below and that imports mediapipe is left as it is; any
# other content at that path is removed and rebuilt. Progress goes to stderr; stdout carries only
# the path, so `venv=$(bash tests/oracle/setup_mediapipe.sh)` works.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${FACEKIT_MEDIAPIPE_VENV:-$repo/.venv-mediapipe}"
base_python="${FACEKIT_MEDIAPIPE_PYTHON:-python3}"

# The whole dependency closure, pinned. numpy must stay 1.x (mediapipe 0.10.14 was built against
# it); opencv-contrib-python 4.10.0.84 is the last release whose wheels accept numpy 1.x on
# CPython 3.11 without complaint; protobuf 4.25.x satisfies mediapipe's >=4.25.3,<5. Video is
# decoded with cv2.VideoCapture (FFmpeg inside the opencv wheel), so PyAV is not needed.
pins=(
  mediapipe==0.10.14
  numpy==1.26.4
  opencv-contrib-python==4.10.0.84
  protobuf==4.25.9
  absl-py==2.5.1
  attrs==26.1.0
  flatbuffers==25.12.19
  jax==0.7.1
  jaxlib==0.7.1
  ml_dtypes==0.5.4
  opt_einsum==3.4.0
  scipy==1.17.1
  matplotlib==3.11.2
  contourpy==1.3.3
  cycler==0.12.1
  fonttools==4.68.0
  kiwisolver==1.5.1
  packaging==26.4
  pillow==13.0.0
  pyparsing==3.3.3
  python-dateutil==4.0.0
  tzdata==2026.6
  sounddevice==0.5.6
  cffi==2.1.1
  pycparser==3.12
)

# What tests/oracle/_venv.sh needs besides venv, base_python and pins (it names the stamp,
# .facekit-mediapipe-pins, and the messages); check() tells a working venv.
oracle=mediapipe
check() {
  "$venv/bin/python" - <<'EOF' >/dev/null 2>&1
import cv2, mediapipe, numpy
assert mediapipe.__version__ == "0.10.14", mediapipe.__version__
assert numpy.__version__.startswith("1."), numpy.__version__
mediapipe.solutions.face_mesh.FaceMesh  # the legacy solutions are importable
EOF
}
source "$repo/tests/oracle/_venv.sh"

reuse_current_venv
read_base_python_version
case "$pyver" in
  3.9|3.10|3.11|3.12) ;;
  *) fail "mediapipe 0.10.14 has wheels for CPython 3.9-3.12 only; $base_python is $pyver (set $python_variable)";;
esac
[ "$(uname -m)" = x86_64 ] || [ "$(uname -m)" = aarch64 ] || fail "no mediapipe 0.10.14 wheel for $(uname -m)"

install_venv
finish_venv "mediapipe was installed but does not import; see: $venv/bin/python -c 'import mediapipe'"
