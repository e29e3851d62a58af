"""The scale benchmark (benchmarks/bench_scale.py) in its small mode: it runs, it writes every
measured figure to its JSON, and the dashboard's ways and both baselines agree per OPD.

No timing is asserted: a busy machine is slow, not wrong.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_scale.py"

# Every figure a run must record, by section of the run's JSON.
MEASURED_KEYS = {
    "import": [
        "wall_s",
        "cpu_s",
        "generate_s",
        "store_s",
        "maintenance_s",
        "peak_rss_mb",
        "db_size_mb",
        "rows_per_s",
    ],
    "report_cold": ["wall_s", "cpu_s", "peak_rss_mb"],
    "report": ["wall_s", "cpu_s", "peak_rss_mb", "runs_s", "startup_wall_s", "startup_cpu_s"],
    "page": [
        "first_view_s",
        "first_view_cpu_s",
        "imports_s",
        "process_wall_s",
        "peak_rss_mb",
        "first_view_steps",
    ],
    "page_after_data_change": ["first_view_s", "first_view_cpu_s", "peak_rss_mb", "first_view_steps"],
    "filter_change": ["median_s", "max_s", "median_cpu_s", "max_cpu_s", "variants"],
    "engine": [
        "columnar_load_s",
        "aggregates_s",
        "aggregates_cpu_s",
        "opd_table_s",
        "opd_table_cpu_s",
        "sql_aggregates_s",
        "peak_rss_mb",
    ],
    "naive": ["read_s", "group_s", "total_s", "cpu_s", "peak_rss_mb", "rows_read"],
    "duckdb": ["source", "load_s", "aggregates_s", "aggregates_cpu_s", "peak_rss_mb"],
    "ratios": [
        "naive_over_report",
        "naive_over_first_view",
        "naive_over_filter_change",
        "engine_aggregates_over_duckdb",
        "engine_aggregates_cpu_over_duckdb_cpu",
        "report_table_over_duckdb",
        "sql_aggregates_over_duckdb",
    ],
}
FIRST_VIEW_STEPS = [
    "cpu",
    "open_store",
    "filter_options",
    "frame_store_calls",
    "compare_periods",
    "opd_table",
    "series",
    "summary_block",
]


def _load_module():
    spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    """One small-mode run on SQLite with 2,000 complaints, shared by the module's tests."""
    tmp = tmp_path_factory.mktemp("bench_scale")
    out = tmp / "scale.json"
    secrets = tmp / "none.toml"
    secrets.write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--small",
            "--rows",
            "2000",
            "--backends",
            "sqlite",
            "--json-out",
            str(out),
            "--dir",
            str(tmp / "work"),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DASHBOARD_SECRETS": str(secrets)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_small_mode_records_every_measured_figure(small_run):
    _, result = small_run
    assert result["options"]["small"] is True
    assert result["machine"]["cpus"] >= 1
    (run,) = result["runs"]
    assert run["backend"] == "sqlite" and run["rows"] == 2000
    for section, keys in MEASURED_KEYS.items():
        missing = [key for key in keys if key not in run.get(section, {})]
        assert not missing, f"{section} lacks {missing}"
    for section in ("import", "report_cold", "report", "page", "engine", "naive", "duckdb"):
        assert run[section]["peak_rss_mb"] > 0
    assert set(FIRST_VIEW_STEPS) <= set(run["page"]["first_view_steps"])
    assert len(run["filter_change"]["variants"]) >= 3
    assert run["import"]["stored"] == 2000
    assert run["naive"]["rows_read"] == 2000


def test_small_mode_dashboard_naive_and_duckdb_agree_per_opd(small_run):
    _, result = small_run
    agreement = result["runs"][0]["agreement"]
    assert agreement["ok"] is True
    assert agreement["opds"] > 10  # the demo region's OPDs, not an empty period
    assert {"received", "responded", "completed", "median_hours"} <= set(agreement["counts_checked"])
    assert {"naive pandas", "DuckDB", "engine (columnar)", "engine (SQL)", "python -m metrics report"} <= set(
        agreement["ways"]
    )
    totals = agreement["totals"]
    assert totals["received"] >= totals["responded"] >= 0
    assert totals["received"] >= totals["completed"] > 0


