"""The global filters: period presets, OPD/category/kecamatan/channel, mirrored in the URL query string.

`render_filters()` (called by dashboard.py) draws the sidebar widgets, seeds them from the URL
on a session's first run (so a shared link opens the same view), writes the current choice
back into `st.query_params` on every run, and stores the resulting `metrics.filters.Filters`
(with the viewer's scope) in session state for the pages. The parsing and the period
arithmetic are pure functions, tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from core.settings import Settings
from metrics.filters import Filters, Scope

PRESETS: dict[str, str] = {
    "30_hari": "30 hari terakhir",
    "minggu_ini": "Minggu ini",
    "bulan_ini": "Bulan ini",
    "bulan_lalu": "Bulan lalu",
    "3_bulan": "3 bulan terakhir",
    "tahun_ini": "Tahun ini",
    "custom": "Pilih tanggal",
}
# The default never shows a sliver: 30 days ending today, whatever the day of the month, compared
# with the 30 days before (judged as of 30 days earlier, so equally mature). A calendar month
# would be a few days old on the 4th or a month stale on the 28th (README, "Periode bawaan").
DEFAULT_PRESET = "30_hari"
ROLLING_DAYS = 30

# URL parameter names of the global filters (short, readable in a shared link).
PARAM_PRESET = "periode"
PARAM_FROM = "dari"
PARAM_TO = "sampai"
PARAM_AS_OF = "asof"  # optional: pins the "as of" moment so a link shows exactly the same figures
SLICE_PARAMS: dict[str, str] = {  # Filters field -> URL parameter
    "opds": "f_opd",
    "categories": "f_kategori",
    "kecamatan": "f_kecamatan",
    "channels": "f_kanal",
    "region_codes": "f_wilayah",
}
GLOBAL_PARAMS = (PARAM_PRESET, PARAM_FROM, PARAM_TO, PARAM_AS_OF, *SLICE_PARAMS.values())
SLICE_LABELS = {"opds": "OPD", "categories": "Kategori", "kecamatan": "Kecamatan", "channels": "Kanal"}
REGION_LABEL = "Wilayah"

FILTERS_STATE_KEY = "filters"  # session_state key the pages read the current Filters from
_WIDGET_PREFIX = "flt_"
_SEEDED_KEY = "_flt_seeded"


@dataclass(frozen=True)
class FilterChoice:
    """What the user picked, before it becomes a `Filters` (no as_of, no scope)."""

    preset: str = DEFAULT_PRESET
    date_from: date | None = None  # only for "custom"
    date_to: date | None = None
    slices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    as_of: datetime | None = None  # pinned through the URL, else "now"

    def slice(self, name: str) -> tuple[str, ...]:
        return tuple(self.slices.get(name, ()))


# --- pure: periods ------------------------------------------------------------------------
def _month_start(day: date, months_back: int = 0) -> date:
    year, month = day.year, day.month - months_back
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The local dates (both included) a preset covers, ending today where it runs to now.

    "3 bulan terakhir" is this month and the two before it, so monthly trends get whole months.
    """
    if preset == "30_hari":
        return today - timedelta(days=ROLLING_DAYS - 1), today
    if preset == "minggu_ini":
        return today - timedelta(days=today.weekday()), today
    if preset == "bulan_ini":
        return today.replace(day=1), today
    if preset == "bulan_lalu":
        first_this = today.replace(day=1)
        return _month_start(today, 1), first_this - timedelta(days=1)
    if preset == "3_bulan":
        return _month_start(today, 2), today
    if preset == "tahun_ini":
        return date(today.year, 1, 1), today
    raise ValueError(f"unknown period preset {preset!r}")


def choice_range(choice: FilterChoice, today: date) -> tuple[date, date]:
    if choice.preset == "custom":
        start = choice.date_from or today.replace(day=1)
        end = choice.date_to or today
        return (start, end) if start <= end else (end, start)
    return preset_range(choice.preset, today)


def stable_now(ttl_seconds: int, now: datetime | None = None) -> datetime:
    """Now, floored to the cache TTL, so figures cached for one filter combination stay valid."""
    now = now or datetime.now(UTC)
    step = max(60, int(ttl_seconds))
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % step, tz=UTC)


def build_filters(
    choice: FilterChoice, settings: Settings, scope: Scope, now: datetime | None = None,
    not_before: datetime | None = None,
) -> Filters:
    """The `Filters` of a choice: its period in local dates, evaluated as of `as_of`.

    A live as-of is now floored to the cache TTL, but never before `not_before` (the last
    import): figures "dihitung per 10.45" must not leave out data "per 10.48"."""
    as_of = choice.as_of or stable_now(settings.cache_ttl_seconds, now)
    if choice.as_of is None and not_before is not None and not_before > as_of:
        as_of = min(not_before, now or datetime.now(UTC))
    today = as_of.astimezone(ZoneInfo(settings.kpi.timezone)).date()
    date_from, date_to = choice_range(choice, today)
    return Filters(
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
        opds=choice.slice("opds"),
        categories=choice.slice("categories"),
        kecamatan=choice.slice("kecamatan"),
        channels=choice.slice("channels"),
        region_codes=choice.slice("region_codes"),
        scope=scope,
    )


