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

# Art. 15(1)(e): the rights the letter lists, in this order (message ids "rights.<name>").
_RIGHTS = ("rectification", "erasure", "restriction", "objection", "portability", "withdrawal")

# Owner rules write their reference as they like; this default says nothing to the person.
_NO_REFERENCE = ("", "owner-defined")


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


@dataclass(frozen=True)
class RuleWords:
    """A retention rule as the letter words it."""

    label: str
    reference: str
    trigger: str


def rule_words(rule: RetentionRule | None, key: str, lang: str, *, merchant: bool = False) -> tuple[str, str]:
    """(label, legal reference) of a rule in the letter's language; owner rules as written.

    The built-in rules cite §257 HGB only for a merchant (``merchant``); a
    freelancer (Freiberufler) is bound by the AO and the UStG, not the HGB.
    """
    words = _rule_words(rule, key, lang, merchant)
    return words.label, words.reference


def _rule_words(rule: RetentionRule | None, key: str, lang: str, merchant: bool) -> RuleWords:
    if rule is None:
        return RuleWords(key, "", "")
    words = messages(lang) if lang in LANGUAGES else {}
    label = words.get(f"rule.{key}.label")
    if label is not None and rule.label == _builtin_label(key):
        reference = words[f"rule.{key}.reference_merchant" if merchant else f"rule.{key}.reference"]
        return RuleWords(label, reference, words[f"rule.{key}.trigger"])
    reference = "" if rule.reference in _NO_REFERENCE else rule.reference
    return RuleWords(rule.label, reference, rule.trigger_label)


def _builtin_label(key: str) -> str:
    return next((r.label for r in BUILTIN_RULES if r.key == key), "")


def _is_legal_claims(rule: RetentionRule) -> bool:
    """A period kept for legal claims (Art. 17(3)(e)), not a statutory duty (Art. 17(3)(b))."""
    return rule.key == "limitation-3y" or any(m in rule.reference for m in ("17(3)(e)", "17 Abs. 3 lit. e"))


def _kept_by_period(c: Contact, rule: RetentionRule | None) -> bool:
    """A restricted record that a duty or legal-claims period keeps: the old basis no longer applies."""
    return c.is_restricted and rule is not None and rule.obliges


def effective_basis(c: Contact, rule: RetentionRule | None) -> LegalBasis:
    """The basis the record is processed on now: while a period keeps a restricted
    record, the duty (Art. 6(1)(c)) or legal claims (Art. 6(1)(f)), not the old contract."""
    if rule is not None and _kept_by_period(c, rule):
        return LegalBasis.LEGITIMATE_INTERESTS if _is_legal_claims(rule) else LegalBasis.LEGAL_OBLIGATION
    return c.basis


def stated_basis(c: Contact, rule: RetentionRule | None, lang: str, *, merchant: bool = False) -> str:
    """The legal basis in the letter's words, with the statute when a period keeps the record."""
    t = messages(check_lang(lang))
    basis = effective_basis(c, rule)
    reference = _rule_words(rule, c.rule, lang, merchant).reference
    if rule is not None and rule.obliges and reference:
        if basis is LegalBasis.LEGAL_OBLIGATION and not _is_legal_claims(rule):
            return t["basis.duty"].format(reference=reference)
        if _kept_by_period(c, rule):
            return t["basis.claims"].format(reference=reference)
    return basis.describe(lang)


def plural(t: Mapping[str, str], key: str, n: int) -> str:
    """The singular (``<key>.one``) or plural (``<key>.other``) of a message, with {n} filled in."""
    return t[f"{key}.one" if n == 1 else f"{key}.other"].format(n=n)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


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


