"""The detail pane: every field of the selected contact, shown literally."""

from __future__ import annotations

from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.widgets.contact_table import days_left_text, state_word
from tui.widgets.safe import printable
from vault.model import Contact, RetentionRule, format_phone
from vault.retention import purge_from


def describe(contact: Contact, rule: RetentionRule | None, today: date) -> Text:
    """The contact as plain ``Text`` (label, value lines); fields are data, never markup."""
    text = Text(end="")
    text.append(printable(contact.name) + "\n", style="bold underline")
    for label, value in fields(contact, rule, today):
        text.append(f"{label}: ", style="bold")
        text.append((value or "—") + "\n")
    text.append("Notes\n", style="bold")
    text.append(printable(contact.notes, multiline=True) or "—")
    return text


def render_contact(contact: Contact, rule: RetentionRule | None, today: date) -> Group:
    """The detail pane's renderable: a two-column grid, values wrapping in their column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in fields(contact, rule, today):
        grid.add_row(Text(label), Text(value or "—"))
    return Group(
        Text(printable(contact.name), style="bold underline", overflow="fold"),
        grid,
        Text("Notes", style="bold"),
        Text(printable(contact.notes, multiline=True) or "—", overflow="fold"),
    )


def fields(contact: Contact, rule: RetentionRule | None, today: date) -> list[tuple[str, str]]:
    """(label, printable value) pairs for every field of ``contact``."""
    out: list[tuple[str, str]] = []

    def row(label: str, value: str) -> None:
        out.append((label, printable(value)))

    row("Organisation", contact.org)
    for index, email in enumerate(contact.emails or ("",)):
        row("E-mail" if index == 0 else "", email)
    for index, phone in enumerate(contact.phones or ("",)):
        row("Phone" if index == 0 else "", format_phone(phone) if phone else "")
    row("Legal basis", contact.basis.describe())
    row("Retention rule", rule.label if rule else contact.rule)
    if rule and rule.reference:
        row("", rule.reference)
    row(
        (rule.trigger_label if rule else "trigger date").capitalize(),
        contact.trigger.isoformat() if contact.trigger else "",
    )
    for index, duty in enumerate(contact.duties):
        row("Further duties" if index == 0 else "", f"{duty.rule} from {duty.trigger.isoformat()}")
    end = contact.retention_end
    row("Retention end", f"{end.isoformat()} ({days_left_text(end, today)})" if end else "open-ended")
    first_purge = purge_from(end)
    if first_purge:
        row("Purge from", first_purge.isoformat())
    if contact.review_at:
        row("Review", contact.review_at.isoformat())
    row("State", state_word(contact))
    row("Legal hold", "yes: the purge leaves this record alone" if contact.hold else "no")
    if contact.hold_reason:
        row("Hold reason", contact.hold_reason)
    if contact.restriction_requested:
        row("Asked to restrict", f"{contact.restriction_requested.isoformat()} (Art. 18(1))")
    if contact.erasure_requested:
        requested = contact.erasure_requested
        kept = [f"until {end.isoformat()}"] if end and (end > requested or not contact.hold) else []
        if contact.hold:
            kept.append("while on hold")
        row("Erasure requested", f"{requested.isoformat()} (Art. 17); kept {' and '.join(kept)}")
    if contact.objected:
        row("Objected", f"{contact.objected.isoformat()} (Art. 21)")
    if contact.consent_given or contact.consent_withdrawn or contact.consent_method:
        row("Consent given", contact.consent_given.isoformat() if contact.consent_given else "")
        row("Consent method", contact.consent_method)
        row("Consent withdrawn", contact.consent_withdrawn.isoformat() if contact.consent_withdrawn else "")
    if contact.reviewed:
        row("Reviewed", contact.reviewed.isoformat())
    row("Source", contact.source)
    row("Purpose", contact.purpose)
    row("Created", contact.created.strftime("%Y-%m-%d %H:%M UTC"))
    row("Updated", contact.updated.strftime("%Y-%m-%d %H:%M UTC"))
    return out


class DetailPane(Static):
    """Shows one contact, or a hint when none is selected."""

    DEFAULT_CSS = """
    DetailPane { width: 1fr; height: 1fr; padding: 0 1; border-left: vkey $panel; overflow-y: auto; }
    """

    def show(self, contact: Contact | None, rule: RetentionRule | None, today: date) -> None:
        if contact is None:
            self.update(Text("No contact selected.", style="dim"))
        else:
            self.update(render_contact(contact, rule, today))
