"""Many regions in one store: region codes from the data, the region comparison, the Wilayah
filter and region-limited accounts, on SQLite and PostgreSQL.

The region figures are checked against the row-by-row KPI.md reference of test_kpi_reference,
grouped by region instead of OPD.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from test_kpi_reference import (
    _in_cohort,
    _same,
    load,
    random_records,
    reference_counts,
    reference_figures,
    wita,
)

from access import accounts
from access.gate import Viewer, viewer_for_account
from core.calendar import WorkCalendar
from core.settings import KpiSettings, load_settings
from data_sources import schema
from data_sources.demo import (
    KALSEL_REGIONS,
    TRACKING_ID_REGION_STEP,
    generate_frame,
    kalsel_regions,
    load_demo,
)
from data_sources.importer import import_file
from data_sources.store import region_key
from metrics.complaints import open_complaints, overdue_complaints
from metrics.filters import Filters, Scope
from metrics.kpi import KPI_COLUMNS, admin_figures, opd_table, region_table, total_figures
from metrics.trends import breakdown, series
from tests.conftest import SAMPLES, make_store

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "63.07"  # settings.region_code
REGIONS = {
    "63.05": "Kabupaten Tapin",
    "63.07": "Kabupaten Hulu Sungai Tengah",
    "63.08": "Kabupaten Hulu Sungai Utara",
    "63.11": "Kabupaten Balangan",
}
TINY = "63.11"  # at most four complaints: below min_volume, never ranked
N = 1_500
SEED = 20260301
PERIOD = (date(2025, 1, 1), date(2025, 6, 30), wita("2025-07-15T08:00:00"))


def regional_records(n: int = N, seed: int = SEED) -> list[dict[str, Any]]:
    """The KPI reference records spread over REGIONS; the default region's rows carry no code."""
    kpi = KpiSettings()
    records = random_records(n, seed, WorkCalendar(kpi), kpi)
    rng = random.Random(seed)
    for i, record in enumerate(records):
        code = TINY if i < 4 else rng.choices(["63.05", "63.07", "63.08"], [5, 3, 2])[0]
        record["region_code"] = None if code == DEFAULT else code
    return records


def register(store: Any) -> None:
    for code, name in REGIONS.items():
        store.ensure_region(code, name)


def reference_region_table(
    records: list[dict], date_from: date, date_to: date, as_of: datetime, kpi: KpiSettings
) -> dict[str, dict]:
    """KPI.md row by row, one row per region: the union of its OPD cohorts, ranked among regions."""
    cal = WorkCalendar(kpi)
    cohort = [r for r in records if _in_cohort(r, date_from, date_to, as_of, cal)]
    by_region: dict[str, list[dict]] = defaultdict(list)
    for r in cohort:
        by_region[r["region_code"] or DEFAULT].append(r)
    table = {code: reference_figures(reference_counts(rows, as_of, cal, kpi), kpi)
             for code, rows in by_region.items()}
    eligible = sorted(
        (c for c, f in table.items() if f["received"] >= kpi.min_volume and f["score"] is not None),
        key=lambda c: (-table[c]["score"], -table[c]["received"], REGIONS[c]),
    )
    for code, f in table.items():
        f["rank"] = eligible.index(code) + 1 if code in eligible else None
    total = reference_figures(reference_counts(cohort, as_of, cal, kpi), kpi)
    total["rank"] = None
    table["TOTAL"] = total
    return table


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return regional_records()


@pytest.fixture(params=["frame", "sql"])
def backend(request) -> str:
    return request.param


# --- the store -----------------------------------------------------------------------------
def test_ensure_region_registers_once_and_keeps_the_first_name(store):
    store.ensure_region("63.05", "Kabupaten Tapin")
    store.ensure_region("63.05", "Tapin (lain)")
    store.ensure_region("63.71")  # code only: named by its code until a name arrives
    frame = store.regions()
    assert list(frame.columns) == ["code", "name", "complaints"]
    names = dict(zip(frame["code"], frame["name"], strict=True))
    assert names["63.05"] == "Kabupaten Tapin"
    assert names["63.71"] == "63.71"
    assert names[DEFAULT] == "Kabupaten Hulu Sungai Tengah"  # the configured region, on open
    store.ensure_region("63.71", "Kota Banjarmasin")
    assert dict(zip(*store.regions()[["code", "name"]].T.values, strict=True))["63.71"] == "Kota Banjarmasin"


def test_regions_lists_every_region_with_its_complaints(store, records):
    register(store)
    load(store, records)
    frame = store.regions().set_index("code")
    expected = defaultdict(int)
    for r in records:
        expected[r["region_code"] or DEFAULT] += 1
    assert frame["complaints"].to_dict() == {**dict.fromkeys(REGIONS, 0), **expected}
    assert frame.loc["63.08", "name"] == "Kabupaten Hulu Sungai Utara"
    assert frame["complaints"].dtype == "int64"


