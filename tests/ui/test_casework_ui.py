"""Cases, the storefront form, events and the timeline, undo, settings: driven through the
real main window as an investigator would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QLabel

from tests.conftest import dump_tables
from tests.ui.conftest import idle, new_case_in
from workbench import __version__
from workbench.store.cases import get_case
from workbench.store.entities import case_entities
from workbench.ui import options
from workbench.ui.main_window import BUNDLE_PENDING
from workbench.ui.workspace import VIEW_TIMELINE


def test_a_new_case_is_created_from_the_dialog_and_opens_as_a_tab(qtbot, window):
    dialog = window.new_case()
    qtbot.keyClicks(dialog.title, "Soundsbox")
    qtbot.keyClicks(dialog.investigator, "IFPI anti-piracy unit")
    dialog.submit()
    qtbot.waitUntil(lambda: window.current_workspace() is not None, timeout=5000)
    workspace = window.current_workspace()
    assert workspace.title.text() == "Soundsbox"
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Soundsbox"
    assert window.cases_page.model.rowCount() == 1
    assert window.cases_page.model.case_row(0)["investigator"] == "IFPI anti-piracy unit"


def test_a_case_title_with_an_ampersand_shows_as_typed_on_its_tab(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Sounds & Box")
    window.cases_page.refresh()
    window.open_case(case_id)
    tab = window.tabs.tabBar()
    assert tab.tabText(window.tabs.currentIndex()) == "Sounds && Box"  # shown as "Sounds & Box"


def test_an_empty_case_title_is_refused_under_the_field(qtbot, window, store_path):
    dialog = window.new_case()
    dialog.submit()
    error = dialog.errors.label("title")
    qtbot.waitUntil(error.isVisible, timeout=5000)
    assert "empty" in error.text()
    assert window.db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def _open_storefront_form(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    window.cases_page.refresh()
    window.open_case(case_id)
    return case_id, window.record_storefront()


def test_the_storefront_form_records_the_store_its_licence_claim_and_prices(
    qtbot, window, store_path
):
    case_id, form = _open_storefront_form(qtbot, window, store_path)
    qtbot.keyClicks(form.name, "Soundsbox")
    form.urls.setPlainText("http://www.soundsbox.test/")
    form.licence_claim.setPlainText(
        "authorized by the license # 49/ZM-07 of the Russian Multimedia and Internet Society (ROMS)"
    )
    form.prices.item(0, 0).setText("0.14")
    form.add_price_row("1.76", "USD", "album")
    qtbot.keyClicks(form.catalogue_size, "5,000,000")
    qtbot.keyClicks(form.languages, "English, Russian")
    form.submit()
    workspace = window.current_workspace()
    qtbot.waitUntil(lambda: workspace.entities.model.rowCount() >= 5, timeout=5000)
    names = {
        workspace.entities.model.entity(row).value
        for row in range(workspace.entities.model.rowCount())
    }
    assert {"Soundsbox", "ROMS", "soundsbox.test"} <= names
    assert any(name.startswith("49/ZM-07") for name in names)
    stored = {e.value: e for e in case_entities(window.db, case_id)}
    assert stored["Soundsbox"].attrs["catalogue_size"] == 5_000_000
    assert stored["Soundsbox"].attrs["prices"] == [
        {"amount": "0.14", "currency": "USD", "unit": "track"},
        {"amount": "1.76", "currency": "USD", "unit": "album"},
    ]
    assert not form.isVisible()


def test_a_bad_catalogue_size_is_shown_under_its_field_and_nothing_is_stored(
    qtbot, window, store_path
):
    _case_id, form = _open_storefront_form(qtbot, window, store_path)
    idle(qtbot, window)
    before = dump_tables(store_path)
    qtbot.keyClicks(form.name, "Soundsbox")
    form.urls.setPlainText("http://www.soundsbox.test/")
    qtbot.keyClicks(form.catalogue_size, "lots of tracks")
    form.submit()
    error = form.errors.label("catalogue_size")
    qtbot.waitUntil(error.isVisible, timeout=5000)
    idle(qtbot, window)
    assert "whole number" in error.text()
    assert error.textFormat() == Qt.TextFormat.PlainText
    assert form.isVisible(), "the form stays open so the value can be fixed"
    assert dump_tables(store_path) == before


def test_a_bad_url_and_a_bad_price_are_each_shown_under_their_own_field(qtbot, window, store_path):
    _case_id, form = _open_storefront_form(qtbot, window, store_path)
    qtbot.keyClicks(form.name, "Soundsbox")
    form.prices.item(0, 0).setText("0.14")
    form.prices.item(0, 1).setText("dollars")
    form.submit()
    assert form.errors.label("prices").isVisible()
    assert "ISO 4217" in form.errors.label("prices").text()
    form.prices.item(0, 1).setText("USD")
    form.urls.setPlainText("ftp://soundsbox.test/")
    form.submit()
    qtbot.waitUntil(form.errors.label("urls").isVisible, timeout=5000)
    assert not form.errors.label("prices").isVisible()
    assert "http" in form.errors.label("urls").text()
    idle(qtbot, window)
    assert window.db.execute("SELECT count(*) FROM entities").fetchone()[0] == 0


def test_attached_files_are_hashed_as_evidence_with_the_storefront(
    qtbot, window, store_path, tmp_path
):
    capture = tmp_path / "soundsbox.html"
    capture.write_text("<html><body>Direct from Red Square</body></html>")
    _case_id, form = _open_storefront_form(qtbot, window, store_path)
    qtbot.keyClicks(form.name, "Soundsbox")
    form.add_attachment(capture, "page_capture")
    form.submit()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=5000)
    row = window.db.execute("SELECT kind, filename, sha256 FROM evidence").fetchone()
    assert row[0] == "page_capture" and row[1] == "soundsbox.html"
    import hashlib

    assert row[2] == hashlib.sha256(capture.read_bytes()).hexdigest()


def test_a_notice_with_a_passed_deadline_is_highlighted_as_overdue(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    window.cases_page.refresh()
    workspace = window.open_case(case_id)
    workspace.show_view(VIEW_TIMELINE)
    dialog = window.add_event()
    dialog.kind.setCurrentIndex(dialog.kind.findData("notice_sent"))
    dialog.text.setPlainText("IFPI wrote to Visa and MasterCard")
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    dialog.at.setDateTime(QDateTime(ten_days_ago))
    dialog.has_deadline.setChecked(True)
    dialog.deadline.setDateTime(QDateTime(ten_days_ago + timedelta(days=7)))
    dialog.submit()
    qtbot.waitUntil(lambda: workspace.timeline.model.rowCount() == 1, timeout=5000)
    model = workspace.timeline.model
    assert model.row_data(0)["overdue"]
    assert "OVERDUE" in model.index(0, 3).data()
    assert model.index(0, 2).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert workspace.timeline.overdue.text() == "1 deadline overdue"
    # The kind filter: lookups only hides the notice.
    workspace.timeline.kind.setCurrentIndex(workspace.timeline.kind.findText("Lookups"))
    assert model.rowCount() == 0
    workspace.timeline.kind.setCurrentIndex(workspace.timeline.kind.findText("Notice sent"))
    assert model.rowCount() == 1


def test_a_deadline_before_the_event_is_refused_under_the_deadline(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    window.cases_page.refresh()
    window.open_case(case_id)
    dialog = window.add_event()
    dialog.text.setPlainText("Notice")
    dialog.has_deadline.setChecked(True)
    dialog.deadline.setDateTime(QDateTime.currentDateTimeUtc().addDays(-3))
    dialog.submit()
    qtbot.waitUntil(dialog.errors.label("deadline").isVisible, timeout=5000)
    assert "before the event" in dialog.errors.label("deadline").text()
    assert window.db.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_renaming_and_archiving_a_case_can_be_undone_and_redone(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    window.cases_page.refresh()
    window.cases_page.select_case(case_id)
    window.push_case_edit(case_id, "rename case", {"title": "Soundsbox"}, {"title": "Soundsbox 2"})
    qtbot.waitUntil(lambda: get_case(window.db, case_id).title == "Soundsbox 2", timeout=5000)
    assert window.act_undo.text() == "&Undo rename case"
    window.toggle_archive()
    qtbot.waitUntil(lambda: get_case(window.db, case_id).archived_at is not None, timeout=5000)
    window.undo()
    qtbot.waitUntil(lambda: get_case(window.db, case_id).archived_at is None, timeout=5000)
    window.undo()
    qtbot.waitUntil(lambda: get_case(window.db, case_id).title == "Soundsbox", timeout=5000)
    window.redo()
    qtbot.waitUntil(lambda: get_case(window.db, case_id).title == "Soundsbox 2", timeout=5000)


def test_undo_in_a_form_field_undoes_the_typing_not_a_case_edit(qtbot, window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    window.cases_page.refresh()
    window.open_case(case_id)
    window.push_case_edit(case_id, "rename case", {"title": "Soundsbox"}, {"title": "Renamed"})
    qtbot.waitUntil(lambda: get_case(window.db, case_id).title == "Renamed", timeout=5000)
    form = window.record_storefront()
    form.name.setFocus()
    qtbot.keyClicks(form.name, "Soundsbox")
    qtbot.waitUntil(form.name.hasFocus, timeout=2000)
    window.undo()
    assert form.name.text() == ""
    idle(qtbot, window)
    assert get_case(window.db, case_id).title == "Renamed"


def test_settings_are_stored_and_a_bad_value_is_refused_under_its_field(qtbot, window):
    dialog = window.settings()
    dialog.editors["lookups/dns_server"].setText("127.0.0.1:99999")
    dialog.submit()
    error = dialog.errors.label("lookups/dns_server")
    assert error.isVisible() and "port" in error.text()
    assert options.lookup_settings().dns_server.port == 53
    dialog.editors["lookups/dns_server"].setText("127.0.0.1:5353")
    dialog.editors["lookups/offline"].setChecked(True)
    dialog.editors["lookups/concurrency"].setValue(7)
    dialog.submit()
    settings = options.lookup_settings()
    assert (settings.dns_server.host, settings.dns_server.port) == ("127.0.0.1", 5353)
    assert settings.offline and settings.concurrency == 7
    reopened = window.settings()
    assert reopened.editors["lookups/offline"].isChecked()


def test_the_about_box_names_the_version_and_the_bundle_action_waits_for_issue_5(window):
    box = window.about()
    assert __version__ in box.text()
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.close()
    if window.open_bundle is None:
        assert not window.act_open_bundle.isEnabled()
        assert window.act_open_bundle.toolTip() == BUNDLE_PENDING


def test_every_menu_action_with_a_shortcut_has_a_distinct_one(window):
    seen = {}
    for action in window.actions():
        for shortcut in action.shortcuts():
            text = shortcut.toString()
            assert text not in seen, f"{text} is both {seen[text]!r} and {action.text()!r}"
            seen[text] = action.text()
    for key in ("Ctrl+N", "Ctrl+O", "Ctrl+F", "Ctrl+L", "Ctrl+E", "Ctrl+Z", "Ctrl+P"):
        assert key in seen, key


def test_window_geometry_and_splitter_state_are_restored(qtbot, make_window, store_path):
    case_id = new_case_in(store_path, "Soundsbox")
    first = make_window(store_path)
    first.resize(760, 540)  # the offscreen screen is small: stay inside it
    size = (first.size().width(), first.size().height())
    assert size != (1280, 820)
    workspace = first.open_case(case_id)
    workspace.splitter.setSizes([900, 300])
    sizes = workspace.splitter.sizes()
    first.close()
    second = make_window(store_path)
    assert (second.size().width(), second.size().height()) == size
    again = second.open_case(case_id)
    assert again.splitter.sizes() == sizes


def test_dark_mode_follows_the_theme(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from workbench.ui.app import apply_theme
    from workbench.ui.widgets import is_dark

    app = QApplication.instance()
    monkeypatch.setenv("WORKBENCH_THEME", "dark")
    apply_theme(app)
    assert is_dark()
    monkeypatch.setenv("WORKBENCH_THEME", "light")
    apply_theme(app)
    assert not is_dark()


def test_labels_in_forms_never_interpret_rich_text(qtbot, window, store_path):
    _case_id, form = _open_storefront_form(qtbot, window, store_path)
    hostile = "<img src=x onerror=alert(1)><b>bold</b>"
    qtbot.keyClicks(form.name, "Soundsbox")
    qtbot.keyClicks(form.catalogue_size, hostile)
    form.submit()
    error = form.errors.label("catalogue_size")
    qtbot.waitUntil(error.isVisible, timeout=5000)
    assert hostile in error.text()
    assert error.textFormat() == Qt.TextFormat.PlainText
    for label in form.findChildren(QLabel):
        if "<" in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def test_a_new_store_starts_with_the_demo_cases_and_offers_an_empty_one(
    qtbot, make_window, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from workbench.ui.app import open_or_start_store

    path = tmp_path / "first-start.sqlite"
    db, demo = open_or_start_store(path)
    titles = {row[0] for row in db.execute("SELECT title FROM cases")}
    db.close()
    assert demo and titles == {"AllofMP3", "Soundsbox"}
    db, demo = open_or_start_store(path)
    db.close()
    assert not demo, "an existing store is never filled"
    window = make_window(path)
    window.show_demo_welcome()
    assert window.cases_page.welcome.isVisible()
    assert window.cases_page.model.rowCount() == 2
    empty = tmp_path / "cases.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(empty), ""))
    window.cases_page.empty_store_button.click()
    assert window.store_path == empty
    assert window.cases_page.model.rowCount() == 0
    assert not window.cases_page.welcome.isVisible()
    assert window.cases_page.empty.isVisible()


def test_no_demo_when_asked_for_an_empty_start(tmp_path, monkeypatch):
    from workbench.ui.app import NO_DEMO_ENV, open_or_start_store

    monkeypatch.setenv(NO_DEMO_ENV, "1")
    db, demo = open_or_start_store(tmp_path / "empty.sqlite")
    try:
        assert not demo
        assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    finally:
        db.close()
