#!/usr/bin/env bash
# Install seismake (no dependencies: the env provides them) from the workflow directory.
set -euo pipefail
python -m pip install --no-deps "${SEISMAKE_SOURCE:-.}"
