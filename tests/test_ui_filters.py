"""Global filters: period presets, URL round trip, and the Filters handed to metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.settings import Settings
from metrics.filters import Filters, Scope
from ui import filters as f
from ui.registry import PAGES, visible_specs


def test_bulan_ini_runs_from_the_first_of_the_month_to_today():
    assert f.preset_range("bulan_ini", date(2026, 11, 22)) == (date(2026, 11, 1), date(2026, 11, 22))


def test_minggu_ini_starts_on_monday():
    assert f.preset_range("minggu_ini", date(2026, 11, 22)) == (date(2026, 11, 16), date(2026, 11, 22))


def test_bulan_lalu_is_the_whole_previous_month_across_a_year_end():
    assert f.preset_range("bulan_lalu", date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert f.preset_range("bulan_lalu", date(2026, 3, 31)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_tiga_bulan_terakhir_is_this_month_and_the_two_before():
    assert f.preset_range("3_bulan", date(2026, 2, 10)) == (date(2025, 12, 1), date(2026, 2, 10))


def test_tahun_ini_starts_on_the_first_of_january():
    assert f.preset_range("tahun_ini", date(2026, 11, 22)) == (date(2026, 1, 1), date(2026, 11, 22))


def test_today_is_the_local_date_of_as_of():
    # 2026-11-30 17:00 UTC is already 1 December in WITA (UTC+8).
    choice = f.FilterChoice(as_of=datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    filters = f.build_filters(f.FilterChoice(preset="bulan_ini", as_of=choice.as_of), Settings(), Scope())
    assert (filters.date_from, filters.date_to) == (date(2026, 12, 1), date(2026, 12, 1))


def test_choice_round_trips_through_query_parameters():
    choice = f.FilterChoice(
        preset="custom", date_from=date(2026, 9, 1), date_to=date(2026, 10, 31),
        slices={"opds": ("Dinas Kesehatan",), "channels": ("sms", "website")},
        as_of=datetime(2026, 11, 15, 4, 0, tzinfo=UTC),
    )
    params = f.params_for_choice(choice)
    assert f.choice_from_params(params, "Asia/Makassar") == choice


def test_defaults_are_left_out_of_the_url():
    assert f.params_for_choice(f.FilterChoice()) == {}


def test_unknown_preset_and_half_custom_period_fall_back_to_the_default():
    assert f.choice_from_params({"periode": "kemarin"}, "Asia/Makassar").preset == f.DEFAULT_PRESET
    assert f.choice_from_params({"periode": "custom", "dari": "2026-01-01"}, "Asia/Makassar").preset == f.DEFAULT_PRESET


def test_as_of_without_offset_is_local_time_and_a_plus_sent_as_space_survives():
    assert f.parse_as_of("2026-11-15T12:00:00", "Asia/Makassar") == datetime(2026, 11, 15, 4, tzinfo=UTC)
    assert f.parse_as_of("2026-11-15T12:00:00 08:00", "Asia/Makassar") == datetime(2026, 11, 15, 4, tzinfo=UTC)
    assert f.parse_as_of("nanti", "Asia/Makassar") is None


def test_custom_period_entered_backwards_is_put_in_order():
    choice = f.FilterChoice(preset="custom", date_from=date(2026, 3, 31), date_to=date(2026, 3, 1))
    assert f.choice_range(choice, date(2026, 11, 1)) == (date(2026, 3, 1), date(2026, 3, 31))


def test_now_is_floored_to_the_cache_ttl_so_cached_figures_can_be_reused():
    a = f.stable_now(300, datetime(2026, 11, 22, 10, 1, 5, tzinfo=UTC))
    b = f.stable_now(300, datetime(2026, 11, 22, 10, 4, 59, tzinfo=UTC))
    assert a == b == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_filters_carry_the_viewer_scope_into_the_cache_key():
    scope = Scope(opd="Dinas Kesehatan")
    choice = f.FilterChoice(as_of=datetime(2026, 11, 15, tzinfo=UTC))
    assert f.build_filters(choice, Settings(), scope).scope == scope
    assert repr(f.build_filters(choice, Settings(), scope)) != repr(f.build_filters(choice, Settings(), Scope()))


def test_registry_lists_every_page_with_url_paths_equal_to_their_file_stems():
    keys = [p.key for p in PAGES]
    assert keys == [
        "ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "topik", "presentasi", "data", "akun", "audit"
    ]
    assert len({p.url_path for p in PAGES}) == len(PAGES)
    for spec in PAGES:
        # A fresh server resolves deep links by file stem (legacy pages/ mode): see PageSpec.
        assert spec.url_path == spec.path.rsplit("/", 1)[-1].removesuffix(".py")


def test_registry_skips_pages_that_are_not_allowed_or_not_written():
    specs = visible_specs({"ringkasan", "tren", "nonexistent"})
    assert [s.key for s in specs] == ["ringkasan", "tren"]
    assert specs[0].default


def test_first_allowed_page_becomes_home_when_ringkasan_is_not_allowed():
    specs = visible_specs({"tren", "data"})
    assert specs[0].key == "tren" and specs[0].default


# --- the default period never shows a sliver (issue 19) ---------------------------------------
def _default_filters(local_day: date):
    # 10:45 WITA on that day, a fixed clock
    as_of = datetime(local_day.year, local_day.month, local_day.day, 2, 45, tzinfo=UTC)
    return f.build_filters(f.FilterChoice(as_of=as_of), Settings(), Scope())


DAYS_OF_A_MONTH = [date(2026, 12, 1), date(2026, 12, 4), date(2026, 12, 15), date(2026, 12, 31),
                   date(2026, 2, 28), date(2026, 3, 1), date(2026, 4, 30)]


def test_default_period_on_any_day_of_a_month_covers_at_least_28_days():
    for day in DAYS_OF_A_MONTH:
        filters = _default_filters(day)
        assert filters.days >= 28, (day, filters.date_from, filters.date_to)
        assert filters.date_to == day


def test_default_period_compares_with_a_span_of_the_same_kind_and_maturity():
    for day in DAYS_OF_A_MONTH:
        filters = _default_filters(day)
        previous = filters.previous_period()
        assert previous.days >= 28, day
        assert previous.date_to < filters.date_from, day
        if filters.date_from.day != 1:  # a rolling span: the same number of days just before it
            assert previous.days == filters.days, day
            assert previous.date_to == filters.date_from - timedelta(days=1), day
        else:  # it happens to be a whole month: the whole month before
            assert previous.date_from.day == 1 and (previous.date_to + timedelta(days=1)).day == 1, day
        # equally mature: judged the same time after its end
        assert filters.as_of - previous.as_of == filters.date_to - previous.date_to, day


def test_bulan_lalu_compares_with_the_whole_month_before():
    for today, previous_month in [(date(2026, 12, 4), (date(2026, 10, 1), date(2026, 10, 31))),
                                  (date(2026, 3, 15), (date(2026, 1, 1), date(2026, 1, 31))),
                                  (date(2026, 1, 2), (date(2025, 11, 1), date(2025, 11, 30)))]:
        start, end = f.preset_range("bulan_lalu", today)
        filters = Filters(start, end, datetime(today.year, today.month, today.day, tzinfo=UTC))
        previous = filters.previous_period()
        assert (previous.date_from, previous.date_to) == previous_month


def test_bulan_ini_compares_with_the_same_days_of_the_month_before():
    filters = Filters(date(2026, 12, 1), date(2026, 12, 4), datetime(2026, 12, 4, 3, tzinfo=UTC))
    previous = filters.previous_period()
    assert (previous.date_from, previous.date_to) == (date(2026, 11, 1), date(2026, 11, 4))
    march = Filters(date(2026, 3, 1), date(2026, 3, 30), datetime(2026, 3, 30, 3, tzinfo=UTC))
    assert march.previous_period().date_to == date(2026, 2, 28)  # clamped to February's end


def test_live_as_of_is_never_before_the_last_import():
    now = datetime(2026, 12, 4, 2, 49, tzinfo=UTC)
    imported = datetime(2026, 12, 4, 2, 48, tzinfo=UTC)  # the TTL floor would be 02:45
    filters = f.build_filters(f.FilterChoice(), Settings(), Scope(), now=now, not_before=imported)
    assert filters.as_of == imported
    pinned = f.FilterChoice(as_of=datetime(2026, 12, 1, tzinfo=UTC))
    assert f.build_filters(pinned, Settings(), Scope(), now=now, not_before=imported).as_of == pinned.as_of
