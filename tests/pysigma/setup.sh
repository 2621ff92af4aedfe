#!/bin/sh
# Create the Python environment for tests/pysigma/check.py and print the
# variable that enables tests/sigma_writer_pysigma.rs. Usage:
#   tests/pysigma/setup.sh [VENV_DIR]   (default: target/pysigma-venv)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-"$here/../../target/pysigma-venv"}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "SIEMC_PYSIGMA_PYTHON=$venv/bin/python"