def test_a_complaint_without_region_takes_the_configured_region(store):
    load(store, [{"tracking_id": "1", "submitted_at": wita("2025-03-01T09:00:00"), "status": "menunggu_verifikasi"}])
    assert store.execute("SELECT region_code FROM complaints").scalar() == DEFAULT


def test_a_region_name_resolves_to_the_registered_code_however_spelled(store):
    register(store)
    rows = [
        {"tracking_id": str(i), "submitted_at": wita("2025-03-01T09:00:00"), "status": "proses",
         "region_name": name}
        for i, name in enumerate(["KAB. TAPIN", "Kabupaten Hulu Sungai Utara", "Balangan", "Kab Antah Berantah"])
    ]
    load(store, rows)
    found = dict(store.execute("SELECT tracking_id, region_code FROM complaints").rows)
    # An unknown name is stored under the configured region rather than guessed.
    assert found == {"0": "63.05", "1": "63.08", "2": "63.11", "3": DEFAULT}


def test_region_code_and_name_in_the_data_register_the_region(store):
    load(store, [{"tracking_id": "9", "submitted_at": wita("2025-03-01T09:00:00"), "status": "proses",
                  "region_code": "63.72", "region_name": "Kota Banjarbaru"}])
    frame = store.regions().set_index("code")
    assert frame.loc["63.72", "name"] == "Kota Banjarbaru"
    assert frame.loc["63.72", "complaints"] == 1


def test_region_key_folds_the_usual_spellings():
    assert region_key("KAB. HULU SUNGAI TENGAH") == region_key("Kabupaten Hulu Sungai Tengah")
    assert region_key("Kotamadya Banjarmasin") == region_key("Kota Banjarmasin")
    assert region_key("Kota Banjarmasin") != region_key("Kabupaten Banjar")


def test_canonical_csv_region_columns_are_imported(store, tmp_path):
    path = tmp_path / "aduan.csv"
    path.write_text(
        "tracking_id,submitted_at,status,opd,region_code,region_name\n"
        "A1,2025-03-03 09:00,proses,Dinas Kesehatan,63.05,Kabupaten Tapin\n"
        "A2,2025-03-03 10:00,proses,Dinas Kesehatan,,Kabupaten Tapin\n"
        "A3,2025-03-03 11:00,proses,Dinas Kesehatan,,\n",
        encoding="utf-8",
    )
    report = import_file(store, path)
    assert report.rows_stored == 3
    found = dict(store.execute("SELECT tracking_id, region_code FROM complaints").rows)
    assert found == {"A1": "63.05", "A2": "63.05", "A3": DEFAULT}


def test_lapor_export_kota_kabupaten_column_sets_the_region(sqlite_store, tmp_path):
    store = sqlite_store
    store.ensure_region("63.05", "Kabupaten Tapin")
    book = openpyxl.load_workbook(SAMPLES / "lapor_export_2026-01-15.xlsx")
    sheet = book.active
    header_row = next(r for r in sheet.iter_rows() if r[0].value == "Tracking ID")
    column = next(c.column for c in header_row if c.value == "Kota/Kabupaten")
    ids_column = next(c.column for c in header_row if c.value == "Tracking ID")
    moved = set()
    for row in range(header_row[0].row + 1, sheet.max_row + 1):
        if sheet.cell(row, ids_column).value is not None and row % 3 == 0:
            sheet.cell(row, column).value = "Kab. Tapin"
            moved.add(str(sheet.cell(row, ids_column).value).strip())
    path = tmp_path / "lapor_export_2026-01-15.xlsx"
    book.save(path)
    import_file(store, path)
    found = dict(store.execute("SELECT tracking_id, region_code FROM complaints").rows)
    assert moved and found
    assert {t for t, code in found.items() if code == "63.05"} == moved & set(found)
    assert {code for t, code in found.items() if t not in moved} == {DEFAULT}


# --- the figures ---------------------------------------------------------------------------
def test_region_table_equals_row_by_row_reference(store, records, backend):
    register(store)
    load(store, records)
    kpi = store.settings.kpi
    date_from, date_to, as_of = PERIOD
    for filters in (Filters(date_from, date_to, as_of),
                    Filters(date(2025, 3, 1), date(2025, 3, 31), wita("2025-03-20T12:00:00"))):
        table = region_table(store, filters, backend=backend)
        expected = reference_region_table(records, filters.date_from, filters.date_to, filters.as_of, kpi)
        assert list(table.columns) == ["region_code", "region_name", *KPI_COLUMNS]
        assert table["region_code"].iloc[-1] == "TOTAL"
        assert set(table["region_code"]) == set(expected)
        for row in table.to_dict("records"):
            want = expected[row["region_code"]]
            if row["region_code"] != "TOTAL":
                assert row["region_name"] == REGIONS[row["region_code"]]
            for column in KPI_COLUMNS:
                assert _same(row[column], want[column]), (row["region_code"], column, row[column], want[column])


