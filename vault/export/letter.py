"""The answer letter (``answer.txt`` / ``answer.html``) with Art. 15(1)(a)-(h) GDPR.

:func:`build_letter` arranges the records into a :class:`Letter` in the words
of one catalogue (:mod:`vault.export.catalogue`); :func:`render_text` and
:func:`render_html` write it out.  The HTML page is ``vault/templates/answer.html``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from string import Template

from vault.config import Config, Processor
from vault.export.catalogue import LANGUAGES, check_lang, format_date, messages
from vault.export.formats import known_rule
from vault.model import Contact, LegalBasis, RetentionRule, format_phone
from vault.retention import BUILTIN_RULES, RuleBook, purge_from

# EU and EEA member states: processors elsewhere are third-country recipients.
_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# Art. 15(1)(e): the rights the letter lists, in this order (message ids "rights.<name>").
_RIGHTS = ("rectification", "erasure", "restriction", "objection", "portability", "withdrawal")


@dataclass(frozen=True)
class Section:
    """One part of the letter: a heading, paragraphs, and optional records."""

    key: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    records: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class Letter:
    """The whole answer in one language, ready to render."""

    lang: str
    title: str
    sender: tuple[str, ...]
    date_line: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    closing: tuple[str, ...] = ()


def rule_words(rule: RetentionRule | None, key: str, lang: str) -> tuple[str, str]:
    """(label, legal reference) of a rule in the letter's language; owner rules as written."""
    if rule is None:
        return key, ""
    words = messages(lang) if lang in LANGUAGES else {}
    label = words.get(f"rule.{key}.label")
    if label is not None and rule.label == _builtin_label(key):
        return label, words[f"rule.{key}.reference"]
    return rule.label, rule.reference


def _builtin_label(key: str) -> str:
    return next((r.label for r in BUILTIN_RULES if r.key == key), "")


def _processor_line(p: Processor, t: Mapping[str, str]) -> str:
    return t["recipients.item"].format(
        name=p.name,
        purpose=f": {p.purpose}" if p.purpose else "",
        country=f" ({p.country})" if p.country else "",
    )


def _record_fields(c: Contact, rule: RetentionRule | None, lang: str) -> tuple[tuple[str, str], ...]:
    t = messages(lang)
    rows: list[tuple[str, str]] = [(t["field.name"], c.name)]
    rows += [(t["field.emails"], e) for e in c.emails]
    rows += [(t["field.phones"], format_phone(p)) for p in c.phones]
    optional = [
        (t["field.org"], c.org),
        (t["field.notes"], c.notes),
        (t["field.source"], c.source),
        (t["field.purpose"], c.purpose),
    ]
    rows += [(label, value) for label, value in optional if value]
    rows.append((t["field.basis"], c.basis.describe(lang)))
    rows.append((t["field.rule"], rule_words(rule, c.rule, lang)[0]))
    if c.trigger:
        rows.append((t["field.trigger"], format_date(c.trigger, lang)))
    if c.retention_end:
        rows.append((t["field.end"], format_date(c.retention_end, lang)))
    if c.review_at:
        rows.append((t["field.review"], format_date(c.review_at, lang)))
    if c.consent_given:
        rows.append((t["field.consent_given"], format_date(c.consent_given, lang)))
    if c.consent_withdrawn:
        rows.append((t["field.consent_withdrawn"], format_date(c.consent_withdrawn, lang)))
    if c.hold:
        rows.append((t["field.hold"], t["value.yes"]))
    rows.append((t["field.state"], t["value.restricted"] if c.is_restricted else t["value.active"]))
    if c.uid:
        rows.append((t["field.uid"], c.uid))
    rows.append((t["field.created"], format_date(c.created.date(), lang)))
    rows.append((t["field.updated"], format_date(c.updated.date(), lang)))
    rows.append((t["field.id"], c.id))
    return tuple(rows)


def _recipients(config: Config, t: Mapping[str, str]) -> Section:
    """Art. 15(1)(c): the processors, and a note on each outside the EU/EEA (Art. 15(2))."""
    if not config.processors:
        return Section("c", t["recipients.heading"], (t["recipients.none"],))
    third = tuple(
        t["recipients.third_country"].format(name=p.name, country=p.country)
        for p in config.processors
        if p.country and p.country.upper() not in _EEA
    )
    items = tuple(_processor_line(p, t) for p in config.processors) + third
    return Section("c", t["recipients.heading"], (t["recipients.intro"],), items=items)


