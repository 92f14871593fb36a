"""One lookup session per asyncio loop: the shared politeness gates, the HTTP client for
RDAP, and the addresses already asked about, so one shared by many domains is asked once."""

from __future__ import annotations

from workbench.domain.normalise import Hostname
from workbench.lookups import rdap_client
from workbench.lookups.dns_lookup import dns_lookup
from workbench.lookups.politeness import Politeness
from workbench.lookups.results import DnsFacts, LookupOutcome, NetworkFacts
from workbench.lookups.settings import LookupSettings
from workbench.lookups.whois_transport import whois_lookup


class LookupSession:
    """`async with LookupSession(settings) as session:` then `await session.whois(d)` etc.
    Every method returns `(LookupOutcome, facts or None)` and never raises for a network
    problem: that is an outcome."""

    def __init__(self, settings: LookupSettings):
        self.settings = settings
        # One gate per protocol: a registry may serve WHOIS and RDAP from one host name,
        # and each service has its own limits.
        gate = (
            settings.per_server_concurrency,
            settings.per_server_interval_s,
            settings.rate_limit_backoff_s,
        )
        self.whois_politeness = Politeness(*gate)
        self.rdap_politeness = Politeness(*gate)
        self._http = rdap_client.RdapSession(settings)
        self._claimed: set[str] = set()

    async def __aenter__(self) -> LookupSession:
        await self._http.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.close()

    async def whois(self, domain: Hostname):
        return await whois_lookup(domain, self.settings, self.whois_politeness)

    async def rdap_domain(self, domain: Hostname):
        return await rdap_client.rdap_domain(
            domain, self.settings, self._http, self.rdap_politeness
        )

    async def dns(self, domain: Hostname) -> tuple[LookupOutcome, DnsFacts]:
        return await dns_lookup(domain, self.settings)

    def claim_address(self, address: str) -> bool:
        """True the first time an address is claimed in this session: many domains of a
        bulk run share hosting, and each address needs one RDAP lookup, not one per domain."""
        if address in self._claimed:
            return False
        self._claimed.add(address)
        return True

    async def rdap_ip(self, address: str) -> tuple[LookupOutcome, NetworkFacts | None]:
        return await rdap_client.rdap_ip(address, self.settings, self._http, self.rdap_politeness)
