"""The bulk lookup benchmark runs end to end at a tiny size and reports its figures.

No timing is asserted (machines differ); what must hold is that both comparisons run
against the real servers and end in RESULT lines bench/run can gather.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.nginx_static import NginxMissing, nginx_binary
from tests.peers.knot import knot_binaries

pytestmark = pytest.mark.peers

REPO = Path(__file__).resolve().parent.parent.parent
RESULT = re.compile(r"^RESULT (\S+) (\d+(?:\.\d+)?) domains/s ratio=(\d+(?:\.\d+)?)$")


def _require_servers() -> None:
    if knot_binaries() is None:
        pytest.skip("Knot DNS is not installed (apt-get install knot)")
    try:
        nginx_binary()
    except NginxMissing as exc:
        pytest.skip(str(exc))


def test_bulk_lookup_benchmark_at_a_tiny_size_prints_a_result_line_per_protocol():
    _require_servers()
    finished = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bulk_lookup.py"),
            *("--domains", "20", "--delay-ms", "0", "--rounds", "1", "--warmup", "0"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.strip().splitlines()
    results = {m[1]: m for m in map(RESULT.match, lines[-2:]) if m}
    assert set(results) == {"bulk_lookup_dns", "bulk_lookup_rdap"}, finished.stdout
    for match in results.values():
        assert float(match[2]) > 0 and float(match[3]) > 0
    # Both sides looked every domain up in full: a run that failed lookups compares nothing.
    assert "NOT LIKE FOR LIKE" not in finished.stdout
