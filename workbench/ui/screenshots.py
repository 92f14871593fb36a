"""Render the main views of a store to PNG files, offscreen (for the README and reviews).

    python -m workbench.ui.screenshots OUTDIR [--store PATH] [--theme light|dark]

Without --store, a temporary store is filled with the demo cases (AllofMP3 and Soundsbox,
built through the real pipeline by `workbench.services.demo`). The lookups view runs
only on that temporary store: against the loopback test peers when run from a source
checkout with Knot installed, else in offline mode. A store given with --store is shown,
not changed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _wait(app, condition, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    _pump(app, 0.2)


@contextlib.contextmanager
def _lookup_servers():
    """Option values pointing lookups at the loopback test peers when run from a source
    checkout with Knot installed (real answers, nothing leaves the machine); otherwise
    offline mode."""
    try:
        from tests.peers.knot import knot_binaries
        from tests.peers.scenario import ALLOFMP3_REGISTRAR_WHOIS, REGISTRAR_WHOIS, scenario_servers
    except ImportError:
        knot_binaries = None
    if knot_binaries is None or knot_binaries() is None:
        yield {"lookups/offline": True}
        return
    with scenario_servers() as servers:
        yield {
            "lookups/whois_server": str(servers.registry.address),
            "lookups/whois_overrides": f"{REGISTRAR_WHOIS}={servers.registrar.address}\n"
            f"{ALLOFMP3_REGISTRAR_WHOIS}={servers.registry.address}",
            "lookups/rdap_base_url": servers.rdap.url,
            "lookups/dns_server": str(servers.knot.server),
            "lookups/per_server_interval_s": 0.0,
            "lookups/allow_private_addresses": True,
        }


def render(outdir: Path, store: Path | None = None, theme: str = "light") -> list[Path]:
    """Write the screenshots into `outdir`; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["WORKBENCH_THEME"] = theme
    from PySide6.QtCore import QSettings

    scratch = Path(tempfile.mkdtemp(prefix="workbench-shots-"))
    # Screenshots must not read or change the user's settings (window size, graph layouts).
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))

    from workbench.services.demo import build_demo
    from workbench.store.database import open_store
    from workbench.store.entities import find_entity
    from workbench.ui import options
    from workbench.ui.app import make_application
    from workbench.ui.main_window import MainWindow
    from workbench.ui.workspace import VIEW_EVIDENCE, VIEW_GRAPH, VIEW_LOOKUPS, VIEW_TIMELINE

    demo = store is None
    store = store or scratch / "demo.sqlite"
    db = open_store(store)
    if demo:
        build_demo(db)
    cases = {row[1]: row[0] for row in db.execute("SELECT id, title FROM cases ORDER BY id")}
    focus = cases.get("Soundsbox") or (next(iter(cases.values())) if cases else None)
    app = make_application()
    window = MainWindow(db, store)
    window.resize(1440, 900)
    window.show()
    if demo:
        window.show_demo_welcome()  # what a new user's first window says
    outdir.mkdir(parents=True, exist_ok=True)
    suffix = "" if theme == "light" else f"-{theme}"
    written: list[Path] = []

    def shot(widget, name: str) -> None:
        path = outdir / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        written.append(path)

    _pump(app, 0.3)
    window.cases_page.view.selectRow(0)
    shot(window, "cases")
    if focus is None:
        window.shutdown()
        return written
    workspace = window.open_case(focus)
    _wait(app, lambda: workspace.related.tree.topLevelItemCount() > 0, 5)
    society = find_entity(db, "collecting_society", "ROMS")
    target = society.id if society else workspace.entities.model.entity(0).id
    workspace.entities.select_entity(target)
    _wait(app, lambda: workspace.detail.entity is not None)
    shot(window, "case")

    domain = db.execute(
        "SELECT e.id FROM case_entities ce JOIN entities e ON e.id = ce.entity_id "
        "WHERE ce.case_id = ? AND e.kind = 'domain' LIMIT 1",
        [focus],
    ).fetchone()
    workspace.show_view(VIEW_GRAPH)
    _wait(app, lambda: workspace.graph.is_loaded)
    if domain:
        workspace.graph.select_entity(domain[0])
        _wait(app, lambda: workspace.detail.entity_id == domain[0])
        workspace.graph.view.fit_all()
    _pump(app, 0.5)
    shot(window, "graph")

    workspace.show_view(VIEW_TIMELINE)
    _pump(app, 0.3)
    shot(window, "timeline")

    workspace.show_view(VIEW_EVIDENCE)
    _wait(app, lambda: workspace.evidence.model.rowCount() > 0, 5)
    shot(window, "evidence-list")
    row = db.execute(
        "SELECT ce.evidence_id FROM case_evidence ce JOIN evidence e ON e.id = ce.evidence_id "
        "WHERE ce.case_id = ? AND e.kind = 'whois' ORDER BY e.id LIMIT 1",
        [focus],
    ).fetchone()
    if row:
        viewer = window.open_evidence(row[0])
        viewer.resize(980, 720)
        viewer.verify()
        _wait(app, lambda: viewer.verify_result.text().startswith(("Verified", "NOT")))
        shot(viewer, "evidence-viewer")
        if viewer.history is not None and viewer.history.before.count() > 1:
            viewer.tabs.setCurrentIndex(1)
            _pump(app, 0.2)
            shot(viewer, "evidence-history")
        viewer.close()

    if society:
        pivot = window.pivot(society.id)
        pivot.resize(760, 560)
        _wait(app, lambda: pivot.data is not None)
        shot(pivot, "pivot")
        pivot.close()

    search = window.search("Kresker")
    search.resize(820, 520)
    _wait(app, lambda: bool(search.results))
    shot(search, "search")
    search.close()

    form = window.record_storefront()
    form.resize(760, 820)
    form.name.setText("Soundsbox mirror")
    form.urls.setPlainText("http://mirror.soundsbox.test/")
    form.licence_claim.setPlainText(
        "authorized by the license # 49/ZM-07 of the Russian Multimedia and Internet Society (ROMS)"
    )
    form.prices.item(0, 0).setText("0.14")
    form.catalogue_size.setText("about five million")
    form.submit()
    _wait(app, lambda: form.errors.label("catalogue_size").isVisible(), 5)
    shot(form, "storefront-form")
    form.reject()

    if demo:
        with _lookup_servers() as values:
            stored = options.read_options()
            stored.update(values)
            options.write_options(stored)
            job = window.look_up_all()
            if job is not None:
                _wait(app, lambda: not job.running, 30)
                _pump(app, 0.6)
                workspace.show_view(VIEW_LOOKUPS)
                shot(window, "lookups")
    window.shutdown()
    db.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.ui.screenshots", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--store", type=Path, help="a store to show (default: the demo cases)")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    args = parser.parse_args(argv)
    themes = ("light", "dark") if args.theme == "both" else (args.theme,)
    for theme in themes:
        for path in render(args.outdir, args.store, theme):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
