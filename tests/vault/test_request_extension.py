"""Issue 11, point 14: an Art. 12(3) extension records when the person was told (within
the first month), and its new deadline is the original deadline plus two months."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import PASSPHRASE, FixedClock
from vault import crypto
from vault.errors import InvalidInput
from vault.requests import deadline_for, extended_deadline, open_row, request_ad
from vault.service import Vault
from vault.store.models import RequestRow


@pytest.mark.parametrize(
    ("received", "deadline", "extended"),
    [
        # deadline + 2 months, not received + 3 months (which would give 2026-04-30)
        (date(2026, 1, 31), date(2026, 2, 28), date(2026, 4, 28)),
        (date(2028, 1, 31), date(2028, 2, 29), date(2028, 4, 29)),  # leap year; received + 3 would be 30 Apr
        (date(2026, 5, 31), date(2026, 6, 30), date(2026, 8, 30)),  # received + 3 would be 31 Aug
        (date(2026, 11, 30), date(2026, 12, 30), date(2027, 2, 28)),
        (date(2026, 6, 15), date(2026, 7, 15), date(2026, 9, 15)),  # mid-month: both rules agree
    ],
)
def test_the_extended_deadline_is_the_original_deadline_plus_two_months(
    received: date, deadline: date, extended: date
) -> None:
    assert deadline_for(received) == deadline
    assert extended_deadline(deadline) == extended


def test_an_extension_stores_when_the_person_was_told(vault: Vault, clock: FixedClock) -> None:
    clock.set_date(date(2026, 2, 10))
    request = vault.open_request("access", received=date(2026, 1, 31))
    extended = vault.extend_request(request.id, reason="archive in storage", informed=date(2026, 2, 5))
    assert (extended.deadline, extended.informed, extended.is_extended) == (date(2026, 4, 28), date(2026, 2, 5), True)
    vault.lock()
    vault.unlock(PASSPHRASE)
    assert vault.get_request(request.id) == extended  # sealed, and read back
    assert [r.informed for r in vault.list_requests()] == [date(2026, 2, 5)]


def test_telling_the_person_on_the_last_day_of_the_first_month_counts(vault: Vault, clock: FixedClock) -> None:
    clock.set_date(date(2026, 3, 5))  # recorded after the first month: what counts is when the person was told
    request = vault.open_request("erasure", received=date(2026, 1, 31))
    extended = vault.extend_request(request.id, reason="many records", informed=date(2026, 2, 28))
    assert extended.deadline == date(2026, 4, 28)


@pytest.mark.parametrize(
    ("informed", "message"),
    [
        (date(2026, 3, 1), "within one month"),  # the day after the original deadline (28 Feb)
        (date(2026, 1, 30), "within one month"),  # before the request came in
        (date(2026, 3, 6), "future"),  # after today
    ],
)
def test_an_extension_told_out_of_time_is_refused(
    vault: Vault, clock: FixedClock, informed: date, message: str
) -> None:
    clock.set_date(date(2026, 3, 5))
    request = vault.open_request("access", received=date(2026, 1, 31))
    with pytest.raises(InvalidInput, match=message):
        vault.extend_request(request.id, reason="many records", informed=informed)
    unchanged = vault.get_request(request.id)
    assert (unchanged.deadline, unchanged.informed, unchanged.is_extended) == (date(2026, 2, 28), None, False)


def test_a_request_sealed_before_the_informed_field_still_opens() -> None:
    key, vault_id = bytes(range(32)), bytes(16)
    payload = {"v": 1, "type": "access", "record_ids": ["r1"], "notes": "Extended: old reason"}
    opened, deadline = date(2025, 1, 31), date(2025, 5, 31)  # extended the old way (received + 3 months)
    ad = request_ad(vault_id, "req-1", opened, deadline, None, 2)
    sealed = crypto.seal(key, crypto.pad(json.dumps(payload).encode()), ad)
    row = RequestRow(id="req-1", opened=opened, deadline=deadline, closed=None, version=2, sealed=sealed)
    request = open_row(row, key, vault_id)
    assert (request.informed, request.is_extended, request.record_ids) == (None, True, ("r1",))
