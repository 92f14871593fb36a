"""Where lookups go: a server given as HOST, HOST:PORT or [V6]:PORT, by the user (flags,
the settings dialog) or by a server (a WHOIS referral). Anything that names no server is
refused with one message that says what is wrong; nothing of it reaches a connect call."""

from __future__ import annotations

import pytest

from workbench.domain.errors import InvalidInput
from workbench.lookups.settings import ServerAddress, parse_server


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", ServerAddress("127.0.0.1", 5353)),
        ("whois.nic.test", ServerAddress("whois.nic.test", 43)),
        ("WHOIS.Nic.TEST:4343", ServerAddress("whois.nic.test", 4343)),
        ("[::1]:53", ServerAddress("::1", 53)),
        ("[2001:db8::1]", ServerAddress("2001:db8::1", 43)),
        ("2001:db8::1", ServerAddress("2001:db8::1", 43)),
        ("münchen.test:43", ServerAddress("xn--mnchen-3ya.test", 43)),
        ("  localhost  ", ServerAddress("localhost", 43)),
    ],
)
def test_a_server_is_a_host_and_a_port(text, expected):
    assert parse_server(text, 43, "--whois-server") == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("[::1", "without its ']'"),
        ("[::1]43", "not ':PORT'"),
        ("a b:43", "not a valid IDNA name"),
        ("evil\x1b[2J", "control characters"),
        ("-hwhois.test", "no valid host"),
        ("whois.test:", "not 1-65535"),
        ("whois.test:0", "not 1-65535"),
        ("whois.test:http", "not 1-65535"),
        ("x" * 300, "Domain too long"),
        ("127.1", "reads as an IP address"),
        ("who%69s.test", "percent-encoding"),
    ],
)
def test_text_that_names_no_server_is_refused_with_the_reason(text, words):
    with pytest.raises(InvalidInput, match="--dns-server") as refused:
        parse_server(text, 53, "--dns-server")
    assert words in str(refused.value)
