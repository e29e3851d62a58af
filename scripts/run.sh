#!/usr/bin/env bash
# Install what the dashboard needs into .venv and run it on http://localhost:8501.
# With nothing configured it creates data/complaints.db and fills it with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run dashboard.py --server.port "${PORT:-8501}" "$@"
