"""Keys in the order they were typed, each after the one before was handled (tui.app).

Textual hands a key to the focused widget at once, and a burst (a fast typist, a
paste, a password manager's auto-type) can reach a field before a Tab moved the
focus, or the list before ``n`` opened the form.  :class:`KeyOrder` holds each key
until the previous one is done.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual import events
from textual.app import App
from textual.message import Message
from textual.widget import Widget

KEY_HOPS = 2  # round trips behind a key: the key, then what handling it posted (Submitted, Changed)
KEY_POLL_SECONDS = 0.01
KEY_WAIT_LIMIT = 1.0  # a key whose round trip was lost holds the next one no longer than this
SCREEN_WAIT_LIMIT = 10.0  # keys wait this long at most for a screen being built
WAITING = -1


@dataclass
class KeyHandled(Message):
    """Sent behind a key to the widget the key went to: it follows the key (and what the key
    made that widget post) up to the app, which then lets the next key go.  A serial only."""

    serial: int
    hops_left: int


class KeyOrder:
    """Keys reach their widgets one at a time, each after the previous one was handled.

    Textual forwards a key to the focused widget and moves on to the next at once; a
    binding runs only when the key has bubbled back up to the app.  Keys typed in a burst
    (a fast typist, a password manager's auto-type) therefore reach the old field before a
    Tab has moved the focus, or the list before ``n`` has opened the form.  Here the app
    holds each key until the one before has been handled all the way (a ``KeyHandled``
    sent behind it came back, twice, so messages the key caused are handled too) and any
    screen it opened is mounted; then it sends the next one.  Nothing is dropped: a round
    trip lost with a closing screen ends when the widget is gone, or after KEY_WAIT_LIMIT.
    """

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.held: deque[events.Key] = deque()
        self.serial = 0
        self.busy: int | None = None  # the serial of the key in flight; WAITING while a screen mounts
        self.replay: events.Key | None = None
        self.target: Widget | None = None
        self.sent_at = 0.0
        self.polling = False

    async def arrived(self, event: events.Key, dispatch: Callable[[events.Event], Awaitable[None]]) -> None:
        if self.closed:
            return
        if self.busy is not None and event is not self.replay:
            self.held.append(event)
            return
        self.replay = None
        self.serial += 1
        serial = self.busy = self.serial
        target = self.app.focused or self.app.screen  # where Textual forwards it (unless a priority binding takes it)
        self.target, self.sent_at = target, time.monotonic()
        await dispatch(event)
        if event.is_forwarded and target.is_attached and target.post_message(KeyHandled(serial, KEY_HOPS)):
            self.app.set_timer(KEY_POLL_SECONDS, partial(self.watch, serial))
        else:
            self.done(serial)

    def handled(self, message: KeyHandled) -> None:
        if message.serial != self.busy:
            return
        target = self.target
        again = message.hops_left > 1 and target is not None and target.is_attached
        if not (
            again and target is not None and target.post_message(KeyHandled(message.serial, message.hops_left - 1))
        ):
            self.done(message.serial)

    def watch(self, serial: int) -> None:
        """Give up on a round trip whose widget went away (its screen closed) or that takes too long."""
        if serial != self.busy:
            return
        target = self.target
        gone = target is None or not target.is_attached or target.screen not in self.app.screen_stack
        if gone or time.monotonic() - self.sent_at > KEY_WAIT_LIMIT:
            self.done(serial)
        else:
            self.app.set_timer(KEY_POLL_SECONDS, partial(self.watch, serial))

    @property
    def pending(self) -> bool:
        """Whether a key is in flight or waiting."""
        return self.busy is not None or bool(self.held)

    def done(self, serial: int) -> None:
        if serial == self.busy:
            self.target = None
            self.next()

    @property
    def closed(self) -> bool:
        """Whether the app is closing (Textual has emptied its screen stack): held keys have
        nowhere to go, and are forgotten."""
        if self.app.screen_stack:
            return False
        self.held.clear()
        self.busy = self.target = self.replay = None
        return True

    def next(self) -> None:
        """Send the next held key once the screen on top is mounted (a key may have opened it)."""
        if self.closed:
            return
        screen = self.app.screen
        if not screen.is_mounted and time.monotonic() - self.sent_at < SCREEN_WAIT_LIMIT:
            self.busy = WAITING
            if not self.polling:
                self.polling = True
                self.app.set_timer(KEY_POLL_SECONDS, self.polled)
            return
        if not self.held:
            self.busy = None
            return
        key = self.held.popleft()
        self.busy = WAITING
        self.replay = events.Key(key.key, key.character)
        self.app.post_message(self.replay)

    def polled(self) -> None:
        self.polling = False
        if self.busy == WAITING and self.replay is None:
            self.next()
