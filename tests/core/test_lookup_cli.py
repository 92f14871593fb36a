"""`workbench lookup` and `workbench data refresh` through the real command in a
subprocess (issue 3, items 5, 8 and 9, and the Done-when): the `--json` document per
domain and lookup kind, domains given as URLs or in Unicode, bad input refused in one line
with nothing stored or asked, offline lookups that fail at once, and a refresh that gives
up cleanly when IANA cannot be reached."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import dump_tables
from tests.peers.scenario import ScenarioServers, scenario_servers
from workbench.services.casework import new_case
from workbench.store.database import open_store

LOOKUP_KEYS = {
    "query",
    "protocol",
    "status",
    "reason",
    "evidence_ids",
    "entity_ids",
    "link_ids",
    "snapshot_id",
    "changes",
    "entities",
    "links",
}
STATUSES = {"ok", "not_found", "no_data", "failed", "rate_limited", "offline"}


@pytest.fixture(scope="module")
def servers() -> Iterator[ScenarioServers]:
    with scenario_servers() as running:
        yield running


def make_case(store_path: Path, title: str = "Soundsbox") -> int:
    db = open_store(store_path)
    try:
        return new_case(db, title).id
    finally:
        db.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def by_protocol(result: dict) -> dict[str, dict]:
    return {
        lk["protocol"] if lk["protocol"] != "rdap_ip" else f"rdap_ip {lk['query']}": lk
        for lk in result["lookups"]
    }


def test_looking_up_soundsbox_prints_per_domain_and_kind_what_was_found_and_verify_passes(
    servers, run_cli, store_path
):
    case_id = make_case(store_path)
    result = run_cli(
        "lookup", "--case", str(case_id), *servers.cli_args(), "soundsbox.test", json=True
    )
    assert result.code == 0, result
    # The run is named before anything is looked up, so a killed run can be resumed.
    run_id = result.data["run_id"]
    assert f"lookup run {run_id} " in result.stderr.splitlines()[0]

    data = result.data
    assert {k: data[k] for k in ("total", "done", "cancelled")} == {
        "total": 1,
        "done": 1,
        "cancelled": False,
    }
    (domain,) = data["results"]
    assert (domain["query"], domain["display"], domain["position"]) == (
        "soundsbox.test",
        "soundsbox.test",
        0,
    )
    found = by_protocol(domain)
    assert set(found) == {"whois", "rdap", "dns", "rdap_ip 192.0.2.10", "rdap_ip 2001:db8::10"}
    for lookup in found.values():
        assert set(lookup) == LOOKUP_KEYS, lookup.keys()
        assert lookup["status"] == "ok" and lookup["reason"] is None
        assert lookup["evidence_ids"] and lookup["snapshot_id"]
        assert [e["id"] for e in lookup["entities"]] == lookup["entity_ids"]
        assert [lk["id"] for lk in lookup["links"]] == lookup["link_ids"]
        # Each link found cites evidence of the lookup that found it.
        for link in lookup["links"]:
            assert set(link["evidence_ids"]) & set(lookup["evidence_ids"]), link

    whois = found["whois"]
    entities = {(e["kind"], e["value"]): e for e in whois["entities"]}
    registrar = entities[("registrar", "Vienna Domains GmbH")]
    assert (registrar["attrs"]["iana_id"], registrar["attrs"]["country"]) == ("9999", "AT")
    registrant = entities[("person", "Pedro Kresker")]
    assert registrant["attrs"]["country"] == "LU"
    (fax,) = [e for e in whois["entities"] if e["kind"] == "phone" and "352" in e["value"]]
    assert fax["attrs"]["line_type"] == "fax"
    names = {e["id"]: e["value"] for lk in found.values() for e in lk["entities"]}
    edges = {
        (names[link["src_id"]], link["type"], names[link["dst_id"]])
        for lk in found.values()
        for link in lk["links"]
    }
    assert {
        ("soundsbox.test", "registered_via", "Vienna Domains GmbH"),
        ("soundsbox.test", "registered_to", "Pedro Kresker"),
        ("Pedro Kresker", "contact_phone", fax["value"]),
        ("soundsbox.test", "uses_nameserver", "ns1.soundsbox.test"),
        ("soundsbox.test", "resolves_to", "192.0.2.10"),
        ("soundsbox.test", "resolves_to", "2001:db8::10"),
        ("192.0.2.10", "hosted_by", "192.0.2.0/24"),
    } <= edges

    verify, integrity = run_cli.many(("verify",), ("integrity",), json=True)
    assert verify.code == 0 and verify.data["ok"] is True, verify
    assert verify.data["checked_evidence"] >= 16
    assert integrity.code == 0, integrity


def test_a_url_is_reduced_to_its_registrable_domain_and_a_unicode_domain_fails_cleanly(
    servers, run_cli
):
    result = run_cli(
        "lookup",
        *servers.cli_args(),
        "--no-ip-rdap",
        "https://www.allofmp3.test/music/?lang=en",
        "ПРИМЕР.РФ",
        json=True,
    )
    assert result.code == 0, result
    first, second = result.data["results"]
    assert (first["query"], first["display"]) == ("allofmp3.test", "allofmp3.test")
    assert {lk["status"] for lk in first["lookups"]} == {"ok"}
    # The peers do not know the name: each kind says so with a reason, none claims data.
    assert (second["query"], second["display"]) == ("xn--e1afmkfd.xn--p1ai", "пример.рф")
    statuses = {lk["protocol"]: lk["status"] for lk in second["lookups"]}
    assert statuses == {"whois": "not_found", "rdap": "not_found", "dns": "failed"}
    assert all(lk["reason"] and lk["links"] == [] for lk in second["lookups"])
    # The registry was asked in the form it expects: the A-label.
    assert "xn--e1afmkfd.xn--p1ai" in servers.registry.queries


def test_bad_input_is_refused_in_one_line_with_nothing_stored_or_asked(
    servers, run_cli, store_path, tmp_path
):
    case_id = make_case(store_path)
    (tmp_path / "list.txt").write_text(
        "# shops\n192.0.2.10\nnot a domain\nallofmp3.test\n-hevil.test\n\nhttps://www.shop.test/\n"
    )
    before = dump_tables(store_path)
    asked = (len(servers.registry.queries), len(servers.rdap.requests))
    flags = servers.cli_args()
    refused = run_cli.many(
        ("lookup", *flags, "soundsbox.test", "not a domain"),
        ("lookup", *flags, "--case", str(case_id + 100), "soundsbox.test"),
        ("lookup", *flags, "--from-file", "list.txt"),
        ("lookup", *flags, "--resume", "77"),
    )
    expected = ["'not a domain'", f"no case with id '{case_id + 100}'", "line 3", "lookup run"]
    for result, words in zip(refused, expected, strict=True):
        assert result.code == 2, result
        assert result.stdout == "", result
        assert len(result.stderr.splitlines()) == 1, result
        assert words in result.stderr, (words, result)
    # A list with bad lines names every one of them and runs nothing.
    from_file = refused[2].stderr
    assert "line 3" in from_file and "line 5" in from_file and "2 bad entries" in from_file
    assert dump_tables(store_path) == before
    assert (len(servers.registry.queries), len(servers.rdap.requests)) == asked


def test_offline_every_lookup_fails_at_once_and_the_other_commands_still_work(run_cli):
    unreachable = [
        "--whois-server",
        f"127.0.0.1:{closed_port()}",
        "--rdap-url",
        f"http://127.0.0.1:{closed_port()}",
        "--dns-server",
        f"127.0.0.1:{closed_port()}",
        "--allow-private-addresses",
        "--timeout",
        "60",
    ]
    started = time.monotonic()
    switched_off, no_route = run_cli.many(
        ("lookup", "--offline", "soundsbox.test"),
        ("lookup", *unreachable, "soundsbox.test", "allofmp3.test"),
        json=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    # Well under the 60 s deadline (two interpreters starting on a busy machine take a
    # few seconds): nothing waits for a server that is not there.
    assert elapsed < 30, f"{elapsed:.1f} s"
    for result, domains in ((switched_off, 1), (no_route, 2)):
        assert result.code == 0, result
        assert len(result.data["results"]) == domains
        for domain in result.data["results"]:
            assert {lk["protocol"]: lk["status"] for lk in domain["lookups"]} == {
                "whois": "offline",
                "rdap": "offline",
                "dns": "offline",
            }
            assert all(lk["reason"] for lk in domain["lookups"])

    case, verify = run_cli.many(("case", "new", "Offline but working"), ("verify",), json=True)
    assert case.code == 0 and case.data["title"] == "Offline but working", case
    assert verify.code == 0 and verify.data["ok"], verify


class _SilentServer:
    """Accepts connections and never answers (a proxy or server that has gone quiet)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def test_data_refresh_without_a_way_to_iana_fails_in_one_line_without_hanging(run_cli, tmp_path):
    silent = _SilentServer()
    try:
        runs = {
            # the only way out is a proxy that is not running
            "refused": (f"http://127.0.0.1:{closed_port()}", tmp_path / "refused"),
            # ... or one that accepts and never answers
            "silent": (f"http://127.0.0.1:{silent.port}", tmp_path / "silent"),
        }

        def refresh(proxy: str, dest: Path):
            env = {"https_proxy": proxy, "HTTPS_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""}
            started = time.monotonic()
            result = run_cli(
                "data", "refresh", "--dest", str(dest), "--timeout", "1", store=None, env=env
            )
            return result, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=2) as pool:
            done = dict(zip(runs, pool.map(lambda run: refresh(*run), runs.values()), strict=True))
    finally:
        silent.close()
    for name, (result, elapsed) in done.items():
        assert result.code == 2, (name, result)
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result
        assert "could not download https://data.iana.org/" in result.stderr, result
        assert elapsed < 12, f"{name}: {elapsed:.1f} s"
        dest = runs[name][1]
        assert not dest.exists() or list(dest.iterdir()) == []
    assert "within 1 s" in done["silent"][0].stderr


def test_a_lookalike_name_is_warned_about_before_the_run_starts(run_cli):
    # A bulk list may take an hour: the warning comes first, not after the last domain.
    result = run_cli("lookup", "--offline", "p\u0430ypal.test", "soundsbox.test")
    assert result.code == 0, result
    lines = result.stderr.splitlines()
    warned = [n for n, line in enumerate(lines) if line.startswith("workbench: warning: ")]
    started = [n for n, line in enumerate(lines) if "lookup run" in line]
    assert warned and started, lines
    assert max(warned) < min(started), lines
    assert len(warned) == len(set(lines[n] for n in warned))  # each said once
