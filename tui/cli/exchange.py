"""`sealbook` subcommands for this area (filled in by its issue)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add this module's subcommands to the parser."""
