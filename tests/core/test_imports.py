"""Importing recorded responses (issue 3, item 7): WHOIS text, RDAP JSON and DNS answers
from a colleague or an old printout go through the same parsers and linking as a live
lookup, marked as imported with the capture time their supplier claims; what is not the
claimed kind is refused, naming the file, with nothing stored."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dns.message
import pytest

from tests.conftest import FIXTURES, dump_tables
from tests.peers.whois_server import WhoisPeer, fixture
from workbench.domain.errors import InvalidInput
from workbench.domain.kinds import EntityKind
from workbench.lookups.dns_parse import render_dns_capture
from workbench.lookups.settings import LookupSettings
from workbench.services.casework import new_case
from workbench.services.imports import import_recording
from workbench.services.lookup_runs import LookupPlan, parse_queries, run_lookups, start_run
from workbench.store.database import Database, open_store
from workbench.store.entities import find_entity
from workbench.store.events import case_events
from workbench.store.evidence import get_evidence
from workbench.store.links import get_link
from workbench.store.snapshots import entity_snapshots
from workbench.store.verify import verify_store

CLAIMED = "2009-11-02T10:00:00Z"
CLAIMED_AT = datetime(2009, 11, 2, 10, tzinfo=UTC)
CLAIMED_ISO = "2009-11-02T10:00:00.000000Z"  # as the store keeps times
WHOIS = FIXTURES / "whois"
RDAP = FIXTURES / "rdap"
DNS = FIXTURES / "dns"


def graph(db: Database) -> tuple[set, set]:
    """Every entity as (kind, value, attrs) and every link as (source, type, label,
    destination), sources and destinations as (kind, value): a store's content by meaning,
    whatever its ids."""
    names = {}
    entities = set()
    for entity_id, kind, value, attrs in db.execute("SELECT id, kind, value, attrs FROM entities"):
        names[entity_id] = (kind, value)
        entities.add((kind, value, attrs))
    links = {
        (names[src], link_type, label, names[dst])
        for src, link_type, label, dst in db.execute(
            "SELECT src_id, type, label, dst_id FROM links"
        )
    }
    return entities, links


def import_files(db: Database, kind: str, subject: str, *paths: Path, case_id=None):
    return import_recording(
        db,
        case_id=case_id,
        kind=kind,
        subject=subject,
        raws=[path.read_bytes() for path in paths],
        captured_at=CLAIMED_AT,
        filenames=[path.name for path in paths],
    )


# --- WHOIS through the command, compared with the live lookup -----------------------------


def test_imported_registry_and_registrar_answers_give_what_the_live_lookup_gives(
    run_cli, store_path, tmp_path
):
    # The live lookup, against the two WHOIS servers of the scenario.
    live = open_store(tmp_path / "live.sqlite")
    with (
        WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registry")}) as registry,
        WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registrar")}) as registrar,
    ):
        settings = LookupSettings(
            whois_server=registry.address,
            whois_overrides={"whois.viennadomains.test": registrar.address},
            timeout_s=2.0,
            per_server_interval_s=0.0,
            allow_private_addresses=True,
        )
        case = new_case(live, "Soundsbox")
        plan = LookupPlan(whois=True, rdap=False, dns=False, ip_rdap=False)
        run_id = start_run(live, parse_queries(["soundsbox.test"]), case_id=case.id, plan=plan)
        run_lookups(live, run_id, settings)

    # The same two answers, as files a colleague sent, imported through the command.
    for name in ("soundsbox_test_registry", "soundsbox_test_registrar"):
        shutil.copy(WHOIS / f"{name}.txt", tmp_path / f"{name.rsplit('_', 1)[1]}.txt")
    db = open_store(store_path)
    case_id = new_case(db, "Soundsbox").id
    db.close()
    args = ["evidence", "import", "--case", str(case_id), "--kind", "whois"]
    args += ["--domain", "soundsbox.test", "--captured-at", CLAIMED, "registry.txt"]
    result = run_cli(*args, "registrar.txt", json=True)
    assert result.code == 0, result
    assert result.data["status"] == "ok" and len(result.data["evidence_ids"]) == 2

    db = open_store(store_path)
    assert graph(db) == graph(live)
    registrant = find_entity(db, EntityKind.PERSON, "Pedro Kresker")
    assert registrant is not None and registrant.attrs["country"] == "LU"
    for evidence_id in result.data["evidence_ids"]:
        item = get_evidence(db, evidence_id)
        assert (item.kind, item.imported, item.captured_at) == ("whois", True, CLAIMED_ISO)
    for link_id in result.data["link_ids"]:
        assert set(get_link(db, link_id).evidence_ids) & set(result.data["evidence_ids"])
    domain = find_entity(db, EntityKind.DOMAIN, "soundsbox.test")
    (snapshot,) = entity_snapshots(db, domain.id)
    assert (snapshot["imported"], snapshot["taken_at"]) == (True, CLAIMED_ISO)
    evidence_before = db.execute("SELECT count(*) FROM evidence").fetchone()[0]
    db.close()

    # Imported again: the same evidence (no duplicate), one more snapshot, no change event.
    again = run_cli(*args, "registrar.txt", json=True)
    assert again.code == 0, again
    assert again.data["evidence_ids"] == result.data["evidence_ids"]
    db = open_store(store_path)
    assert db.execute("SELECT count(*) FROM evidence").fetchone()[0] == evidence_before
    assert len(entity_snapshots(db, domain.id)) == 2
    assert [e for e in case_events(db, case_id) if e.kind == "lookup"] == []
    assert verify_store(db).ok
    db.close()
    live.close()


def test_a_file_that_is_not_the_claimed_kind_is_refused_by_name_and_nothing_is_stored(
    run_cli, store_path, tmp_path
):
    db = open_store(store_path)
    case_id = new_case(db, "Soundsbox").id
    db.close()
    shutil.copy(WHOIS / "soundsbox_test_registry.txt", tmp_path / "registry.txt")
    shutil.copy(RDAP / "domain-soundsbox.test-registrar.json", tmp_path / "registrar.json")
    before = dump_tables(store_path)
    common = ["evidence", "import", "--case", str(case_id), "--domain", "soundsbox.test"]
    common += ["--captured-at", CLAIMED]
    refused = run_cli.many(
        # an RDAP document handed in as the registrar's WHOIS answer
        (*common, "--kind", "whois", "registry.txt", "registrar.json"),
        # WHOIS text handed in as RDAP
        (*common, "--kind", "rdap", "registry.txt"),
    )
    for result, named in zip(refused, ("registrar.json", "registry.txt"), strict=True):
        assert result.code == 2, result
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result
        assert named in result.stderr, result
    assert dump_tables(store_path) == before


@pytest.mark.parametrize(
    ("kind", "subject", "path", "why"),
    [
        (
            "whois",
            "soundsbox.test",
            RDAP / "domain-soundsbox.test-registry.json",
            "no registration",
        ),
        ("whois", "soundsbox.test", DNS / "soundsbox.test_A.bin", "binary"),
        ("rdap", "soundsbox.test", RDAP / "ip-192.0.2.10.json", "not 'domain'"),
        ("rdap_ip", "192.0.2.10", RDAP / "domain-soundsbox.test-registry.json", "not 'ip"),
        ("dns", "soundsbox.test", WHOIS / "soundsbox_test_registry.txt", "dig-style"),
        ("dns", "soundsbox.test", DNS / "soundsbox.test.zone", "dig-style"),
        ("dns", "soundsbox.test", DNS / "www.soundsbox.test_A.bin", "www.soundsbox.test"),
    ],
)
def test_each_kind_refuses_what_is_not_its_own(store, store_path, kind, subject, path, why):
    before = dump_tables(store_path)
    with pytest.raises(InvalidInput) as refused:
        import_files(store, kind, subject, path)
    message = str(refused.value)
    assert path.name in message and why in message and "\n" not in message
    assert dump_tables(store_path) == before


def test_a_whois_refusal_or_no_match_is_imported_as_what_it_is_not_as_empty_data(store):
    limited = import_files(store, "whois", "soundsbox.test", WHOIS / "rate_limited_pir.txt")
    # Verisign's no-match names the domain it was asked about: it is imported as that one.
    missing = import_files(
        store, "whois", "nosuchname-example.com", WHOIS / "not_found_verisign.txt"
    )
    assert (limited.status, missing.status) == ("rate_limited", "not_found")
    assert limited.link_ids == missing.link_ids == []
    domain = find_entity(store, EntityKind.DOMAIN, "soundsbox.test")
    assert [s["status"] for s in entity_snapshots(store, domain.id)] == ["rate_limited"]
    unknown = find_entity(store, EntityKind.DOMAIN, "nosuchname-example.com")
    assert [s["status"] for s in entity_snapshots(store, unknown.id)] == ["not_found"]


# --- the record must be about the domain it is imported as --------------------------------

SOUNDSBOX_RDAP = RDAP / "domain-soundsbox.test-registry.json"


@pytest.mark.parametrize(
    ("kind", "path", "about"),
    [
        ("whois", WHOIS / "soundsbox_test_registry.txt", "soundsbox.test"),
        ("whois", WHOIS / "soundsbox_test_registrar.txt", "soundsbox.test"),
        ("whois", WHOIS / "de_denic.txt", "musikladen-beispiel.de"),
        ("whois", WHOIS / "lu_dnslu.txt", "chansons-exemple.lu"),
        ("whois", WHOIS / "ru_tci.txt", "pesni-magazin.ru"),
        ("whois", WHOIS / "at_nicat.txt", "klangarchiv-beispiel.at"),
        ("whois", WHOIS / "com_verisign_thin.txt", "melodymart-example.com"),
        ("whois", WHOIS / "not_found_verisign.txt", "nosuchname-example.com"),
        ("rdap", SOUNDSBOX_RDAP, "soundsbox.test"),
        ("rdap", RDAP / "domain-example.com-verisign.json", "example.com"),
    ],
)
def test_a_record_about_another_domain_is_refused_naming_both(store, store_path, kind, path, about):
    before = dump_tables(store_path)
    with pytest.raises(InvalidInput) as refused:
        import_files(store, kind, "allofmp3.test", path)
    message = str(refused.value)
    assert path.name in message and "\n" not in message
    assert f"about {about}, not allofmp3.test" in message
    assert dump_tables(store_path) == before


def test_the_cli_refuses_a_record_about_another_domain_in_one_line(run_cli, store_path):
    db = open_store(store_path)
    case_id = new_case(db, "AllofMP3").id
    db.close()
    before = dump_tables(store_path)
    common = ["evidence", "import", "--case", str(case_id), "--domain", "allofmp3.test"]
    common += ["--captured-at", CLAIMED]
    refused = run_cli.many(
        (*common, "--kind", "whois", str(WHOIS / "soundsbox_test_registry.txt")),
        (*common, "--kind", "rdap", str(SOUNDSBOX_RDAP)),
        # The registry's answer is right, the registrar's is about another domain.
        (
            *common,
            "--kind",
            "whois",
            str(WHOIS / "allofmp3_test_registry.txt"),
            str(WHOIS / "soundsbox_test_registrar.txt"),
        ),
    )
    abouts = ("WHOIS record", "RDAP document", "WHOIS record")
    for result, about in zip(refused, abouts, strict=True):
        assert result.code == 2, result
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result
        assert f"is an {about}" in result.stderr or f"is a {about}" in result.stderr, result
        assert "about soundsbox.test, not allofmp3.test" in result.stderr, result
    assert dump_tables(store_path) == before


def _renamed_rdap(tmp_path: Path, **names) -> Path:
    doc = json.loads(SOUNDSBOX_RDAP.read_text("utf-8"))
    for key, value in names.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return path


@pytest.mark.parametrize(
    ("given", "names"),
    [
        ("müller.test", {"ldhName": "xn--mller-kva.test"}),
        ("xn--mller-kva.test", {"ldhName": "XN--MLLER-KVA.TEST", "unicodeName": "müller.test"}),
        ("MÜLLER.test.", {"ldhName": "xn--mller-kva.test.", "unicodeName": "Müller.test"}),
        ("müller.test", {"ldhName": None, "unicodeName": "müller.test"}),
    ],
)
def test_idn_forms_of_the_same_name_are_the_same_domain(store, tmp_path, given, names):
    recorded = import_files(store, "rdap", given, _renamed_rdap(tmp_path, **names))
    assert recorded.status == "ok"
    domain = find_entity(store, EntityKind.DOMAIN, "xn--mller-kva.test")
    assert domain is not None and domain == find_entity(store, EntityKind.DOMAIN, "müller.test")
    assert store.execute("SELECT count(*) FROM entities WHERE kind = 'domain'").fetchone()[0] == 1


def test_an_rdap_document_whose_two_names_disagree_is_refused(store, tmp_path):
    path = _renamed_rdap(tmp_path, unicodeName="soundsb0x.test")
    with pytest.raises(InvalidInput, match=r"about soundsb0x\.test, not soundsbox\.test"):
        import_files(store, "rdap", "soundsbox.test", path)


def test_an_rdap_document_with_no_name_is_refused(store, tmp_path):
    path = _renamed_rdap(tmp_path, ldhName=None, unicodeName=None)
    with pytest.raises(InvalidInput, match="no ldhName"):
        import_files(store, "rdap", "soundsbox.test", path)


@pytest.mark.parametrize(
    "header",
    [
        "Domain Name: XN--MLLER-KVA.TEST",
        "domain:        müller.test",
        "domainname:    Müller.Test.",
        "Domain name:\n        müller.test",  # Nominet
        "[Domain Name]                   MÜLLER.TEST",  # JPRS
        "Domain Name  : xn--mller-kva.test",
    ],
)
def test_whois_name_lines_in_any_registry_style_and_idn_form_match(store, header):
    text = f"{header}\nRegistrant Name: Hans Müller\nRegistrant Email: hans@example.test\n"
    recorded = import_recording(
        store,
        case_id=None,
        kind="whois",
        subject="müller.test",
        raws=[text.encode("utf-8")],
        captured_at=CLAIMED_AT,
        filenames=["printout.txt"],
    )
    assert recorded.status == "ok" and "names no domain" not in (recorded.reason or "")
    other = re.sub("xn--mller-kva|müller", "muller", text, flags=re.IGNORECASE)
    assert other != text
    with pytest.raises(InvalidInput, match=r"about muller\.test, not xn--mller-kva\.test"):
        import_recording(
            store,
            case_id=None,
            kind="whois",
            subject="müller.test",
            raws=[other.encode("utf-8")],
            captured_at=CLAIMED_AT,
            filenames=["other.txt"],
        )


def test_a_whois_text_naming_no_domain_imports_with_a_recorded_warning(run_cli, store_path):
    """An old printout of the contact part only: accepted, on the importer's word, and said
    so on stderr, in --json and in the stored lookup's reason."""
    db = open_store(store_path)
    case_id = new_case(db, "Soundsbox").id
    db.close()
    printout = store_path.parent / "printout.txt"
    printout.write_text(
        "Registrant Name: Pedro Kresker\nRegistrant Email: pedro@soundsbox.test\n"
        "Registrar: Example Registrar SA\nDomain Status: ok\n",
        "utf-8",
    )
    result = run_cli(
        "--json", "evidence", "import", "--case", str(case_id), "--domain", "soundsbox.test",
        "--kind", "whois", "--captured-at", CLAIMED, str(printout),
    )  # fmt: skip
    assert result.code == 0, result
    said = "printout.txt names no domain: recorded as about soundsbox.test on the importer's word"
    assert result.stderr.count("workbench: warning:") == 1 and said in result.stderr
    data = json.loads(result.stdout)
    assert data["warnings"] == [said] and data["status"] == "ok"
    db = open_store(store_path)
    domain = find_entity(db, EntityKind.DOMAIN, "soundsbox.test")
    (snapshot,) = entity_snapshots(db, domain.id)
    assert said in snapshot["reason"]
    assert find_entity(db, EntityKind.EMAIL, "pedro@soundsbox.test") is not None
    assert verify_store(db).ok
    db.close()


