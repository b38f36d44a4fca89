"""The passphrase stays out of crash reports and worker arguments (issue 10, case 12).

Textual prints an unexpected exception with Rich's traceback; by default that
traceback lists every frame's local variables, and a frame on the unlock path
holds the passphrase.  Textual's ``@work`` also keeps the worker's arguments
(in the worker's callable and, as ``repr``, in its description) while it runs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import Worker, get_current_worker

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import SIZE, app_for, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.unlock import CreateScreen, UnlockScreen
from vault.service import Vault


async def create(pilot: Pilot[Any]) -> None:
    """Fill both fields of the create screen and submit."""
    assert isinstance(pilot.app.screen, CreateScreen)
    pilot.app.screen.query_one("#passphrase", Input).value = PASSPHRASE
    repeat = pilot.app.screen.query_one("#repeat", Input)
    repeat.value = PASSPHRASE
    repeat.focus()
    await pilot.press("enter")
    await settle(pilot)


def reveals_passphrase(value: object) -> bool:
    """Whether ``value`` is, shows or still holds the passphrase."""
    if value == PASSPHRASE or PASSPHRASE in repr(value) or PASSPHRASE in str(value):
        return True
    held = [*getattr(value, "__dict__", {}).values()]
    held += [getattr(value, name, None) for name in getattr(type(value), "__slots__", ())]
    return any(item == PASSPHRASE for item in held)


def assert_no_secret_in(crash: str) -> None:
    assert "RuntimeError" in crash, "no crash report was captured, so the checks below would prove nothing"
    assert PASSPHRASE not in crash
    assert "passphrase = " not in crash
    assert "locals" not in crash  # Rich's title of a frame's variable table
    assert "Traceback" not in crash and "unexpected error (RuntimeError)" in crash  # one line (tui.crash)
    assert "fell over" not in crash  # not even the exception's message: it may hold personal data


async def test_a_crash_while_unlocking_prints_neither_the_passphrase_nor_local_variables(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(vault_path, clock)

    def failing_kdf(self: Vault, passphrase: str) -> None:
        raise RuntimeError("the key derivation fell over")

    monkeypatch.setattr(Vault, "derive_keys", failing_kdf)
    app = app_for(vault_path, clock)
    with pytest.raises(RuntimeError, match="fell over"):  # a bug still stops the app (and fails tests)
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
    printed = capsys.readouterr()
    assert_no_secret_in(printed.out + printed.err)


async def test_a_crash_while_creating_prints_neither_the_passphrase_nor_local_variables(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_create(cls: type[Vault], path: Path, passphrase: str, **options: object) -> Vault:
        raise RuntimeError("the disk fell over")

    monkeypatch.setattr(Vault, "create", classmethod(failing_create))
    app = app_for(vault_path, clock)
    with pytest.raises(RuntimeError, match="fell over"):
        async with app.run_test(size=SIZE) as pilot:
            await create(pilot)
    printed = capsys.readouterr()
    assert_no_secret_in(printed.out + printed.err)


def assert_worker_holds_no_passphrase(worker: Worker[Any]) -> None:
    work = worker._work
    assert isinstance(work, partial)
    handed = [*work.args, *work.keywords.values()]
    assert handed, "expected the worker to be a bound method with its arguments"
    assert not any(reveals_passphrase(argument) for argument in handed)
    assert PASSPHRASE not in worker.description
    assert PASSPHRASE not in repr(worker)


async def test_the_unlock_worker_is_not_handed_the_passphrase(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(vault_path, clock)
    workers: list[Worker[Any]] = []
    derive_keys = Vault.derive_keys

    def watched_kdf(self: Vault, passphrase: str) -> None:
        workers.append(get_current_worker())
        derive_keys(self, passphrase)

    monkeypatch.setattr(Vault, "derive_keys", watched_kdf)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
    [worker] = workers
    assert_worker_holds_no_passphrase(worker)


async def test_the_create_worker_is_not_handed_the_passphrase(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    workers: list[Worker[Any]] = []
    create_vault = Vault.create

    def watched_create(cls: type[Vault], path: Path, passphrase: str, **options: Any) -> Vault:
        workers.append(get_current_worker())
        return create_vault(path, passphrase, **options)

    monkeypatch.setattr(Vault, "create", classmethod(watched_create))
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await create(pilot)
        assert isinstance(app.screen, ContactsScreen)
    [worker] = workers
    assert_worker_holds_no_passphrase(worker)


async def test_no_decrypted_contact_outlives_the_lock(vault_path: Path, clock: FixedClock) -> None:
    """Locking frees every decrypted contact; the full collection that frees those held in
    reference cycles (the list screen's widgets) runs just after the unlock screen is drawn."""
    import gc

    from vault.model import Contact

    ids = set(seed(vault_path, clock, [draft(name=f"Person {i}", emails=(f"p{i}@example.org",)) for i in range(30)]))
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n", "escape")  # the reused form holds the vault too
        await settle(pilot)
        assert len(app.vault) >= 30 and gc.get_freeze_count() > 0  # decoded, and frozen (out of gc.get_objects())
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        for _ in range(50):  # the deferred collection, half a second after the switch (later on a busy machine)
            await pilot.pause(0.1)
            # Counted, never held (a list of them would keep them alive); other tests' own are not ours.
            alive = sum(isinstance(o, Contact) and o.id in ids for o in gc.get_objects())
            if not alive:
                break
        assert alive == 0, f"{alive} decrypted contacts still in memory after the lock"


async def test_the_kept_unlock_screen_comes_back_empty_and_ready_after_each_lock(
    vault_path: Path, clock: FixedClock
) -> None:
    """The app keeps one unlock screen (a lock only shows it again); it must come back with an
    empty field, no old error and not busy, and never hold the passphrase meanwhile."""
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        first = app.screen
        assert isinstance(first, UnlockScreen)
        first.query_one("#passphrase", Input).value = "not the passphrase"
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if first.query_one("#error").display:
                break
        assert first.query_one("#error").display  # the wrong passphrase said so
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert first.query_one("#passphrase", Input).value == ""  # emptied when submitted
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.screen is first
        assert not first.query_one("#error").display
        assert first.query_one("#passphrase", Input).value == ""
        assert not first.query_one("#passphrase", Input).disabled
        assert app.focused is first.query_one("#passphrase")
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
