"""Shared helpers for the TUI tests: cheap vaults, unlocking, reading the screen."""

from __future__ import annotations

import html
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tui.app import SealbookApp, make_app
from vault.config import Config
from vault.model import ContactDraft, LegalBasis
from vault.service import Vault

SIZE = (140, 40)


def app_for(path: Path, clock: FixedClock, config: Config | None = None) -> SealbookApp:
    return make_app(path, config or Config(), clock=clock, kdf=WEAK_KDF, allow_weak_kdf=True)


def people() -> list[ContactDraft]:
    """Fixed sample data: a retention duty, an inquiry, consent, a restricted one."""
    return [
        draft(),  # Jürgen Müller, invoices 8y from 2025-03-10 -> 2033-12-31
        draft(
            name="Anna Schmidt",
            emails=("anna@schmidt.example",),
            phones=("0171 2345678",),
            org="Schmidt Design",
            rule="inquiry-6m",
            basis=LegalBasis.LEGITIMATE_INTERESTS,
            trigger=date(2026, 5, 1),
            notes="Asked for a quote.",
        ),
        draft(
            name="Chloé Weiß",
            emails=("chloe@weiss.example", "c.weiss@studio.example"),
            phones=(),
            org="",
            rule="consent",
            basis=LegalBasis.CONSENT,
            trigger=None,
            consent_given=date(2026, 1, 20),
            consent_method="web form",
            notes="Newsletter.",
        ),
        draft(
            name="Bernd Becker",
            emails=("bernd@becker.example",),
            phones=("+49 89 7654321",),
            org="Becker KG",
            rule="letters-6y",
            trigger=date(2024, 11, 2),
        ),
    ]


def seed(path: Path, clock: FixedClock, drafts: Iterable[ContactDraft] = ()) -> list[str]:
    """Create a vault at ``path`` holding ``drafts``; returns their ids."""
    with Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as vault:
        return [vault.add(d).id for d in drafts]


async def type_text(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*text)


async def settle(pilot: Pilot[object]) -> None:
    """Wait for the KDF worker and the messages it posts."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def unlock(pilot: Pilot[object], passphrase: str = PASSPHRASE) -> None:
    """Enter the passphrase (set at once: typing 28 keys per test is slow) and press enter."""
    field = pilot.app.screen.query_one("#passphrase", Input)
    field.focus()
    field.value = passphrase
    await pilot.press("enter")
    await settle(pilot)


def screen_text(app: App[object]) -> str:
    """The screen as plain text (from the SVG screenshot; one line per row)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    pattern = r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>'
    for match in re.finditer(pattern, svg):
        rows[float(match.group(2))].append((float(match.group(1)), html.unescape(match.group(3))))
    return "\n".join(
        "".join(text for _, text in sorted(parts)).replace("\xa0", " ") for _, parts in sorted(rows.items())
    )


def notified(app: App[object]) -> str:
    """Every notification (toast) shown so far, one a line: toasts are not in the screenshot."""
    return "\n".join(str(notification.message) for notification in app._notifications)


def key_event(key: str) -> events.Key:
    """The event a terminal sends for ``key`` (a name such as "tab" or one character)."""
    if len(key) == 1:
        return events.Key(key if key.isalnum() else _character_to_key(key), key)
    return events.Key(key, {"space": " "}.get(key))


BURST_WAIT_LIMIT = 30.0  # seconds a burst may take to be handled before the test goes on (and fails)


async def burst(pilot: Pilot[object], *keys: str) -> None:
    """Queue every key at once, as a terminal delivers a fast typist, an unbracketed paste or
    a password manager's auto-type: nothing waits for the app between two keys.

    ``pilot.press`` waits until the app is idle after each key, which hides keys that land
    before a screen is ready or in the field a Tab is just leaving.  Then wait until the app
    has handled them all (and whatever they started).
    """
    app = pilot.app
    for key in keys:
        app.post_message(key_event(key))
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    # The app lets each key go after the one before was handled (tui.keyorder); on a busy
    # machine that takes more turns of the loop than the three above (a CI run on two busy
    # cores asserted before ctrl+s had arrived).  Wait until none is held, then settle.
    order = getattr(app, "_keys", None)
    deadline = time.monotonic() + BURST_WAIT_LIMIT
    while order is not None and order.pending and time.monotonic() < deadline:
        await pilot.pause(0.01)
        await app.workers.wait_for_complete()
    await pilot.pause()
