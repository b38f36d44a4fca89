"""The detail pane: every field of the selected contact, shown literally."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.widgets import Static

from tui.widgets.contact_table import days_left_text, state_word
from tui.widgets.safe import printable
from vault.model import Contact, RetentionRule, format_phone
from vault.retention import purge_from


def describe(contact: Contact, rule: RetentionRule | None, today: date) -> Text:
    """A ``Text`` listing the contact; personal fields are appended as plain data."""
    text = Text(end="")

    def row(label: str, value: str, *, multiline: bool = False) -> None:
        text.append(f"{label:<18}", style="bold")
        text.append(printable(value, multiline=multiline) or "—")
        text.append("\n")

    text.append(printable(contact.name) + "\n", style="bold underline")
    row("Organisation", contact.org)
    for index, email in enumerate(contact.emails or ("",)):
        row("E-mail" if index == 0 else "", email)
    for index, phone in enumerate(contact.phones or ("",)):
        row("Phone" if index == 0 else "", format_phone(phone) if phone else "")
    row("Legal basis", contact.basis.describe())
    row("Retention rule", rule.label if rule else contact.rule)
    if rule and rule.reference:
        row("", rule.reference)
    row((rule.trigger_label if rule else "Trigger date").capitalize(),
        contact.trigger.isoformat() if contact.trigger else "")
    end = contact.retention_end
    row("Retention end", f"{end.isoformat()} ({days_left_text(end, today)})" if end else "open-ended")
    first_purge = purge_from(end)
    if first_purge:
        row("Purge from", first_purge.isoformat())
    if contact.review_at:
        row("Review", contact.review_at.isoformat())
    row("State", state_word(contact))
    row("Legal hold", "yes: the purge leaves this record alone" if contact.hold else "no")
    if contact.consent_given or contact.consent_withdrawn:
        row("Consent given", contact.consent_given.isoformat() if contact.consent_given else "")
        row("Consent withdrawn", contact.consent_withdrawn.isoformat() if contact.consent_withdrawn else "")
    row("Source", contact.source)
    row("Purpose", contact.purpose)
    row("Created", contact.created.strftime("%Y-%m-%d %H:%M UTC"))
    row("Updated", contact.updated.strftime("%Y-%m-%d %H:%M UTC"))
    text.append("Notes\n", style="bold")
    text.append(printable(contact.notes, multiline=True) or "—")
    return text


class DetailPane(Static):
    """Shows one contact, or a hint when none is selected."""

    DEFAULT_CSS = """
    DetailPane { width: 1fr; height: 1fr; padding: 0 1; border-left: vkey $panel; overflow-y: auto; }
    """

    def show(self, contact: Contact | None, rule: RetentionRule | None, today: date) -> None:
        if contact is None:
            self.update(Text("No contact selected.", style="dim"))
        else:
            self.update(describe(contact, rule, today))