def build_letter(contacts: Sequence[Contact], config: Config, rules: RuleBook, today: date, lang: str) -> Letter:
    """The Art. 15 answer as structured text (rendered by render_text/render_html)."""
    t = messages(check_lang(lang))
    unset = t["not_configured"]
    sender = tuple(
        line
        for line in (config.controller_name or unset, *config.controller_address.splitlines(), config.controller_email)
        if line.strip()
    )
    numbered = list(enumerate(contacts, start=1))
    rule_of = {c.id: known_rule(rules, c.rule) for c in contacts}
    sections: list[Section] = [
        Section("intro", t["intro.heading"], (t["intro.text"].format(n=len(contacts)),)),
        Section(
            "data",
            t["data.heading"],
            records=tuple((t["data.record"].format(n=n), _record_fields(c, rule_of[c.id], lang)) for n, c in numbered),
        ),
        Section(
            "a",
            t["purposes.heading"],
            items=tuple(
                t["purposes.item"].format(n=n, purpose=c.purpose or t["purposes.default"], basis=c.basis.describe(lang))
                for n, c in numbered
            ),
        ),
    ]
    categories = [t["categories.name"]]
    for present, key in (
        (any(c.emails for c in contacts), "categories.email"),
        (any(c.phones for c in contacts), "categories.phone"),
        (any(c.org for c in contacts), "categories.org"),
        (any(c.notes for c in contacts), "categories.notes"),
        (any(c.consent_given or c.basis is LegalBasis.CONSENT for c in contacts), "categories.consent"),
    ):
        if present:
            categories.append(t[key])
    categories.append(t["categories.admin"])
    sections.append(Section("b", t["categories.heading"], items=tuple(categories)))
    sections.append(_recipients(config, t))
    storage: list[str] = []
    for n, c in numbered:
        label, reference = rule_words(rule_of[c.id], c.rule, lang)
        if c.retention_end:
            storage.append(
                t["storage.fixed"].format(
                    n=n,
                    label=label,
                    reference=reference,
                    end=format_date(c.retention_end, lang),
                    purge=format_date(purge_from(c.retention_end), lang),
                )
            )
        else:
            review = t["storage.review"].format(date=format_date(c.review_at, lang)) if c.review_at else ""
            storage.append(t["storage.open"].format(n=n, label=label, reference=reference, review=review))
        if c.hold:
            storage.append(t["storage.hold"].format(n=n))
    sections.append(Section("d", t["storage.heading"], items=tuple(storage)))
    sections.append(Section("e", t["rights.heading"], items=tuple(t[f"rights.{right}"] for right in _RIGHTS)))
    complaint = [t["complaint.text"]]
    if config.supervisory_authority:
        complaint.append(t["complaint.authority"].format(authority=config.supervisory_authority))
    sections.append(Section("f", t["complaint.heading"], tuple(complaint)))
    sections.append(
        Section(
            "g",
            t["source.heading"],
            items=tuple(
                t["source.other"].format(n=n, source=c.source) if c.source else t["source.own"].format(n=n)
                for n, c in numbered
            ),
        )
    )
    sections.append(Section("h", t["automated.heading"], (t["automated.text"],)))
    return Letter(
        lang=lang,
        title=t["title"],
        sender=sender,
        date_line=t["date"].format(date=format_date(today, lang)),
        sections=tuple(sections),
        closing=(t["closing"],),
    )


def render_text(letter: Letter) -> str:
    """The letter as plain text (answer.txt)."""
    out: list[str] = [*letter.sender, "", letter.date_line, "", letter.title, "=" * min(len(letter.title), 78), ""]
    for section in letter.sections:
        out += [section.heading, "-" * min(len(section.heading), 78)]
        out += [*section.paragraphs]
        out += [f"- {item}" for item in section.items]
        for heading, rows in section.records:
            out += ["", f"  {heading}"]
            for label, value in rows:
                lines = value.splitlines() or [""]
                out.append(f"    {label}: {lines[0]}")
                out += [f"      {line}" for line in lines[1:]]
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
    for section in letter.sections:
        body.append(f'<section id="art15-{e(section.key)}">')
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
        body.append("</section>")
    body += [f"<p>{e(p)}</p>" for p in letter.closing]
    template = Template(resources.files("vault.templates").joinpath("answer.html").read_text(encoding="utf-8"))
    return template.substitute(lang=e(letter.lang), title=e(letter.title), body="\n".join(body))
