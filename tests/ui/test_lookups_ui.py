"""Lookups from the window: results arrive live with their status while the window keeps
answering; offline mode; cancel. The live test runs against the loopback peers of the
lookups issue (Knot, two WHOIS servers, RDAP) on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.ui.conftest import idle, new_case_in
from workbench.services import casework
from workbench.store.database import open_store, writing
from workbench.store.entities import ensure_entity
from workbench.ui import options
from workbench.ui.workspace import VIEW_ENTITIES, VIEW_LOOKUPS


class StallMeter:
    """A timer ticking every `interval_ms` on the main thread, recording the longest gap
    between ticks: how long the window could not answer."""

    def __init__(self, interval_ms: int = 5):
        self.interval = interval_ms / 1000
        self.last = time.perf_counter()
        self.longest = 0.0
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last - self.interval)
        self.last = now
        self.ticks += 1

    def stop(self) -> float:
        """The longest gap, the one up to now included."""
        self.timer.stop()
        self._tick()
        return self.longest


def _case_with_domains(store_path, domains: list[str]) -> int:
    db = open_store(store_path)
    try:
        case_id = casework.new_case(db, "Bulk").id
        with writing(db):
            for domain in domains:
                ensure_entity(db, "domain", domain, case_id=case_id)
        return case_id
    finally:
        db.close()


def _use_settings(**values) -> None:
    stored = options.read_options()
    stored.update({f"lookups/{key}": value for key, value in values.items()})
    options.write_options(stored)


def test_offline_lookups_of_every_domain_arrive_as_offline_rows(qtbot, make_window, store_path):
    domains = [f"shop{i}.test" for i in range(60)]
    case_id = _case_with_domains(store_path, domains)
    _use_settings(offline=True)
    window = make_window(store_path)
    workspace = window.open_case(case_id)
    job = window.look_up_all()
    assert job is not None
    assert workspace.views.currentIndex() == VIEW_LOOKUPS
    assert not window.act_lookup_all.isEnabled(), "one run at a time"
    panel = workspace.lookups
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert panel.model.rowCount() == 60
    assert {panel.model.status_of(d, "whois") for d in domains} == {"offline"}
    assert panel.model.index(0, 1).data() == "offline"
    assert "Finished: 60 of 60" in panel.rate.text()
    assert panel.progress.value() == 60 and panel.progress.maximum() == 60
    assert panel.mode.text().startswith("Offline mode")
    assert window.act_lookup_all.isEnabled()
    idle(qtbot, window)
    # Every lookup left a snapshot the timeline shows.
    workspace.timeline.kind.setCurrentIndex(workspace.timeline.kind.findText("Lookups"))
    assert workspace.timeline.model.rowCount() >= 60


@pytest.mark.peers
def test_a_running_lookup_can_be_cancelled_and_keeps_what_finished(qtbot, make_window, store_path):
    from tests.peers.whois_server import WhoisPeer

    domains = [f"shop{i}.test" for i in range(60)]
    case_id = _case_with_domains(store_path, domains)
    with WhoisPeer() as peer:
        for domain in domains:  # each answer takes 0.2 s: time to cancel
            peer.slow(domain, f"No match for {domain.upper()}.\r\n".encode(), 0.2)
        _use_settings(
            whois_server=str(peer.address),
            allow_private_addresses=True,
            per_server_interval_s=0.0,
            per_server_concurrency=4,
            concurrency=4,
            plan_rdap=False,
            plan_dns=False,
            plan_ip_rdap=False,
        )
        window = make_window(store_path)
        window.open_case(case_id)
        job = window.look_up_all()
        panel = window.current_workspace().lookups
        qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=20_000)
        assert panel.cancel_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    done = window.db.execute(
        "SELECT count(*) FROM lookup_run_items WHERE run_id = ? AND state = 'done'", [job.run_id]
    ).fetchone()[0]
    assert 0 < done < 60
    assert panel.model.status_of(domains[0], "whois") == "not_found"
    assert f"Cancelled: {done} of 60" in panel.rate.text()
    assert "resumed" in panel.rate.text()
    assert not panel.cancel_button.isEnabled() and panel.all_button.isEnabled()


@pytest.mark.peers
def test_live_lookups_against_loopback_servers_fill_the_case_while_the_window_answers(
    qtbot, make_window, store_path
):
    from tests.peers.scenario import ALLOFMP3_REGISTRAR_WHOIS, REGISTRAR_WHOIS, scenario_servers

    case_id = new_case_in(store_path, "Soundsbox")
    with scenario_servers() as servers:
        _use_settings(
            whois_server=str(servers.registry.address),
            whois_overrides=(
                f"{REGISTRAR_WHOIS}={servers.registrar.address}\n"
                f"{ALLOFMP3_REGISTRAR_WHOIS}={servers.registry.address}"
            ),
            rdap_base_url=servers.rdap.url,
            rdap_ip_base_url=servers.rdap.url,
            dns_server=str(servers.knot.server),
            timeout_s=5.0,
            dns_lifetime_s=2.0,
            per_server_interval_s=0.0,
            allow_private_addresses=True,
        )
        window = make_window(store_path)
        workspace = window.open_case(case_id)
        model = workspace.entities.model
        assert model.rowCount() == 0
        meter = StallMeter()
        started = time.perf_counter()
        job = window.look_up_domains(case_id, ["http://www.soundsbox.test/"])
        assert job is not None
        assert workspace.views.currentIndex() == VIEW_LOOKUPS
        # Back on the entities, the table fills by itself as results are stored.
        workspace.show_view(VIEW_ENTITIES)
        qtbot.waitUntil(lambda: model.rowCount() >= 8, timeout=30_000)
        qtbot.waitUntil(lambda: not job.running, timeout=30_000)
        longest = meter.stop()
        elapsed = time.perf_counter() - started
    panel = workspace.lookups
    assert panel.model.status_of("soundsbox.test", "whois") == "ok"
    assert panel.model.status_of("soundsbox.test", "dns") == "ok"
    assert panel.model.status_of("soundsbox.test", "rdap") == "ok"
    names = {model.entity(row).value for row in range(model.rowCount())}
    assert "Vienna Domains GmbH" in names
    assert "Pedro Kresker" in names
    assert "192.0.2.10" in names
    # The timer ran all along: no gap between its ticks, up to the end, was long (a quick
    # lookup on loopback may be over in a few ticks, so their number says little).
    assert meter.ticks >= 2, (meter.ticks, elapsed)
    assert longest < 0.25, f"the window stalled for {longest * 1000:.0f} ms"
