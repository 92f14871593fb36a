"""A real RDAP server on 127.0.0.1 for tests: JSON documents per path, and faults.

    with RdapPeer() as peer:                      # serves tests/fixtures/rdap by FIXTURE_ROUTES
        peer.fault("/domain/slow.test", "slow")
        settings = LookupSettings(rdap_base_url=peer.url, allow_private_addresses=True)
        ...
        assert all("Authorization" not in r.headers for r in peer.requests)

It is a stdlib ThreadingHTTPServer (HTTP/1.1, keep-alive) in a background thread, on a
port the OS picks. Links in the served documents that point at an RDAP host under .test
("https://rdap.vienna-domains.test/...") are rewritten to this server, so a registry
document's "related" link leads back here; the fixture files themselves keep the
realistic URLs.

Fault kinds for `fault(path, kind, **options)`:
  "404", "429" (retry_after="1"), "500", "html" (200 text/html),
  "slow" (trickles the document, `chunk` bytes every `interval_s`),
  "truncated" (Content-Length larger than what is sent, then the connection closes),
  "malformed" (200 with broken JSON), "huge" (`size` bytes, 5 MB by default),
  "redirect" (to `location`), "redirect_loop" (to itself, forever),
  "redirect_private" (to http://10.0.0.1/..., which a client must never contact).
"""

from __future__ import annotations

import json
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rdap"

# URL path -> fixture file. The registry documents sit where a base URL of
# http://HOST:PORT/ (or /com/v1/ for .com) puts them; registrar documents where the
# rewritten "related" links point.
FIXTURE_ROUTES = {
    "/com/v1/domain/example.com": "domain-example.com-verisign.json",
    "/rdap/domain/example.com": "domain-example.com-registrar.json",
    "/domain/soundsbox.test": "domain-soundsbox.test-registry.json",
    "/rdap/domain/soundsbox.test": "domain-soundsbox.test-registrar.json",
    "/domain/allofmp3.test": "domain-allofmp3.test-registry.json",
    "/ip/192.0.2.10": "ip-192.0.2.10.json",
    "/ip/198.51.100.20": "ip-198.51.100.20.json",
    "/ip/2001:db8::10": "ip-2001-db8--10.json",
    "/autnum/64500": "autnum-64500.json",
    "/autnum/64501": "autnum-64501.json",
}
_TEST_RDAP_HOST = re.compile(rb"https?://rdap\.[a-z0-9.-]+\.test(?::\d+)?")
RDAP_TYPE = "application/rdap+json"
PRIVATE_TARGET = "http://10.0.0.1/rdap/domain/private.test"

