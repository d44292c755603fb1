#!/bin/sh
# Makes the Python venv the server tests run the official `openai` client in, once per requirements file:
#   make_test_venv.sh VENV_DIR REQUIREMENTS_FILE
# Idempotent and cache-friendly: a stamp with the requirements' sha256 skips everything when nothing
# changed. Needs python3-venv (scripts/setup-deps) and PyPI access the first time (pip's cache after).
set -eu
venv=$1
requirements=$2
want=$(sha256sum "$requirements" | cut -d' ' -f1)
stamp="$venv/.requirements.sha256"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "test venv up to date: $venv"
  exit 0
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
echo "$want" > "$stamp"
echo "test venv created: $venv"
