"""Issue 11, point 15: the records about the records (audit log, tombstones, closed
requests) are kept ``log_retention_years`` after the end of the year of the event or
closing (§§195, 199 BGB), then dropped: audit rows and closed requests by the purge,
tombstones by the next unlock, which re-signs the manifest."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from vault.config import Config, parse_config
from vault.errors import ConfigError, VaultDamaged
from vault.purge import records_cutoff, records_kept_until
from vault.service import Vault

EVENT = date(2022, 3, 10)
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2021, 1, 1)}  # retention end 2021-07-01


def rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def write(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("event", "years", "kept_until"),
    [
        (date(2022, 3, 10), 3, date(2025, 12, 31)),
        (date(2022, 1, 1), 3, date(2025, 12, 31)),
        (date(2022, 12, 31), 3, date(2025, 12, 31)),
        (date(2024, 2, 29), 1, date(2025, 12, 31)),
        (date(2020, 6, 30), 10, date(2030, 12, 31)),
    ],
)
def test_records_are_kept_until_the_end_of_the_year_plus_the_period(event: date, years: int, kept_until: date) -> None:
    assert records_kept_until(event, years) == kept_until
    day_before, day_after = kept_until, date(kept_until.year + 1, 1, 1)
    assert not event < records_cutoff(day_before, years)  # still kept on the last day
    assert event < records_cutoff(day_after, years)  # dropped from the next day on


def test_log_retention_years_defaults_to_three_and_is_validated() -> None:
    assert Config().log_retention_years == 3
    assert parse_config({}).log_retention_years == 3
    assert parse_config({"log_retention_years": 10}).log_retention_years == 10
    assert "log_retention_years" not in parse_config({"log_retention_years": 10}).extra
    for bad in (0, 31, True, "3", 2.5):
        with pytest.raises(ConfigError, match="log_retention_years"):
            parse_config({"log_retention_years": bad})


@pytest.fixture
def old(vault_path: Path) -> dict[str, str]:
    """A vault whose history happened on 2022-03-10: a purge (tombstone, push-pending
    row), a closed request with sealed notes and an open one.  Returns the ids."""
    clock = FixedClock(datetime(2022, 1, 1, 12, 0))
    clock.set_date(EVENT)
    with Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as v:
        purged = v.add(draft(name="Gone Person", **EXPIRED))
        kept = v.add(draft(trigger=date(2021, 5, 5)))  # invoices-8y: ends 2029-12-31
        assert [p.record_id for p in v.purge(EVENT).purged] == [purged.id]
        closed = v.open_request("access", [kept.id], notes="SealedNoteMarker")
        v.close_request(closed.id)
        still_open = v.open_request("erasure", [kept.id])
    return {"purged": purged.id, "kept": kept.id, "closed": closed.id, "open": still_open.id}


def reopen(vault_path: Path, day: date, *, unlock: bool = True) -> Vault:
    clock = FixedClock(datetime(2022, 1, 1, 12, 0))
    clock.set_date(day)
    v = Vault(vault_path, clock=clock)
    if unlock:
        v.unlock(PASSPHRASE)
    return v


def test_the_purge_keeps_the_records_about_records_through_the_last_day(vault_path: Path, old: dict[str, str]) -> None:
    with reopen(vault_path, date(2025, 12, 31)) as v:
        report = v.purge(date(2025, 12, 31))
        assert (report.log_rows_dropped, report.requests_dropped, report.tombstones_due) == (0, 0, 0)
        assert {r.id for r in v.list_requests(include_closed=True)} == {old["closed"], old["open"]}
        assert any(e.at.date() == EVENT for e in v.audit_log())


def test_the_purge_drops_old_audit_rows_and_closed_requests_from_the_next_year(
    vault_path: Path, old: dict[str, str]
) -> None:
    with reopen(vault_path, date(2026, 1, 1), unlock=False) as v:  # the scheduled purge: no passphrase
        preview = v.purge(date(2026, 1, 1), dry_run=True)
        assert preview.log_rows_dropped > 0 and preview.requests_dropped == 1 and preview.tombstones_due == 1
        assert len(rows(vault_path, "SELECT * FROM requests")) == 2  # a dry run changes nothing
        report = v.purge(date(2026, 1, 1))
        assert (report.requests_dropped, report.tombstones_due) == (1, 1)
        assert report.log_rows_dropped == preview.log_rows_dropped  # all but the newest push-pending row
        assert rows(vault_path, "SELECT id FROM requests") == [(old["open"],)]  # open requests stay
        assert rows(vault_path, "SELECT id FROM tombstones") == [(old["purged"],)]  # until the next unlock
        left = [(e.action, e.at.date()) for e in v.audit_log() if e.at.date() < date(2023, 1, 1)]
        assert left == [("push-pending", EVENT)]  # it still says the remote copy holds purged data
        (expired,) = [e for e in v.audit_log() if e.action == "records-expired"]
        assert expired.detail == f"log={report.log_rows_dropped} requests=1" and expired.record_id is None
    raw = b"".join(p.read_bytes() for p in vault_path.parent.iterdir() if p.name.startswith(vault_path.name))
    assert old["closed"].encode() not in raw  # the closed request, sealed notes and all, is gone from the file
    with reopen(vault_path, date(2025, 12, 31)) as v:
        assert [r.id for r in v.list_requests(include_closed=True)] == [old["open"]]


def test_an_expired_tombstone_goes_at_unlock_and_the_vault_stays_clean(vault_path: Path, old: dict[str, str]) -> None:
    with reopen(vault_path, date(2025, 12, 31)) as v:
        assert v.damaged_ids == ()
    assert rows(vault_path, "SELECT id FROM tombstones") == [(old["purged"],)]
    assert rows(vault_path, "SELECT id FROM manifest WHERE id = ?", old["purged"]) == [(old["purged"],)]
    with reopen(vault_path, date(2026, 1, 1)) as v:
        assert v.damaged_ids == ()
        assert [e.detail for e in v.audit_log(action="records-expired")] == ["tombstones=1"]
        assert [c.id for c in v.contacts()] == [old["kept"]]
    assert rows(vault_path, "SELECT id FROM tombstones") == []
    # Re-signed with only "gone" left of it: the id and its version, negated (no date, no reason).
    assert rows(vault_path, "SELECT version < 0 FROM manifest WHERE id = ?", old["purged"]) == [(1,)]
    with reopen(vault_path, date(2026, 1, 2)) as v:  # the new head verifies; nothing reported missing
        assert v.damaged_ids == ()
        assert v.purge(date(2026, 1, 2)).ok


def test_a_row_replayed_for_an_expired_tombstone_is_still_refused(vault_path: Path) -> None:
    clock = FixedClock(datetime(2022, 1, 1, 12, 0))
    clock.set_date(EVENT)
    with Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as v:
        gone = v.add(draft(name="Gone Person", **EXPIRED)).id
        (old_row,) = rows(vault_path, "SELECT * FROM contacts WHERE id = ?", gone)  # an old copy of the file
        v.purge(EVENT)
    with reopen(vault_path, date(2026, 1, 1)) as v:
        assert v.damaged_ids == ()  # the tombstone expired here
    placeholders = ", ".join("?" * len(old_row))
    write(vault_path, f"INSERT INTO contacts VALUES ({placeholders})", *old_row)
    with reopen(vault_path, date(2026, 1, 2)) as v:
        assert v.damaged_ids == (gone,)  # not in the signed manifest: stale
        assert v.contacts() == []
        with pytest.raises(VaultDamaged):
            v.get(gone)
        report = v.purge(date(2026, 1, 2))
        assert report.refused == (gone,)  # and the purge does not act on it either


def test_the_configured_keeping_period_is_the_one_the_purge_and_unlock_use(
    vault_path: Path, old: dict[str, str]
) -> None:
    """log_retention_years = 5 keeps the 2022 records through 2027 (default 3: dropped from 2026)."""
    from vault.config import Config

    clock = FixedClock(datetime(2022, 1, 1, 12, 0))
    clock.set_date(date(2026, 1, 1))
    with Vault(vault_path, clock=clock, config=Config(log_retention_years=5)) as v:
        preview = v.purge(date(2026, 1, 1), dry_run=True)
        assert (preview.log_rows_dropped, preview.requests_dropped, preview.tombstones_due) == (0, 0, 0)
        report = v.purge(date(2026, 1, 1))
        assert (report.log_rows_dropped, report.requests_dropped, report.tombstones_due) == (0, 0, 0)
        v.unlock(PASSPHRASE)
    assert rows(vault_path, "SELECT id FROM tombstones") == [(old["purged"],)]  # kept at unlock too
