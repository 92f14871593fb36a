"""Exploring a case and the store from the window: the cross-case panel, the detail pane,
pivots, search, the evidence viewer, the link graph and the lazily filled tables.

Most tests open the scenario's demo store: AllofMP3 and Soundsbox, sharing ROMS."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel

from tests.ui.conftest import idle, new_case_in
from workbench.services import casework
from workbench.services.imports import import_recording
from workbench.store.database import open_store, writing
from workbench.store.entities import ensure_entity, find_entity
from workbench.store.links import ensure_link
from workbench.ui import options
from workbench.ui.explore import PivotDialog
from workbench.ui.panels import RelatedPanel
from workbench.ui.workspace import VIEW_GRAPH

HOSTILE = "<img src=x onerror=alert(1)><b>bold</b>"


def _entity_id(window, kind: str, value: str) -> int:
    entity = find_entity(window.db, kind, value)
    assert entity is not None, f"{kind} {value} is not in the store"
    return entity.id


def test_opening_soundsbox_shows_allofmp3_through_roms_without_asking(qtbot, demo_window):
    window = demo_window
    workspace = window.open_case(window.demo["Soundsbox"])
    related = workspace.related
    qtbot.waitUntil(lambda: related.tree.topLevelItemCount() > 0, timeout=5000)
    rows = related.shared_texts()
    assert ("AllofMP3", "ROMS", "Collecting society") in rows
    assert "AllofMP3" in related.summary.text()
    # Activating the other case opens it as a tab.
    top = related.tree.topLevelItem(0)
    related.tree.itemActivated.emit(top, 0)
    assert window.current_workspace().case_id == window.demo["AllofMP3"]


def test_the_detail_pane_shows_attributes_links_with_evidence_and_cases(qtbot, demo_window):
    window = demo_window
    workspace = window.open_case(window.demo["Soundsbox"])
    domain_id = _entity_id(window, "domain", "soundsbox.test")
    workspace.show_entity(domain_id)
    pane = workspace.detail
    qtbot.waitUntil(lambda: pane.title.text() == "soundsbox.test", timeout=5000)
    rows = pane.item_texts()
    assert ("registered via", "Vienna Domains GmbH") in rows
    evidence_rows = [text for label, text in rows if label == "evidence"]
    assert any(" whois " in text and "…" in text for text in evidence_rows)
    assert any(label == "open" and text == "Soundsbox" for label, text in rows)
    assert pane.lookup_button.isEnabled()
    assert pane.title.textFormat() == Qt.TextFormat.PlainText


def test_a_redacted_registrant_field_is_shown_as_redacted(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Redacted")
    text = (
        b"Domain Name: HIDDEN.TEST\r\nRegistrar: Example Registrar LLC\r\n"
        b"Registrant Name: REDACTED FOR PRIVACY\r\nRegistrant Email: Please query the RDDS\r\n"
        b"Name Server: NS1.HIDDEN.TEST\r\n"
    )
    db = open_store(store_path)
    try:
        import_recording(
            db,
            case_id=case_id,
            kind="whois",
            subject="hidden.test",
            raws=[text],
            captured_at=datetime(2026, 1, 5, tzinfo=UTC),
            source="whois.example.test",
        )
    finally:
        db.close()
    workspace = window.open_case(case_id)
    workspace.show_entity(_entity_id(window, "domain", "hidden.test"))
    qtbot.waitUntil(lambda: workspace.detail.title.text() == "hidden.test", timeout=5000)
    rows = workspace.detail.item_texts()
    reports = [(f, t) for f, t in rows if f.startswith("WHOIS") and t.startswith("[REDACTED]")]
    assert len(reports) == 1, rows
    fields = [f for f, t in rows if t == "[REDACTED]"]
    assert fields and all(f in reports[0][1] for f in fields)
    assert not any(t == "REDACTED FOR PRIVACY" for _, t in rows)


def test_pivot_on_roms_lists_both_storefronts_and_both_cases(qtbot, demo_window):
    window = demo_window
    window.open_case(window.demo["Soundsbox"])
    dialog = window.pivot(_entity_id(window, "collecting_society", "ROMS"))
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    texts = dialog.texts()
    assert ("Cases (2)", "") in texts
    assert ("AllofMP3", "closed") in texts and ("Soundsbox", "open") in texts
    linked = [name for name, how in texts if how.startswith("← claims licence from")]
    assert set(linked) >= {"AllofMP3", "Soundsbox"}
    dialog.close()


def _hub(store_path, domains: int) -> tuple[int, list[int]]:
    """A case where one nameserver serves `domains` domains: (the case, the domain ids in
    the order the store pages them: by id)."""
    case_id = new_case_in(store_path, "Hub")
    db = open_store(store_path)
    try:
        with writing(db):
            hub = ensure_entity(db, "nameserver", "ns1.hub.test", case_id=case_id)
            ids = []
            for number in range(domains):
                domain = ensure_entity(db, "domain", f"site{number:02}.test", case_id=case_id)
                ensure_link(db, domain.id, "uses_nameserver", hub.id, case_id=case_id)
                ids.append(domain.id)
    finally:
        db.close()
    return case_id, sorted(ids)


def test_pivot_on_a_hub_shows_a_first_page_and_more_on_demand(
    qtbot, window, store_path, monkeypatch
):
    monkeypatch.setattr(PivotDialog, "PAGE", 3)  # what a hub of thousands is to 200
    case_id, domain_ids = _hub(store_path, 7)
    window.open_case(case_id)
    dialog = window.pivot(_entity_id(window, "nameserver", "ns1.hub.test"))
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    assert dialog.summary.text().startswith("Linked to 7 entities, in 1 case")
    texts = dialog.texts()
    assert ("Linked entities (7)", "") in texts
    linked = [name for name, how in texts if how == "← uses nameserver"]
    assert linked[:3] == ["site00.test", "site01.test", "site02.test"]
    assert linked[3:] == ["more… (4 more of 7)"]  # the group's last row; nothing more read
    (more,) = dialog.more_rows()
    # Activating "more…" reads the next page and shows it above the row.
    dialog.tree.setCurrentItem(more)
    dialog.tree.itemActivated.emit(more, 0)
    qtbot.waitUntil(lambda: more.text(0) == "more… (1 more of 7)", timeout=5000)
    dialog.tree.itemActivated.emit(more, 0)
    qtbot.waitUntil(lambda: not dialog.more_rows(), timeout=5000)
    linked = [name for name, how in dialog.texts() if how == "← uses nameserver"]
    assert linked == [f"site{number:02}.test" for number in range(7)]
    # Each read row opens its entity.
    opened = []
    dialog.open_entity.connect(opened.append)
    last = dialog.linked_section.child(6)
    dialog.tree.itemActivated.emit(last, 0)
    assert opened == [domain_ids[6]]
    dialog.close()


def test_the_related_panel_counts_every_case_it_does_not_list(
    qtbot, window, store_path, monkeypatch
):
    monkeypatch.setattr(RelatedPanel, "LIMIT", 2)
    monkeypatch.setattr(RelatedPanel, "ITEMS", 1)
    cases = [new_case_in(store_path, title) for title in ("Mine", "Twice", "Once A", "Once B")]
    db = open_store(store_path)
    try:
        with writing(db):
            for case_id in cases:
                ensure_entity(db, "collecting_society", "Shared Society", case_id=case_id)
            for case_id in cases[:2]:
                ensure_entity(db, "email", "both@example.test", case_id=case_id)
    finally:
        db.close()
    related = window.open_case(cases[0]).related
    qtbot.waitUntil(lambda: related.tree.topLevelItemCount() > 0, timeout=5000)
    assert related.summary.text().startswith("Shares entities with 3 other cases: Twice")
    tops = [related.tree.topLevelItem(i) for i in range(related.tree.topLevelItemCount())]
    assert [(top.text(0), top.text(1)) for top in tops] == [
        ("Twice", "2 shared"),
        ("Once A", "1 shared"),  # ties with "Once B": the older case first
        ("… and 1 more case (not listed)", ""),
    ]
    # "Twice" lists its rarest shared thing and counts the other.
    assert [tops[0].child(i).text(0) for i in range(tops[0].childCount())] == [
        "both@example.test",
        "… and 1 more shared (not listed)",
    ]


def test_search_groups_results_by_kind_and_opens_what_is_chosen(qtbot, demo_window):
    window = demo_window
    dialog = window.search("ROMS")
    qtbot.waitUntil(lambda: bool(dialog.results), timeout=5000)
    groups = dialog.group_texts()
    assert any(g.startswith("Entities (") for g in groups)
    entity_group = dialog.tree.topLevelItem(0)
    kinds = [entity_group.child(i).text(0) for i in range(entity_group.childCount())]
    assert any(k.startswith("Collecting societies (") for k in kinds)
    society = next(
        entity_group.child(i)
        for i in range(entity_group.childCount())
        if entity_group.child(i).text(0).startswith("Collecting societies")
    )
    dialog.tree.itemActivated.emit(society.child(0), 0)
    workspace = window.current_workspace()
    assert workspace is not None
    qtbot.waitUntil(lambda: workspace.detail.title.text() == "ROMS", timeout=5000)


def test_search_opens_evidence_and_events(qtbot, demo_window):
    window = demo_window
    dialog = window.search("Kresker")
    qtbot.waitUntil(lambda: bool(dialog.results), timeout=5000)
    evidence = next(r for r in dialog.results if r["type"] == "evidence")
    dialog.open_evidence.emit(evidence["id"])
    assert window.open_viewers and window.open_viewers[-1].evidence_id == evidence["id"]
    events = window.search("Visa")
    qtbot.waitUntil(lambda: bool(events.results), timeout=5000)
    event = next(r for r in events.results if r["type"] == "event")
    events.open_event.emit(event["id"])
    workspace = window.current_workspace()
    table = workspace.timeline.table
    assert (
        table.selectionModel().selectedRows()[0].data(Qt.ItemDataRole.UserRole + 1) == event["id"]
    )


def test_the_evidence_viewer_shows_raw_text_hash_and_verifies(qtbot, demo_window):
    window = demo_window
    row = window.db.execute(
        "SELECT id, sha256, content FROM evidence WHERE kind = 'whois' ORDER BY id LIMIT 1"
    ).fetchone()
    viewer = window.open_evidence(row[0])
    assert viewer.fields["sha256"].text() == row[1]
    assert viewer.raw.toPlainText().startswith(row[2].decode("utf-8", "replace")[:200])
    assert viewer.raw.isReadOnly()
    assert viewer.raw.font().fixedPitch() or viewer.raw.font().styleHint() != 0
    viewer.verify_button.click()
    qtbot.waitUntil(lambda: viewer.verify_result.text().startswith("Verified"), timeout=5000)
    viewer.close()


def test_two_lookups_of_a_domain_show_a_readable_difference(qtbot, window, store_path):
    case_id = new_case_in(store_path, "History")
    db = open_store(store_path)
    before = "Domain Name: MOVED.TEST\r\nRegistrar: First Registrar\r\nName Server: NS1.A.TEST\r\n"
    after = "Domain Name: MOVED.TEST\r\nRegistrar: Second Registrar\r\nName Server: NS1.A.TEST\r\n"
    try:
        for day, text in ((1, before), (20, after)):
            recorded = import_recording(
                db,
                case_id=case_id,
                kind="whois",
                subject="moved.test",
                raws=[text.encode()],
                captured_at=datetime(2026, 3, day, tzinfo=UTC),
                source="whois.example.test",
            )
    finally:
        db.close()
    viewer = window.open_evidence(recorded.evidence_ids[0])
    history = viewer.history
    assert history is not None and history.before.count() == 2
    diff = history.diff.toPlainText()
    assert "-Registrar: First Registrar" in diff
    assert "+Registrar: Second Registrar" in diff
    assert " Name Server: NS1.A.TEST" in diff
    # The change also became a timeline event.
    workspace = window.open_case(case_id)
    texts = [
        workspace.timeline.model.row_data(r)["text"]
        for r in range(workspace.timeline.model.rowCount())
    ]
    assert any("changed since the last lookup" in t for t in texts)


def test_html_from_the_network_is_shown_literally_everywhere(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Hostile")
    db = open_store(store_path)
    try:
        entity = casework.add_entity(db, case_id, "organisation", HOSTILE, {"note": HOSTILE})
        casework.add_evidence_bytes(db, case_id, "page_capture", HOSTILE.encode(), source=HOSTILE)
    finally:
        db.close()
    workspace = window.open_case(case_id)
    workspace.show_entity(entity.id)
    pane = workspace.detail
    qtbot.waitUntil(lambda: pane.title.text() == HOSTILE, timeout=5000)
    assert pane.title.textFormat() == Qt.TextFormat.PlainText
    assert ("note", HOSTILE) in pane.item_texts()
    assert workspace.entities.model.index(0, 0).data() == HOSTILE
    evidence_id = window.db.execute("SELECT id FROM evidence").fetchone()[0]
    viewer = window.open_evidence(evidence_id)
    assert viewer.raw.toPlainText() == HOSTILE
    assert viewer.fields["server"].text() == HOSTILE
    assert viewer.fields["server"].textFormat() == Qt.TextFormat.PlainText
    workspace.show_view(VIEW_GRAPH)
    qtbot.waitUntil(lambda: workspace.graph.is_loaded, timeout=5000)
    node = workspace.graph.scene.nodes[entity.id]
    assert node.value == HOSTILE and HOSTILE not in node.toolTip()
    # Every label anywhere in the window or its dialogs that holds the text is plain.
    for top in (window, viewer):
        for label in top.findChildren(QLabel):
            if "onerror" in label.text():
                assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()


def test_the_graph_shows_the_case_selects_expands_and_exports(qtbot, demo_window, tmp_path):
    window = demo_window
    workspace = window.open_case(window.demo["Soundsbox"])
    workspace.show_view(VIEW_GRAPH)
    graph = workspace.graph
    qtbot.waitUntil(lambda: graph.is_loaded, timeout=10_000)
    case_count = window.db.execute(
        "SELECT count(*) FROM case_entities WHERE case_id = ?", [window.demo["Soundsbox"]]
    ).fetchone()[0]
    assert len(graph.scene.nodes) == case_count
    roms = _entity_id(window, "collecting_society", "ROMS")
    assert graph.scene.nodes[roms].shared, "ROMS is also in AllofMP3"
    assert graph.select_entity(roms)
    qtbot.waitUntil(lambda: workspace.detail.title.text() == "ROMS", timeout=5000)
    # Expanding ROMS brings in the AllofMP3 storefront from the other case.
    graph.expand(roms)
    allofmp3 = _entity_id(window, "storefront", "AllofMP3")
    qtbot.waitUntil(lambda: allofmp3 in graph.scene.nodes, timeout=5000)
    assert not graph.scene.nodes[allofmp3].in_case
    # Zoom.
    level = graph.view.zoom_level()
    graph.view.zoom(2.0)
    assert abs(graph.view.zoom_level() - level * 2.0) < 1e-6
    png = graph.export_png(tmp_path / "graph.png")
    svg = graph.export_svg(tmp_path / "graph.svg")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 5000
    text = svg.read_text()
    assert "<svg" in text and "</svg>" in text


def test_a_dragged_node_keeps_its_place_when_the_case_is_opened_again(
    qtbot, demo_window, make_window, store_path
):
    window = demo_window
    case_id = window.demo["Soundsbox"]
    workspace = window.open_case(case_id)
    workspace.show_view(VIEW_GRAPH)
    qtbot.waitUntil(lambda: workspace.graph.is_loaded, timeout=10_000)
    roms = _entity_id(window, "collecting_society", "ROMS")
    workspace.graph.scene.nodes[roms].setPos(QPointF(4321.0, -1234.0))
    workspace.graph.save_layout()
    assert options.load_graph_layout(store_path, case_id)[roms] == (4321.0, -1234.0)
    window.close()
    again = make_window(store_path)
    reopened = again.open_case(case_id)
    reopened.show_view(VIEW_GRAPH)
    qtbot.waitUntil(lambda: reopened.graph.is_loaded, timeout=10_000)
    position = reopened.graph.scene.nodes[roms].pos()
    assert (position.x(), position.y()) == (4321.0, -1234.0)


def test_the_graph_works_from_the_keyboard(qtbot, demo_window):
    """Every node can be reached, shown and expanded without a mouse."""
    window = demo_window
    workspace = window.open_case(window.demo["Soundsbox"])
    workspace.show_view(VIEW_GRAPH)
    graph = workspace.graph
    qtbot.waitUntil(lambda: graph.is_loaded, timeout=10_000)
    view, scene = graph.view, graph.scene
    view.setFocus()
    # Tab walks the nodes one by one and shows each one's details.
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    first = scene.selected_entity_ids()
    assert len(first) == 1
    name = scene.nodes[first[0]].value
    qtbot.waitUntil(lambda: workspace.detail.title.text() == name, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    second = scene.selected_entity_ids()
    assert len(second) == 1 and second != first
    qtbot.keyClick(view, Qt.Key.Key_Backtab)
    assert scene.selected_entity_ids() == first
    # Every node is reached by Tab, and past the last one focus leaves the graph.
    seen = set(first)
    for _ in range(len(scene.nodes) - 1):
        qtbot.keyClick(view, Qt.Key.Key_Tab)
        seen.update(scene.selected_entity_ids())
    assert seen == set(scene.nodes)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()
    # An arrow key moves to a node in that direction.
    view.setFocus()
    roms = _entity_id(window, "collecting_society", "ROMS")
    assert graph.select_entity(roms)
    start = scene.nodes[roms].pos()
    moved = False
    for key, ahead in (
        (Qt.Key.Key_Right, lambda p: p.x() > start.x()),
        (Qt.Key.Key_Left, lambda p: p.x() < start.x()),
        (Qt.Key.Key_Down, lambda p: p.y() > start.y()),
        (Qt.Key.Key_Up, lambda p: p.y() < start.y()),
    ):
        assert graph.select_entity(roms)
        qtbot.keyClick(view, key)
        (now,) = scene.selected_entity_ids()
        if now != roms:
            assert ahead(scene.nodes[now].pos())
            moved = True
    assert moved
    # Enter shows the current node's details; E expands it (ROMS brings in AllofMP3).
    assert graph.select_entity(roms)
    workspace.detail.show_entity_id(first[0])
    qtbot.waitUntil(lambda: workspace.detail.title.text() == name, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: workspace.detail.title.text() == "ROMS", timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_E)
    allofmp3 = _entity_id(window, "storefront", "AllofMP3")
    qtbot.waitUntil(lambda: allofmp3 in scene.nodes, timeout=5000)


def _large_case(window, store_path, count: int = 1000) -> int:
    case_id = new_case_in(store_path, "Large")
    db = open_store(store_path)
    try:
        with writing(db):
            for number in range(1, count + 1):
                ensure_entity(db, "email", f"user{number}@example.test", case_id=case_id)
    finally:
        db.close()
    return case_id


def _click_header(qtbot, table, column: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def _first_rows(panel, count: int) -> list[str]:
    return [panel.model.index(row, 0).data() for row in range(count)]


def test_a_large_case_shows_every_row_but_holds_only_what_was_looked_at(qtbot, window, store_path):
    case_id = _large_case(window, store_path)
    workspace = window.open_case(case_id)
    panel = workspace.entities
    model = panel.model
    assert model.total == 1000 and model.rowCount() == 1000
    assert panel.count.text() == "1,000 entities"
    # Scrolling to the bottom shows the last entity without reading the rows between;
    # a jump this deep is read off the main thread (the threshold lowered to this table).
    model.ASYNC_FROM = 500
    panel.table.scrollToBottom()
    corner = panel.table.viewport().rect().bottomLeft() + QPoint(5, -5)
    qtbot.waitUntil(
        lambda: panel.table.indexAt(corner).data() == "user1000@example.test", timeout=5000
    )
    assert model.held < 1000 and not model.waiting
    # Picking the kind shows its count.
    panel.select_kind("email")
    assert panel.kinds.currentItem().text() == "Emails (1000)"


def test_sorting_a_large_table_sorts_every_row_not_just_the_loaded_ones(qtbot, window, store_path):
    case_id = _large_case(window, store_path)
    panel = window.open_case(case_id).entities
    _click_header(qtbot, panel.table, 0)  # Name, A to Z
    assert panel.table.horizontalHeader().sortIndicatorSection() == 0
    assert _first_rows(panel, 3) == [
        "user1000@example.test",  # "user10" + "0" sorts before "user10" + "@"
        "user100@example.test",
        "user101@example.test",
    ]
    _click_header(qtbot, panel.table, 0)  # Z to A: over all 1,000 rows, not a first page
    assert _first_rows(panel, 3) == [
        "user9@example.test",  # "@" sorts after the digits
        "user99@example.test",
        "user999@example.test",  # the 999th entity added: far beyond a first page
    ]
    # Far down the sorted table, rows come in the same order (keyset pages join up).
    names = [panel.model.index(row, 0).data() for row in range(0, 1000)]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert len(set(names)) == 1000
    # In a large table a sorted page is read on the reader thread: "…" until it comes.
    panel.model.ASYNC_FROM = 100  # this table counts as large
    panel.model.reset()
    assert panel.model.index(0, 0).data() == "…"
    qtbot.waitUntil(lambda: panel.model.index(0, 0).data() == "user9@example.test", timeout=5000)
    panel.model.ASYNC_FROM = 20_000
    # Read from the bottom up (each page found from the one below it), the same rows.
    panel.model.reset()
    upwards = [panel.model.index(row, 0).data() for row in range(999, -1, -1)]
    assert upwards == names[::-1]
    # Selecting an entity finds its row in the sorted table; in a large table the store
    # is asked off the main thread and the row is selected when the answer comes.
    target = _entity_id(window, "email", "user5@example.test")
    assert panel.select_entity(target)
    assert panel.table.currentIndex().data() == "user5@example.test"
    panel.model.ASYNC_FROM = 100  # this table counts as large
    other = _entity_id(window, "email", "user500@example.test")
    assert panel.select_entity(other)
    qtbot.waitUntil(
        lambda: panel.table.currentIndex().data() == "user500@example.test", timeout=5000
    )
    panel.model.ASYNC_FROM = 20_000


def test_filtering_the_entity_table_searches_every_row(qtbot, window, store_path):
    case_id = _large_case(window, store_path)
    panel = window.open_case(case_id).entities
    panel.model.ASYNC_FROM = 500  # this table counts as large: matches counted off the main thread
    qtbot.keyClicks(panel.filter, "USER77")
    qtbot.waitUntil(lambda: panel.model.total == 11, timeout=5000)  # 77, 770 to 779
    assert panel.count.text() == "11 entities match"
    shown = {panel.model.index(row, 0).data() for row in range(panel.model.rowCount())}
    assert "user779@example.test" in shown and "user78@example.test" not in shown
    # "%" and "_" are taken as typed, not as SQL wildcards.
    panel.filter.setText("user_1")
    qtbot.waitUntil(lambda: panel.model.total == 0, timeout=5000)
    panel.filter.clear()
    qtbot.waitUntil(lambda: panel.model.total == 1000, timeout=5000)


def test_look_up_from_the_detail_pane_and_pivot_from_the_menu_use_the_selection(qtbot, demo_window):
    window = demo_window
    workspace = window.open_case(window.demo["Soundsbox"])
    roms = _entity_id(window, "collecting_society", "ROMS")
    assert workspace.entities.select_entity(roms)
    assert window.selected_entity_ids() == [roms]
    dialog = window.pivot_selected()
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    assert dialog.data["entity"]["id"] == roms
    dialog.close()
    idle(qtbot, window)


def test_a_sealed_bundle_opens_read_only_with_every_change_disabled(qtbot, demo_window, tmp_path):
    from workbench.export.bundle import export_bundle

    window = demo_window
    bundle = tmp_path / "soundsbox.wbbundle"
    db = open_store(window.store_path)
    try:
        export_bundle(db, window.demo["Soundsbox"], bundle)
    finally:
        db.close()
    assert window.act_open_bundle.isEnabled()
    window.open_bundle_file(bundle)
    qtbot.waitUntil(
        lambda: window.read_only and window.current_workspace() is not None, timeout=30_000
    )
    workspace = window.current_workspace()
    assert workspace.title.text() == "Soundsbox"
    assert "read-only" in window.windowTitle()
    assert workspace.entities.model.total > 10
    for action in window.write_actions():
        assert not action.isEnabled(), action.text()
    assert not workspace.lookups.all_button.isEnabled()
    assert window.look_up_domains(workspace.case_id, ["soundsbox.test"]) is None
    assert not window.push_case_edit(workspace.case_id, "rename", {"title": "a"}, {"title": "b"})


def test_the_case_file_is_exported_as_pdf_from_the_window(qtbot, demo_window, tmp_path):
    window = demo_window
    window.open_case(window.demo["Soundsbox"])
    if window.export_pdf is None:
        assert not window.act_export_pdf.isEnabled()
        return
    assert window.act_export_pdf.isEnabled()
    target = tmp_path / "soundsbox.pdf"
    window.start_pdf_export(window.demo["Soundsbox"], target)
    qtbot.waitUntil(
        lambda: "Case file written" in window.statusBar().currentMessage(), timeout=60_000
    )
    assert target.read_bytes().startswith(b"%PDF")


def test_a_window_opened_read_only_offers_no_change(qtbot, make_window, demo_store, store_path):
    from workbench.ui.main_window import MainWindow

    db = open_store(store_path, read_only=True)
    window = MainWindow(db, store_path, read_only=True)
    qtbot.addWidget(window)
    try:
        assert "read-only" in window.windowTitle()
        assert all(not action.isEnabled() for action in window.write_actions())
        workspace = window.open_case(demo_store["Soundsbox"])
        assert not workspace.timeline.add_button.isEnabled()
        assert workspace.entities.model.total > 10
    finally:
        window.shutdown()
        db.close()


def test_lists_open_what_is_selected_with_the_keyboard(qtbot, demo_window):
    from workbench.ui.workspace import VIEW_EVIDENCE

    window = demo_window
    cases = window.cases_page.view
    cases.setFocus()
    cases.selectRow(0)
    qtbot.keyClick(cases, Qt.Key.Key_Return)
    workspace = window.current_workspace()
    assert workspace is not None
    workspace.show_view(VIEW_EVIDENCE)
    table = workspace.evidence.table
    qtbot.waitUntil(lambda: table.model().rowCount() > 0, timeout=5000)
    table.setFocus()
    table.selectRow(0)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert window.open_viewers, "Enter on an evidence row opens the viewer"
    window.open_viewers[-1].close()
