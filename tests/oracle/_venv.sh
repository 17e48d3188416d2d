# Sourced by setup_mediapipe.sh and setup_deface.sh: the stamp that says an oracle's venv holds
# its pins, the reuse of such a venv, and the rebuild of any other. Before sourcing, the caller
# sets `oracle` (mediapipe, deface), `venv`, `base_python` and the `pins` array, and defines
# check() (does the venv import what the oracle needs?). Messages name the caller's script;
# stdout carries only the venv's path.

script="setup_$oracle.sh"
python_variable="FACEKIT_${oracle^^}_PYTHON"
stamp_text="$(printf '%s\n' "${pins[@]}")"
stamp="$venv/.facekit-$oracle-pins"

fail() { echo "$script: error: $*" >&2; exit 1; }

# Ends the script, printing the path, when the venv's stamp matches the pins and check() passes.
reuse_current_venv() {
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && check; then
    echo "$script: $venv is up to date" >&2
    echo "$venv"
    exit 0
  fi
}

# Sets pyver to base_python's version, X.Y.
read_base_python_version() {
  command -v "$base_python" >/dev/null || fail "$base_python not found (set $python_variable)"
  pyver="$("$base_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
}

# Removes whatever is at $venv and creates it anew with pins installed as wheels only (nothing is
# compiled from source); the arguments go to pip install (--no-deps).
install_venv() {
  start=$(date +%s)
  echo "$script: creating $venv with $base_python ($pyver)" >&2
  rm -rf "$venv"
  "$base_python" -m venv "$venv" || fail "could not create a venv at $venv (is python3-venv installed?)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2 \
    || fail "could not upgrade pip in $venv"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
      "$@" "${pins[@]}" >&2; then
    rm -rf "$venv"
    fail "pip could not install the pinned ${pins[0]} environment (see pip's output above)"
  fi
}

# Checks the new venv (check() failing removes it, with `hint` as the message), stamps it and
# prints its path.
finish_venv() {
  local hint=$1
  check || { rm -rf "$venv"; fail "$hint"; }
  printf '%s' "$stamp_text" > "$stamp"
  echo "$script: $venv ready in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))" >&2
  echo "$venv"
}
