"""WHOIS, RDAP and DNS lookups. Transports (I/O) return raw bytes; parsers (pure
functions) turn raw bytes into facts. No Qt, no store access: services do the storing."""
