"""The question every figure answers: which period, as of when, for which slice, seen by whom."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Scope:
    """What a viewer may see, enforced in every query (access roles).

    `opd` set: the viewer is an OPD user; complaint-level lists and breakdowns are limited to
    that OPD (the ranking still shows its own position among all). `region_codes` set: only
    these regions. The default scope sees everything.
    """

    opd: str | None = None
    region_codes: tuple[str, ...] = ()

    @property
    def is_restricted(self) -> bool:
        return self.opd is not None or bool(self.region_codes)


@dataclass(frozen=True)
class Filters:
    """A period of local dates (both included), the `as_of` instant and optional slices.

    Empty tuples mean "all". Hashable, so it keys `st.cache_data`.
    """

    date_from: date
    date_to: date
    as_of: datetime
    opds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kecamatan: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    region_codes: tuple[str, ...] = ()
    scope: Scope = Scope()

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous_period(self) -> Filters:
        """The period of the same kind just before this one, evaluated as equally mature.

        Calendar months compare with calendar months: a period from the 1st to a month's end
        (one or more whole months) with the same number of whole months before it; a period
        from the 1st to a day inside a month (month to date) with the same days of the month(s)
        before, clamped to that month's end. Any other period compares with the days of equal
        length just before it. The previous period is judged as of `as_of` shifted back by the
        distance between the two ends, so that both had the same time to mature.
        """
        if self.date_from.day == 1:
            months = (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
            date_from = add_months(self.date_from, -months)
            end_month = add_months(self.date_to.replace(day=1), -months)
            if self.date_to == month_end(self.date_to):
                date_to = month_end(end_month)
            else:
                date_to = min(end_month.replace(day=1) + timedelta(days=self.date_to.day - 1), month_end(end_month))
        else:
            date_from = self.date_from - timedelta(days=self.days)
            date_to = self.date_to - timedelta(days=self.days)
        return replace(self, date_from=date_from, date_to=date_to, as_of=self.as_of - (self.date_to - date_to))

    def same_period_last_year(self) -> Filters:
        def shift(d: date) -> date:
            try:
                return d.replace(year=d.year - 1)
            except ValueError:  # 29 February
                return d.replace(year=d.year - 1, day=28)

        as_of = self.as_of
        try:
            as_of = as_of.replace(year=as_of.year - 1)
        except ValueError:
            as_of = as_of.replace(year=as_of.year - 1, day=28)
        return replace(self, date_from=shift(self.date_from), date_to=shift(self.date_to), as_of=as_of)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (negative: before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def now_utc() -> datetime:
    return datetime.now(UTC)
