"""The page's "today" is a listening day that rolls over at 04:00 local time, not at midnight."""

from __future__ import annotations

import time

from webconfig.views import DAY_ROLLOVER_HOUR, listening_day_start


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return time.mktime((year, month, day, hour, minute, 0, 0, 0, -1))


def test_a_night_that_runs_past_midnight_stays_one_day() -> None:
    assert DAY_ROLLOVER_HOUR == 4
    evening = local(2026, 11, 29, 4)
    # ten minutes past midnight, and at half past three: still the day that began at 04:00 the day before
    assert listening_day_start(local(2026, 11, 30, 0, 10)) == evening
    assert listening_day_start(local(2026, 11, 30, 3, 30)) == evening
    assert listening_day_start(local(2026, 11, 29, 23, 59)) == evening
    # from 04:00 a new day begins
    assert listening_day_start(local(2026, 11, 30, 4, 0)) == local(2026, 11, 30, 4)
    assert listening_day_start(local(2026, 11, 30, 12, 0)) == local(2026, 11, 30, 4)
    # across a month's and a year's end
    assert listening_day_start(local(2027, 1, 1, 1, 0)) == local(2026, 12, 31, 4)
    now = time.time()
    assert now - 24 * 3600 < listening_day_start() <= now