def test_importing_a_lookalike_domain_warns_and_imports(run_cli, store_path, tmp_path):
    db = open_store(store_path)
    case_id = new_case(db, "Lookalike").id
    db.close()
    record = tmp_path / "whois.txt"
    record.write_text(
        "Domain Name: xn--pypal-4ve.com\nRegistrant Name: Someone\n"
        "Registrant Email: someone@example.test\n",
        "utf-8",
    )
    result = run_cli(
        "--json", "evidence", "import", "--case", str(case_id), "--domain", "pаypal.com",
        "--kind", "whois", "--captured-at", CLAIMED, str(record),
    )  # fmt: skip
    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert data["query"] in ("xn--pypal-4ve.com", "pаypal.com")
    assert len(data["warnings"]) == 1 and "mixes Cyrillic and Latin" in data["warnings"][0]
    assert "workbench: warning:" in result.stderr and "reads like 'paypal'" in result.stderr


# --- RDAP of an address, and DNS answers --------------------------------------------------


def test_an_address_rdap_document_imports_as_the_network_holding_the_address(store):
    case = new_case(store, "Soundsbox")
    recorded = import_files(
        store, "rdap_ip", "192.0.2.10", RDAP / "ip-192.0.2.10.json", case_id=case.id
    )
    assert recorded.status == "ok"
    address = find_entity(store, EntityKind.IP_ADDRESS, "192.0.2.10")
    network = find_entity(store, EntityKind.NETWORK, "192.0.2.0/24")
    assert network.attrs["name"] == "REDSQUARE-HOSTING-NET"
    (hosted,) = [
        get_link(store, i) for i in recorded.link_ids if get_link(store, i).type == "hosted_by"
    ]
    assert (hosted.src_id, hosted.dst_id) == (address.id, network.id)
    (evidence_id,) = recorded.evidence_ids
    assert hosted.evidence_ids == [evidence_id]
    item = get_evidence(store, evidence_id)
    assert (item.kind, item.imported, item.captured_at) == ("rdap", True, CLAIMED_ISO)


