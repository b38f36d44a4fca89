"""The answer letter (``answer.txt`` / ``answer.html``) with Art. 15(1)(a)-(h) GDPR.

:func:`build_letter` arranges the records into a :class:`Letter` in the words
of one catalogue (:mod:`vault.export.catalogue`); a record's retention, legal
basis and storage period are worded by :mod:`vault.export.periods`.
:func:`render_text` and :func:`render_html` write it out.  The HTML page is
``vault/templates/answer.html``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from string import Template

from vault.config import Config, Processor
from vault.export.catalogue import check_lang, format_date, messages, plural
from vault.export.formats import known_rule
from vault.export.periods import (
    Period,
    effective_basis,
    erasure_request,
    erasure_right,
    governing_rule,
    kept_by_period,
    periods,
    stated_basis,
    storage_items,
    words_of,
)
from vault.model import Contact, LegalBasis, RetentionRule, format_phone
from vault.retention import RuleBook

# Art. 15(1)(e): the rights the letter lists, in this order (message ids "rights.<name>").
_RIGHTS = ("rectification", "erasure", "restriction", "objection", "portability", "withdrawal")


@dataclass(frozen=True)
class Section:
    """One part of the letter: a heading (may be empty), paragraphs, and optional records."""

    key: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    records: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Letter:
    """The whole answer in one language, ready to render."""

    lang: str
    title: str
    sender: tuple[str, ...]
    date_line: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    closing: tuple[str, ...] = ()
    salutation: str = ""


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Record:
    """One record as the letter needs it: its number, rules and periods resolved once."""

    n: int
    c: Contact
    main: RetentionRule | None
    governing: RetentionRule | None
    periods: tuple[Period, ...]


def _processor_line(p: Processor, t: Mapping[str, str], lang: str) -> str:
    """Art. 15(1)(c) and (2): who, in which role, for what, where, and on what a transfer rests."""
    transfer = ""
    if p.is_third_country:
        kind = p.transfer if p.transfer in ("adequacy", "scc", "bcr") else "unknown"
        transfer = t[f"recipients.{kind}"].format(decision=p.adequacy_decision)
    return t["recipients.item"].format(
        name=p.name,
        role=t["recipients.controller" if p.role == "controller" else "recipients.processor"],
        purpose=p.purpose_in(lang) or t["not_recorded"],
        country=t.get(f"country.{p.country.upper()}", p.country) or t["not_recorded"],
        transfer=transfer,
    )


def _record_fields(r: _Record, lang: str, merchant: bool) -> tuple[tuple[str, str], ...]:
    """Art. 15(1) and (3): every stored field the person has a right to see, in words.
    Owner-internal fields (the review date, a hold's reason) stay out; data.json has them."""
    t = messages(lang)
    c, rule = r.c, r.main
    words = words_of(rule, c.rule, lang, merchant)
    rows: list[tuple[str, str]] = [(t["field.name"], c.name)]
    rows += [(t["field.emails"], e) for e in c.emails]
    rows += [(t["field.phones"], format_phone(p)) for p in c.phones]
    if c.org:
        rows.append((t["field.org"], c.org))
    if c.notes:
        rows.append((t["field.notes"], c.notes))
    rows.append((t["field.source"], c.source or t["not_recorded"]))
    rows.append((t["field.purpose"], c.purpose or t["not_recorded"]))
    rows.append((t["field.basis"], stated_basis(c, r.governing, lang, merchant=merchant)))
    rows.append((t["field.rule"], words.label))
    until_withdrawn = rule is not None and rule.until_withdrawn
    # consent: the day given is shown below; a consent proof: its trigger is the day withdrawn, shown below
    if c.trigger and words.trigger and not until_withdrawn and not c.is_consent_proof:
        rows.append((_capitalised(words.trigger), format_date(c.trigger, lang)))
    if rule is not None and rule.from_year_end and c.trigger:
        rows.append((t["field.period_start"], format_date(date(c.trigger.year, 12, 31), lang)))
    for period in r.periods[1:]:
        duty = words_of(period.rule, period.key, lang, merchant)
        value = t["field.duty_value"].format(
            label=duty.label,
            trigger_label=duty.trigger or t["field.period_start"],
            trigger=format_date(period.trigger, lang),
        )
        rows.append((t["field.duty"], value))
    if c.retention_end:
        rows.append((t["field.end"], format_date(c.retention_end, lang)))
    elif until_withdrawn and len(r.periods) == 1:
        rows.append((t["field.end"], t["value.until_withdrawn"]))
    elif until_withdrawn:
        rows.append((t["field.end"], t["value.open"]))
    if c.consent_given:
        rows.append((t["field.consent_given"], format_date(c.consent_given, lang)))
    if c.consent_given or c.basis is LegalBasis.CONSENT:
        rows.append((t["field.consent_method"], c.consent_method or t["not_recorded"]))
    if c.consent_withdrawn:
        rows.append((t["field.consent_withdrawn"], format_date(c.consent_withdrawn, lang)))
    requested = erasure_request(c)
    for day, label in (
        (requested, "field.erasure_requested"),
        (c.objected, "field.objected"),
        (c.restriction_requested, "field.restriction_requested"),
    ):
        if day is not None:
            rows.append((t[label], format_date(day, lang)))
    if c.hold:
        rows.append((t["field.hold"], t["value.yes"]))
    rows.append((t["field.state"], t["value.restricted"] if c.is_restricted else t["value.active"]))
    if c.uid:
        rows.append((t["field.uid"], c.uid))
    rows.append((t["field.created"], format_date(c.created.date(), lang)))
    rows.append((t["field.updated"], format_date(c.updated.date(), lang)))
    rows.append((t["field.id"], c.id))
    return tuple(rows)


def _recipients(config: Config, t: Mapping[str, str], lang: str) -> Section:
    """Art. 15(1)(c) and (2): the recipients, with role, country and transfer basis."""
    if not config.processors:
        return Section("c", t["recipients.heading"], (t["recipients.none"],))
    items = tuple(_processor_line(p, t, lang) for p in config.processors)
    return Section("c", t["recipients.heading"], (t["recipients.intro"],), items=items)


def _header(config: Config, t: Mapping[str, str]) -> tuple[str, ...]:
    unset = t["not_configured"]
    lines = (config.controller_name or unset, *config.controller_address.splitlines(), config.controller_email)
    return tuple(line for line in lines if line.strip())


def _closing(config: Config, t: Mapping[str, str], closing: str) -> tuple[str, ...]:
    """The closing sentence, the regards and the signature (config, else the controller's name)."""
    signature = config.signature or config.controller_name or t["not_configured"]
    return (closing, "", t["regards"], *signature.splitlines())


def _scope(config: Config, t: Mapping[str, str], lang: str) -> Section:
    """What the answer covers: the address book; the owner's other systems are listed."""
    systems = tuple(text for text in (w.in_lang(lang) for w in config.other_systems) if text)
    if not systems:
        return Section("scope", t["scope.heading"], (t["scope.address_book"],))
    return Section(
        "scope",
        t["scope.heading"],
        (t["scope.address_book"], t["scope.others"]),
        items=systems,
        after=(t["scope.others_after"],),
    )


def letter_frame(config: Config, today: date, lang: str, title: str, closing: str, sections: list[Section]) -> Letter:
    """A letter with the sender, date, salutation and signature of the config around ``sections``."""
    t = messages(check_lang(lang))
    return Letter(
        lang=lang,
        title=title,
        sender=_header(config, t),
        date_line=t["date"].format(date=format_date(today, lang)),
        sections=tuple(sections),
        closing=_closing(config, t, closing),
        salutation=config.salutation.in_lang(lang) or t["salutation"],
    )


def build_negative_letter(config: Config, today: date, lang: str) -> Letter:
    """The negative answer (Negativauskunft): the address book holds nothing about the person."""
    t = messages(check_lang(lang))
    complaint = [t["complaint.text"]]
    if config.supervisory_authority:
        complaint.append(t["complaint.authority"].format(authority=config.supervisory_authority))
    sections = [
        Section("intro", "", (t["negative.text"],)),
        _scope(config, t, lang),
        Section("request", "", (t["negative.request"],)),
        Section("f", t["complaint.heading"], tuple(complaint)),
    ]
    return letter_frame(config, today, lang, t["title"], t["closing"], sections)


def build_letter(contacts: Sequence[Contact], config: Config, rules: RuleBook, today: date, lang: str) -> Letter:
    """The Art. 15 answer as structured text (rendered by render_text/render_html);
    with no records, the negative answer."""
    t = messages(check_lang(lang))
    if not contacts:
        return build_negative_letter(config, today, lang)
    merchant = config.merchant
    records = [
        _Record(n, c, known_rule(rules, c.rule), governing_rule(c, rules), periods(c, rules))
        for n, c in enumerate(contacts, start=1)
    ]

    def purpose_line(r: _Record) -> str:
        key = "purposes.restricted" if kept_by_period(r.c, r.governing) else "purposes.item"
        basis = stated_basis(r.c, r.governing, lang, merchant=merchant)
        return t[key].format(n=r.n, purpose=r.c.purpose or t["not_recorded"], basis=basis)

    sections: list[Section] = [
        Section("intro", t["intro.heading"], (plural(t, "intro.found", len(contacts)), t["intro.copy"])),
        _scope(config, t, lang),
        Section(
            "data",
            t["data.heading"],
            records=tuple((t["data.record"].format(n=r.n), _record_fields(r, lang, merchant)) for r in records),
        ),
        Section("a", t["purposes.heading"], items=tuple(purpose_line(r) for r in records)),
    ]
    categories = [t["categories.name"]]
    for present, key in (
        (any(c.emails for c in contacts), "categories.email"),
        (any(c.phones for c in contacts), "categories.phone"),
        (any(c.org for c in contacts), "categories.org"),
        (any(c.notes for c in contacts), "categories.notes"),
        (any(c.consent_given or c.basis is LegalBasis.CONSENT for c in contacts), "categories.consent"),
        (any(erasure_request(c) for c in contacts), "categories.erasure"),
        (any(c.objected for c in contacts), "categories.objection"),
        (any(c.restriction_requested for c in contacts), "categories.restriction"),
    ):
        if present:
            categories.append(t[key])
    categories.append(t["categories.admin"])
    sections.append(Section("b", t["categories.heading"], items=tuple(categories)))
    sections.append(_recipients(config, t, lang))
    storage = [item for r in records for item in storage_items(r.n, r.c, r.periods, lang, merchant, today)]
    sections.append(Section("d", t["storage.heading"], items=tuple(storage)))
    objectable = (LegalBasis.PUBLIC_TASK, LegalBasis.LEGITIMATE_INTERESTS)
    erasure = erasure_right((p for r in records for p in r.periods), t)
    rights = [erasure if right == "erasure" else t[f"rights.{right}"] for right in _RIGHTS]
    if not any(effective_basis(r.c, r.governing) in objectable for r in records):
        index = _RIGHTS.index("objection")
        rights[index] += t["rights.objection_none"]
    sections.append(Section("e", t["rights.heading"], items=tuple(rights)))
    complaint = [t["complaint.text"]]
    if config.supervisory_authority:
        complaint.append(t["complaint.authority"].format(authority=config.supervisory_authority))
    sections.append(Section("f", t["complaint.heading"], tuple(complaint)))
    sections.append(
        Section(
            "g",
            t["source.heading"],
            items=tuple(t["source.item"].format(n=r.n, source=r.c.source or t["not_recorded"]) for r in records),
        )
    )
    sections.append(Section("h", t["automated.heading"], (t["automated.text"],)))
    return letter_frame(config, today, lang, t["title"], t["closing"], sections)


def render_text(letter: Letter) -> str:
    """The letter as plain text (answer.txt)."""
    out: list[str] = [*letter.sender, "", letter.date_line, "", letter.title, "=" * min(len(letter.title), 78), ""]
    if letter.salutation:
        out += [letter.salutation, ""]
    for section in letter.sections:
        if section.heading:
            out += [section.heading, "-" * min(len(section.heading), 78)]
        for index, paragraph in enumerate(section.paragraphs):
            out += [""] * (index > 0) + [paragraph]  # a blank line between paragraphs
        out += [f"- {item}" for item in section.items]
        for heading, rows in section.records:
            out += ["", f"  {heading}"]
            for label, value in rows:
                lines = value.splitlines() or [""]
                out.append(f"    {label}: {lines[0]}")
                out += [f"      {line}" for line in lines[1:]]
        out += [*section.after]
        out.append("")
    out += [*letter.closing, ""]
    return "\n".join(out)


def render_html(letter: Letter) -> str:
    """HTML with every value escaped (imported text may contain markup)."""
    e = html.escape
    body: list[str] = [
        '<p class="sender">' + "<br>".join(e(line) for line in letter.sender) + "</p>",
        f"<p>{e(letter.date_line)}</p>",
        f"<h1>{e(letter.title)}</h1>",
    ]
    if letter.salutation:
        body.append(f"<p>{e(letter.salutation)}</p>")
    for section in letter.sections:
        body.append(f'<section id="art15-{e(section.key)}">')
        if section.heading:
            body.append(f"<h2>{e(section.heading)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in section.paragraphs]
        if section.items:
            body.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in section.items) + "</ul>")
        for heading, rows in section.records:
            body.append(f"<h3>{e(heading)}</h3>")
            body.append(
                '<dl class="record">'
                + "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in rows)
                + "</dl>"
            )
        body += [f"<p>{e(p)}</p>" for p in section.after]
        body.append("</section>")
    # In the closing, blank lines separate paragraphs (the sentence; regards and signature).
    paragraphs = "\n".join(letter.closing).split("\n\n")
    body += ["<p>" + "<br>".join(e(line) for line in p.splitlines()) + "</p>" for p in paragraphs if p.strip()]
    template = Template(resources.files("vault.templates").joinpath("answer.html").read_text(encoding="utf-8"))
    return template.substitute(lang=e(letter.lang), title=e(letter.title), body="\n".join(body))
