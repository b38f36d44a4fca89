"""Core subcommands: init, add, find, show, edit, erase, restrict, hold, release, passwd, rules, log."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add the core subcommands."""
