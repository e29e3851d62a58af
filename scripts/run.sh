#!/usr/bin/env bash
# Install what the dashboard needs into .venv and run it on http://localhost:8501.
# With nothing configured it creates data/complaints.db and fills it with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[1/3] Membuat lingkungan Python di .venv ..."
  "$PYTHON" -m venv .venv
else
  echo "[1/3] Lingkungan Python .venv sudah ada."
fi
echo "[2/3] Memasang paket dari requirements.txt (pertama kali sekitar satu menit) ..."
.venv/bin/python -m pip install --disable-pip-version-check -r requirements.txt
echo "[3/3] Menjalankan dasbor di http://localhost:${PORT:-8501} (hentikan dengan Ctrl+C) ..."
# serve.py runs dashboard.py as st.App: anti-framing headers and an HttpOnly sign-in cookie.
exec .venv/bin/python -m streamlit run serve.py --server.port "${PORT:-8501}" "$@"
