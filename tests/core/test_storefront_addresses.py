"""Storefronts served at a bare IP address (issue 7): `http://203.0.113.7/shop/` is
recorded, linked to the address entity with no domain, and a lookup of it skips the
WHOIS, domain RDAP and DNS lookups (each with its reason) and asks RDAP about the address
instead, against the RDAP peer on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.conftest import dump_tables
from tests.peers.rdap_server import RdapPeer
from workbench.domain.errors import InvalidInput, NotFound
from workbench.domain.kinds import EntityKind
from workbench.lookups.settings import LookupSettings
from workbench.services.address_lookups import address_in, look_up_addresses
from workbench.services.casework import new_case
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.store.entities import find_entity
from workbench.store.links import get_link
from workbench.store.snapshots import entity_snapshots
from workbench.store.verify import verify_store


def served_at(db, storefront_id: int) -> set[tuple[str, str]]:
    rows = db.execute(
        "SELECT e.kind, e.value FROM links l JOIN entities e ON e.id = l.dst_id "
        "WHERE l.src_id = ? AND l.type = 'served_at'",
        [storefront_id],
    )
    return set(rows)


def test_a_storefront_on_a_bare_address_is_linked_to_the_address_and_no_domain(store):
    case = new_case(store, "Bare address")
    form = StorefrontForm(
        name="Cheap MP3",
        urls=["http://203.0.113.7/shop/", "https://[2001:DB8::7]:8443/shop", "mp3.example.test"],
    )
    result = record_storefront(store, case.id, form)
    shop = result["storefront"]
    assert served_at(store, shop["id"]) == {
        ("url", "http://203.0.113.7/shop/"),
        ("url", "https://[2001:db8::7]:8443/shop"),
        ("url", "https://mp3.example.test/"),
        ("ip_address", "203.0.113.7"),
        ("ip_address", "2001:db8::7"),
        ("domain", "example.test"),
    }
    domains = store.execute("SELECT value FROM entities WHERE kind = 'domain'").fetchall()
    assert domains == [("example.test",)]
    assert verify_store(store).ok


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("http://203.0.113.7/shop/", "203.0.113.7"),
        ("HTTPS://203.0.113.7:8080", "203.0.113.7"),
        ("http://[2001:db8::7]/", "2001:db8::7"),
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8:0::7", "2001:db8::7"),
        ("shop.example.test", None),
        ("http://shop.example.test/", None),
        ("http://127.1/", None),  # ends in a number: the domain parser refuses it
        ("0x7f.1", None),
        ("2130706433", None),
        ("ftp://203.0.113.7/", None),
        ("-203.0.113.7", None),
    ],
)
def test_what_counts_as_an_address_to_look_up(text, address):
    assert address_in(text) == address


def test_the_service_looks_up_the_address_and_skips_the_domain_lookups(store):
    case = new_case(store, "Bare address")
    record_storefront(store, case.id, StorefrontForm("Cheap MP3", urls=["http://192.0.2.10/"]))
    with RdapPeer() as peer:
        settings = LookupSettings(rdap_ip_base_url=peer.url + "/", allow_private_addresses=True)
        (result,) = look_up_addresses(store, ["192.0.2.10"], settings, case_id=case.id)
        asked = [request.path for request in peer.requests]
    assert asked == ["/ip/192.0.2.10"]  # no /domain/ question
    assert set(result.skipped) == {"whois", "rdap", "dns"}
    (lookup,) = result.lookups
    assert (lookup.protocol, lookup.status) == ("rdap_ip", "ok")
    address = find_entity(store, EntityKind.IP_ADDRESS, "192.0.2.10")
    network = find_entity(store, EntityKind.NETWORK, "192.0.2.0/24")
    hosted = [get_link(store, i) for i in lookup.link_ids]
    assert any(
        (link.src_id, link.type, link.dst_id) == (address.id, "hosted_by", network.id)
        for link in hosted
    )
    assert [s["protocol"] for s in entity_snapshots(store, address.id)] == ["rdap_ip"]
    assert verify_store(store).ok


def test_an_unknown_case_is_refused_before_anything_is_asked(store, store_path):
    before = dump_tables(store_path)
    with pytest.raises(NotFound, match="no case with id '99'"):
        look_up_addresses(store, ["192.0.2.10"], LookupSettings(offline=True), case_id=99)
    assert dump_tables(store_path) == before
    with pytest.raises(InvalidInput):
        look_up_addresses(store, ["not an address"], LookupSettings(offline=True), case_id=None)


def test_the_command_records_the_storefront_and_looks_up_its_address(run_cli, store_path):
    made = run_cli("case", "new", "Bare address", json=True)
    case_id = str(made.data["id"])
    added = run_cli(
        "storefront", "add", "--case", case_id, "--name", "Cheap MP3",
        "--url", "http://192.0.2.10/shop/", json=True,
    )  # fmt: skip
    assert added.code == 0, added
    kinds = {(e["kind"], e["value"]) for e in added.data["entities"]}
    assert ("ip_address", "192.0.2.10") in kinds
    assert not any(kind == "domain" for kind, _ in kinds)
    with RdapPeer() as peer:
        looked = run_cli(
            "lookup", "--case", case_id, "--rdap-ip-url", peer.url + "/",
            "--allow-private-addresses", "http://192.0.2.10/shop/", json=True,
        )  # fmt: skip
        asked = [request.path for request in peer.requests]
    assert looked.code == 0, looked
    assert asked == ["/ip/192.0.2.10"]
    (address,) = looked.data["addresses"]
    assert address["query"] == "192.0.2.10" and set(address["skipped"]) == {"whois", "rdap", "dns"}
    assert [(x["protocol"], x["status"]) for x in address["lookups"]] == [("rdap_ip", "ok")]
    assert looked.data["results"] == []
    shown = run_cli("lookup", "--case", case_id, "--offline", "http://192.0.2.10/shop/")
    assert shown.code == 0, shown
    assert "192.0.2.10" in shown.stdout and "skipped (an address)" in shown.stdout
    assert "offline" in shown.stdout
    assert "error" not in shown.stderr


def test_a_mixed_lookup_runs_the_domains_and_the_addresses(run_cli, store_path):
    made = run_cli("case", "new", "Mixed", json=True)
    looked = run_cli(
        "lookup", "--case", str(made.data["id"]), "--offline",
        "shop.example.test", "http://203.0.113.7/shop/", "--no-ip-rdap", json=True,
    )  # fmt: skip
    assert looked.code == 0, looked
    assert [r["query"] for r in looked.data["results"]] == ["example.test"]
    (address,) = looked.data["addresses"]
    assert address["query"] == "203.0.113.7" and address["lookups"] == []
    assert "rdap_ip" in address["skipped"]
