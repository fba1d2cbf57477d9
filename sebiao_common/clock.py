"""The one clock: wall time in milliseconds, read only where the program is wired together.

Everything below a composition root (the gateway's ``Gateway``, the cloud's
``create_app``) takes ``now`` from its caller or a :class:`Clock` handed to it,
so tests and the demo can run a day in minutes and the model stays pure.
"""

from __future__ import annotations

import time
from datetime import timedelta, timezone
from typing import Protocol

# China Standard Time: one time zone for the whole country and no daylight saving, so the seed's days, the
# inspectors' deadlines and the reports' dates are counted in it wherever the machine stands
CST = timezone(timedelta(hours=8), "CST")
DAY_MS = 86_400_000


class Clock(Protocol):
    def __call__(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...


def now_ms() -> int:
    """The system clock in milliseconds since the Unix epoch (the default :class:`Clock`)."""
    return time.time_ns() // 1_000_000


SYSTEM_CLOCK: Clock = now_ms


def local_day_start_ms(now: int) -> int:
    """Local midnight (the machine's time zone) of ``now``, in ms: where "today" begins on a workshop's screen."""
    from datetime import datetime  # noqa: PLC0415 - only the day's figures need it

    local = datetime.fromtimestamp(now / 1000).astimezone()
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def zoned_day(now: int, timezone: str) -> tuple[str, int]:
    """(YYYY-MM-DD, minutes after local midnight) of ``now`` (ms) in a named time zone (pure calendar arithmetic:
    the workshop's opening and closing times, ``edge_gateway/model/day.py``)."""
    from datetime import datetime  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    moment = datetime.fromtimestamp(now / 1000, ZoneInfo(timezone))
    return moment.date().isoformat(), moment.hour * 60 + moment.minute


def zoned_day_bounds(day: str, timezone: str) -> tuple[int, int]:
    """[start, end) of a local day YYYY-MM-DD in a named time zone, in ms (a DST day has its real length)."""
    from datetime import datetime, timedelta  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(timezone))
    end = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=ZoneInfo(timezone))
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def known_timezone(name: str) -> bool:
    """Whether the system's time zone database knows ``name`` (e.g. Asia/Shanghai)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
