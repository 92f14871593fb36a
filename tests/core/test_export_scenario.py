"""The two cases of the scenario (Soundsbox and AllofMP3, sharing ROMS), built through the
core services as an investigator would, for the export tests. The tests here check that
the built cases hold what the export tests rely on."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlite_utils import Database

from workbench.domain.prices import Price
from workbench.services import casework
from workbench.services.imports import import_recording
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.store.details import case_detail
from workbench.store.entities import find_entity
from workbench.store.pivots import related_cases

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

SOUNDSBOX_CLAIM = (
    "Soundsbox is authorized by the license # 49/ZM-07 of the Russian Multimedia and "
    "Internet Society (ROMS). All fees are paid subject to the Law of the Russian Federation "
    "'On Copyright and Related Rights'. The material is solely for personal use."
)
ALLOFMP3_CLAIM = (
    "AllofMP3.com is licensed by the Russian Multimedia and Internet Society (ROMS) and the "
    "Rightholders Federation for Collective Copyright Management of Works Used "
    "Interactively (FAIR); 15% of revenue is paid to ROMS subject to the Law of the Russian "
    "Federation."
)
PAGE_TEXT = (
    "% source: illustrative (page text reconstructed from the public account)\n"
    "SOUNDSBOX - music direct from Red Square\n"
    "Over 5,000,000 tracks at USD 0.14 each. The Beatles re-masters: USD 1.76 per album.\n"
    "We accept Visa and MasterCard.\n\n" + SOUNDSBOX_CLAIM + "\n"
)
# A RIPE-style record of the hosting network with Russian text, as a colleague pasted it.
CYRILLIC_WHOIS = (
    "% source: illustrative (invented for the demo case)\n"
    "% Информация об объекте RIPE Database\n"
    "inetnum:        192.0.2.0 - 192.0.2.255\n"
    "netname:        REDSQUARE-HOSTING-NET\n"
    "descr:          ООО «Красная площадь хостинг», Москва, Тверская ул., 7\n"
    "country:        RU\n"
    "remarks:        Жалобы на нарушение авторских прав: abuse@redsquare-hosting.test\n"
    "source:         RIPE\n"
)
HOSTILE_VALUE = "<img src=x><script>alert(1)</script>"


def _import(db: Database, *, raw: bytes, filename: str | None = None, **options) -> None:
    """`import_recording` with one recorded response (its signature is still settling:
    it takes `raws`/`filenames` lists in the newer form, `raw`/`filename` in the older)."""
    if "raws" in inspect.signature(import_recording).parameters:
        import_recording(db, raws=[raw], filenames=[filename] if filename else [], **options)
    else:
        import_recording(db, raw=raw, filename=filename, **options)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Scenario:
    soundsbox: int
    allofmp3: int
    page_evidence: int
    cyrillic_evidence: int


def build_scenario(db: Database) -> Scenario:
    """Both cases, with a page capture, imported WHOIS, DNS and RDAP recordings, a Cyrillic
    WHOIS item, payment processors, notices with deadlines, and a hostile entity value."""
    soundsbox = casework.new_case(
        db,
        "Soundsbox: download store 'direct from Red Square'",
        investigator="A. Investigator",
        summary="Found through a misdirected customer-support email. Claims a ROMS licence "
        "like AllofMP3 did.",
    ).id
    page = casework.add_evidence_bytes(
        db,
        soundsbox,
        "page_capture",
        PAGE_TEXT.encode("utf-8"),
        filename="soundsbox-home.txt",
        captured_at=at("2010-10-04T10:15:00"),
        source="http://soundsbox.test/",
    )
    made = record_storefront(
        db,
        soundsbox,
        StorefrontForm(
            name="Soundsbox",
            urls=["http://soundsbox.test/"],
            licence_claim=SOUNDSBOX_CLAIM,
            prices=[
                Price(Decimal("0.14"), "USD", "track"),
                Price(Decimal("1.76"), "USD", "album"),
            ],
            catalogue_size=5_000_000,
            languages=["English", "Russian"],
            market_notes="Beatles re-masters offered although never licensed for download.",
        ),
    )
    store_id = made["storefront"]["id"]
    # The page capture is what the storefront's facts rest on.
    for link in made["links"]:
        casework.add_link(
            db, soundsbox, link["src_id"], link["type"], link["dst_id"], evidence_ids=[page.id]
        )
    for processor in ("Visa", "MasterCard"):
        entity = casework.add_entity(db, soundsbox, "payment_processor", processor)
        casework.add_link(
            db, soundsbox, store_id, "accepts_payment_via", entity.id, evidence_ids=[page.id]
        )
    for name, kind in (
        ("soundsbox_test_registry.txt", "whois"),
        ("soundsbox_test_registrar.txt", "whois"),
    ):
        _import(
            db,
            case_id=soundsbox,
            kind=kind,
            subject="soundsbox.test",
            raw=(FIXTURES / "whois" / name).read_bytes(),
            captured_at=at("2010-10-04T11:26:41"),
            source="whois.viennadomains.test" if "registrar" in name else "whois.test",
            filename=name,
        )
    _import(
        db,
        case_id=soundsbox,
        kind="dns",
        subject="soundsbox.test",
        raw=(FIXTURES / "dns" / "soundsbox.test_A.bin").read_bytes(),
        captured_at=at("2010-10-04T11:30:00"),
        source="192.0.2.53:53",
    )
    _import(
        db,
        case_id=soundsbox,
        kind="rdap_ip",
        subject="192.0.2.10",
        raw=(FIXTURES / "rdap" / "ip-192.0.2.10.json").read_bytes(),
        captured_at=at("2010-10-04T11:31:00"),
        source="https://rdap.db.ripe.test/",
    )
    cyrillic = casework.add_evidence_bytes(
        db,
        soundsbox,
        "whois",
        CYRILLIC_WHOIS.encode("utf-8"),
        captured_at=at("2010-10-04T11:32:00"),
        source="whois.ripe.test",
        filename="192.0.2.10-ripe.txt",
    )
    address = find_entity(db, "ip_address", "192.0.2.10")
    assert address is not None
    hosting = casework.add_entity(
        db, soundsbox, "organisation", "Red Square Hosting LLC", {"country": "RU"}
    )
    casework.add_link(
        db, soundsbox, address.id, "hosted_by", hosting.id, evidence_ids=[cyrillic.id]
    )
    hostile = casework.add_entity(
        db, soundsbox, "organisation", HOSTILE_VALUE, {"note": "<b>bold</b> & 'quoted'"}
    )
    casework.add_link(db, soundsbox, hostile.id, "related", store_id, evidence_ids=[page.id])
    registrar = find_entity(db, "registrar", "Vienna Domains GmbH")
    registrant = find_entity(db, "person", "Pedro Kresker")
    assert registrar is not None and registrant is not None
    casework.add_event(
        db,
        soundsbox,
        "observation",
        "A customer-support email meant for Soundsbox reached the investigator.",
        at=at("2010-10-01T09:00:00"),
    )
    casework.add_event(
        db,
        soundsbox,
        "contact_attempt",
        "Email to the registrant address pedro.kresker@soundsbox.test.",
        at=at("2010-10-05T09:00:00"),
        outcome="No reply.",
        entity_ids=[registrant.id],
    )
    casework.add_event(
        db,
        soundsbox,
        "observation",
        "The registrant's phone number answers as a fax line.",
        at=at("2010-10-06T09:00:00"),
        entity_ids=[registrant.id],
    )
    casework.add_event(
        db,
        soundsbox,
        "notice_sent",
        "Notice of infringement sent to Vienna Domains GmbH (abuse@viennadomains.test).",
        at=at("2010-10-07T09:00:00"),
        deadline=at("2010-10-21T17:00:00"),
        entity_ids=[registrar.id],
    )
    casework.add_event(
        db,
        soundsbox,
        "legal_action",
        "Expected next step: the IFPI calls Visa and MasterCard.",
        at=at("2010-10-08T09:00:00"),
        deadline=at("2099-12-31T12:00:00"),
    )

    allofmp3 = casework.new_case(db, "AllofMP3.com (2006-2007)", investigator="A. Investigator").id
    record_storefront(
        db,
        allofmp3,
        StorefrontForm(
            name="AllofMP3",
            urls=["http://allofmp3.test/"],
            operator="Mediaservices",
            licence_claim=ALLOFMP3_CLAIM,
            prices=[
                Price(Decimal("0.03"), "USD", "song"),
                Price(Decimal("1.00"), "USD", "album"),
            ],
            market_notes="14% of the UK download market, second only to iTunes.",
        ),
    )
    _import(
        db,
        case_id=allofmp3,
        kind="whois",
        subject="allofmp3.test",
        raw=(FIXTURES / "whois" / "allofmp3_test_registry.txt").read_bytes(),
        captured_at=at("2007-06-29T10:02:55"),
        source="whois.test",
    )
    casework.add_event(
        db,
        allofmp3,
        "legal_action",
        "The IFPI sued the owners in the Moscow courts.",
        at=at("2006-12-01T09:00:00"),
    )
    return Scenario(soundsbox, allofmp3, page.id, cyrillic.id)


def test_the_scenario_cases_share_roms_and_hold_the_soundsbox_registration(store):
    scenario = build_scenario(store)
    related = related_cases(store, scenario.soundsbox)
    assert [item["case"]["id"] for item in related] == [scenario.allofmp3]
    shared = {s["entity"]["value"] for s in related[0]["shared"] if s["via"] == "entity"}
    assert "ROMS" in shared
    values = {e["value"] for e in case_detail(store, scenario.soundsbox)["entities"]}
    assert {"Pedro Kresker", "Vienna Domains GmbH", "ROMS", HOSTILE_VALUE} <= values
