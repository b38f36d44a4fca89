"""Measurements that run inside a fresh child process of the harness (tests.bench.harness).

    python -m tests.bench.probes unlock VAULT PASSPHRASE_FILE
    python -m tests.bench.probes app VAULT PASSPHRASE_FILE [--actions N]

Each prints one JSON object on its last line of output.  They go through the
same doors the front ends use: the ``Vault`` facade and the Textual app made by
``tui.app.make_app``, driven like Pilot does (key events into the app's queue).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    """The current resident set size (VmRSS) in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def unlock(vault_path: Path, passphrase: str) -> dict[str, Any]:
    """unlock() split into its KDF half (derive_keys) and the rest (load_contacts)."""
    from vault.service import Vault

    vault = Vault(vault_path)
    try:
        started = time.perf_counter()
        vault.derive_keys(passphrase)
        kdf = time.perf_counter() - started
        started = time.perf_counter()
        vault.load_contacts()
        load = time.perf_counter() - started
        return {
            "kdf_s": kdf,
            "load_s": load,
            "contacts": len(vault),
            "rss_mb": _rss_mb(),
            "peak_rss_mb": _peak_rss_mb(),
        }
    finally:
        vault.close()


# Queries typed in the search box: names with and without accents, German spellings, an
# e-mail fragment, phone digits, two words in any order, and one that finds nothing.
QUERIES = ("müller", "mueller", "weiss", "schmidt-1", "oez", "030 10", "anna 4", "zimmermann 99", "xyz")
KEY_NAMES = {" ": "space", "@": "at", "-": "minus", ".": "full_stop"}


def app(vault_path: Path, passphrase: str, actions: int) -> dict[str, Any]:
    """The app on an unlocked vault: keystroke to redrawn screen, the modal/lock/sort
    actions (key press to the screen refreshed with the result), RSS."""
    from textual import events
    from textual.widgets import Input

    from tui.app import make_app
    from tui.screens.contacts import ContactsScreen
    from tui.screens.form import ContactForm
    from tui.screens.purge import PurgeScreen
    from tui.screens.unlock import UnlockScreen
    from vault.config import Config
    from vault.service import Vault

    out: dict[str, Any] = {}
    vault = Vault(vault_path)
    vault.unlock(passphrase)
    out["contacts"] = len(vault)
    application = make_app(vault_path, Config())

    async def drive() -> None:
        async with application.run_test(size=(160, 50)) as pilot:
            loop = asyncio.get_running_loop()

            async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
                deadline = loop.time() + timeout
                while not condition():
                    if loop.time() > deadline:
                        raise TimeoutError("the app did not get there")
                    await asyncio.sleep(0.0005)

            async def refreshed() -> None:
                """Until the current screen has been redrawn."""
                done = asyncio.Event()
                application.screen.call_after_refresh(done.set)
                await asyncio.wait_for(done.wait(), 60)

            def send(key: str, char: str | None = None) -> None:
                # As Pilot.press does it, minus its waits for idle (they would be timed too).
                application._driver.send_message(events.Key(key, char))  # type: ignore[union-attr]

            started = time.perf_counter()
            application.vault_opened(vault)  # what the KDF worker hands over after an unlock
            await until(lambda: isinstance(application.screen, ContactsScreen) and application.screen.is_mounted)
            await refreshed()
            out["list_ready_s"] = time.perf_counter() - started
            await pilot.pause()
            gc.collect()
            out["rss_unlocked_mb"] = _rss_mb()

            # --- keystroke to redrawn screen -------------------------------------------
            screen = application.screen
            assert isinstance(screen, ContactsScreen)
            screen.query_one("#search").focus()
            await pilot.pause()
            applied = asyncio.Event()
            original = screen.apply_search

            def instrumented(*, keep: str | None = None) -> None:
                original(keep=keep)
                screen.call_after_refresh(applied.set)

            screen.apply_search = instrumented  # type: ignore[method-assign]
            samples: list[float] = []

            async def key(name: str, char: str | None) -> None:
                applied.clear()
                t0 = time.perf_counter()
                send(name, char)
                await asyncio.wait_for(applied.wait(), 60)
                samples.append(time.perf_counter() - t0)

            for query in QUERIES:
                for _ in range(2):  # type it, erase it, type it again
                    for ch in query:
                        await key(ch if ch.isalnum() else KEY_NAMES[ch], ch)
                    for _ in query:
                        await key("backspace", None)
            screen.apply_search = original  # type: ignore[method-assign]
            out["keystroke_s"] = samples
            screen.table.focus()
            await pilot.pause()

            # --- actions: key press -> the screen redrawn with the result ---------------
            timings: dict[str, list[float]] = {"form": [], "sort": [], "purge": [], "edit": [], "lock": []}

            async def timed(name: str, key_name: str, done: Callable[[], bool]) -> None:
                t0 = time.perf_counter()
                send(key_name)
                await until(done)
                await refreshed()
                timings[name].append(time.perf_counter() - t0)

            def on_list() -> bool:
                return isinstance(application.screen, ContactsScreen)

            for _ in range(actions):
                await timed("form", "n", lambda: isinstance(application.screen, ContactForm)
                            and application.screen.is_mounted)  # fmt: skip
                send("escape")
                await until(on_list)
                await pilot.pause()

                before = screen.sort
                await timed("sort", "s", lambda: screen.sort != before)  # noqa: B023
                await pilot.pause()

                await timed("purge", "p", lambda: isinstance(application.screen, PurgeScreen)
                            and application.screen.is_mounted)  # fmt: skip
                send("escape")
                await until(on_list)
                await pilot.pause()

            # Saving an edit: ctrl+s in the edit form to the list redrawn with the change.
            for n in range(actions):
                send("e")
                await until(lambda: isinstance(application.screen, ContactForm) and application.screen.is_mounted)
                await pilot.pause()
                name = application.screen.query_one("#name", Input)
                name.value = f"{name.value.rstrip('0123456789 ')} {n}"
                await timed("edit", "ctrl+s", on_list)
                await pilot.pause()

            out["rss_after_actions_mb"] = _rss_mb()
            for _ in range(actions):
                await timed("lock", "ctrl+l", lambda: isinstance(application.screen, UnlockScreen)
                            and application.screen.is_mounted)  # fmt: skip
                await pilot.pause()
                vault.unlock(passphrase)  # not timed: the unlock row measures it
                application.vault_opened(vault)
                await until(lambda: isinstance(application.screen, ContactsScreen) and application.screen.is_mounted)
                await pilot.pause()
                screen = application.screen  # type: ignore[assignment]
            out.update({f"{name}_s": values for name, values in timings.items()})

    asyncio.run(drive())
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.probes")
    parser.add_argument("probe", choices=("unlock", "app"))
    parser.add_argument("vault", type=Path)
    parser.add_argument("passphrase_file", type=Path)
    parser.add_argument("--actions", type=int, default=5)
    args = parser.parse_args(argv)
    passphrase = args.passphrase_file.read_text(encoding="utf-8").splitlines()[0]
    result = unlock(args.vault, passphrase) if args.probe == "unlock" else app(args.vault, passphrase, args.actions)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