def test_regions_are_ranked_first_by_rank_then_unranked_and_total_last(store, records, backend):
    register(store)
    load(store, records)
    table = region_table(store, Filters(*PERIOD), backend=backend)
    ranks = table["rank"].tolist()
    ranked = [r for r in ranks[:-1] if r is not pd.NA]
    assert ranked == list(range(1, len(ranked) + 1))
    assert ranks[: len(ranked)] == ranked  # the unranked follow the ranked
    tiny = table[table["region_code"] == TINY].iloc[0]
    assert tiny["received"] < store.settings.kpi.min_volume and tiny["rank"] is pd.NA


def test_region_table_total_equals_the_opd_table_total(store, records):
    register(store)
    load(store, records)
    filters = Filters(*PERIOD)
    by_region = region_table(store, filters).iloc[-1]
    by_opd = opd_table(store, filters).iloc[-1]
    for column in KPI_COLUMNS:
        assert _same(by_region[column], None if pd.isna(by_opd[column]) else by_opd[column]), column


def test_region_filter_narrows_every_figure_to_the_chosen_regions(store, records, backend):
    register(store)
    load(store, records)
    kpi = store.settings.kpi
    date_from, date_to, as_of = PERIOD
    chosen = ("63.05", "63.11")
    filters = Filters(date_from, date_to, as_of, region_codes=chosen)
    subset = [r for r in records if r["region_code"] in chosen]
    expected = reference_region_table(subset, date_from, date_to, as_of, kpi)
    table = region_table(store, filters, backend=backend)
    assert set(table["region_code"]) == {*chosen, "TOTAL"}
    total = opd_table(store, filters, backend=backend).iloc[-1]
    unfiltered = opd_table(store, Filters(*PERIOD), backend=backend).iloc[-1]
    assert total["received"] == expected["TOTAL"]["received"] < unfiltered["received"]
    for column in KPI_COLUMNS:
        assert _same(table.iloc[-1][column], expected["TOTAL"][column]), column


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_a_region_scoped_viewer_never_sees_another_regions_complaints(sqlite_store, tmp_path, records, backend):
    """Every figure and list of a viewer limited to 63.05 equals those of a store holding only 63.05."""
    everything = sqlite_store
    register(everything)
    load(everything, records)
    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    alone = make_store(alone_url)
    try:
        register(alone)
        load(alone, [r for r in records if r["region_code"] == "63.05"])
        viewer = Viewer("kalsel", "pimpinan", region_codes=("63.05",))
        scoped = Filters(*PERIOD, scope=viewer.scope)
        plain = Filters(*PERIOD)
        for compute in (opd_table, region_table):
            _same_frame(compute(everything, scoped, backend=backend), compute(alone, plain, backend=backend))
        pd.testing.assert_series_equal(
            total_figures(everything, scoped, backend=backend), total_figures(alone, plain, backend=backend)
        )
        assert admin_figures(everything, scoped, backend=backend) == admin_figures(alone, plain, backend=backend)
        _same_frame(series(everything, scoped, backend=backend), series(alone, plain, backend=backend))
        _same_frame(breakdown(everything, scoped, by="opd", backend=backend),
                    breakdown(alone, plain, by="opd", backend=backend))
        for listing in (overdue_complaints, open_complaints):
            _same_frame(listing(everything, scoped), listing(alone, plain))
        # Choosing another region in the filter does not widen the scope: it finds nothing.
        elsewhere = replace(scoped, region_codes=("63.08",))
        assert region_table(everything, elsewhere, backend=backend)["region_code"].tolist() == ["TOTAL"]
        assert opd_table(everything, elsewhere, backend=backend).iloc[-1]["received"] == 0
    finally:
        alone.dispose()


def test_an_opd_viewer_in_a_region_sees_only_its_opd_there(store, records):
    register(store)
    load(store, records)
    opd = "Dinas Kesehatan"
    scope = Scope(opd=opd, region_codes=("63.08",))
    listed = open_complaints(store, Filters(*PERIOD, scope=scope))
    ids = {r["tracking_id"] for r in records if r["opd"] == opd and r["region_code"] == "63.08"}
    assert len(listed) and set(listed["tracking_id"]) <= ids


# --- accounts ------------------------------------------------------------------------------
def test_migrations_match_the_schema(db_url):
    store = make_store(db_url)
    try:
        with store.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), schema.metadata)
        assert diffs == []
    finally:
        store.dispose()


