"""The bundled IANA bootstrap files say which RDAP server to ask, and a refresh replaces
them safely from whatever the download brings."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.peers.rdap_server import RdapPeer
from workbench.domain.normalise import normalise_domain
from workbench.lookups.rdap_bootstrap import (
    BOOTSTRAP_FILES,
    BootstrapError,
    base_urls_for_asn,
    base_urls_for_domain,
    base_urls_for_ip,
    default_bootstrap_dir,
    load_bootstrap,
    refresh_bootstrap,
)

BUNDLED = default_bootstrap_dir()


def _doc(publication: str, services: list) -> dict:
    return {"description": "test", "publication": publication, "services": services}


def _mini_files(publication: str) -> dict[str, bytes]:
    docs = {
        "dns.json": _doc(publication, [[["test"], ["https://rdap.nic.test/"]]]),
        "ipv4.json": _doc(publication, [[["192.0.2.0/24"], ["https://rdap.rir.test/"]]]),
        "ipv6.json": _doc(publication, [[["2001:db8::/32"], ["https://rdap.rir.test/"]]]),
        "asn.json": _doc(publication, [[["64500-64511"], ["https://rdap.rir.test/"]]]),
    }
    return {name: json.dumps(doc).encode() for name, doc in docs.items()}


def _fetch_from(peer: RdapPeer):
    """A real fetch: data.iana.org paths are served by the local peer."""

    def fetch(url: str) -> bytes:
        local = peer.url + urlsplit(url).path
        with urllib.request.urlopen(local, timeout=5) as response:  # noqa: S310 - our peer
            return response.read()

    return fetch


def test_the_bundled_files_are_all_there_with_their_publication_dates():
    publications = load_bootstrap().publications
    assert set(publications) == set(BOOTSTRAP_FILES)
    assert publications["dns.json"] == "2026-06-26T18:00:02Z"
    assert publications["asn.json"] == "2026-06-01T20:00:01Z"


def test_a_com_domain_goes_to_verisign():
    assert base_urls_for_domain(normalise_domain("shop.example.com")) == [
        "https://rdap.verisign.com/com/v1/"
    ]


def test_https_is_listed_before_plain_http_whatever_the_file_order():
    # IANA lists ARIN's https and http URLs; the http one must never come first.
    assert base_urls_for_ip("8.8.8.8") == [
        "https://rdap.arin.net/registry/",
        "http://rdap.arin.net/registry/",
    ]


def test_a_tld_with_only_an_http_server_still_gets_one():
    assert base_urls_for_domain(normalise_domain("example.kg")) == ["http://rdap.cctld.kg/"]


def test_an_unknown_tld_has_no_server():
    assert base_urls_for_domain(normalise_domain("soundsbox.test")) == []


def test_addresses_and_as_numbers_go_to_their_rir():
    assert base_urls_for_ip("193.0.6.139")[0] == "https://rdap.db.ripe.net/"
    assert base_urls_for_ip("2001:4860:4860::8888")[0] == "https://rdap.arin.net/registry/"
    assert base_urls_for_ip("2a00:1450:4001::1")[0] == "https://rdap.db.ripe.net/"
    assert base_urls_for_asn(15169)[0] == "https://rdap.arin.net/registry/"
    assert base_urls_for_asn(3333)[0] == "https://rdap.db.ripe.net/"
    assert base_urls_for_asn(64500) == []  # documentation ASNs are nobody's
    assert base_urls_for_ip("not an address") == []


def test_the_longest_matching_prefix_wins(tmp_path: Path):
    docs = _mini_files("2026-01-01T00:00:00Z")
    docs["ipv4.json"] = json.dumps(
        _doc(
            "2026-01-01T00:00:00Z",
            [
                [["10.0.0.0/8"], ["https://broad.test/"]],
                [["10.1.2.0/24"], ["https://narrow.test/"]],
                [["10.1.0.0/16"], ["https://middle.test/"]],
            ],
        )
    ).encode()
    for name, raw in docs.items():
        (tmp_path / name).write_bytes(raw)
    assert base_urls_for_ip("10.1.2.3", tmp_path) == ["https://narrow.test/"]
    assert base_urls_for_ip("10.1.9.9", tmp_path) == ["https://middle.test/"]
    assert base_urls_for_ip("10.9.9.9", tmp_path) == ["https://broad.test/"]


def test_a_missing_bootstrap_directory_says_what_is_missing_and_what_to_do(tmp_path: Path):
    with pytest.raises(BootstrapError, match=r"dns\.json is missing.*workbench data refresh"):
        load_bootstrap(tmp_path / "nowhere")


def test_refresh_downloads_all_four_files_and_replaces_them(tmp_path: Path):
    for name in BOOTSTRAP_FILES:
        (tmp_path / name).write_bytes((BUNDLED / name).read_bytes())
    before = load_bootstrap(tmp_path)
    assert before.for_domain(normalise_domain("soundsbox.test")) == []

    new_files = _mini_files("2027-02-03T04:05:06Z")
    with RdapPeer(fixtures=False, rewrite_test_links=False) as peer:
        for name, raw in new_files.items():
            peer.add(f"/rdap/{name}", raw)
        publications = refresh_bootstrap(tmp_path, _fetch_from(peer))
        asked = sorted(r.path for r in peer.requests)

    assert asked == sorted(f"/rdap/{name}" for name in BOOTSTRAP_FILES)
    assert publications == dict.fromkeys(BOOTSTRAP_FILES, "2027-02-03T04:05:06Z")
    for name, raw in new_files.items():
        assert (tmp_path / name).read_bytes() == raw
    # The next lookup sees the new files, not a stale cache.
    assert base_urls_for_domain(normalise_domain("soundsbox.test"), tmp_path) == [
        "https://rdap.nic.test/"
    ]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    "broken",
    [
        b"<html>maintenance</html>",
        b'{"services": []}',
        json.dumps({"services": [[["com"], ["https://x.test/"]]]}).encode(),  # no publication
        json.dumps({"publication": "2027-01-01T00:00:00Z", "services": "none"}).encode(),
        b"[1, 2, 3]",
    ],
    ids=["html", "empty-services", "no-publication", "services-not-a-list", "not-an-object"],
)
def test_refresh_keeps_the_old_files_when_one_download_is_not_a_bootstrap_file(
    tmp_path: Path, broken: bytes
):
    for name in BOOTSTRAP_FILES:
        (tmp_path / name).write_bytes((BUNDLED / name).read_bytes())
    files = _mini_files("2027-02-03T04:05:06Z")
    files["asn.json"] = broken  # the last one fails: the first three must not be written
    with RdapPeer(fixtures=False, rewrite_test_links=False) as peer:
        for name, raw in files.items():
            peer.add(f"/rdap/{name}", raw)
        with pytest.raises(BootstrapError, match=r"asn\.json"):
            refresh_bootstrap(tmp_path, _fetch_from(peer))
    for name in BOOTSTRAP_FILES:
        assert (tmp_path / name).read_bytes() == (BUNDLED / name).read_bytes()


def test_refresh_names_the_url_when_the_download_itself_fails(tmp_path: Path):
    # The peer serves nothing: every file is a 404.
    with (
        RdapPeer(fixtures=False) as peer,
        pytest.raises(BootstrapError, match=r"could not download https://data\.iana"),
    ):
        refresh_bootstrap(tmp_path, _fetch_from(peer))
    assert not list(tmp_path.iterdir())