def test_dns_answers_import_from_wire_files(store):
    recorded = import_files(
        store,
        "dns",
        "soundsbox.test",
        DNS / "soundsbox.test_A.bin",
        DNS / "soundsbox.test_AAAA.bin",
        DNS / "soundsbox.test_MX.bin",
        DNS / "10.2.0.192.in-addr.arpa_PTR.bin",
    )
    assert recorded.status == "ok"
    links = {get_link(store, i).type: get_link(store, i) for i in recorded.link_ids}
    assert set(links) == {"resolves_to", "mail_handled_by", "reverse_dns"}
    # Each link cites the answer it comes from: the MX link the MX answer.
    (mx_evidence,) = links["mail_handled_by"].evidence_ids
    assert get_evidence(store, mx_evidence).query == "soundsbox.test MX"
    domain = find_entity(store, EntityKind.DOMAIN, "soundsbox.test")
    (snapshot,) = entity_snapshots(store, domain.id)
    # Only what the files answer is in the snapshot: no NS answer was imported, so a
    # later live lookup is not told the nameservers "disappeared".
    assert snapshot["summary"]["addresses"] == ["192.0.2.10", "2001:db8::10"]
    assert "nameservers" not in snapshot["summary"]
    for evidence_id in recorded.evidence_ids:
        item = get_evidence(store, evidence_id, with_content=True)
        assert item.media_type == "application/dns-message" and item.imported
    assert verify_store(store).ok


