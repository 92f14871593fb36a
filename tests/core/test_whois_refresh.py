"""Rebuilding the TLD -> WHOIS server map by asking IANA's WHOIS about each TLD."""

from __future__ import annotations

import json

import pytest

from tests.peers.whois_server import WhoisPeer
from workbench.lookups.whois_refresh import (
    WhoisRefreshError,
    refresh_server_map,
    server_from_iana_record,
)


def iana_record(tld: str, server: str | None) -> str:
    """A TLD record as whois.iana.org writes it."""
    whois_line = f"whois:        {server}\n" if server else ""
    return (
        "% IANA WHOIS server\n% for more information on IANA, visit http://www.iana.org\n"
        "% This query returned 1 object\n\n"
        + (f"refer:        {server}\n\n" if server else "")
        + f"domain:       {tld.upper()}\n\norganisation: Example Registry\n"
        + "address:      1 Registry Street\n\n"
        + whois_line
        + "\nstatus:       ACTIVE\nremarks:      Registration information: http://example.test\n"
    )


def test_the_record_names_the_server_or_none():
    assert server_from_iana_record("com", iana_record("com", "whois.verisign-grs.com")) == (
        "whois.verisign-grs.com"
    )
    assert server_from_iana_record("zz", iana_record("zz", None)) is None


def test_an_answer_about_another_tld_is_refused():
    with pytest.raises(WhoisRefreshError, match=r"\.lu"):
        server_from_iana_record("lu", iana_record("com", "whois.verisign-grs.com"))


def test_refresh_writes_a_map_of_every_tld_keeping_the_query_forms(tmp_path):
    replies = {
        "com": iana_record("com", "whois.verisign-grs.com"),
        "lu": iana_record("lu", "whois.dns.lu"),
        "zz": iana_record("zz", None),
    }
    with WhoisPeer(replies) as iana:
        path = refresh_server_map(
            tmp_path,
            ["lu", "com", "zz"],
            {"whois.verisign-grs.com": "domain {domain}"},
            server=iana.address,
            interval_s=0.0,
        )
        asked = sorted(iana.queries)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["servers"] == {
        "com": "whois.verisign-grs.com",
        "lu": "whois.dns.lu",
        "zz": None,
    }
    assert document["query_forms"] == {"whois.verisign-grs.com": "domain {domain}"}
    assert document["_meta"]["tlds_without_server"] == 1
    assert asked == ["com", "lu", "zz"]


def test_a_refresh_that_cannot_ask_every_tld_keeps_the_old_map(tmp_path):
    (tmp_path / "servers.json").write_text('{"old": true}', encoding="utf-8")
    with WhoisPeer({"com": iana_record("com", "whois.verisign-grs.com")}) as iana:
        iana.silent("lu")
        with pytest.raises(WhoisRefreshError, match="lu"):
            refresh_server_map(
                tmp_path, ["com", "lu"], {}, server=iana.address, interval_s=0.0, deadline_s=0.5
            )
    assert json.loads((tmp_path / "servers.json").read_text()) == {"old": True}