def _record_fields(c: Contact, rule: RetentionRule | None, lang: str, merchant: bool) -> tuple[tuple[str, str], ...]:
    t = messages(lang)
    words = _rule_words(rule, c.rule, lang, merchant)
    rows: list[tuple[str, str]] = [(t["field.name"], c.name)]
    rows += [(t["field.emails"], e) for e in c.emails]
    rows += [(t["field.phones"], format_phone(p)) for p in c.phones]
    if c.org:
        rows.append((t["field.org"], c.org))
    if c.notes:
        rows.append((t["field.notes"], c.notes))
    rows.append((t["field.source"], c.source or t["not_recorded"]))
    rows.append((t["field.purpose"], c.purpose or t["not_recorded"]))
    rows.append((t["field.basis"], stated_basis(c, rule, lang, merchant=merchant)))
    rows.append((t["field.rule"], words.label))
    until_withdrawn = rule is not None and rule.until_withdrawn
    if c.trigger and words.trigger and not until_withdrawn:  # consent: the date given is shown below
        rows.append((_capitalised(words.trigger), format_date(c.trigger, lang)))
    if rule is not None and rule.from_year_end and c.trigger:
        rows.append((t["field.period_start"], format_date(date(c.trigger.year, 12, 31), lang)))
    if c.retention_end:
        rows.append((t["field.end"], format_date(c.retention_end, lang)))
    elif until_withdrawn:
        rows.append((t["field.end"], t["value.until_withdrawn"]))
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


def _recipients(config: Config, t: Mapping[str, str], lang: str) -> Section:
    """Art. 15(1)(c) and (2): the recipients, with role, country and transfer basis."""
    if not config.processors:
        return Section("c", t["recipients.heading"], (t["recipients.none"],))
    items = tuple(_processor_line(p, t, lang) for p in config.processors)
    return Section("c", t["recipients.heading"], (t["recipients.intro"],), items=items)


def _storage_line(n: int, c: Contact, rule: RetentionRule | None, lang: str, merchant: bool) -> str:
    """Art. 15(1)(d): the period, its starting point named as what it is, and its end."""
    t = messages(lang)
    words = _rule_words(rule, c.rule, lang, merchant)
    if rule is not None and rule.until_withdrawn:
        return t["storage.consent"].format(n=n)
    values = {
        "n": n,
        "label": words.label,
        "reference": f" ({words.reference})" if words.reference else "",
        "trigger_label": words.trigger or t["field.period_start"],
        "trigger": format_date(c.trigger, lang),
    }
    if c.retention_end is None:
        return t["storage.pending"].format(**values)
    end = format_date(c.retention_end, lang)
    purge = format_date(purge_from(c.retention_end), lang)
    if rule is not None and rule.from_year_end and c.trigger:
        start = format_date(date(c.trigger.year, 12, 31), lang)
        return t["storage.year_end"].format(**values, start=start, end=end, purge=purge)
    return t["storage.fixed"].format(**values, end=end, purge=purge)


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
    numbered = list(enumerate(contacts, start=1))
    rule_of = {c.id: known_rule(rules, c.rule) for c in contacts}

    def purpose_line(n: int, c: Contact) -> str:
        rule = rule_of[c.id]
        key = "purposes.restricted" if _kept_by_period(c, rule) else "purposes.item"
        basis = stated_basis(c, rule, lang, merchant=merchant)
        return t[key].format(n=n, purpose=c.purpose or t["not_recorded"], basis=basis)

    sections: list[Section] = [
        Section("intro", t["intro.heading"], (plural(t, "intro.found", len(contacts)), t["intro.copy"])),
        _scope(config, t, lang),
        Section(
            "data",
            t["data.heading"],
            records=tuple(
                (t["data.record"].format(n=n), _record_fields(c, rule_of[c.id], lang, merchant)) for n, c in numbered
            ),
        ),
        Section("a", t["purposes.heading"], items=tuple(purpose_line(n, c) for n, c in numbered)),
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
    sections.append(_recipients(config, t, lang))
    storage: list[str] = []
    for n, c in numbered:
        storage.append(_storage_line(n, c, rule_of[c.id], lang, merchant))
        if c.hold:
            storage.append(t["storage.hold"].format(n=n))
    sections.append(Section("d", t["storage.heading"], items=tuple(storage)))
    objectable = (LegalBasis.PUBLIC_TASK, LegalBasis.LEGITIMATE_INTERESTS)
    rights = [t[f"rights.{right}"] for right in _RIGHTS]
    if not any(effective_basis(c, rule_of[c.id]) in objectable for c in contacts):
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
            items=tuple(t["source.item"].format(n=n, source=c.source or t["not_recorded"]) for n, c in numbered),
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
