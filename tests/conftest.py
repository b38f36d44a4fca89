"""Shared fixtures: real vault files in tmp_path with cheap KDF parameters.

Cheap parameters go through the API (allow_weak_kdf=True), never a global switch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from vault import i18n
from vault.crypto import KdfParams
from vault.model import ContactDraft, LegalBasis
from vault.service import Vault

PASSPHRASE = "correct horse battery staple"
WEAK_KDF = KdfParams(t=1, m_kib=8 * 1024, p=1)


class FixedClock:
    """An injectable clock tests can move."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set_date(self, day: date) -> None:
        self.moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data, config and state folders (pins, sync state, settings)."""
    home = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    # The tests speak English unless one chooses German itself (vault.i18n): the machine's
    # locale must not decide, in this process or in the CLI processes the tests start.
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    i18n.set_language("en")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault.sqlite"


@pytest.fixture
def vault(vault_path: Path, clock: FixedClock) -> Iterator[Vault]:
    v = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock)
    yield v
    v.close()


def draft(**overrides: object) -> ContactDraft:
    """A valid contact draft; override any field."""
    fields: dict[str, object] = {
        "name": "Jürgen Müller",
        "basis": LegalBasis.CONTRACT,
        "rule": "invoices-8y",
        "trigger": date(2025, 3, 10),
        "emails": ("juergen.mueller@example.org",),
        "phones": ("+49 30 1234567",),
        "org": "Müller & Söhne GmbH",
        "notes": "Prefers e-mail.",
    }
    fields.update(overrides)
    return ContactDraft(**fields)  # type: ignore[arg-type]
