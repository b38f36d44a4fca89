"""Data-subject request tracking: Art. 12(3) deadlines, sealed storage, overdue warnings."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault.errors import ContactNotFound, InvalidInput, VaultDamaged
from vault.requests import DataRequest, RequestNotFound, RequestStatus, RequestType, deadline_for
from vault.service import Vault


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2026, 6, 15), date(2026, 7, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 12, 20), date(2027, 1, 20)),
    ],
)
def test_the_deadline_is_one_month_after_receipt(received: date, deadline: date) -> None:
    assert deadline_for(received) == deadline


def test_status_moves_from_open_to_due_soon_to_overdue() -> None:
    request = DataRequest("r", RequestType.ACCESS, date(2026, 6, 1), date(2026, 7, 1))
    assert request.status(date(2026, 6, 2)) is RequestStatus.OPEN
    assert request.status(date(2026, 6, 24)) is RequestStatus.DUE_SOON
    assert request.status(date(2026, 7, 1)) is RequestStatus.DUE_SOON  # the last day still counts
    assert request.status(date(2026, 7, 2)) is RequestStatus.OVERDUE
    assert request.days_left(date(2026, 7, 3)) == -2


def test_an_opened_request_is_listed_with_its_deadline(vault: Vault) -> None:
    contact = vault.add(draft())
    opened = vault.open_request("access", [contact.id], notes="Letter of 14 June")
    assert (opened.type, opened.received, opened.deadline) == (RequestType.ACCESS, date(2026, 6, 15), date(2026, 7, 15))
    (listed,) = vault.list_requests()
    assert listed == opened
    assert listed.record_ids == (contact.id,)


def test_nothing_personal_is_stored_in_plaintext(vault: Vault, vault_path: Path) -> None:
    contact = vault.add(draft())
    vault.open_request(RequestType.ERASURE, [contact.id], notes="Jürgen called: UniqueMarker4711")
    vault.close()
    raw = b"".join(Path(f"{vault_path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{vault_path}{s}").exists())
    for needle in ("UniqueMarker4711", "Jürgen", "erasure"):
        assert needle.encode() not in raw, needle
    with sqlite3.connect(vault_path) as db:
        (row,) = db.execute("SELECT * FROM requests").fetchall()
    assert not any(contact.id.encode() in (v if isinstance(v, bytes) else str(v).encode()) for v in row)


def test_the_audit_log_holds_only_ids(vault: Vault) -> None:
    request = vault.open_request("objection", notes="private words")
    vault.close_request(request.id)
    rows = [r for r in vault.audit_log() if r.action.startswith("request-")]
    assert [(r.action, r.record_id, r.detail) for r in rows] == [
        ("request-opened", None, request.id),
        ("request-closed", None, request.id),
    ]


def test_overdue_requests_are_flagged_also_while_locked(vault: Vault, clock: FixedClock) -> None:
    late = vault.open_request("access", received=date(2026, 5, 1))
    vault.open_request("portability", received=date(2026, 6, 10))
    assert [r.id for r in vault.overdue_requests()] == [late.id]
    assert vault.overdue_request_count() == 1
    clock.set_date(date(2026, 7, 11))
    vault.lock()
    assert vault.overdue_request_count() == 2


def test_closing_a_request_hides_it_from_the_open_list(vault: Vault, clock: FixedClock) -> None:
    request = vault.open_request("rectification", notes="wrong phone")
    clock.set_date(date(2026, 6, 20))
    closed = vault.close_request(request.id[:8], notes="fixed the number")
    assert closed.closed == date(2026, 6, 20)
    assert closed.notes == "wrong phone\nfixed the number"
    assert closed.status(date(2026, 8, 1)) is RequestStatus.CLOSED
    assert vault.list_requests() == []
    assert vault.list_requests(include_closed=True) == [closed]
    with pytest.raises(InvalidInput, match="already closed"):
        vault.close_request(request.id)


def test_requests_survive_reopening_the_vault(vault_path: Path, vault: Vault, clock: FixedClock) -> None:
    request = vault.open_request("access", notes="kept")
    vault.close()
    again = Vault(vault_path, clock=clock)
    again.unlock(PASSPHRASE)
    try:
        assert again.get_request(request.id) == request
    finally:
        again.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("deadline", "2027-01-01"), ("opened", "2026-06-01"), ("closed", "2026-06-16"), ("version", 2)],
)
def test_tampered_plaintext_dates_make_the_request_unreadable(
    vault: Vault, vault_path: Path, column: str, value: object
) -> None:
    request = vault.open_request("access", notes="secret")
    with sqlite3.connect(vault_path) as db:
        db.execute(f"UPDATE requests SET {column} = ? WHERE id = ?", (value, request.id))
    with pytest.raises(VaultDamaged) as caught:
        vault.list_requests(include_closed=True)
    assert str(caught.value).endswith(f"(request {request.id})")


def test_bad_requests_are_refused(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="request type"):
        vault.open_request("complaint")
    with pytest.raises(InvalidInput, match="future"):
        vault.open_request("access", received=date(2026, 6, 16))
    with pytest.raises(ContactNotFound):
        vault.open_request("access", ["0" * 36])
    with pytest.raises(InvalidInput, match="control"):
        vault.open_request("access", notes="\x1b]52;c;evil\x07")
    with pytest.raises(RequestNotFound):
        vault.close_request("ffffffff")
    request = vault.open_request("access", received=date(2026, 6, 1))
    with pytest.raises(InvalidInput, match="between"):
        vault.close_request(request.id, closed=date(2026, 5, 30))
    assert len(vault.list_requests()) == 1


def test_the_requests_migration_downgrades_and_upgrades(vault: Vault, vault_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from vault.store.engine import alembic_config, make_engine

    vault.open_request("access")
    vault.close()
    engine = make_engine(vault_path)
    try:
        command.downgrade(alembic_config(engine), "0001")
        assert "requests" not in inspect(engine).get_table_names()
        command.upgrade(alembic_config(engine), "head")
        assert "requests" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_an_extension_adds_two_months_once_and_needs_a_reason(vault: Vault, clock: FixedClock) -> None:
    request = vault.open_request("access", received=date(2026, 5, 31))
    assert request.deadline == date(2026, 6, 30) and not request.is_extended
    with pytest.raises(InvalidInput, match="why"):
        vault.extend_request(request.id, reason="  ", informed=date(2026, 6, 15))
    extended = vault.extend_request(request.id, reason="many records in paper archives", informed=date(2026, 6, 15))
    # the original deadline (30 June) plus two months (issue 11, 14), not receipt plus three
    assert (extended.deadline, extended.is_extended) == (date(2026, 8, 30), True)
    assert extended.notes == "Extended: many records in paper archives"
    assert vault.get_request(request.id) == extended
    with pytest.raises(InvalidInput, match="already extended"):
        vault.extend_request(request.id, reason="again", informed=date(2026, 6, 15))


def test_an_extension_after_the_first_month_is_refused(vault: Vault, clock: FixedClock) -> None:
    request = vault.open_request("erasure", received=date(2026, 5, 1))
    with pytest.raises(InvalidInput, match="within one month"):
        vault.extend_request(request.id, reason="too late", informed=date(2026, 6, 10))
    assert vault.get_request(request.id).deadline == date(2026, 6, 1)
