"""Quiet hours: no commercial submission in a quiet window, ever; held, never dropped."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from rcsportal.campaigns import quiet_hours

PARIS = ZoneInfo("Europe/Paris")
FR = quiet_hours.Window("FR", "Europe/Paris", time(8), time(20), frozenset(range(6)), True)


def _oracle_allowed(local: datetime, fr_holidays) -> bool:
    """Written from the rule's words, independently of quiet_hours.py."""
    return local.weekday() != 6 and local.date() not in fr_holidays and 8 <= local.hour < 20


def test_every_15_minute_slot_of_2025_to_2027_in_france():
    fr_holidays = holidays.France(years=[2025, 2026, 2027])
    slot = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2028, 1, 1, tzinfo=UTC)
    checked = allowed = 0
    while slot < end:
        local = slot.astimezone(PARIS)
        expected = _oracle_allowed(local, fr_holidays)
        assert quiet_hours.is_allowed(FR, slot) is expected, local
        nxt = quiet_hours.next_allowed(FR, slot)
        assert quiet_hours.is_allowed(FR, nxt), (local, nxt)
        if expected:
            assert nxt == slot
        else:
            # Nothing allowed between the slot and the answer: it is the *next* window.
            assert nxt > slot and nxt.astimezone(PARIS).time() == time(8)
            assert not quiet_hours.is_allowed(FR, nxt - timedelta(minutes=15))
        checked += 1
        allowed += expected
        slot += timedelta(minutes=15)
    assert checked == 1095 * 96 and 40_000 < allowed < 47_000


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        (datetime(2026, 7, 14, 10, 0), datetime(2026, 7, 15, 8, 0)),  # Bastille Day
        (datetime(2026, 12, 24, 20, 0), datetime(2026, 12, 26, 8, 0)),  # Christmas, then Saturday
        (
            datetime(2026, 3, 28, 21, 0),
            datetime(2026, 3, 30, 8, 0),
        ),  # Sat night -> Sunday (DST) -> Monday
        (datetime(2026, 11, 24, 7, 59), datetime(2026, 11, 24, 8, 0)),
    ],
)
def test_next_allowed_examples(local, expected_local):
    at = local.replace(tzinfo=PARIS)
    assert quiet_hours.next_allowed(FR, at).astimezone(PARIS).replace(tzinfo=None) == expected_local


def test_window_without_holiday_rule_allows_holidays():
    us = quiet_hours.Window("US", "America/New_York", time(8), time(21), frozenset(range(7)), False)
    july4 = datetime.combine(date(2026, 7, 4), time(12), tzinfo=ZoneInfo("America/New_York"))
    assert quiet_hours.is_allowed(us, july4)