DIG_OUTPUT = """\

; <<>> DiG 9.18.24-1-Debian <<>> @192.0.2.53 soundsbox.test A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 40102
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
;; WARNING: recursion requested but not available

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;soundsbox.test.\t\t\tIN\tA

;; ANSWER SECTION:
soundsbox.test.\t\t3600\tIN\tA\t192.0.2.10

;; Query time: 0 msec
;; SERVER: 192.0.2.53#53(192.0.2.53) (UDP)
;; WHEN: Mon Nov 02 10:00:00 UTC 2009
;; MSG SIZE  rcvd: 59
"""

KDIG_OUTPUT = """\
;; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 36842
;; Flags: qr aa rd; QUERY: 1; ANSWER: 1; AUTHORITY: 0; ADDITIONAL: 1

;; QUESTION SECTION:
;; soundsbox.test.     \t\tIN\tMX

;; ANSWER SECTION:
soundsbox.test.     \t3600\tIN\tMX\t10 mail.soundsbox.test.

;; ADDITIONAL SECTION:
mail.soundsbox.test.\t3600\tIN\tA\t192.0.2.25

;; Received 69 B
"""


def test_dns_answers_import_from_dig_kdig_and_the_evidence_viewers_text(store, tmp_path):
    viewer = tmp_path / "ns.txt"  # what the evidence viewer shows, copied to a file
    viewer.write_text(render_dns_capture((DNS / "soundsbox.test_NS.bin").read_bytes()))
    dnspython = tmp_path / "aaaa.txt"
    wire = (DNS / "soundsbox.test_AAAA.bin").read_bytes()
    dnspython.write_text(dns.message.from_wire(wire).to_text())
    (tmp_path / "dig.txt").write_text(DIG_OUTPUT)
    (tmp_path / "kdig.txt").write_text(KDIG_OUTPUT)

    recorded = import_files(
        store,
        "dns",
        "soundsbox.test",
        tmp_path / "dig.txt",
        tmp_path / "kdig.txt",
        viewer,
        dnspython,
    )
    assert recorded.status == "ok", recorded
    domain = find_entity(store, EntityKind.DOMAIN, "soundsbox.test")
    (snapshot,) = entity_snapshots(store, domain.id)
    assert snapshot["summary"] == {
        "addresses": ["192.0.2.10", "2001:db8::10"],
        "mx": ["mail.soundsbox.test"],
        "nameservers": ["ns1.soundsbox.test", "ns2.soundsbox.test"],
    }
    # The text is the evidence, exactly as supplied.
    stored = [get_evidence(store, i, with_content=True) for i in recorded.evidence_ids]
    assert {item.content.decode() for item in stored} == {
        DIG_OUTPUT,
        KDIG_OUTPUT,
        viewer.read_text(),
        dnspython.read_text(),
    }
    assert {item.media_type for item in stored} == {"text/plain"}