# --- pure: URL ----------------------------------------------------------------------------
def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [v for v in items if v != ""]


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse_as_of(text: str | None, timezone: str) -> datetime | None:
    """An ISO instant from the URL as aware UTC (no offset = local time); None when invalid."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00").replace(" ", "+")  # '+' arrives as a space
    try:
        parsed = datetime.fromisoformat(value) if len(value) > 10 else datetime.combine(
            date.fromisoformat(value), time(23, 59, 59, 999999)
        )
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)


def choice_from_params(params: Mapping[str, str | Sequence[str]], timezone: str) -> FilterChoice:
    """Read a choice from query parameters; unknown or malformed values fall back to defaults."""
    preset = (_values(params, PARAM_PRESET) or [DEFAULT_PRESET])[-1]
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    date_from = _parse_date((_values(params, PARAM_FROM) or [None])[-1])
    date_to = _parse_date((_values(params, PARAM_TO) or [None])[-1])
    if preset == "custom" and (date_from is None or date_to is None):
        preset = DEFAULT_PRESET
    slices = {
        name: tuple(dict.fromkeys(_values(params, param)))
        for name, param in SLICE_PARAMS.items()
        if _values(params, param)
    }
    as_of = parse_as_of((_values(params, PARAM_AS_OF) or [None])[-1], timezone)
    return FilterChoice(
        preset=preset,
        date_from=date_from if preset == "custom" else None,
        date_to=date_to if preset == "custom" else None,
        slices=slices,
        as_of=as_of,
    )


def params_for_choice(choice: FilterChoice) -> dict[str, list[str]]:
    """The query parameters of a choice; defaults are left out to keep links short."""
    params: dict[str, list[str]] = {}
    if choice.preset != DEFAULT_PRESET:
        params[PARAM_PRESET] = [choice.preset]
    if choice.preset == "custom" and choice.date_from and choice.date_to:
        params[PARAM_FROM] = [choice.date_from.isoformat()]
        params[PARAM_TO] = [choice.date_to.isoformat()]
    for name, param in SLICE_PARAMS.items():
        if choice.slice(name):
            params[param] = list(choice.slice(name))
    if choice.as_of is not None:
        params[PARAM_AS_OF] = [choice.as_of.isoformat()]
    return params


# --- Streamlit ----------------------------------------------------------------------------
def _query_params_dict() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def sync_query_params(wanted: Mapping[str, Sequence[str]], owned: Sequence[str]) -> None:
    """Make the URL show `wanted` for the keys in `owned`, touching nothing else (other pages' keys)."""
    for key in owned:
        target = list(wanted.get(key, []))
        current = st.query_params.get_all(key) if key in st.query_params else []
        if target == current:
            continue
        if target:
            st.query_params[key] = target if len(target) > 1 else target[0]
        else:
            del st.query_params[key]


def _seed_from_url(options: Mapping[str, Sequence[str]], timezone: str) -> None:
    """Put the URL's choice into every filter widget that has no state yet.

    That is a session's first run (a shared link), and also the run after st.switch_page, which
    resets widget state: the global parameters travel in the URL, so the filters survive.
    """
    state = st.session_state
    choice = choice_from_params(_query_params_dict(), timezone)
    if _WIDGET_PREFIX + "preset" not in state:
        state[_WIDGET_PREFIX + "preset"] = choice.preset
        if choice.preset == "custom":
            state[_WIDGET_PREFIX + "range"] = (choice.date_from, choice.date_to)
    for name in SLICE_PARAMS:
        if _WIDGET_PREFIX + name not in state:
            allowed = set(options.get(name, ()))
            state[_WIDGET_PREFIX + name] = [v for v in choice.slice(name) if v in allowed]
    if not state.get(_SEEDED_KEY):
        # The pinned as-of is not a widget: read it once per session, then keep it.
        state[_WIDGET_PREFIX + "as_of"] = choice.as_of
        state[_SEEDED_KEY] = True


def render_filters(settings: Settings, scope: Scope, options: Mapping[str, Sequence[str]]) -> Filters:
    """Draw the sidebar filters, mirror them in the URL and return (and store) the `Filters`."""
    timezone = settings.kpi.timezone
    _seed_from_url(options, timezone)
    state = st.session_state
    if state.get(_WIDGET_PREFIX + "preset") not in PRESETS:
        state[_WIDGET_PREFIX + "preset"] = DEFAULT_PRESET
    sidebar = st.sidebar
    sidebar.markdown("**Saring data**")
    preset = sidebar.selectbox(
        "Periode", list(PRESETS), format_func=PRESETS.__getitem__, key=_WIDGET_PREFIX + "preset"
    )
    as_of = state.get(_WIDGET_PREFIX + "as_of")
    date_from = date_to = None
    if preset == "custom":
        today = (as_of or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
        if not isinstance(state.get(_WIDGET_PREFIX + "range"), tuple | list):
            state[_WIDGET_PREFIX + "range"] = preset_range("bulan_ini", today)
        picked = sidebar.date_input(
            "Tanggal (dari – sampai)", key=_WIDGET_PREFIX + "range", format="DD/MM/YYYY",
        )
        picked = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
        if picked and picked[0] is not None:
            date_from = picked[0]
            date_to = picked[1] if len(picked) > 1 and picked[1] is not None else picked[0]
    slices: dict[str, tuple[str, ...]] = {}
    regions = region_choices(options, scope)
    if len(regions) > 1:
        # Several regions this viewer may see: choosing among them is the first slicer.
        key = _WIDGET_PREFIX + "region_codes"
        state[key] = [v for v in state.get(key, []) if v in regions]
        picked_regions = sidebar.multiselect(
            REGION_LABEL, list(regions), key=key, placeholder="Semua", format_func=regions.__getitem__,
        )
        if picked_regions:
            slices["region_codes"] = tuple(picked_regions)
    active = sum(bool(state.get(_WIDGET_PREFIX + name)) for name in SLICE_LABELS)
    with sidebar.expander("OPD, kategori, kecamatan, kanal", expanded=active > 0):
        for name, label in SLICE_LABELS.items():
            choices = list(options.get(name, ()))
            if name == "opds" and scope.opd is not None:
                continue  # an OPD viewer sees only its own OPD; nothing to choose
            current = [v for v in state.get(_WIDGET_PREFIX + name, []) if v in choices]
            state[_WIDGET_PREFIX + name] = current
            picked_values = st.multiselect(
                label, choices, key=_WIDGET_PREFIX + name, placeholder="Semua",
                format_func=_channel_label if name == "channels" else str,
            )
            if picked_values:
                slices[name] = tuple(picked_values)
    if as_of is not None:
        # A link may pin the moment figures are computed at; say so, and offer to go live again.
        from ui import format as fmt

        sidebar.caption(f"Dihitung per {fmt.moment(as_of, timezone)} (tetap, dari tautan)")
        if sidebar.button("Pakai waktu sekarang", key=_WIDGET_PREFIX + "live"):
            state[_WIDGET_PREFIX + "as_of"] = as_of = None
    choice = FilterChoice(preset=preset, date_from=date_from, date_to=date_to, slices=slices, as_of=as_of)
    sync_query_params(params_for_choice(choice), GLOBAL_PARAMS)
    last_import = None
    if as_of is None:
        from ui import data

        last_import = data.store().last_success()
    filters = build_filters(choice, settings, scope, not_before=last_import)
    state[FILTERS_STATE_KEY] = filters
    return filters


def region_choices(options: Mapping[str, Sequence[str]], scope: Scope) -> dict[str, str]:
    """Region code -> name the Wilayah filter offers: the regions holding complaints
    (`options["region_codes"]`, names in `options["region_names"]`), within the viewer's scope."""
    codes = list(options.get("region_codes", ()))
    names = list(options.get("region_names", ())) or codes
    allowed = set(scope.region_codes)
    return {
        code: name for code, name in zip(codes, names, strict=False) if not allowed or code in allowed
    }


def _channel_label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def local_today(filters: Filters, settings: Settings) -> date:
    """The local date of the filters' as-of moment (which trend buckets are not over yet)."""
    return filters.as_of.astimezone(ZoneInfo(settings.kpi.timezone)).date()


def current_filters() -> Filters:
    """The Filters dashboard.py stored for this run (pages call this, never build their own)."""
    return st.session_state[FILTERS_STATE_KEY]


def active_slice_count(filters: Filters) -> int:
    return sum(bool(getattr(filters, name)) for name in SLICE_PARAMS)


def page_param(key: str, options: Sequence[str], widget_key: str) -> str | None:
    """Seed a page widget from the URL parameter `key` when the widget has no state yet."""
    if widget_key not in st.session_state:
        wanted = st.query_params.get(key)
        if wanted in options:
            st.session_state[widget_key] = wanted
            return wanted
        return None
    return st.session_state.get(widget_key)


def global_params() -> dict[str, list[str]]:
    """The current global filter parameters, to carry along when switching pages."""
    return {key: st.query_params.get_all(key) for key in GLOBAL_PARAMS if key in st.query_params}
