#!/usr/bin/env bash
# The small mode of every benchmark in benchmarks/, each in seconds, so none of them can rot
# (CI runs this after the tests). Budgets belong to the full-size runs: here a benchmark fails
# only when it crashes or its figures disagree, not when a busy CI machine is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

run() {
  echo "== $*"
  local started=$SECONDS
  "$@"
  echo "-- $(( SECONDS - started )) s"
}

known=(bench_demo.py bench_report.py bench_import.py bench_scale.py bench_topics.py bench_refresh.py)

if [ -f benchmarks/bench_demo.py ]; then
  # Below 10,000 complaints bench_demo only shows its figures (fixed costs dominate).
  run "$PYTHON" benchmarks/bench_demo.py --complaints 5000
fi
if [ -f benchmarks/bench_report.py ]; then
  run "$PYTHON" benchmarks/bench_report.py --rows 10000 --runs 1 --rebuild --dir "$scratch/report" \
    --max-seconds 60 --max-mb 4000
fi
if [ -f benchmarks/bench_import.py ]; then
  run "$PYTHON" benchmarks/bench_import.py --rows 20000
fi
if [ -f benchmarks/bench_scale.py ]; then
  # Both databases; PostgreSQL is reported as skipped when no server answers.
  run "$PYTHON" benchmarks/bench_scale.py --small --json-out "$scratch/scale.json"
fi
if [ -f benchmarks/bench_refresh.py ]; then run "$PYTHON" benchmarks/bench_refresh.py --small --dir "$scratch/refresh"; fi

if [ -f benchmarks/bench_topics.py ]; then
  run "$PYTHON" benchmarks/bench_topics.py --small --json-out "$scratch/topics.json"
fi

# A benchmark added later without a small mode here would rot unseen: at least import it.
for script in benchmarks/bench_*.py; do
  name=$(basename "$script")
  if [[ ! " ${known[*]} " =~ " ${name} " ]]; then
    echo "warning: $name has no small mode in scripts/bench_small.sh; checking --help only" >&2
    run "$PYTHON" "$script" --help >/dev/null
  fi
done
echo "all benchmarks ran in small mode"
