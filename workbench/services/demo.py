"""The demo store: the AllofMP3 (2006-2007) and Soundsbox cases, built through the real
pipeline so that a newcomer's first minute shows every capability.

Every lookup fact comes from the recorded WHOIS, RDAP and DNS responses in resources/demo,
fed through the same parsers and linking as a live lookup (`imports.import_recording`).
The public accounts (shared/scenario.md) give the story; what they do not give (domain
names, addresses, registrars, dates of single steps) is invented under reserved names and
marked `source: illustrative`. Nobody links the two cases: they link by themselves through
ROMS, the licence wording, the price model and the card schemes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.domain.errors import WorkbenchError
from workbench.domain.prices import parse_price
from workbench.resources import resources_dir
from workbench.services import casework
from workbench.services.imports import import_recording
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.store.database import writing
from workbench.store.entities import ensure_entity, find_entity

ILLUSTRATIVE = "illustrative"


class DemoRefused(WorkbenchError):
    """The store already holds cases: the demo is built only into an empty store."""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _files(folder: str, *names: str) -> list[bytes]:
    base = resources_dir() / "demo" / folder
    return [(base / name).read_bytes() for name in names]


def build_demo(db: Database, *, force: bool = False) -> dict[str, Any]:
    """Build both cases in one transaction; returns their ids.

    Refuses a store that already holds cases unless `force` (then the demo cases are added
    beside them, sharing entities with them where they are the same).
    """
    existing = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    if existing and not force:
        raise DemoRefused(
            f"the store already holds {existing} case(s); the demo is built only into an "
            "empty store (use --force to add it anyway, or --store to pick another file)"
        )
    with writing(db):
        allofmp3 = _allofmp3(db)
        soundsbox = _soundsbox(db)
    return {"cases": {"AllofMP3": allofmp3, "Soundsbox": soundsbox}}


def _society(db: Database, case_id: int, abbreviation: str, full_name: str) -> int:
    return casework.add_entity(
        db,
        case_id,
        "collecting_society",
        abbreviation,
        {
            "full_name": full_name,
            "country": "RU",
            "recognised_by_labels": "no",
            "note": "Not licensed by the labels or the IFPI; does not pay the artists.",
        },
    ).id


def _payment(db: Database, case_id: int, storefront_id: int) -> None:
    for scheme in ("Visa", "MasterCard"):
        processor = casework.add_entity(db, case_id, "payment_processor", scheme)
        casework.add_link(db, case_id, storefront_id, "accepts_payment_via", processor.id)


def _allofmp3(db: Database) -> int:
    case = casework.new_case(
        db,
        "AllofMP3",
        investigator="IFPI anti-piracy unit (demo)",
        summary="Moscow-based download store run by Mediaservices, selling DRM-free songs from "
        "about 3 US cents and albums for about a dollar under a licence from ROMS, a "
        "collecting society the labels do not recognise. 14% of the UK download "
        "market in 2006, second only to iTunes. Card payments stopped in October "
        "2006; the site closed in 2007.",
    )
    _society(db, case.id, "ROMS", "Russian Multimedia and Internet Society")
    _society(
        db,
        case.id,
        "FAIR",
        "Rightholders Federation for Collective Copyright Management of Works Used Interactively",
    )
    casework.add_evidence_bytes(
        db,
        case.id,
        "page_capture",
        _files("files", "allofmp3_storefront_2006-06-01.html")[0],
        filename="allofmp3_storefront_2006-06-01.html",
        media_type="text/html",
        captured_at=_at("2006-06-01T09:00:00"),
        source="http://www.allofmp3.test/",
        note="source: illustrative",
    )
    store = record_storefront(
        db,
        case.id,
        StorefrontForm(
            name="AllofMP3",
            urls=["http://www.allofmp3.test/"],
            operator="Mediaservices",
            licence_claim="AllofMP3 is licensed by the Russian Multimedia and Internet Society "
            "(ROMS) and the Rightholders Federation for Collective Copyright "
            "Management of Works Used Interactively (FAIR). 15% of revenue is paid "
            "as royalties to ROMS subject to the Law of the Russian Federation "
            '"On Copyright and Related Rights".',
            prices=[parse_price("0.03:USD:song"), parse_price("1.00:USD:album")],
            languages=["English", "German", "French", "Russian"],
            market_notes="14% UK market share (2006), second only to iTunes; estimated revenue "
            "GBP 20m a year (industry estimate). Says foreigners are not encouraged "
            "to use it, yet offers foreign-language versions.",
            note="Domain, page and WHOIS are illustrative: the public accounts give none.",
            source=ILLUSTRATIVE,
        ),
    )["storefront"]["id"]
    _payment(db, case.id, store)
    operator = find_entity(db, "organisation", "Mediaservices")
    director = casework.add_entity(
        db,
        case.id,
        "person",
        "Vadim Mamotin",
        {"country": "RU", "note": "Director general, quoted in the press."},
    )
    casework.add_link(db, case.id, director.id, "director general of", operator.id)
    captured = _at("2006-06-01T09:12:44")
    import_recording(
        db,
        case_id=case.id,
        kind="whois",
        subject="allofmp3.test",
        raws=_files("whois", "allofmp3_test_2006.txt"),
        captured_at=captured,
        source="whois.nic.test:43 (illustrative)",
    )
    import_recording(
        db,
        case_id=case.id,
        kind="dns",
        subject="allofmp3.test",
        raws=_files(
            "dns",
            "allofmp3.test_A.bin",
            "allofmp3.test_MX.bin",
            "allofmp3.test_NS.bin",
            "allofmp3.test_SOA.bin",
            "20.100.51.198.in-addr.arpa_PTR.bin",
        ),
        captured_at=captured,
        source="192.0.2.53:53 (illustrative resolver)",
    )
    events = [
        (
            "2006-06-01T09:00:00",
            "observation",
            "Storefront recorded: songs from 3 cents, "
            "albums for about USD 1, licence claimed from ROMS and FAIR.",
            None,
            None,
        ),
        (
            "2006-10-05T10:00:00",
            "legal_action",
            "IFPI member labels sue the owners of AllofMP3 in the Moscow courts.",
            None,
            None,
        ),
        (
            "2006-10-10T10:00:00",
            "observation",
            "The US trade representative says the site could threaten Russia's WTO accession.",
            None,
            None,
        ),
        (
            "2006-10-12T10:00:00",
            "notice_sent",
            "IFPI asks Visa and MasterCard to stop honouring transactions from Mediaservices.",
            "2006-10-26T10:00:00",
            "Visa and MasterCard stop processing payments for the site.",
        ),
        (
            "2006-10-18T10:00:00",
            "response",
            "Visa and MasterCard confirm they no longer process payments for AllofMP3.",
            None,
            None,
        ),
        (
            "2007-07-02T10:00:00",
            "observation",
            "The site no longer sells downloads (illustrative date).",
            None,
            None,
        ),
    ]
    for at, kind, text, deadline, outcome in events:
        casework.add_event(
            db,
            case.id,
            kind,
            text,
            at=_at(at),
            deadline=_at(deadline) if deadline else None,
            outcome=outcome,
            entity_ids=[store],
        )
    casework.update_case(db, case.id, status="closed")
    return case.id


def _soundsbox(db: Database) -> int:
    case = casework.new_case(
        db,
        "Soundsbox",
        investigator="IFPI anti-piracy unit (demo)",
        summary="A new download service 'direct from Red Square', found through a misdirected "
        "customer-support email: over 5 million tracks at USD 0.14, the Beatles "
        "re-masters at USD 1.76 an album, and a licence claimed from ROMS. Registered "
        "through a Vienna registrar to Pedro Kresker of Luxembourg, whose phone "
        "number is a fax line. Next step: the card schemes.",
    )
    casework.add_evidence_bytes(
        db,
        case.id,
        "email",
        _files("files", "soundsbox_misdirected_email.eml")[0],
        filename="soundsbox_misdirected_email.eml",
        media_type="message/rfc822",
        captured_at=_at("2009-11-01T16:00:00"),
        source="customer-care@label.example",
        note="source: illustrative",
    )
    casework.add_evidence_bytes(
        db,
        case.id,
        "page_capture",
        _files("files", "soundsbox_storefront_2009-11-02.html")[0],
        filename="soundsbox_storefront_2009-11-02.html",
        media_type="text/html",
        captured_at=_at("2009-11-02T09:30:00"),
        source="http://www.soundsbox.test/",
        note="source: illustrative",
    )
    store = record_storefront(
        db,
        case.id,
        StorefrontForm(
            name="Soundsbox",
            urls=["http://www.soundsbox.test/"],
            licence_claim="Soundsbox is authorized by the license # 49/ZM-07 of the Russian "
            "Multimedia and Internet Society (ROMS). License fees are paid subject "
            'to the Law of the Russian Federation "On Copyright and Related '
            'Rights". All materials are provided solely for personal use.',
            prices=[parse_price("0.14:USD:track"), parse_price("1.76:USD:album")],
            catalogue_size=5_000_000,
            languages=["English", "Russian"],
            market_notes="'Direct from Red Square'. The Beatles re-masters at USD 1.76 an album.",
            note="Domain and page are illustrative: the public account gives neither.",
            source=ILLUSTRATIVE,
        ),
    )["storefront"]["id"]
    _payment(db, case.id, store)
    found = _at("2009-11-02T10:05:00")
    import_recording(
        db,
        case_id=case.id,
        kind="whois",
        subject="soundsbox.test",
        raws=_files("whois", "soundsbox_test_registry.txt", "soundsbox_test_registrar.txt"),
        captured_at=found,
        source="whois.nic.test:43, whois.viennadomains.test:43 (illustrative)",
    )
    import_recording(
        db,
        case_id=case.id,
        kind="dns",
        subject="soundsbox.test",
        raws=_files(
            "dns",
            *(f"soundsbox.test_{t}.bin" for t in ("A", "AAAA", "MX", "NS", "TXT", "SOA", "CAA")),
            "10.2.0.192.in-addr.arpa_PTR.bin",
            "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa_PTR.bin",
        ),
        captured_at=found,
        source="192.0.2.53:53 (illustrative resolver)",
    )
    # A re-check in 2026 through RDAP: the registrar now redacts the registrant.
    recheck = _at("2026-11-20T08:15:00")
    import_recording(
        db,
        case_id=case.id,
        kind="rdap",
        subject="soundsbox.test",
        raws=_files(
            "rdap",
            "domain-soundsbox.test-registry.json",
            "domain-soundsbox.test-registrar-2026.json",
        ),
        captured_at=recheck,
        source="https://rdap.nic.test/ (illustrative)",
    )
    for address, name in (
        ("192.0.2.10", "ip-192.0.2.10.json"),
        ("2001:db8::10", "ip-2001-db8--10.json"),
    ):
        import_recording(
            db,
            case_id=case.id,
            kind="rdap_ip",
            subject=address,
            raws=_files("rdap", name),
            captured_at=recheck,
            source="https://rdap.rir.test/ (illustrative)",
        )
    registrant = find_entity(db, "person", "Pedro Kresker")
    phone = find_entity(db, "phone", "+352 26 48 01 23")
    email = find_entity(db, "email", "pedro.kresker@soundsbox.test")
    people = [e.id for e in (registrant, email) if e is not None]
    events = [
        (
            "2009-11-01T16:00:00",
            "observation",
            "A misdirected customer-support email reveals the Soundsbox download service.",
            None,
            None,
            [store],
        ),
        (
            "2009-11-02T10:05:00",
            "observation",
            "Storefront recorded; WHOIS names Pedro "
            "Kresker of Luxembourg as registrant, through Vienna Domains GmbH.",
            None,
            None,
            [store, *people],
        ),
        (
            "2009-11-03T09:00:00",
            "contact_attempt",
            "Emailed the registrant at "
            "pedro.kresker@soundsbox.test asking who licenses the catalogue.",
            "2009-11-10T09:00:00",
            "No reply.",
            people,
        ),
        (
            "2009-11-04T11:20:00",
            "contact_attempt",
            "Called the registrant's phone number +352 26 48 01 23.",
            None,
            "Fax tone: the 'phone' is a fax line.",
            [phone.id] if phone else [],
        ),
        (
            "2009-11-05T09:00:00",
            "notice_sent",
            "IFPI to ask Visa and MasterCard to stop honouring transactions from Soundsbox.",
            "2009-11-19T17:00:00",
            None,
            [store],
        ),
    ]
    for at, kind, text, deadline, outcome, entity_ids in events:
        casework.add_event(
            db,
            case.id,
            kind,
            text,
            at=_at(at),
            deadline=_at(deadline) if deadline else None,
            outcome=outcome,
            entity_ids=entity_ids,
        )
    if phone is not None:
        ensure_entity(
            db,
            "phone",
            phone.key,
            {
                "line_type": "fax",
                "note": "Registered as the registrant's voice number; it answers with a fax tone.",
            },
        )
    return case.id


def demo_sources() -> list[Path]:
    """Every file the demo is built from (for packaging checks)."""
    return sorted(p for p in (resources_dir() / "demo").rglob("*") if p.is_file())