def test_small_mode_prints_the_side_by_side_table(small_run):
    proc, _ = small_run
    assert "== 2,000 complaints (wall time" in proc.stdout
    assert "(a) naive: whole table + pandas" in proc.stdout
    assert "(b) DuckDB: same aggregates" in proc.stdout
    assert "results written to" in proc.stdout


def test_disagreeing_counts_fail_the_benchmark(tmp_path):
    bench = _load_module()
    counts = {"Dinas A": {**{c: 5 for c in bench.AGREED_COUNTS}, "median_hours": 2.0}}
    wrong = {"Dinas A": {**counts["Dinas A"], "completed": 4}}
    report = tmp_path / "report.csv"
    report.write_text("opd,received,responded,completed\nDinas A,5,5,5\nTOTAL,5,5,5\n")
    run = {
        "engine": {"counts": counts, "sql_counts": counts},
        "naive": {"counts": counts},
        "duckdb": {"counts": wrong},
    }
    with pytest.raises(AssertionError, match="DuckDB Dinas A completed"):
        bench.check_agreement(run, report)
    run["duckdb"]["counts"] = counts
    assert bench.check_agreement(run, report)["ok"] is True


def test_growth_is_judged_per_row_no_worse_than_linear():
    bench = _load_module()

    def fake(rows: int, report_s: float) -> dict:
        run = {
            "backend": "sqlite",
            "rows": rows,
            "import": {"wall_s": rows / 1000},
            "report": {"wall_s": report_s, "peak_rss_mb": 100.0},
            "report_cold": {"wall_s": report_s},
            "page": {"first_view_s": 0.5},
            "filter_change": {"max_s": 0.1},
            "engine": {"aggregates_s": 0.1, "sql_aggregates_s": 1.0},
            "naive": {"total_s": rows / 1e5},
            "duckdb": {"aggregates_s": 0.01},
        }
        return run

    table = bench.growth([fake(100_000, 1.0), fake(1_000_000, 5.0)])["sqlite"]
    assert table["report"]["growth_over_linear"] == [pytest.approx(0.5)]
    assert table["report"]["no_worse_than_linear"] is True
    table = bench.growth([fake(100_000, 1.0), fake(1_000_000, 12.0)])["sqlite"]
    assert table["report"]["no_worse_than_linear"] is False


def test_report_period_is_the_twelve_whole_months_before_the_last_month():
    bench = _load_module()
    from datetime import date

    assert bench.report_period(date(2026, 11, 20)) == (date(2025, 11, 1), date(2026, 10, 31))
    assert bench.report_period(date(2026, 1, 5)) == (date(2025, 1, 1), date(2025, 12, 31))


def test_bad_rows_option_is_a_clear_usage_error():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "10k"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "--rows must be whole numbers" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_naive_baseline_above_its_row_limit_is_skipped_with_the_reason(tmp_path):
    out = tmp_path / "scale.json"
    secrets = tmp_path / "none.toml"
    secrets.write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--small",
            "--rows",
            "1000",
            "--backends",
            "sqlite",
            "--naive-max-rows",
            "500",
            "--json-out",
            str(out),
            "--dir",
            str(tmp_path / "work"),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DASHBOARD_SECRETS": str(secrets)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads(out.read_text())["runs"]
    assert "above --naive-max-rows 500" in run["naive"]["skipped"]
    assert run["agreement"]["ok"] is True and "naive pandas" not in run["agreement"]["ways"]
    assert "naive baseline skipped" in proc.stdout


def test_only_demo_data_turns_false_once_a_real_source_has_a_complaint(db_url):
    # Guards the index-probing query the benchmark led to (data_sources/store.py only_demo_data).
    from data_sources.demo import load_demo
    from data_sources.store import Store

    store = Store.open(db_url)
    try:
        assert store.only_demo_data()  # no complaints at all
        load_demo(store, n=50, seed=3)
        assert store.only_demo_data()
        store.ensure_source("ekspor_lapor", "lapor_export")  # a real source without complaints yet
        assert store.only_demo_data()
        real = store.ensure_source("csv_dinas", "canonical")
        from datetime import UTC, datetime

        import pandas as pd

        record = pd.DataFrame(
            [
                {
                    "tracking_id": "R1",
                    "submitted_at": pd.Timestamp("2026-01-05 09:00", tz="UTC"),
                    "status": "proses",
                }
            ]
        )
        store.write_complaints(real, record, run_id=None, observed_at=datetime.now(UTC))
        assert not store.only_demo_data()
    finally:
        store.dispose()
