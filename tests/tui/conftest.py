"""Set-up shared by the TUI tests: the small terminal sizes and the German language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vault import i18n


@pytest.fixture(params=[(80, 24), (100, 30)], ids=["80x24", "100x30"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    """A test that takes ``size`` runs once at each: the smallest terminals the app must fit
    (80x24) and a common one (100x30).  A module's own parametrize("size", ...) overrides it."""
    width, height = request.param
    return width, height


@pytest.fixture
def german() -> Iterator[None]:
    """The app in German, as the CLI sets it before it makes the app; English again afterwards,
    so German and English tests run in one process in any order."""
    i18n.set_language("de")
    try:
        yield
    finally:
        i18n.set_language("en")
