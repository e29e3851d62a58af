#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's Chromium and poppler), make sure
# PostgreSQL answers on 127.0.0.1:5432, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Chromium, poppler and fonts for browser and PDF tests; PostgreSQL for the store tests.
source scripts/services.sh

exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
