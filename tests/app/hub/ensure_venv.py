#!/usr/bin/env python3
"""Creates (or reuses) a test venv pinned by a requirements file. Idempotent: a stamp file inside the venv
holds the requirements text it was built from; nothing is installed when it matches.
Usage: ensure_venv.py VENV_DIR REQUIREMENTS_FILE   (prints the venv's python path)"""
import os
import subprocess
import sys


def main():
    venv, requirements = sys.argv[1], sys.argv[2]
    with open(requirements) as f:
        wanted = f.read()
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".requirements-stamp")
    if os.path.exists(python) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == wanted:
                print(python)
                return 0
    subprocess.check_call([sys.executable, "-m", "venv", venv], stdout=sys.stderr)
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements],
                          stdout=sys.stderr)
    with open(stamp, "w") as f:
        f.write(wanted)
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
