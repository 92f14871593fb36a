"""The case file's text, as the HTML subset QTextDocument lays out (no Qt here).

Every value that comes from the store passes through `esc` before it enters the HTML:
text captured from servers under investigation is data, never markup. `esc` also makes
control and bidirectional-override characters visible, so that a name cannot hide or
reorder what the reader sees.

Every fact in the body carries the exhibits it rests on ("[E1, E3]"); a fact that rests on
none says so ("[no exhibit]"), so a reader can tell evidence from the investigator's entry.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from workbench import __version__
from workbench.domain.model import Entity, Event, Evidence, Link
from workbench.domain.times import from_iso
from workbench.export.casedata import (
    KIND_SINGULAR,
    KIND_TITLES,
    CaseData,
    exhibit_list,
    format_attr,
    kind_rank,
    link_phrase,
)

# Placeholders the renderer fills in are wrapped in a private-use character that `esc`
# never lets through, so no text from the store can pose as one.
MARK = "\ue000"
GRAPH_MARKER = f"{MARK}graph{MARK}"
GRAPH_CAPTION_MARKER = f"{MARK}graph-caption{MARK}"
TOC_MARKER = f"{MARK}toc{MARK}"
# Above this many rows a section is a compact list rather than a table: Qt parses, lays
# out and paints a table row several times slower than a paragraph.
MAX_TABLE_ROWS = 120
MAX_SHOWN_TEXT = 200_000  # characters of one exhibit reproduced in the appendix

# C0 and C1 controls other than tab and newline, and the bidirectional overrides and
# isolates that can reorder what a reader sees.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ue000]")

STYLE = """
body { font-family: 'DejaVu Serif'; font-size: 9.5pt; color: #111; }
h1 { font-family: 'DejaVu Sans'; font-size: 20pt; font-weight: bold; margin-bottom: 4pt; }
h2 { font-family: 'DejaVu Sans'; font-size: 14pt; font-weight: bold; color: #1a3550;
     margin-top: 16pt; margin-bottom: 6pt; }
h3 { font-family: 'DejaVu Sans'; font-size: 11pt; font-weight: bold; color: #1a3550;
     margin-top: 14pt; margin-bottom: 4pt; }
p { margin-top: 2pt; margin-bottom: 4pt; }
table.grid { border-collapse: collapse; margin-top: 2pt; margin-bottom: 6pt; }
table.grid td, table.grid th { border: 0.5px solid #9aa4ad; padding: 3px; vertical-align: top; }
table.grid th { background-color: #e4e9ee; font-family: 'DejaVu Sans'; font-size: 8pt;
                font-weight: bold; text-align: left; }
table.grid td { font-size: 8.5pt; }
table.meta td { font-size: 8.5pt; padding: 2px; vertical-align: top; }
td.label, span.label { font-family: 'DejaVu Sans'; font-size: 8pt; color: #44505c; }
p.exmeta { font-size: 8.5pt; margin-top: 2pt; margin-bottom: 2pt; }
p.row { font-size: 8.5pt; margin-top: 1pt; margin-bottom: 1pt; }
p.rowhead { font-size: 9pt; margin-top: 5pt; margin-bottom: 1pt; }
p.subrow { font-size: 8.5pt; margin-top: 1pt; margin-bottom: 1pt; margin-left: 16pt; }
span.cite { font-family: 'DejaVu Sans'; font-size: 7.5pt; color: #1a3550; }
span.nocite { font-family: 'DejaVu Sans'; font-size: 7.5pt; color: #8b1a1a; font-style: italic; }
span.kind { font-family: 'DejaVu Sans'; font-size: 7.5pt; color: #44505c; }
span.mono, td.mono { font-family: 'DejaVu Sans Mono'; font-size: 8pt; }
p.quote { margin-left: 18pt; margin-right: 18pt; font-style: italic; }
p.raw { font-family: 'DejaVu Sans Mono'; font-size: 7.5pt; white-space: pre-wrap;
        background-color: #f4f5f7; margin-top: 4pt; }
p.note { font-size: 8.5pt; color: #44505c; }
p.small { font-size: 8pt; color: #44505c; }
"""

EVENT_KIND_TITLES = {
    "observation": "Observation",
    "lookup": "Lookup",
    "contact_attempt": "Contact attempt",
    "notice_sent": "Notice sent",
    "response": "Response",
    "legal_action": "Legal action",
    "note": "Note",
}
EVIDENCE_KIND_TITLES = {
    "whois": "WHOIS response",
    "rdap": "RDAP response",
    "dns": "DNS answer",
    "page_capture": "Page capture",
    "email": "Email",
    "document": "Document",
    "note": "Note",
    "file": "File",
}


def esc(value: Any) -> str:
    """Store text made safe for the HTML: escaped, with hidden characters shown."""
    text = "" if value is None else str(value)
    text = _HIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
    return html.escape(text, quote=True)


def raw_text(text: str) -> str:
    """Raw evidence text for a pre-wrap block: line ends unified, hidden characters shown."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return esc(text)


def when(iso: str | None, *, seconds: bool = True) -> str:
    """A stored UTC time as people read it: 2010-10-04 11:26:41 UTC."""
    if not iso:
        return ""
    try:
        moment = from_iso(iso)
    except ValueError:
        return esc(iso)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def readable_attr(name: str, value: Any) -> str:
    """An attribute as the case file prints it: times as UTC dates, counts with commas."""
    if isinstance(value, str) and _ISO_TIME.match(value):
        return when(value)
    if isinstance(value, int) and not isinstance(value, bool) and name != "asn":
        return f"{value:,}"
    return format_attr(name, value)


def exhibit_marker(number: int) -> str:
    """Where the page an exhibit starts on goes, until it is known."""
    return f"{MARK}exhibit-{number}{MARK}"


EXHIBIT_HEADING = re.compile(r"^Exhibit E(\d+): ")


@dataclass
class Section:
    number: str
    title: str

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def marker(self) -> str:
        return f"{MARK}page-{self.number}{MARK}"


@dataclass
class Part:
    """A stretch of the case file that starts on a new page: laid out as a document of its
    own, so that no edit to one part makes Qt lay out the others again."""

    html: str
    sections: list[Section]
    holds_exhibits: bool = False


@dataclass
class CaseFileHtml:
    cover: Part  # holds the contents' page markers (Section.marker) to fill in last
    parts: list[Part]
    uncited_facts: int

    @property
    def sections(self) -> list[Section]:
        return [section for part in self.parts for section in part.sections]


class _Writer:
    def __init__(
        self,
        data: CaseData,
        contents: dict[int, bytes],
        renderings: dict[int, str],
        attachment_names: dict[int, str],
        verified: dict[str, int],
    ):
        self.data = data
        self.contents = contents
        self.renderings = renderings
        self.attachment_names = attachment_names
        self.verified = verified
        self.parts: list[Part] = [Part("", [])]  # the cover first
        self.chunks: list[str] = []
        self.uncited = 0
        self.generated = from_iso(data.generated_at)
        self.outgoing: dict[int, list[Link]] = defaultdict(list)
        self.incoming: dict[int, list[Link]] = defaultdict(list)
        for link in data.links:
            self.outgoing[link.src_id].append(link)
            self.incoming[link.dst_id].append(link)

    # -- small pieces -------------------------------------------------------------------
    def cite(self, evidence_ids) -> str:
        numbers = self.data.exhibits(evidence_ids)
        if not numbers:
            self.uncited += 1
            return '<span class="nocite">[no exhibit]</span>'
        return f'<span class="cite">[{exhibit_list(numbers)}]</span>'

    def name(self, entity_id: int) -> str:
        entity = self.data.entity_by_id.get(entity_id)
        return esc(entity.value) if entity else f"entity {entity_id}"

    def links_from(self, entity_id: int, *types: str) -> list[Link]:
        return [link for link in self.outgoing[entity_id] if not types or link.type in types]

    def links_to(self, entity_id: int, *types: str) -> list[Link]:
        return [link for link in self.incoming[entity_id] if not types or link.type in types]

    def _close_part(self) -> None:
        self.parts[-1].html = f"<html><body>{''.join(self.chunks)}</body></html>"
        self.chunks = []

    def section(self, title: str, number: str, *, new_page: bool = False) -> None:
        section = Section(number, title)
        if new_page:
            self._close_part()
            self.parts.append(Part("", []))
        self.parts[-1].sections.append(section)
        self.chunks.append(f"<h2>{esc(section.heading)}</h2>")

    def add(self, text: str) -> None:
        self.chunks.append(text)

    def list_with_cites(self, links: list[Link], other_end: str = "dst") -> str:
        items = []
        for link in links:
            other = link.dst_id if other_end == "dst" else link.src_id
            items.append(f"{self.name(other)} {self.cite(link.evidence_ids)}")
        return "; ".join(items)

    # -- the document -------------------------------------------------------------------
    def build(self) -> None:
        self.cover()
        self.summary()
        self.storefronts()
        self.entities()
        self.relationships()
        self.graph()
        self.timeline()
        self.lookups()
        self.cross_case()
        self.appendix()
        self._close_part()

    def cover(self) -> None:
        case = self.data.case
        self.add('<p class="small" style="margin-top: 60pt">CASE FILE</p>')
        self.add(f"<h1>{esc(case.title)}</h1>")
        rows = [
            ("Case", f"{case.id}"),
            ("Status", esc(case.status) + (" (archived)" if case.archived_at else "")),
            ("Investigator", esc(case.investigator or "not recorded")),
            ("Opened", when(case.created_at)),
            ("Last change", when(case.updated_at)),
            ("Generated", when(self.data.generated_at)),
            ("Generated by", f"Rights-Investigation Workbench {esc(__version__)}"),
            ("Store identity", f'<span class="mono">{esc(self.data.origin.get("store"))}</span>'),
            (
                "Contents",
                f"{len(self.data.entities)} entities, {len(self.data.links)} relationships, "
                f"{len(self.data.events)} timeline entries, "
                f"{len(self.data.evidence)} exhibits",
            ),
            (
                "Verification",
                f"Before this file was generated, all {self.verified['evidence']} evidence "
                f"items in the store were re-hashed and matched their recorded SHA-256, and "
                f"the audit chain ({self.verified['audit_rows']} entries) was intact.",
            ),
        ]
        self.add('<table class="meta" width="100%" cellspacing="0" cellpadding="2">')
        for label, value in rows:
            self.add(f'<tr><td class="label" width="22%">{label}</td><td>{value}</td></tr>')
        self.add("</table>")
        self.add('<h3 style="margin-top: 24pt">Contents</h3>')
        self.add('<table class="meta" width="100%" cellspacing="0" cellpadding="1">')
        self.add(TOC_MARKER)
        self.add("</table>")
        self.add(
            '<p class="note" style="margin-top: 18pt">How to read this file: every statement '
            "of fact is followed by the exhibits it rests on, in brackets ([E3] is exhibit 3 "
            "of the evidence appendix). An exhibit is material exactly as it was received "
            "(a WHOIS response, a DNS answer, a captured page), reproduced in the appendix "
            "with its SHA-256 hash and capture time and embedded in this PDF as a file "
            "attachment; the hash of an extracted attachment must equal the one printed. "
            'Entries marked <span class="nocite">[no exhibit]</span> are the investigator\'s '
            "own record and rest on no exhibit.</p>"
        )

    def toc_rows(self) -> str:
        rows = []
        for section in (s for part in self.parts[1:] for s in part.sections):
            page = section.marker
            rows.append(
                f'<tr><td>{esc(section.heading)}</td><td align="right" width="12%">{page}</td></tr>'
            )
        return "".join(rows)

    def summary(self) -> None:
        data = self.data
        self.section("Executive summary", "1", new_page=True)
        if data.case.summary:
            self.add(f'<p class="quote">“{esc(data.case.summary)}”</p>')
            self.add(
                '<p class="small">— the investigator\'s summary '
                '<span class="nocite">[no exhibit]</span></p>'
            )
        findings = []
        storefronts = [e for e in data.entities if e.kind == "storefront"]
        for store in storefronts:
            findings.extend(self.storefront_findings(store))
        for phone in (e for e in data.entities if e.kind == "phone"):
            if phone.attrs.get("line_type") == "fax":
                holders = self.links_to(phone.id, "contact_phone")
                voice = [link for link in holders if link.label != "fax"]
                if voice:
                    names = ", ".join(dict.fromkeys(self.name(link.src_id) for link in voice))
                    findings.append(
                        f"The phone number {esc(phone.value)} given for {names} is a fax line "
                        f"{self.cite(ev for link in voice for ev in link.evidence_ids)}."
                    )
        for related in data.related:
            other = related["case"]
            shared = [
                f"the {esc(KIND_SINGULAR.get(s['entity']['kind'], s['entity']['kind']))} "
                f"{esc(s['entity']['value'])} "
                f"{self.cite(data.entity_evidence(s['entity']['id']))}"
                if s["via"] == "entity"
                else f"the same {esc(s['name'].replace('_', ' '))} “{esc(s['value'])}” "
                f"{self.cite(data.entity_evidence(s['entity']['id']))}"
                for s in related["shared"]
            ]
            findings.append(
                f"This case shares {'; '.join(shared)} with case {other['id']} "
                f"“{esc(other['title'])}” (see section 9)."
            )
        if findings:
            self.add("<h3>Findings</h3>")
            self.add("<ul>" + "".join(f"<li>{item}</li>" for item in findings) + "</ul>")
        attempts = [e for e in data.events if e.kind in ("contact_attempt", "notice_sent")]
        open_deadlines = [e for e in data.events if self.deadline_state(e) == "open"]
        if attempts or open_deadlines:
            self.add("<h3>Contact and notices</h3><ul>")
            for event in attempts:
                outcome = f" Outcome: {esc(event.outcome)}" if event.outcome else ""
                self.add(
                    f"<li>{when(event.at, seconds=False)}: {esc(event.text)}{outcome} "
                    '<span class="nocite">[investigator\'s record]</span></li>'
                )
            for event in open_deadlines:
                self.add(
                    f"<li><b>Open deadline {when(event.deadline, seconds=False)}</b>: "
                    f"{esc(event.text)}</li>"
                )
            self.add("</ul>")
        self.add("<h3>The file in figures</h3>")
        counts = defaultdict(int)
        for entity in data.entities:
            counts[entity.kind] += 1
        kinds = ", ".join(
            f"{n} {esc(KIND_SINGULAR.get(k, k) if n == 1 else KIND_TITLES.get(k, k).lower())}"
            for k, n in sorted(counts.items(), key=lambda kv: kind_rank(kv[0]))
        )
        self.add(
            f"<p>{len(data.entities)} entities ({kinds}); {len(data.links)} relationships; "
            f"{len(data.events)} timeline entries; {len(data.evidence)} exhibits "
            f"({sum(item.size for item in data.evidence):,} bytes of evidence).</p>"
        )

    def storefront_findings(self, store: Entity) -> list[str]:
        found = []
        name = esc(store.value)
        served = self.links_from(store.id, "served_at")
        if served:
            found.append(f"The storefront {name} is served at {self.list_with_cites(served)}.")
        operators = self.links_to(store.id, "operates")
        if operators:
            found.append(f"{name} is operated by {self.list_with_cites(operators, 'src')}.")
        claims = self.links_from(store.id, "claims_licence_from")
        if claims:
            found.append(f"{name} claims a licence from {self.list_with_cites(claims)}.")
        prices = store.attrs.get("prices")
        if prices:
            found.append(
                f"{name} sells at {esc(format_attr('prices', prices))} "
                f"{self.cite(self.data.entity_evidence(store.id))}."
            )
        payments = self.links_from(store.id, "accepts_payment_via")
        if payments:
            found.append(f"{name} accepts payment via {self.list_with_cites(payments)}.")
        for link in served:
            domain = self.data.entity_by_id.get(link.dst_id)
            if domain is None or domain.kind != "domain":
                continue
            registrars = self.links_from(domain.id, "registered_via")
            registrants = self.links_from(domain.id, "registered_to")
            if registrars or registrants:
                parts = []
                if registrars:
                    parts.append(f"through {self.list_with_cites(registrars)}")
                if registrants:
                    parts.append(f"to {self.list_with_cites(registrants)}")
                found.append(f"The domain {esc(domain.value)} is registered {' '.join(parts)}.")
            addresses = self.links_from(domain.id, "resolves_to")
            if addresses:
                found.append(f"{esc(domain.value)} resolves to {self.list_with_cites(addresses)}.")
                for address in addresses:
                    hosts = self.links_from(address.dst_id, "hosted_by")
                    if hosts:
                        found.append(
                            f"{self.name(address.dst_id)} is hosted by "
                            f"{self.list_with_cites(hosts)}."
                        )
        return found

    def storefronts(self) -> None:
        stores = [e for e in self.data.entities if e.kind == "storefront"]
        self.section("Storefront" if len(stores) == 1 else "Storefronts", "2", new_page=True)
        if not stores:
            self.add("<p>No storefront is recorded in this case.</p>")
        for store in stores:
            attrs = store.attrs
            basis = self.cite(self.data.entity_evidence(store.id))
            self.add(f"<h3>{esc(store.value)}</h3>")
            rows: list[tuple[str, str]] = []
            served = self.links_from(store.id, "served_at")
            if served:
                rows.append(("Served at", self.list_with_cites(served)))
            operators = self.links_to(store.id, "operates")
            if operators:
                rows.append(("Operator", self.list_with_cites(operators, "src")))
            elif attrs.get("operator"):
                rows.append(("Operator", f"{esc(attrs['operator'])} {basis}"))
            claims = self.links_from(store.id, "claims_licence_from")
            societies = [
                link
                for link in claims
                if self.data.entity_by_id.get(link.dst_id, None) is not None
                and self.data.entity_by_id[link.dst_id].kind == "collecting_society"
            ]
            licences = [link for link in claims if link not in societies]
            if attrs.get("licence_claim"):
                rows.append(
                    (
                        "Licence claim",
                        f"as worded on the site {basis}:"
                        f'<p class="quote">“{esc(attrs["licence_claim"])}”</p>',
                    )
                )
            if licences:
                rows.append(("Licence quoted", self.list_with_cites(licences)))
            elif attrs.get("licence_number"):
                rows.append(("Licence quoted", f"{esc(attrs['licence_number'])} {basis}"))
            if societies:
                rows.append(("Collecting society", self.society_cells(societies)))
            if attrs.get("prices"):
                price_rows = "".join(
                    f'<tr><td align="right">{esc(p["amount"])}</td><td>{esc(p["currency"])}'
                    f"</td><td>per {esc(p['unit'])}</td></tr>"
                    for p in attrs["prices"]
                    if isinstance(p, dict)
                )
                rows.append(
                    (
                        "Prices",
                        '<table class="grid" cellspacing="0" cellpadding="3">'
                        "<thead><tr><th>Amount</th><th>Currency</th><th>Unit</th></tr></thead>"
                        f"{price_rows}</table>{basis}",
                    )
                )
            if attrs.get("catalogue_size") is not None:
                rows.append(("Catalogue", f"{int(attrs['catalogue_size']):,} items {basis}"))
            if attrs.get("languages"):
                rows.append(
                    ("Languages", f"{esc(format_attr('languages', attrs['languages']))} {basis}")
                )
            payments = self.links_from(store.id, "accepts_payment_via")
            if payments:
                rows.append(("Payment", self.list_with_cites(payments)))
            for name, label in (("market_notes", "Market"), ("note", "Note"), ("source", "Source")):
                if attrs.get(name):
                    rows.append((label, f"{esc(attrs[name])} {basis}"))
            self.add('<table class="meta" width="100%" cellspacing="0" cellpadding="2">')
            for label, value in rows:
                self.add(f'<tr><td class="label" width="20%">{label}</td><td>{value}</td></tr>')
            self.add("</table>")

    def society_cells(self, links: list[Link]) -> str:
        items = []
        for link in links:
            society = self.data.entity_by_id[link.dst_id]
            full = society.attrs.get("full_name")
            text = esc(society.value) + (f" ({esc(full)})" if full else "")
            recognised = society.attrs.get("recognised_by_labels")
            if recognised:
                text += f", recognised by the labels: {esc(recognised)}"
            items.append(f"{text} {self.cite(link.evidence_ids)}")
        return "; ".join(items)

    def entities(self) -> None:
        self.section("Entities", "3", new_page=True)
        self.add(
            '<p class="note">Every person, organisation, domain, address and other thing '
            "this case names, by kind. Each rests on the exhibits of the relationships and "
            "lookups it takes part in.</p>"
        )
        as_table = len(self.data.entities) <= MAX_TABLE_ROWS
        for kind, entities in self.data.by_kind():
            self.add(f"<h3>{esc(KIND_TITLES.get(kind, kind))} ({len(entities)})</h3>")
            if as_table:
                self.add(
                    '<table class="grid" width="100%" cellspacing="0" cellpadding="3">'
                    '<thead><tr><th width="30%">Entity</th><th>Details</th>'
                    '<th width="14%">Exhibits</th></tr></thead>'
                )
            for entity in entities:
                details = "; ".join(
                    f"{esc(name.replace('_', ' '))}: {esc(readable_attr(name, value))}"
                    for name, value in sorted(entity.attrs.items())
                    if name not in ("licence_claim", "prices") or kind != "storefront"
                )
                cite = self.cite(self.data.entity_evidence(entity.id))
                if as_table:
                    self.add(
                        f"<tr><td>{esc(entity.value)}</td><td>{details}</td><td>{cite}</td></tr>"
                    )
                else:
                    details = f" — {details}" if details else ""
                    self.add(f'<p class="row"><b>{esc(entity.value)}</b>{details} {cite}</p>')
            if as_table:
                self.add("</table>")

    def relationships(self) -> None:
        self.section("Relationships", "4", new_page=True)
        self.add(
            '<p class="note">Each relationship between two entities, with the exhibits it '
            "rests on. A confidence below 1 is the investigator's estimate.</p>"
        )
        ordered = sorted(
            self.data.links,
            key=lambda link: (
                kind_rank(self.kind_of(link.src_id)),
                self.name(link.src_id).casefold(),
                link.type,
                self.name(link.dst_id).casefold(),
            ),
        )
        if len(ordered) > MAX_TABLE_ROWS:
            self.relationship_list(ordered)
            return
        self.add(
            '<table class="grid" width="100%" cellspacing="0" cellpadding="3">'
            '<thead><tr><th width="30%">From</th><th width="22%">Relationship</th>'
            '<th width="32%">To</th><th width="16%">Exhibits</th></tr></thead>'
        )
        for link in ordered:
            self.add(
                f"<tr><td>{self.name(link.src_id)}<br/>"
                f'<span class="kind">{esc(self.kind_title(link.src_id))}</span></td>'
                f"<td>{esc(link_phrase(link))}{self.confidence(link)}</td>"
                f"<td>{self.name(link.dst_id)}<br/>"
                f'<span class="kind">{esc(self.kind_title(link.dst_id))}</span></td>'
                f"<td>{self.cite(link.evidence_ids)}</td></tr>"
            )
        self.add("</table>")

    def relationship_list(self, ordered: list[Link]) -> None:
        """Relationships grouped under the entity they start from, one line each."""
        current = None
        for link in ordered:
            if link.src_id != current:
                current = link.src_id
                self.add(
                    f'<p class="rowhead"><b>{self.name(link.src_id)}</b> '
                    f'<span class="kind">{esc(self.kind_title(link.src_id))}</span></p>'
                )
            self.add(
                f'<p class="subrow">{esc(link_phrase(link))} '
                f"<b>{self.name(link.dst_id)}</b> "
                f'<span class="kind">{esc(self.kind_title(link.dst_id))}</span>'
                f"{self.confidence(link)} {self.cite(link.evidence_ids)}</p>"
            )

    def confidence(self, link: Link) -> str:
        if link.confidence >= 1:
            return ""
        return f' <span class="kind">(confidence {link.confidence:.2f})</span>'

    def kind_of(self, entity_id: int) -> str:
        entity = self.data.entity_by_id.get(entity_id)
        return entity.kind if entity else ""

    def kind_title(self, entity_id: int) -> str:
        kind = self.kind_of(entity_id)
        return KIND_SINGULAR.get(kind, kind)

    def graph(self) -> None:
        self.section("Link graph", "5", new_page=True)
        self.add(f"<p>{GRAPH_MARKER}</p>")
        self.add(GRAPH_CAPTION_MARKER)

    def deadline_state(self, event: Event) -> str | None:
        if not event.deadline:
            return None
        if event.outcome:
            return "answered"
        return "passed" if from_iso(event.deadline) < self.generated else "open"

    def timeline(self) -> None:
        self.section("Timeline", "6", new_page=True)
        self.add(
            '<p class="note">What the investigator observed and did, in order (UTC). '
            "Timeline entries are the investigator's own record; the facts they concern "
            "cite their exhibits in sections 3 and 4.</p>"
        )
        if not self.data.events:
            self.add("<p>No timeline entries.</p>")
        elif len(self.data.events) > MAX_TABLE_ROWS:
            for event in self.data.events:
                extra = ""
                if event.entity_ids:
                    extra += " Concerning: " + ", ".join(self.name(i) for i in event.entity_ids)
                if event.deadline:
                    extra += f" Deadline: {when(event.deadline, seconds=False)}."
                if event.outcome:
                    extra += f" Outcome: {esc(event.outcome)}"
                self.add(
                    f'<p class="row"><b>{when(event.at, seconds=False)}</b> '
                    f'<span class="kind">{esc(EVENT_KIND_TITLES.get(event.kind, event.kind))}'
                    f"</span> {esc(event.text)}{extra}</p>"
                )
        else:
            self.add(
                '<table class="grid" width="100%" cellspacing="0" cellpadding="3">'
                '<thead><tr><th width="15%">When (UTC)</th><th width="13%">Kind</th>'
                '<th>What</th><th width="17%">Concerning</th><th width="15%">Deadline</th>'
                "</tr></thead>"
            )
            for event in self.data.events:
                outcome = (
                    f'<br/><span class="kind">Outcome:</span> {esc(event.outcome)}'
                    if event.outcome
                    else ""
                )
                concerning = ", ".join(self.name(eid) for eid in event.entity_ids)
                self.add(
                    f"<tr><td>{when(event.at, seconds=False)}</td>"
                    f"<td>{esc(EVENT_KIND_TITLES.get(event.kind, event.kind))}</td>"
                    f"<td>{esc(event.text)}{outcome}</td><td>{concerning}</td>"
                    f"<td>{when(event.deadline, seconds=False)}</td></tr>"
                )
            self.add("</table>")
        notices = [e for e in self.data.events if e.deadline or e.kind == "notice_sent"]
        self.add("<h3>Notices and deadlines</h3>")
        if not notices:
            self.add("<p>No notices or deadlines are recorded.</p>")
            return
        as_table = len(notices) <= MAX_TABLE_ROWS
        if as_table:
            self.add(
                '<table class="grid" width="100%" cellspacing="0" cellpadding="3">'
                '<thead><tr><th width="15%">Date (UTC)</th><th>Notice or step</th>'
                '<th width="17%">Deadline</th><th width="22%">Status at generation</th>'
                "</tr></thead>"
            )
        for event in notices:
            state = self.deadline_state(event)
            status = {
                None: "no deadline set",
                "answered": f"answered: {esc(event.outcome)}",
                "passed": "<b>deadline passed</b>, no outcome recorded",
                "open": "open: " + self.days_left(event.deadline),
            }[state]
            if as_table:
                self.add(
                    f"<tr><td>{when(event.at, seconds=False)}</td><td>{esc(event.text)}</td>"
                    f"<td>{when(event.deadline, seconds=False)}</td><td>{status}</td></tr>"
                )
            else:
                self.add(
                    f'<p class="row"><b>{when(event.at, seconds=False)}</b> {esc(event.text)} '
                    f"Deadline {when(event.deadline, seconds=False)}: {status}.</p>"
                )
        if as_table:
            self.add("</table>")

    def days_left(self, deadline: str | None) -> str:
        if not deadline:
            return ""
        delta = from_iso(deadline) - self.generated
        days = delta.days
        return f"{days} day{'s' if days != 1 else ''} left" if days >= 1 else "due within a day"

    def lookups(self) -> None:
        self.section("Lookups", "7", new_page=False)
        if not self.data.snapshots:
            self.add("<p>No WHOIS, RDAP or DNS lookups are recorded in this case.</p>")
            return
        self.add(
            '<p class="note">Every WHOIS, RDAP and DNS lookup of the case, failures '
            "included, with the exhibits holding what each server returned. "
            "“Imported” means a recorded response whose capture time its supplier "
            "claims.</p>"
        )
        self.add(
            '<table class="grid" width="100%" cellspacing="0" cellpadding="3">'
            '<thead><tr><th width="18%">When (UTC)</th><th width="10%">Lookup</th>'
            '<th>Of</th><th width="28%">Result</th><th width="14%">Exhibits</th></tr></thead>'
        )
        for snapshot in self.data.snapshots:
            result = esc(snapshot["status"])
            if snapshot.get("reason"):
                result += f": {esc(snapshot['reason'])}"
            self.add(
                f"<tr><td>{when(snapshot['taken_at'], seconds=False)}</td>"
                f"<td>{esc(snapshot['protocol'].upper().replace('_', ' '))}</td>"
                f"<td>{self.name(snapshot['entity_id'])}</td><td>{result}</td>"
                f"<td>{self.cite(snapshot['evidence_ids'])}</td></tr>"
            )
        self.add("</table>")

    def cross_case(self) -> None:
        self.section("Cross-case links", "8", new_page=False)
        if not self.data.related:
            self.add(
                "<p>No other case in the store shares an entity or a licence number, "
                "operator, registrar id or network number with this one.</p>"
            )
            return
        self.add(
            '<p class="note">Other cases in the same store that name the same entity, or '
            "whose entities share a licence number, operator, registrar id or network "
            "number with this case's. Exhibits are those of this case.</p>"
        )
        for related in self.data.related:
            other = related["case"]
            self.add(
                f"<h3>Case {other['id']}: {esc(other['title'])} "
                f'<span class="kind">({esc(other["status"])})</span></h3>'
            )
            self.add("<ul>")
            for share in related["shared"]:
                entity = share["entity"]
                basis = self.cite(self.data.entity_evidence(entity["id"]))
                if share["via"] == "entity":
                    count = share.get("cases_sharing")
                    self.add(
                        f"<li>the same {esc(KIND_SINGULAR.get(entity['kind'], entity['kind']))} "
                        f"<b>{esc(entity['value'])}</b> {basis}"
                        + (f' <span class="kind">(named in {count} cases)</span>' if count else "")
                        + "</li>"
                    )
                else:
                    theirs = share["other_entity"]
                    self.add(
                        f"<li>the same {esc(share['name'].replace('_', ' '))} "
                        f"“{esc(share['value'])}”: {esc(entity['value'])} here {basis}, "
                        f"{esc(theirs['value'])} there</li>"
                    )
            self.add("</ul>")

    def appendix(self) -> None:
        self.section("Evidence appendix", "A", new_page=True)
        self.add(
            '<p class="note">Each exhibit as it was received, in capture order, each on a '
            "page of its own. The SHA-256 is computed over the exact bytes, which are "
            "embedded in this PDF as the attachment named with each exhibit. Capture times "
            "are UTC; a time marked “claimed” was given by whoever supplied a recording "
            "rather than observed by the workbench.</p>"
        )
        if not self.data.evidence:
            self.add("<p>This case holds no evidence.</p>")
            return
        self.exhibit_index()
        self._close_part()
        self.parts.append(Part("", [], holds_exhibits=True))
        citing = self.citing_facts()
        for number, item in enumerate(self.data.evidence, 1):
            self.exhibit(number, item, citing.get(item.id, []))

    def exhibit_index(self) -> None:
        """The schedule of exhibits: number, what, when, hash, and the page it starts on."""
        self.add("<h3>Schedule of exhibits</h3>")
        as_table = len(self.data.evidence) <= MAX_TABLE_ROWS
        if as_table:
            self.add(
                '<table class="grid" width="100%" cellspacing="0" cellpadding="2">'
                '<thead><tr><th width="8%">Exhibit</th><th>What</th>'
                '<th width="26%">Captured (UTC)</th><th width="19%">SHA-256 begins</th>'
                '<th width="7%">Page</th></tr></thead>'
            )
        for number, item in enumerate(self.data.evidence, 1):
            title = EVIDENCE_KIND_TITLES.get(item.kind, item.kind)
            about = item.query or item.filename or item.source or ""
            what = esc(title) + (f" — {esc(about)}" if about else "")
            marker = exhibit_marker(number)
            if as_table:
                self.add(
                    f"<tr><td>E{number}</td><td>{what}</td>"
                    f"<td>{when(item.captured_at)}</td>"
                    f'<td><span class="mono">{esc(item.sha256[:16])}</span></td>'
                    f'<td align="right">{marker}</td></tr>'
                )
            else:
                self.add(
                    f'<p class="row"><b>E{number}</b> {what}, {when(item.captured_at)}, '
                    f'<span class="mono">{esc(item.sha256[:16])}</span>… page {marker}</p>'
                )
        if as_table:
            self.add("</table>")

    def citing_facts(self) -> dict[int, list[str]]:
        """Evidence id -> short descriptions of the relationships resting on it."""
        found: dict[int, list[str]] = defaultdict(list)
        for link in self.data.links:
            text = f"{self.name(link.src_id)} {esc(link_phrase(link))} {self.name(link.dst_id)}"
            for evidence_id in link.evidence_ids:
                found[evidence_id].append(text)
        return found

    def exhibit(self, number: int, item: Evidence, citing: list[str]) -> None:
        title = EVIDENCE_KIND_TITLES.get(item.kind, item.kind)
        about = item.query or item.filename or item.source or ""
        # Each exhibit starts on a page of its own, as exhibits do: no heading is left at
        # the foot of a page, and "exhibit E3, page 12" is where E3 begins.
        style = ' style="page-break-before: always"' if number > 1 else ""
        self.add(
            f"<h3{style}>Exhibit E{number}: {esc(title)}"
            + (f" — {esc(about)}" if about else "")
            + "</h3>"
        )
        captured = when(item.captured_at)
        if item.imported:
            captured += " (claimed by the supplier of the recording)"
        rows = [
            ("SHA-256", f'<span class="mono">{esc(item.sha256)}</span>'),
            ("Captured", captured),
            ("Recorded", when(item.recorded_at)),
            ("Source", esc(item.source or "not recorded")),
            ("Query", esc(item.query or "—")),
            ("Type", f"{esc(item.media_type)}, {item.size:,} bytes"),
        ]
        if item.filename:
            rows.append(("File name", esc(item.filename)))
        if item.note:
            rows.append(("Note", esc(item.note)))
        rows.append(
            ("Attachment", f'<span class="mono">{esc(self.attachment_names[item.id])}</span>')
        )
        if citing:
            shown = citing[:8]
            more = f" and {len(citing) - 8} more" if len(citing) > 8 else ""
            rows.append(("Supports", "; ".join(shown) + more))
        # Lines of one paragraph, not a table: an appendix of hundreds of exhibits would
        # spend seconds laying out and painting table cells.
        self.add(
            '<p class="exmeta">'
            + "<br/>".join(
                f'<span class="label">{label}</span>&nbsp;&nbsp;{value}' for label, value in rows
            )
            + "</p>"
        )
        self.add(self.exhibit_body(item))

    def exhibit_body(self, item: Evidence) -> str:
        content = self.contents[item.id]
        rendering = self.renderings.get(item.id)
        if rendering is not None:
            intro = (
                f'<p class="small">Binary {esc(item.media_type)} message of '
                f"{item.size:,} bytes, shown as decoded by the workbench "
                "(the exact bytes are in the attachment):</p>"
            )
            return intro + f'<p class="raw">{raw_text(rendering)}</p>'
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            if b"\x00" in content[:4096]:
                return (
                    '<p class="small">Binary content, not reproduced here: see the attachment.</p>'
                )
            text = content.decode("utf-8", errors="replace")
        note = ""
        if len(text) > MAX_SHOWN_TEXT:
            note = (
                f'<p class="small">[The first {MAX_SHOWN_TEXT:,} of {len(text):,} '
                "characters are shown; the whole item is in the attachment.]</p>"
            )
            text = text[:MAX_SHOWN_TEXT]
        intro = '<p class="small">As received:</p>'
        return f'{intro}<p class="raw">{raw_text(text)}</p>{note}'


def graph_caption(shown_nodes: int, total_nodes: int, total_edges: int) -> str:
    if shown_nodes < total_nodes:
        scope = (
            f"The {shown_nodes} most connected of the case's {total_nodes} entities "
            f"and the relationships between them; section 3 and 4 list all of them "
            f"({total_edges} relationships)."
        )
    else:
        scope = f"All {total_nodes} entities and {total_edges} relationships of the case."
    return (
        f'<p class="small">{scope} Positions come from a force-directed layout with a '
        "fixed seed: the same case always draws the same way; distance on the page "
        "carries no meaning. Each relationship's exhibits are in section 4.</p>"
    )


def build_case_file_html(
    data: CaseData,
    contents: dict[int, bytes],
    renderings: dict[int, str],
    attachment_names: dict[int, str],
    verified: dict[str, int],
) -> CaseFileHtml:
    writer = _Writer(data, contents, renderings, attachment_names, verified)
    writer.build()
    cover, *parts = writer.parts
    cover.html = cover.html.replace(TOC_MARKER, writer.toc_rows())
    return CaseFileHtml(cover=cover, parts=parts, uncited_facts=writer.uncited)