# A self-signed certificate for 127.0.0.1 (made once with openssl, valid for a century):
# `RdapPeer(tls=True)` serves https with it, which a verifying client must refuse.
SELF_SIGNED_CERT = """\
-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUZI/GrHhzGKzRekmx3AKiZc4uZLMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMjE5NDYyMFoYDzIxMjYxMDI5
MTk0NjIwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASZnt05N72G5QViARfSgw1oE/Dq05l3wYJp6GX/JIWPOPeBMQQO6KcF
bYh2nGI79eQHfyUbIqO3u+1H6QWZYSe1o2QwYjAdBgNVHQ4EFgQU7aXIC4s9xAcp
OAhZgmOnGTINzvEwHwYDVR0jBBgwFoAU7aXIC4s9xAcpOAhZgmOnGTINzvEwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQD5Shv/jjPbGZpFMrXUFm9szc/bVxIDYrhQ8ZGioG6XlAIhAKbQ9rT+NgS8Tzsi
WC5nz5i9IVJze4HO1brUUxrvXHGl
-----END CERTIFICATE-----
"""
SELF_SIGNED_KEY = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXM9/YM+IE/7hCVMm
KppfSAzeAaVaAafgMEWhcWC1JcyhRANCAASZnt05N72G5QViARfSgw1oE/Dq05l3
wYJp6GX/JIWPOPeBMQQO6KcFbYh2nGI79eQHfyUbIqO3u+1H6QWZYSe1
-----END PRIVATE KEY-----
"""


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Fault:
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


def _error_body(code: int, title: str) -> bytes:
    return json.dumps(
        {"rdapConformance": ["rdap_level_0"], "errorCode": code, "title": title}
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes; without this each answer waits for the
    # client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        peer = self.server.peer
        path = unquote(urlsplit(self.path).path)
        peer.record(RecordedRequest("GET", path, dict(self.headers.items())))
        key = path.lower()
        fault = peer.faults.get(key)
        if fault is not None:
            self._fault(fault, key)
            return
        body = peer.document(key)
        if body is None:
            self._send(404, _error_body(404, "Not Found"), RDAP_TYPE)
            return
        self._send(200, body, RDAP_TYPE, peer.extra_headers.get(key))

    def _send(
        self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _fault(self, fault: Fault, path: str) -> None:
        peer = self.server.peer
        opts = fault.options
        document = peer.document(path) or _error_body(404, "Not Found")
        kind = fault.kind
        if kind == "404":
            self._send(404, _error_body(404, "Not Found"), RDAP_TYPE)
        elif kind == "429":
            retry = str(opts.get("retry_after", "1"))
            body = _error_body(429, "Too Many Requests")
            self._send(429, body, RDAP_TYPE, {"Retry-After": retry})
        elif kind == "500":
            self._send(500, b"internal error", "text/plain")
        elif kind == "html":
            self._send(200, b"<html><body>Service moved</body></html>", "text/html")
        elif kind == "malformed":
            self._send(200, b'{"objectClassName": "domain", "ldhName": "broken.test", ', RDAP_TYPE)
        elif kind == "truncated":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", RDAP_TYPE)
            self.send_header("Content-Length", str(len(document) + 1000))
            self.end_headers()
            self.wfile.write(document[: len(document) // 2])
            self.wfile.flush()
        elif kind == "slow":
            self._trickle(document, int(opts.get("chunk", 8)), float(opts.get("interval_s", 0.1)))
        elif kind == "huge":
            self._huge(int(opts.get("size", 5 * 1024 * 1024)))
        elif kind == "redirect":
            self._redirect(str(opts["location"]))
        elif kind == "redirect_loop":
            self._redirect(path)
        elif kind == "redirect_private":
            self._redirect(str(opts.get("location", PRIVATE_TARGET)))
        else:
            raise ValueError(f"unknown fault kind {kind!r}")

    def _trickle(self, body: bytes, chunk: int, interval_s: float) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", RDAP_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), chunk):
                if self.server.peer.stopping.wait(interval_s):
                    return
                self.wfile.write(body[start : start + chunk])
                self.wfile.flush()
        except OSError:
            return  # the client gave up, as it should

    def _huge(self, size: int) -> None:
        self.close_connection = True
        head = b'{"objectClassName": "domain", "ldhName": "huge.test", "padding": "'
        tail = b'"}'
        self.send_response(200)
        self.send_header("Content-Type", RDAP_TYPE)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            self.wfile.write(head)
            left = size - len(head) - len(tail)
            block = b"x" * 65536
            while left > 0 and not self.server.peer.stopping.is_set():
                piece = block[: min(left, len(block))]
                self.wfile.write(piece)
                left -= len(piece)
            self.wfile.write(tail)
        except OSError:
            return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # bulk tests open many connections at once
    peer: RdapPeer


class RdapPeer:
    """An RDAP server on 127.0.0.1:<free port>, started and stopped by the test."""

    def __init__(
        self,
        documents: dict[str, bytes | str | dict] | None = None,
        *,
        fixtures: bool = True,
        rewrite_test_links: bool = True,
        tls: bool = False,
    ) -> None:
        self.tls = tls
        self._documents: dict[str, bytes] = {}
        self.extra_headers: dict[str, dict[str, str]] = {}
        if fixtures:
            for path, name in FIXTURE_ROUTES.items():
                self.add(path, fixture_bytes(name))
        for path, document in (documents or {}).items():
            self.add(path, document)
        self.faults: dict[str, Fault] = {}
        self.rewrite_test_links = rewrite_test_links
        self.stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- content ---------------------------------------------------------------------------
    def add(
        self,
        path: str,
        document: bytes | str | dict,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve `document` at `path` (case-insensitive), with extra response headers."""
        if headers:
            self.extra_headers[path.lower()] = headers
        if isinstance(document, dict):
            document = json.dumps(document, indent=2)
        if isinstance(document, str):
            document = document.encode()
        self._documents[path.lower()] = document

    def fault(self, path: str, kind: str, **options: Any) -> None:
        self.faults[path.lower()] = Fault(kind, options)

    def document(self, path: str) -> bytes | None:
        body = self._documents.get(path.lower())
        if body is not None and self.rewrite_test_links and self._server is not None:
            body = _TEST_RDAP_HOST.sub(self.url.encode(), body)
        return body

    # -- requests seen -----------------------------------------------------------------------
    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.lower() == path.lower()]

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "the peer is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> RdapPeer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.peer = self
        if self.tls:
            self._server.socket = _tls_context().wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RdapPeer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _tls_context() -> ssl.SSLContext:
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_text(SELF_SIGNED_CERT)
        key.write_text(SELF_SIGNED_KEY)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def rdap_peer() -> Iterator[RdapPeer]:
    """An RdapPeer serving the fixture documents (import it into a test module to use)."""
    with RdapPeer() as peer:
        yield peer


def wait_for(predicate: Any, timeout_s: float = 2.0) -> bool:
    """Poll `predicate` until it is true or `timeout_s` passes (for server-side effects)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
