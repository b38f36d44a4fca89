"""The detail pane: every field of the selected contact, shown literally."""

from __future__ import annotations

from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.widgets.contact_table import days_left_text, state_word
from tui.widgets.safe import printable
from tui.widgets.translated import first_upper, shown
from vault.i18n import _, format_date, format_datetime, language
from vault.model import Contact, RetentionRule, format_phone
from vault.retention import purge_from


def describe(contact: Contact, rule: RetentionRule | None, today: date) -> Text:
    """The contact as plain ``Text`` (label, value lines); fields are data, never markup."""
    text = Text(end="")
    text.append(printable(contact.name) + "\n", style="bold underline")
    for label, value in fields(contact, rule, today):
        text.append(f"{label}: ", style="bold")
        text.append((value or "—") + "\n")
    text.append(_("Notes") + "\n", style="bold")
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
        Text(_("Notes"), style="bold"),
        Text(printable(contact.notes, multiline=True) or "—", overflow="fold"),
    )


def fields(contact: Contact, rule: RetentionRule | None, today: date) -> list[tuple[str, str]]:
    """(label, printable value) pairs for every field of ``contact``."""
    out: list[tuple[str, str]] = []

    def row(label: str, value: str) -> None:
        out.append((label, printable(value)))

    row(_("Organisation"), contact.org)
    for index, email in enumerate(contact.emails or ("",)):
        row(_("E-mail") if index == 0 else "", email)
    for index, phone in enumerate(contact.phones or ("",)):
        row(_("Phone") if index == 0 else "", format_phone(phone) if phone else "")
    row(_("Legal basis"), contact.basis.describe(language()))
    row(_("Retention rule"), shown(rule.label) if rule else contact.rule)
    if rule and rule.reference:
        row("", shown(rule.reference))
    row(
        first_upper(shown(rule.trigger_label) if rule else _("trigger date")),
        format_date(contact.trigger),
    )
    for index, duty in enumerate(contact.duties):
        row(
            _("Further duties") if index == 0 else "",
            _("{rule} from {date}").format(rule=duty.rule, date=format_date(duty.trigger)),
        )
    end = contact.retention_end
    row(_("Retention end"), f"{format_date(end)} ({days_left_text(end, today)})" if end else _("open-ended"))
    first_purge = purge_from(end)
    if first_purge:
        row(_("Purge from"), format_date(first_purge))
    if contact.review_at:
        row(_("Review"), format_date(contact.review_at))
    row(_("State"), state_word(contact))
    row(_("Legal hold"), _("yes: the purge leaves this record alone") if contact.hold else _("no"))
    if contact.hold_reason:
        row(_("Hold reason"), contact.hold_reason)
    if contact.restriction_requested:
        row(_("Asked to restrict"), f"{format_date(contact.restriction_requested)} (Art. 18(1))")
    if contact.erasure_requested:
        requested = contact.erasure_requested
        kept = (
            [_("until {date}").format(date=format_date(end))] if end and (end > requested or not contact.hold) else []
        )
        if contact.hold:
            kept.append(_("while on hold"))
        row(
            _("Erasure requested"),
            _("{date} (Art. 17); kept {how}").format(date=format_date(requested), how=_(" and ").join(kept)),
        )
    if contact.objected:
        row(_("Objected"), f"{format_date(contact.objected)} (Art. 21)")
    if contact.consent_given or contact.consent_withdrawn or contact.consent_method:
        row(_("Consent given"), format_date(contact.consent_given))
        row(_("Consent method"), contact.consent_method)
        row(_("Consent withdrawn"), format_date(contact.consent_withdrawn))
    if contact.reviewed:
        row(_("Reviewed"), format_date(contact.reviewed))
    row(_("Source"), contact.source)
    row(_("Purpose"), contact.purpose)
    row(_("Created"), format_datetime(contact.created) + " UTC")
    row(_("Updated"), format_datetime(contact.updated) + " UTC")
    return out


class DetailPane(Static):
    """Shows one contact, or a hint when none is selected."""

    DEFAULT_CSS = """
    DetailPane { width: 1fr; height: 1fr; padding: 0 1; border-left: vkey $panel; overflow-y: auto; }
    """

    def show(self, contact: Contact | None, rule: RetentionRule | None, today: date) -> None:
        if contact is None:
            self.update(Text(_("No contact selected."), style="dim"))
        else:
            self.update(render_contact(contact, rule, today))
