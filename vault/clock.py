"""Time, injected: every part takes a ``Clock`` instead of reading the system time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without tzinfo: how the store keeps times."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_today(clock: Clock) -> date:
    """The local calendar date of ``clock``."""
    return clock().astimezone().date()
