"""Errors raised on purpose by the vault.

Each class's ``sentence`` (the first line of its docstring, marked with
:func:`~vault.i18n.N_` so that ``make messages`` finds it) is what the owner reads,
in the language of the process (:func:`~vault.i18n._` at ``str()`` time); front
ends may show ``str(error)`` verbatim.  Context (a file path, a record id) may be added, but
never personal data, never a secret, and never *why* a cryptographic check
failed (no oracle).
"""

from __future__ import annotations

from vault.i18n import N_, _


class VaultError(Exception):
    """Something went wrong with the vault."""

    sentence = N_("Something went wrong with the vault.")

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(str(self))

    def __str__(self) -> str:
        # The class's own sentence; a subclass without one (elsewhere) falls back to its docstring.
        own = type(self).__dict__.get("sentence") or ((type(self).__doc__ or "").strip().splitlines() or [""])[0]
        sentence = _(own) if own else own
        return f"{sentence} ({self.detail})" if self.detail else sentence


class VaultNotFound(VaultError):
    """No vault exists at this path; create one with `sealbook init`."""

    sentence = N_("No vault exists at this path; create one with `sealbook init`.")


class VaultExists(VaultError):
    """A vault already exists at this path; refusing to overwrite it."""

    sentence = N_("A vault already exists at this path; refusing to overwrite it.")


class NotAVault(VaultError):
    """This file is not a sealbook vault (or is from an unsupported version)."""

    sentence = N_("This file is not a sealbook vault (or is from an unsupported version).")


class WrongPassphrase(VaultError):
    """The passphrase is wrong; nothing was changed."""

    sentence = N_("The passphrase is wrong; nothing was changed.")


class VaultDamaged(VaultError):
    """Part of the vault is damaged or was tampered with and cannot be opened."""

    sentence = N_("Part of the vault is damaged or was tampered with and cannot be opened.")


class KdfParametersRefused(VaultError):
    """The vault asks for key-derivation costs outside the safe range; refusing to derive."""

    sentence = N_("The vault asks for key-derivation costs outside the safe range; refusing to derive.")


class WeakKdf(VaultError):
    """These key-derivation settings are below the safe floor (t=3, 64 MiB, p=4)."""

    sentence = N_("These key-derivation settings are below the safe floor (t=3, 64 MiB, p=4).")


class VaultLocked(VaultError):
    """The vault is locked; unlock it with the passphrase first."""

    sentence = N_("The vault is locked; unlock it with the passphrase first.")


class ContactNotFound(VaultError):
    """No contact with this id exists in the vault."""

    sentence = N_("No contact with this id exists in the vault.")


class InvalidInput(VaultError):
    """Some input is invalid; nothing was saved."""

    sentence = N_("Some input is invalid; nothing was saved.")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __str__(self) -> str:
        return f"{field_name(self.field)}: {self.message}"


class UnknownRule(VaultError):
    """No retention rule with this name exists; `sealbook rules` lists them."""

    sentence = N_("No retention rule with this name exists; `sealbook rules` lists them.")


class ConfigError(VaultError):
    """The configuration file is invalid."""

    sentence = N_("The configuration file is invalid.")


class VaultBusy(VaultError):
    """Another sealbook process is working on this vault; try again later."""

    sentence = N_("Another sealbook process is working on this vault; try again later.")


class StorageFull(VaultError):
    """The disk is full; nothing was changed."""

    sentence = N_("The disk is full; nothing was changed.")


class ErasurePending(StorageFull):
    """The change is saved, but the disk is too full to wipe the freed space from the file; the next purge does it.

    Raised only after the commit (the scrub: checkpoint, VACUUM): what was
    deleted is gone from the tables and its pages were overwritten
    (secure_delete); the copies the write-ahead log may still hold go at the
    next scrub.  A StorageFull, so the purge reports ``scrubbed=False`` as before.
    """

    sentence = N_(
        "The change is saved, but the disk is too full to wipe the freed space from the file; the next purge does it."
    )


class VaultReadOnly(VaultError):
    """The vault cannot be written here (a read-only file, folder or disk); nothing was changed."""

    sentence = N_("The vault cannot be written here (a read-only file, folder or disk); nothing was changed.")


class StorageFailed(VaultError):
    """The vault file could not be read or written (an input/output error); nothing was changed."""

    sentence = N_("The vault file could not be read or written (an input/output error); nothing was changed.")


class VaultTampered(VaultDamaged):
    """The vault file was changed outside sealbook (tampered with); nothing was deleted."""

    sentence = N_("The vault file was changed outside sealbook (tampered with); nothing was deleted.")


class SuppressedPerson(VaultError):
    """This person is on the suppression list; nothing was added.

    They withdrew consent, objected or had their data erased (vault.suppression).
    Carries the reasons and days only, never the e-mail or phone: front ends ask
    the owner and add again with ``allow_suppressed=True`` if the owner decides so.
    """

    sentence = N_("This person is on the suppression list; nothing was added.")

    def __init__(self, hits: tuple[object, ...]) -> None:
        self.hits = hits
        super().__init__("; ".join(dict.fromkeys(h.describe() for h in hits)))  # type: ignore[attr-defined]


class SuppressedDetail(SuppressedPerson):
    """An e-mail or phone added here belongs to a person on the suppression list; nothing was saved.

    Editing is no back door for a person who withdrew consent, objected or was erased:
    only what the edit adds is looked up (a detail the contact already had stays), and
    front ends save again with ``allow_suppressed=True`` if the owner decides so.
    """

    sentence = N_("An e-mail or phone added here belongs to a person on the suppression list; nothing was saved.")


class CannotCreate(VaultError):
    """The vault file cannot be created at this path; nothing was written."""

    sentence = N_("The vault file cannot be created at this path; nothing was written.")


class RequestNotFound(VaultError):
    """No data-subject request with this id exists; `sealbook request list --all` shows them."""

    sentence = N_("No data-subject request with this id exists; `sealbook request list --all` shows them.")


# The names of the fields InvalidInput names (``error.field`` stays this identifier, which
# front ends match on; ``str(error)`` shows the name in the process's language).
FIELD_NAMES = {
    name: name
    for name in (
        N_("name"),
        N_("e-mail"),
        N_("phone"),
        N_("organisation"),
        N_("notes"),
        N_("source"),
        N_("purpose"),
        N_("uid"),
        N_("consent method"),
        N_("consent"),
        N_("basis"),
        N_("contact"),
        N_("duties"),
        N_("trigger"),
        N_("request"),
        N_("request type"),
        N_("informed"),
        N_("export folder"),
        N_("passphrase"),
        N_("passphrase file"),
        N_("url"),
        N_("user"),
        N_("review"),
        N_("restriction"),
        N_("keep"),
        N_("confirmation"),
        N_("records"),
        N_("received"),
        N_("reason"),
        N_("query"),
        N_("objected"),
        N_("id"),
        N_("closed"),
        N_("requested"),
        N_("language"),
        N_("file"),
        N_("hold"),
    )
}


def field_name(field: str) -> str:
    """``field`` (an InvalidInput's field) as the owner reads it in the process's language;
    "rule KEY" keeps the rule's key; unknown fields (command-line options) stay as they are."""
    if field.startswith("rule "):
        return _("rule {key}").format(key=field[5:])
    return _(FIELD_NAMES[field]) if field in FIELD_NAMES else field