def test_migration_0002_keeps_existing_accounts(db_url):
    """A store made before 0002 keeps its accounts; they are limited to no region."""
    from alembic import command

    from data_sources.store import _alembic_config

    engine = create_engine(db_url)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text(
            "INSERT INTO users (username, role, disabled, failed_attempts, created_at) "
            "VALUES ('lama', 'pimpinan', false, 0, 0)"
        ))
    engine.dispose()
    store = make_store(db_url)
    try:
        account = accounts.get_user(store, "lama")
        assert account is not None and account.regions == ()
        assert viewer_for_account(account).scope == Scope()
    finally:
        store.dispose()


def test_an_account_limited_to_regions_carries_them_into_its_scope(store):
    accounts.create_user(store, "kalsel", "pimpinan", "rahasia-sekali", regions="63.07, 63.08,63.07")
    account = accounts.get_user(store, "kalsel")
    assert account.regions == ("63.07", "63.08")
    assert viewer_for_account(account).scope == Scope(region_codes=("63.07", "63.08"))
    accounts.create_user(store, "dinkes", "opd", "rahasia-sekali", opd="Dinas Kesehatan", regions=["63.05"])
    assert viewer_for_account(accounts.get_user(store, "dinkes")).scope == Scope(
        opd="Dinas Kesehatan", region_codes=("63.05",)
    )
    accounts.create_user(store, "semua", "analis", "rahasia-sekali")
    assert viewer_for_account(accounts.get_user(store, "semua")).scope == Scope()


def test_cli_user_add_regions_sets_the_accounts_regions(sqlite_url):
    done = subprocess.run(
        [sys.executable, "-m", "access", "user", "add", "kalsel", "--role", "pimpinan",
         "--regions", "63.07,63.08", "--password-stdin", "--db", sqlite_url],
        cwd=ROOT, input="rahasia-sekali\n", capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "63.07,63.08" in done.stdout
    store = make_store(sqlite_url)
    try:
        assert accounts.get_user(store, "kalsel").regions == ("63.07", "63.08")
        assert store.execute(select(schema.users.c.regions)).scalar() == "63.07,63.08"
    finally:
        store.dispose()


# --- demo ----------------------------------------------------------------------------------
def test_single_region_demo_is_unchanged_by_the_region_options():
    settings = load_settings()
    until = date(2026, 1, 31)
    plain = generate_frame(2_000, 5, until, settings)
    explicit = generate_frame(2_000, 5, until, settings, speed_factor=1.0)
    pd.testing.assert_frame_equal(plain, explicit)
    assert "region_code" not in plain.columns


def test_multi_region_demo_gives_each_region_its_complaints_opds_and_ids(sqlite_store):
    store = sqlite_store
    regions = kalsel_regions(4)
    assert regions[0] == ("63.07", "Kabupaten Hulu Sungai Tengah")
    result = load_demo(store, n=1_200, seed=3, until=date(2026, 1, 31), regions=regions)
    assert result.inserted == 1_200
    frame = store.regions().set_index("code")
    for code, name in regions:
        assert frame.loc[code, "name"] == name
        assert frame.loc[code, "complaints"] > 0
    rows = store.frame("SELECT tracking_id, region_code, opd FROM complaints")
    assert rows["tracking_id"].is_unique
    # Each region has its own block of tracking ids.
    blocks = rows.groupby("region_code")["tracking_id"].agg(
        lambda ids: frozenset(int(i) // TRACKING_ID_REGION_STEP for i in ids)
    )
    assert all(len(b) == 1 for b in blocks) and len(set(blocks)) == 4
    # An OPD belongs to one region, so two kabupaten's "Dinas Kesehatan" never merge.
    per_opd = rows.dropna(subset=["opd"]).groupby("opd")["region_code"].nunique()
    assert (per_opd == 1).all()
    # Loading it again changes nothing.
    again = load_demo(store, n=1_200, seed=3, until=date(2026, 1, 31), regions=regions)
    assert again.inserted == 0 and store.regions()["complaints"].sum() == 1_200


def test_demo_cli_regions_flag(sqlite_url):
    done = subprocess.run(
        [sys.executable, "-m", "data_sources", "demo", "--complaints", "600", "--regions", "3",
         "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    store = make_store(sqlite_url)
    try:
        held = store.regions()
        assert (held["complaints"] > 0).sum() == 3
    finally:
        store.dispose()
    bad = subprocess.run(
        [sys.executable, "-m", "data_sources", "demo", "--regions", str(len(KALSEL_REGIONS) + 1),
         "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and "--regions" in bad.stderr and "Traceback" not in bad.stderr

