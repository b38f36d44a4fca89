"""Phone numbers in imports: a mistyped number is kept with a warning, not a reason to refuse.

The vault's own validation (:func:`vault.model.normalise_phone`, used for every
draft from the form, the CLI and imports) refuses a number that libphonenumber
does not call valid for its country.  Files people have are full of numbers
with a digit too many or too few, and refusing such an entry blocks the whole
import.  So an import checks each number with :func:`vault.model.check_phone`
first:

* valid: left to the vault's validation, which stores it in E.164;
* possible but not valid (a mistyped digit): kept, in E.164 (its digits as
  typed), and the entry's report says "check it";
* not a phone number at all (no digits to read, too short or too long for any
  number of its country, an unknown country code, an extension): the entry is
  refused, naming why.

The default country of a number typed without one is the vault's region
(``region``).  When it is unknown (None), only numbers typed with their country
code ("+49 ...") can be kept: a national number is then left to the vault's
validation, as before, rather than guessed into the wrong country.
"""

from __future__ import annotations

from dataclasses import replace

from vault.errors import InvalidInput
from vault.i18n import N_, _
from vault.importers.entries import Validate
from vault.model import MAX_ITEMS, ContactDraft, check_phone

KEPT_WARNING = N_("phone kept as typed, not a valid number for its country: check it")
KEPT_WARNING_MANY = N_("{count} phones kept as typed, not valid numbers for their country: check them")


def kept_warning(count: int) -> str:
    """What an entry's report says about ``count`` kept, not valid numbers ('' for none)."""
    if count <= 0:
        return ""
    return _(KEPT_WARNING) if count == 1 else _(KEPT_WARNING_MANY).format(count=count)


def split_phones(phones: tuple[str, ...], region: str | None) -> list[tuple[str, str, bool]]:
    """(as typed, E.164 or '' when the default country is unknown, valid) for each number.

    Raises :class:`InvalidInput` for a number that cannot be a phone number at all.
    """
    checked: list[tuple[str, str, bool]] = []
    for phone in phones:
        if not phone.strip():
            continue
        if region is None and not phone.strip().startswith("+"):
            checked.append((phone, "", True))  # no guessing: left to the vault's validation
            continue
        e164, valid = check_phone(phone, region or "ZZ")
        checked.append((phone, e164, valid))
    return checked


def validate_keeping(
    validate: Validate,
    draft: ContactDraft,
    region: str | None,
    *,
    before: ContactDraft | None = None,
) -> tuple[ContactDraft, tuple[str, ...]]:
    """(the draft validated by ``validate``, the not-valid numbers kept in it, in E.164).

    The kept numbers bypass only the validity check of the vault's validation:
    the rest of the draft (name, e-mails, the other numbers, the batch's rule) is
    validated as always, a number that cannot be one is refused, and the numbers
    stay in their order.
    """
    try:
        checked = split_phones(draft.phones, region)
    except InvalidInput as refused:
        # Fields before the phones (name, e-mails) are named first, as the vault would.
        validate(replace(draft, phones=()), before=before)
        raise refused from None
    kept = tuple(dict.fromkeys(e164 for _, e164, valid in checked if not valid))
    valid_ones = tuple(raw for raw, _, valid in checked if valid)
    clean = validate(draft if valid_ones == draft.phones else replace(draft, phones=valid_ones), before=before)
    if not kept:
        return clean, ()
    ordered = [e164 for _, e164, valid in checked if e164 and (e164 in clean.phones or not valid)]
    phones = tuple(dict.fromkeys([*ordered, *clean.phones]))
    if len(phones) > MAX_ITEMS:
        raise InvalidInput("contact", _("at most {count} e-mails and {count} phones").format(count=MAX_ITEMS))
    return replace(clean, phones=phones), kept
