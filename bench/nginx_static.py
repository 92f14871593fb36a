"""nginx on 127.0.0.1 serving a folder of static files, for the RDAP benchmark.

A real HTTP server written in C answers far faster than any Python client can ask, so a
benchmark against it measures the client. `running_nginx(docroot)` starts nginx in the
foreground (no daemon, its own prefix, pid file and temporary folders in a temporary
directory, nothing under /etc or /var touched) on a free port, waits until it answers,
and stops it with SIGQUIT (SIGKILL if it lingers) when the block ends.

Every file is served with `default_type` (RDAP JSON unless told otherwise), whatever its
name: RDAP paths end in a domain name, not in ".json".

    with running_nginx(docroot) as base_url:   # "http://127.0.0.1:PORT"
        ...
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"


class NginxMissing(RuntimeError):
    """nginx is not installed here."""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise NginxMissing("nginx is not installed (apt-get install nginx-light)")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def nginx_config(workdir: Path, docroot: Path, port: int, default_type: str, workers: int) -> str:
    """A self-contained configuration: every path nginx writes is under `workdir`."""
    return f"""\
daemon off;
worker_processes {workers};
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    types {{ }}
    default_type {default_type};
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {workdir / "body"};
    proxy_temp_path {workdir / "proxy"};
    fastcgi_temp_path {workdir / "fastcgi"};
    uwsgi_temp_path {workdir / "uwsgi"};
    scgi_temp_path {workdir / "scgi"};
    server {{
        listen {HOST}:{port};
        root {docroot};
    }}
}}
"""


def _answers(port: int, probe_path: str) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=0.5)
    try:
        connection.request("GET", probe_path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)  # graceful shutdown for nginx
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def running_nginx(
    docroot: Path,
    probe_path: str,
    *,
    default_type: str = "application/rdap+json",
    workers: int = 1,
    start_timeout_s: float = 10.0,
) -> Iterator[str]:
    """Serve `docroot` on 127.0.0.1 for the duration of the block; yields the base URL.

    `probe_path` is a URL path that must answer 200 before the block starts. nginx's
    workers drop root privileges, so `docroot` and its parents must be world-readable.
    """
    binary = nginx_binary()
    docroot = docroot.resolve()
    with tempfile.TemporaryDirectory(prefix="nginx-") as tmp:
        workdir = Path(tmp)
        config = workdir / "nginx.conf"
        failures = []
        # Another process may take the port between the probe and nginx's bind; nginx
        # then exits at once and we try another port.
        for _attempt in range(3):
            port = _free_port()
            config.write_text(nginx_config(workdir, docroot, port, default_type, workers))
            process = subprocess.Popen(
                [binary, "-p", str(workdir), "-c", str(config), "-e", str(workdir / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                deadline = time.monotonic() + start_timeout_s
                while process.poll() is None and time.monotonic() < deadline:
                    if _answers(port, probe_path):
                        break
                    time.sleep(0.02)
                if process.poll() is not None:
                    failures.append(_log_tail(workdir) or process.stderr.read().decode())
                    continue
                if not _answers(port, probe_path):
                    raise RuntimeError(
                        f"nginx did not serve {probe_path} within {start_timeout_s} s:\n"
                        f"{_log_tail(workdir)}"
                    )
                yield f"http://{HOST}:{port}"
                return
            finally:
                _stop(process)
                process.stderr.close()
        raise RuntimeError("nginx would not start:\n" + "\n".join(failures))


def _log_tail(workdir: Path, lines: int = 20) -> str:
    log = workdir / "error.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
