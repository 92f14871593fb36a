"""Every peer the Soundsbox scenario needs, on 127.0.0.1: Knot serving the test zones, a
WHOIS registry and the Vienna registrar's WHOIS (two servers: they answer the same query
differently), and an RDAP server with the registry, registrar and IP documents.

    with scenario_servers() as servers:
        settings = servers.settings          # LookupSettings pointing at all of them
        args = servers.cli_args()            # the same, as `workbench lookup` flags
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tests.peers.knot import KnotPeer, running_knot
from tests.peers.rdap_server import RdapPeer
from tests.peers.whois_server import WhoisPeer, fixture
from workbench.lookups.settings import LookupSettings

REGISTRAR_WHOIS = "whois.viennadomains.test"
ALLOFMP3_REGISTRAR_WHOIS = "whois.tverskaya-domains.test"


@dataclass
class ScenarioServers:
    knot: KnotPeer
    registry: WhoisPeer
    registrar: WhoisPeer
    rdap: RdapPeer

    @property
    def settings(self) -> LookupSettings:
        return LookupSettings(
            whois_server=self.registry.address,
            whois_overrides={
                REGISTRAR_WHOIS: self.registrar.address,
                # allofmp3's registry record is thick; its referral is routed
                # back to the registry, which the lookup recognises and skips
                ALLOFMP3_REGISTRAR_WHOIS: self.registry.address,
            },
            rdap_base_url=self.rdap.url,
            rdap_ip_base_url=self.rdap.url,
            dns_server=self.knot.server,
            timeout_s=5.0,
            dns_lifetime_s=2.0,
            per_server_interval_s=0.0,
            allow_private_addresses=True,
        )

    def fast_settings(self, **changes) -> LookupSettings:
        return replace(self.settings, **changes)

    def cli_args(self) -> list[str]:
        return [
            "--whois-server",
            str(self.registry.address),
            "--whois-override",
            f"{REGISTRAR_WHOIS}={self.registrar.address}",
            "--whois-override",
            f"{ALLOFMP3_REGISTRAR_WHOIS}={self.registry.address}",
            "--rdap-url",
            self.rdap.url,
            "--dns-server",
            str(self.knot.server),
            "--timeout",
            "5",
            "--polite-interval",
            "0",
            "--allow-private-addresses",
        ]


@contextlib.contextmanager
def scenario_servers() -> Iterator[ScenarioServers]:
    registry_replies = {
        "soundsbox.test": fixture("soundsbox_test_registry"),
        "allofmp3.test": fixture("allofmp3_test_registry"),
    }
    with (
        running_knot() as knot,
        WhoisPeer(registry_replies) as registry,
        WhoisPeer({"soundsbox.test": fixture("soundsbox_test_registrar")}) as registrar,
        RdapPeer() as rdap,
    ):
        yield ScenarioServers(knot, registry, registrar, rdap)
