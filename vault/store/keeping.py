"""How long the accountability records (audit rows, tombstones, closed requests) are kept.

Plain date rules, without SQLAlchemy, so the one-shot read path (vault.lookup)
can tell whether an unlock would expire tombstones; vault.store.purging and
vault.purge name them too.
"""

from __future__ import annotations

from datetime import date

DEFAULT_LOG_RETENTION_YEARS = 3  # §195 BGB: the regular limitation period


def records_kept_until(event: date, years: int) -> date:
    """The last day an audit row, tombstone or closed request of ``event`` is kept:
    31 December of the event's year plus ``years`` (the period starts at the end of
    the year, §199(1) BGB).  2022-03-10 with 3 years -> 2025-12-31."""
    return date(event.year + years, 12, 31)


def records_cutoff(today: date, years: int) -> date:
    """Records of events before this day are past keeping on ``today`` (1 January of
    ``today.year - years``): the same rule as :func:`records_kept_until`, as a bound."""
    return date(today.year - years, 1, 1)
