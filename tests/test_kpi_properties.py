"""Properties every KPI table must have, whatever the complaints (hypothesis, real SQLite store)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import make_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kpi_reference import clear, load

from metrics.filters import Filters
from metrics.kpi import COUNT_COLUMNS, PCT_COLUMNS, opd_table

BASE = datetime(2025, 12, 1, tzinfo=UTC)
PERIOD = (date(2025, 12, 1), date(2025, 12, 31))
STATUSES = ["menunggu_verifikasi", "menunggu_tindak_lanjut", "proses", "selesai", "arsip"]
hours = st.floats(min_value=0, max_value=24 * 50, allow_nan=False)


@st.composite
def complaints(draw) -> list[dict]:
    n = draw(st.integers(min_value=0, max_value=25))
    records = []
    for i in range(n):
        submitted = BASE + timedelta(hours=draw(st.floats(min_value=-48, max_value=24 * 35)))
        disposed = draw(st.one_of(st.none(), hours.map(lambda h, s=submitted: s + timedelta(hours=h))))
        first = closed = None
        if disposed is not None:
            first = draw(st.one_of(st.none(), hours.map(lambda h, d=disposed: d + timedelta(hours=h))))
            closed = draw(st.one_of(st.none(), hours.map(lambda h, d=disposed: d + timedelta(hours=h))))
        records.append({
            "tracking_id": f"H{i}",
            "submitted_at": submitted,
            "status": draw(st.sampled_from(STATUSES)),
            "opd": draw(st.sampled_from(["A", "B", "C", None])),
            "classification": draw(st.sampled_from(["pengaduan", "aspirasi", "pengawasan", None])),
            "disposed_at": disposed,
            "first_response_at": first,
            "closed_at": closed,
            "rating": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5))),
            "reopen_count": draw(st.integers(min_value=0, max_value=2)),
            "redisposition_count": draw(st.integers(min_value=0, max_value=2)),
        })
    return records


as_of_hours = st.floats(min_value=0, max_value=24 * 80, allow_nan=False)
backends = st.sampled_from(["frame", "sql"])
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = make_store(f"sqlite:///{tmp_path_factory.mktemp('props') / 'props.db'}")
    yield s
    s.dispose()


def _table(store, records, as_of_h, backend):
    clear(store)
    if records:
        load(store, records)
    filters = Filters(*PERIOD, BASE + timedelta(hours=as_of_h))
    return opd_table(store, filters, backend=backend).set_index("opd")


@PROPERTY_SETTINGS
@given(records=complaints(), as_of_h=as_of_hours, backend=backends)
def test_percentages_are_within_0_and_100(store, records, as_of_h, backend):
    table = _table(store, records, as_of_h, backend)
    for column in [*PCT_COLUMNS, "score"]:
        for value in table[column]:
            assert math.isnan(value) or 0.0 <= value <= 100.0, (column, value)
    for value in table["mean_rating"]:
        assert math.isnan(value) or 1.0 <= value <= 5.0


@PROPERTY_SETTINGS
@given(records=complaints(), as_of_h=as_of_hours, backend=backends)
def test_completed_never_exceeds_received(store, records, as_of_h, backend):
    table = _table(store, records, as_of_h, backend)
    assert (table["completed"] <= table["received"]).all()
    assert (table["responded"] <= table["received"]).all()
    assert (table["responded_on_time"] <= table["responded"]).all()
    assert (table["completed_on_time"] <= table["completed"]).all()
    assert (table["overdue"] <= table["open"]).all()


@PROPERTY_SETTINGS
@given(records=complaints(), as_of_h=as_of_hours, backend=backends)
def test_total_equals_the_sum_of_opd_rows_for_every_count_column(store, records, as_of_h, backend):
    table = _table(store, records, as_of_h, backend)
    opd_rows = table.drop(index="TOTAL")
    for column in COUNT_COLUMNS:
        assert table.loc["TOTAL", column] == opd_rows[column].sum(), column


@PROPERTY_SETTINGS
@given(records=complaints(), as_of_h=as_of_hours, order=st.randoms(use_true_random=False),
       backend=backends)
def test_results_do_not_depend_on_row_order(store, records, as_of_h, order, backend):
    first = _table(store, records, as_of_h, backend)
    shuffled = list(records)
    order.shuffle(shuffled)
    second = _table(store, shuffled, as_of_h, backend)
    assert first.equals(second)


@PROPERTY_SETTINGS
@given(records=complaints(), earlier=as_of_hours, later_by=as_of_hours, backend=backends)
def test_moving_as_of_forward_never_decreases_responded_or_completed(
    store, records, earlier, later_by, backend
):
    before = _table(store, records, earlier, backend)
    after = opd_table(
        store, Filters(*PERIOD, BASE + timedelta(hours=earlier + later_by)), backend=backend
    ).set_index("opd")
    for opd in before.index:
        assert after.loc[opd, "responded"] >= before.loc[opd, "responded"]
        assert after.loc[opd, "completed"] >= before.loc[opd, "completed"]
