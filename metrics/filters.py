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
        """The period of equal length just before this one, evaluated as of its own end.

        The previous period is judged as of the same `as_of` shifted back by the period length,
        so that both periods had the same time to mature.
        """
        length = timedelta(days=self.days)
        return replace(
            self,
            date_from=self.date_from - length,
            date_to=self.date_to - length,
            as_of=self.as_of - length,
        )

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


def now_utc() -> datetime:
    return datetime.now(UTC)
