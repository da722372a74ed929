"""Legal quiet hours for commercial messages: when may a number of a country be messaged?

The rules are data (``QuietHoursRule``, editable by admins); this module turns a rule into
"allowed now?" and "next allowed instant". Public holidays come from the ``holidays``
package. A country without a rule has no restriction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@dataclass(frozen=True)
class Window:
    country: str
    timezone: str
    start: time
    end: time
    weekdays: frozenset[int]  # 0 = Monday
    skip_public_holidays: bool

    @classmethod
    def from_rule(cls, rule) -> Window:
        return cls(
            country=rule.country.upper(),
            timezone=rule.timezone,
            start=rule.start,
            end=rule.end,
            weekdays=frozenset(int(d) for d in rule.weekdays if d.isdigit()),
            skip_public_holidays=rule.skip_public_holidays,
        )


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, year: int):
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:  # the package has no calendar for this country
        return {}


def is_working_day(window: Window, day: date) -> bool:
    if day.weekday() not in window.weekdays:
        return False
    return not (window.skip_public_holidays and day in _holiday_calendar(window.country, day.year))


def is_allowed(window: Window, at: datetime) -> bool:
    """True when a commercial message may be submitted at ``at`` (an aware datetime)."""
    local = at.astimezone(ZoneInfo(window.timezone))
    return is_working_day(window, local.date()) and window.start <= local.time() < window.end


def next_allowed(window: Window, at: datetime) -> datetime:
    """``at`` itself when allowed, else the start of the next allowed period (aware, UTC)."""
    if is_allowed(window, at):
        return at
    tz = ZoneInfo(window.timezone)
    local = at.astimezone(tz)
    day = local.date()
    if local.time() >= window.start:
        day += timedelta(days=1)
    for _ in range(370):
        if is_working_day(window, day):
            # Build the wall-clock start in local time, then normalise through UTC so a DST
            # gap cannot produce a non-existent local time.
            start = datetime.combine(day, window.start, tzinfo=tz)
            return start.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)
    raise ValueError(f"quiet-hours rule for {window.country} allows no day in a year")
