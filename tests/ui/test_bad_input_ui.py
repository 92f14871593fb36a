"""Bad input through the desktop app (issue 7, part 1): the values and files of the
command-line catalogue (tests/core/test_hostile_input.py), typed, pasted and chosen in the
real window's dialogs with the keyboard and the mouse.

Each refused case must end with exactly one inline message in plain text, under the field
it concerns, that names the problem (no traceback, no "Internal error", no message box);
the dialog stays open with what was typed still in the field, so it can be corrected; and
the store holds exactly the rows it held before (every row of every table). The window
and its store are shared by the whole catalogue (a window costs half a second); the last
test closes them and checks that the store file is byte-for-byte what it was.

Settings do not live in the store: a refused setting leaves the stored settings as they
were. Lookalike domains are not refused: the lookup dialog flags them as the user types,
and the lookup runs once the user asks again after seeing the warning.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTableWidget,
)
from shiboken6 import isValid

from tests.conftest import dump_tables, file_state
from tests.ui.conftest import idle
from workbench.services import casework
from workbench.store.database import open_store
from workbench.ui import options

CTRL = Qt.KeyboardModifier.ControlModifier
LONG_NAME = "a" * 296 + ".com"  # 300 characters
LONG_LABEL = "a" * 64 + ".com"
LONG_TITLE = "T" * 501
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
UNREADABLE_AS_ROOT = Path("/sys/bus/pci/rescan")  # write-only even for root


# -- driving the widgets as a user does -----------------------------------------------


def _needs_paste(text: str) -> bool:
    # Control characters, long values and other scripts reach a field by pasting.
    return len(text) > 60 or any(not (" " <= ch <= "~") for ch in text)


def type_into(qtbot, widget, text: str) -> None:
    """Select what the field holds and replace it with `text`, typed or pasted."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
    if not text:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    elif _needs_paste(text):
        QApplication.clipboard().setText(text)
        qtbot.keyClick(widget, Qt.Key.Key_V, CTRL)
    else:
        qtbot.keyClicks(widget, text)


def type_cell(qtbot, table: QTableWidget, row: int, column: int, text: str) -> None:
    """Double-click a cell, type into its editor, press Enter."""
    item = table.item(row, column)
    table.scrollToItem(item)
    centre = table.visualItemRect(item).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    editors = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]
    assert len(editors) == 1, f"no cell editor opened ({editors!r})"
    editor = editors[0]
    type_into(qtbot, editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: item.text() == text and not (isValid(editor) and editor.isVisible()),
        timeout=5000,
    )


def click(qtbot, button: QAbstractButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def save_button(dialog) -> QAbstractButton:
    box: QDialogButtonBox = dialog.buttons
    for role in (QDialogButtonBox.StandardButton.Save, QDialogButtonBox.StandardButton.Ok):
        button = box.button(role)
        if button is not None:
            return button
    raise AssertionError(f"{dialog.objectName()} has no Save or OK button")


def text_of(widget) -> str:
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    return widget.text()


# -- the shared window ------------------------------------------------------------------


@dataclass
class Shared:
    window: object
    path: Path
    case_id: int
    before: dict
    files: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory, qapp):
    """One window on a store holding case 1 (Soundsbox, with a domain and an event), the
    case open as a tab; the hostile files beside it."""
    from workbench.ui.app import make_application
    from workbench.ui.main_window import MainWindow

    folder = tmp_path_factory.mktemp("bad_input_ui")
    path = folder / "store.sqlite"
    db = open_store(path)
    case = casework.new_case(db, "Soundsbox")
    casework.add_entity(db, case.id, "domain", "soundsbox.test")
    casework.add_event(db, case.id, "note", "Opened")
    db.close()
    before = file_state(path)
    files = folder / "files"
    _make_files(files)
    make_application()
    window = MainWindow(open_store(path), path)
    window.show()
    window.open_case(case.id)
    yield Shared(window, path, case.id, before, files)
    _close(window)


def _close(window) -> None:
    if not window.closed:
        window.shutdown()
        with contextlib.suppress(Exception):
            window.db.close()
        window.close()


def _make_files(folder: Path) -> None:
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "a folder.png").mkdir()
    (folder / "screenshot.txt").write_bytes(PNG)  # a PNG named as text
    (folder / "capture.png").write_text("<html><body>Soundsbox</body></html>")
    (folder / "notice.pdf").write_text("Dear Sir, this is not a PDF.")
    (folder / "contract.docx").write_text("plain text, not a Word document")
    (folder / "email.eml").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    (folder / "gone.html").write_text("<html>deleted after being chosen</html>")
    locked = folder / "locked.html"
    locked.write_text("<html>no permission</html>")
    locked.chmod(0)


def unreadable(files: Path) -> Path:
    """A file this process cannot read: mode 000, or for root (who reads any file) a
    write-only sysfs attribute."""
    if os.geteuid() != 0:
        return files / "locked.html"
    if not os.access(UNREADABLE_AS_ROOT, os.F_OK):
        pytest.skip("running as root without a write-only file to try")
    return UNREADABLE_AS_ROOT


# -- the catalogue --------------------------------------------------------------------

Act = Callable[..., object]  # (qtbot, dialog, shared) -> the widget holding the input


@dataclass(frozen=True)
class Case:
    category: str
    what: str
    open: str  # the window's method that opens the dialog
    act: Act
    field: str  # the error label under the field: error_<field>
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.category}: {self.what}"


def field(name: str, text: str) -> Act:
    """Type `text` into the dialog's field `name` (an attribute of the dialog)."""

    def act(qtbot, dialog, _shared):
        widget = getattr(dialog, name)
        if isinstance(widget, QComboBox):  # an editable combo box: type into its line
            widget = widget.lineEdit()
        type_into(qtbot, widget, text)
        return widget, text

    return act


def fields(*pairs: tuple[str, str]) -> Act:
    """Type into several fields; the last one is the one whose input must be kept."""

    def act(qtbot, dialog, shared):
        result = None
        for name, text in pairs:
            result = field(name, text)(qtbot, dialog, shared)
        return result

    return act


def storefront(name: str, text: str) -> Act:
    """The storefront form with its name filled in, then `text` in field `name`."""
    return fields(("name", "Soundsbox"), (name, text))


def price(amount: str, currency: str = "USD", unit: str = "track") -> Act:
    def act(qtbot, dialog, _shared):
        type_into(qtbot, dialog.name, "Soundsbox")
        for column, text in enumerate((amount, currency, unit)):
            type_cell(qtbot, dialog.prices, 0, column, text)
        return dialog.prices.item(0, 0), amount

    return act


def event_at(at: str, deadline: str | None = None) -> Act:
    def act(qtbot, dialog, _shared):
        type_into(qtbot, dialog.text, "IFPI wrote to Visa and MasterCard")
        type_into(qtbot, dialog.at, at)
        if deadline is None:
            return dialog.at, at
        click(qtbot, dialog.has_deadline)
        type_into(qtbot, dialog.deadline, deadline)
        return dialog.deadline, deadline

    return act


def chosen_file(name: str, *, storefront_form: bool = False) -> Act:
    """Choose a file through the dialog's "Choose files…" button (the file dialog answers
    with the hostile file)."""

    def act(qtbot, dialog, shared, monkeypatch):
        path = {
            "<unreadable>": lambda: unreadable(shared.files),
            "/dev/zero": lambda: Path("/dev/zero"),
        }.get(name, lambda: shared.files / name)()
        monkeypatch.setattr(
            QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(path)], "All files (*)")
        )
        if storefront_form:
            type_into(qtbot, dialog.name, "Soundsbox")
            click(qtbot, dialog.attach_button)
        else:
            click(qtbot, dialog.choose_button)
        if name == "gone.html":
            path.unlink()  # deleted between choosing and saving
        return None

    act.needs_monkeypatch = True
    return act


def lookup(text: str) -> Act:
    return field("domain", text)


NEW = "new_case"
RENAME = "rename_case"
FORM = "record_storefront"
EVENT = "add_event"
ATTACH = "attach_files"
LOOKUP = "look_up_one"

CASES: list[Case] = [
    # -- case titles: the new-case dialog and renaming
    Case("case title", "empty", NEW, field("title", ""), "title", ("is empty",)),
    Case("case title", "blank", NEW, field("title", "   "), "title", ("is empty",)),
    Case("case title", "501 characters", NEW, field("title", LONG_TITLE), "title", ("500",)),
    Case(
        "case title",
        "escape sequence",
        NEW,
        field("title", "Sounds\x1b[2Jbox"),
        "title",
        ("control characters",),
    ),
    Case(
        "case title",
        "NUL in the investigator",
        NEW,
        fields(("title", "Soundsbox"), ("investigator", "IFPI\x00")),
        "investigator",
        ("control characters",),
    ),
    Case(
        "case title",
        "bell in the summary",
        NEW,
        fields(("title", "Soundsbox"), ("summary", "Shop\x07 selling MP3s")),
        "summary",
        ("control characters",),
    ),
    Case("case title", "rename to empty", RENAME, field("title", ""), "title", ("is empty",)),
    Case("case title", "rename to blank", RENAME, field("title", " \t "), "title", ("empty",)),
    Case(
        "case title",
        "rename to 501 characters",
        RENAME,
        field("title", LONG_TITLE),
        "title",
        ("500",),
    ),
    Case(
        "case title",
        "rename with a control character",
        RENAME,
        field("title", "Sounds\x08box"),
        "title",
        ("control characters",),
    ),
    # -- the lookup input: domains and URLs
    Case("domain", "empty", LOOKUP, lookup(""), "domain", ("is empty",)),
    Case("domain", "blank", LOOKUP, lookup("   "), "domain", ("is empty",)),
    Case("domain", "300 characters", LOOKUP, lookup(LONG_NAME), "domain", ("too long",)),
    Case("domain", "a 64-character label", LOOKUP, lookup(LONG_LABEL), "domain", ("too long",)),
    Case("domain", "leading hyphen", LOOKUP, lookup("-hevil.com"), "domain", ("starts with '-'",)),
    Case(
        "domain",
        "an option lookalike",
        LOOKUP,
        lookup("--store=/etc/passwd"),
        "domain",
        ("starts with '-'",),
    ),
    Case(
        "domain",
        "escape sequence",
        LOOKUP,
        lookup("evil\x1b[2J.com"),
        "domain",
        ("control characters",),
    ),
    Case(
        "domain",
        "two names on two lines",
        LOOKUP,
        lookup("evil.com\nother.com"),
        "domain",
        ("control characters",),
    ),
    Case("domain", "tab", LOOKUP, lookup("evil\t.com"), "domain", ("control characters",)),
    Case("domain", "C1 control", LOOKUP, lookup("evil\x85.com"), "domain", ("control",)),
    Case("domain", "right-to-left override", LOOKUP, lookup("\u202emoc.live"), "domain", ("IDNA",)),
    Case("domain", "two trailing dots", LOOKUP, lookup("evil.com.."), "domain", ("empty label",)),
    Case("domain", "only the root", LOOKUP, lookup("."), "domain", ("only the root",)),
    Case("domain", "leading dot", LOOKUP, lookup(".evil.com"), "domain", ("mpty",)),
    Case("domain", "inner empty label", LOOKUP, lookup("evil..com"), "domain", ("mpty",)),
    Case("domain", "percent-encoded letter", LOOKUP, lookup("ev%69l.com"), "domain", ("percent",)),
    Case("domain", "percent-encoded dot", LOOKUP, lookup("evil%2ecom"), "domain", ("percent",)),
    Case("domain", "IPv4 address", LOOKUP, lookup("192.0.2.1"), "domain", ("IP address",)),
    Case("domain", "IPv6 address", LOOKUP, lookup("2001:db8::1"), "domain", ("IP address",)),
    Case("domain", "bracketed IPv6", LOOKUP, lookup("[2001:db8::1]"), "domain", ("IP address",)),
    Case("domain", "IPv4 shorthand", LOOKUP, lookup("127.1"), "domain", ("IP address",)),
    Case("domain", "hex IPv4", LOOKUP, lookup("0x7f.1"), "domain", ("IP address",)),
    Case("domain", "IPv4 as one number", LOOKUP, lookup("2130706433"), "domain", ("IP address",)),
    Case(
        "domain",
        "URL to an address",
        LOOKUP,
        lookup("https://192.0.2.1/shop"),
        "domain",
        ("IP address",),
    ),
    Case("domain", "URL without a host", LOOKUP, lookup("http://"), "domain", ("without a host",)),
    Case("domain", "broken URL", LOOKUP, lookup("http://[::1/"), "domain", ("not a valid URL",)),
    Case("domain", "public suffix", LOOKUP, lookup("co.uk"), "domain", ("public suffix",)),
    Case("domain", "hyphen at label end", LOOKUP, lookup("evil-.com"), "domain", ("hyphen",)),
    Case("domain", "bad punycode", LOOKUP, lookup("xn--.com"), "domain", ("A-label",)),
    Case("domain", "underscore", LOOKUP, lookup("ev_il.com"), "domain", ("U+005F",)),
    Case("domain", "space", LOOKUP, lookup("ev il.com"), "domain", ("U+0020",)),
    Case("domain", "emoji", LOOKUP, lookup("\U0001f4a9.com"), "domain", ("not allowed",)),
    Case("domain", "with a port", LOOKUP, lookup("evil.com:80"), "domain", ("U+003A",)),
    # -- storefront URLs
    *(
        Case("url", what, FORM, storefront("urls", value), "urls", words)
        for what, value, words in (
            ("javascript:", "javascript:alert(1)", ("http or https",)),
            ("data:", "data:text/html,<script>alert(1)</script>", ("http or https",)),
            ("file:", "file:///etc/passwd", ("http or https",)),
            ("mailto:", "mailto:x@evil.com", ("http or https",)),
            ("ftp:", "ftp://soundsbox.test/", ("http or https",)),
            ("no host", "http://", ("has no host",)),
            ("scheme-relative", "//evil.com", ("has no host",)),
            ("port out of range", "http://evil.com:99999/", ("port",)),
            ("space in the path", "http://evil.com/a b", ("contains spaces",)),
            ("broken IPv6 host", "http://[::1", ("not a valid URL",)),
            ("percent-encoded host", "http://ev%69l.com/", ("percent-encoding",)),
            ("host starting with '-'", "http://-evil.com/", ("starts with '-'",)),
            ("escape sequence", "http://evil.com/\x1b[2J", ("control characters",)),
            ("IPv4 shorthand host", "http://127.1/", ("IP address",)),
            ("good then bad", "http://www.soundsbox.test/\nhttp://", ("has no host",)),
        )
    ),
    # -- prices, typed into the price table
    *(
        Case("price", what, FORM, price(*parts), "prices", words)
        for what, parts, words in (
            ("NaN", ("NaN",), ("finite",)),
            ("signalling NaN", ("sNaN",), ("finite",)),
            ("infinity", ("Infinity",), ("finite",)),
            ("negative", ("-1",), ("0 or more",)),
            ("huge exponent", ("1e999999999",), ("out of range",)),
            ("below a millionth", ("0.0000001",), ("out of range",)),
            ("decimal comma", ("1,50", "EUR"), ("not a number",)),
            ("hexadecimal", ("0x10",), ("not a number",)),
            ("words", ("fourteen cents",), ("not a number",)),
            ("currency symbol", ("0.14", "US$"), ("ISO 4217",)),
            ("currency name", ("0.14", "dollars"), ("ISO 4217",)),
            ("empty unit", ("0.14", "USD", ""), ("unit",)),
            ("markup as unit", ("0.14", "USD", "<script>"), ("unit", "<script>")),
            ("a colon in a cell", ("0.14:USD",), ("':'", "one part per column")),
        )
    ),
    # -- numbers and other storefront fields
    Case(
        "number",
        "a catalogue of 10^23 tracks",
        FORM,
        storefront("catalogue_size", "99999999999999999999999"),
        "catalogue_size",
        ("larger than",),
    ),
    Case(
        "number",
        "a negative catalogue",
        FORM,
        storefront("catalogue_size", "-5"),
        "catalogue_size",
        ("negative",),
    ),
    Case(
        "number",
        "a count with letters",
        FORM,
        storefront("catalogue_size", "12k"),
        "catalogue_size",
        ("whole number",),
    ),
    Case(
        "number",
        "a fraction",
        FORM,
        storefront("catalogue_size", "5.5"),
        "catalogue_size",
        ("whole number",),
    ),
    Case("storefront", "no name", FORM, field("name", ""), "name", ("is empty",)),
    Case(
        "storefront",
        "escape sequence in the name",
        FORM,
        field("name", "Sounds\x1bbox"),
        "name",
        ("control characters",),
    ),
    Case("storefront", "a 501-character name", FORM, field("name", LONG_TITLE), "name", ("500",)),
    Case(
        "storefront",
        "a redaction placeholder as operator",
        FORM,
        storefront("operator", "REDACTED FOR PRIVACY"),
        "operator",
        ("placeholder",),
    ),
    Case(
        "storefront",
        "a control character in the operator",
        FORM,
        storefront("operator", "Media\x00services"),
        "operator",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a control character in a language",
        FORM,
        storefront("languages", "English, Rus\x1bsian"),
        "languages",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a 501-character language",
        FORM,
        storefront("languages", "English, " + "R" * 501),
        "languages",
        ("500",),
    ),
    Case(
        "storefront",
        "a control character in the society",
        FORM,
        storefront("society", "RO\x07MS"),
        "society",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a control character in the licence number",
        FORM,
        storefront("licence_number", "49/ZM\x0b-07"),
        "licence_number",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a control character in the licence claim",
        FORM,
        storefront("licence_claim", "licensed by \x1b[31mROMS"),
        "licence_claim",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a control character in the market notes",
        FORM,
        storefront("market_notes", "cheap\x00"),
        "market_notes",
        ("control characters",),
    ),
    Case(
        "storefront",
        "a control character in the source",
        FORM,
        storefront("source", "http://x\x1b"),
        "source",
        ("control characters",),
    ),
    # -- event dates and deadlines
    *(
        Case("date", what, EVENT, event_at(*values), name, words)
        for what, values, name, words in (
            ("empty date", ("",), "at", ("is empty",)),
            ("29 February of a common year", ("2009-02-29",), "at", ("ISO 8601",)),
            ("before 1970", ("1969-12-31",), "at", ("1970-2200",)),
            ("after 2200", ("2201-01-01",), "at", ("1970-2200",)),
            ("year 1 at +14:00", ("0001-01-01T00:00+14:00",), "at", ("1970-2200",)),
            ("hour 25", ("2009-11-02 25:00",), "at", ("ISO 8601",)),
            ("offset +25:00", ("2009-11-02T10:00+25:00",), "at", ("ISO 8601",)),
            ("day/month/year", ("02/11/2009",), "at", ("ISO 8601",)),
            ("Unix time", ("1257120000",), "at", ("ISO 8601",)),
            ("full-width digits", ("２００９-１１-０２",), "at", ("ISO 8601",)),
            ("a word", ("tomorrow",), "at", ("ISO 8601",)),
            ("empty deadline", ("2009-11-02", ""), "deadline", ("is empty",)),
            ("deadline in words", ("2009-11-02", "in two weeks"), "deadline", ("ISO 8601",)),
            ("deadline before the event", ("2009-11-02", "2009-11-01"), "deadline", ("before",)),
        )
    ),
    Case("event", "no text", EVENT, field("text", "  "), "text", ("is empty",)),
    Case(
        "event",
        "an escape sequence in the text",
        EVENT,
        field("text", "Notice\x1b[2J sent"),
        "text",
        ("control characters",),
    ),
    Case(
        "event",
        "a control character in the outcome",
        EVENT,
        fields(("text", "Notice sent"), ("outcome", "paid\x08")),
        "outcome",
        ("control characters",),
    ),
    # -- files that are not what they claim
    *(
        Case("file", what, ATTACH, chosen_file(name), "file", words)
        for what, name, words in (
            ("empty file", "empty.txt", ("is empty",)),
            ("a directory", "a folder.png", ("is a directory",)),
            ("a PNG named .txt", "screenshot.txt", ("named as text", "PNG image")),
            ("text named .png", "capture.png", ("named as a PNG image", "holds text")),
            ("text named .pdf", "notice.pdf", ("named as a PDF document",)),
            ("text named .docx", "contract.docx", ("zip archive",)),
            ("a program named .eml", "email.eml", ("named as text", "Linux program")),
            ("a device", "/dev/zero", ("not a regular file",)),
            ("deleted after being chosen", "gone.html", ("does not exist",)),
            ("unreadable", "<unreadable>", ("cannot be read",)),
        )
    ),
    Case("file", "no file chosen", ATTACH, lambda *a: None, "file", ("choose at least one",)),
    *(
        Case(
            "file",
            f"storefront attachment: {what}",
            FORM,
            chosen_file(name, storefront_form=True),
            "attachments",
            words,
        )
        for what, name, words in (
            ("empty file", "empty.txt", ("is empty",)),
            ("a directory", "a folder.png", ("is a directory",)),
            ("a PNG named .txt", "screenshot.txt", ("PNG image",)),
            ("a device", "/dev/zero", ("not a regular file",)),
        )
    ),
]


def _visible_errors(dialog) -> list[QLabel]:
    return [
        label
        for label in dialog.findChildren(QLabel)
        if label.objectName().startswith("error_") and label.isVisible()
    ]


def _message_boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def _open(shared: Shared, how: str) -> QDialog:
    window = shared.window
    window.tabs.setCurrentWidget(window.workspaces[shared.case_id])
    if how == RENAME:
        window.tabs.setCurrentIndex(0)
        window.cases_page.select_case(shared.case_id)
    dialog = getattr(window, how)()
    assert dialog is not None and dialog.isVisible(), how
    dialog.activateWindow()
    return dialog


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_bad_value_gets_one_inline_message_and_changes_nothing(
    qtbot, shared, case, monkeypatch
):
    window = shared.window
    idle(qtbot, window)
    rows = dump_tables(shared.path)
    dialog = _open(shared, case.open)
    try:
        if getattr(case.act, "needs_monkeypatch", False):
            kept = case.act(qtbot, dialog, shared, monkeypatch)
        else:
            kept = case.act(qtbot, dialog, shared)
        click(qtbot, save_button(dialog))
        qtbot.waitUntil(lambda: bool(_visible_errors(dialog)), timeout=10_000)
        idle(qtbot, window)
        errors = _visible_errors(dialog)
        shown = [label.text() for label in errors]
        assert [label.objectName() for label in errors] == [f"error_{case.field}"], shown
        message = shown[0]
        for word in case.words:
            assert word in message, f"{word!r} not in {message!r}"
        assert "Traceback" not in message and "Internal error" not in message, message
        assert errors[0].textFormat() == Qt.TextFormat.PlainText
        for label in dialog.findChildren(QLabel):  # markup typed or quoted stays literal
            if "<" in label.text():
                assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
        assert dialog.isVisible(), "the dialog stays open to correct the value"
        assert save_button(dialog).isEnabled()
        assert not _message_boxes(), "no message box on top of the inline message"
        if kept is not None:
            widget, typed = kept
            assert (widget.text() if hasattr(widget, "text") else text_of(widget)) == typed, (
                "what was typed is kept"
            )
        assert dump_tables(shared.path) == rows, "the store is unchanged"
    finally:
        dialog.reject()


# -- settings ---------------------------------------------------------------------------

SETTINGS_CASES = [
    ("whois_server", "port out of range", "whois.test:99999", ("port",)),
    ("whois_server", "port in letters", "whois.test:abc", ("port",)),
    ("whois_server", "no host", ":43", ("no valid host",)),
    ("whois_server", "option lookalike", "-hevil:43", ("no valid host",)),
    ("whois_server", "space in the host", "who is.test:43", ("U+0020",)),
    ("whois_server", "escape sequence", "whois\x1b.test", ("control characters",)),
    ("whois_server", "300-character host", LONG_NAME, ("too long",)),
    ("whois_server", "a URL", "http://whois.test", ("port",)),
    ("dns_server", "empty", "", ("is empty",)),
    ("dns_server", "port 0", "1.1.1.1:0", ("port",)),
    ("dns_server", "broken IPv6", "[::1", ("host",)),
    ("dns_server", "percent-encoding", "dns%2etest:53", ("percent",)),
    ("whois_overrides", "no '='", "whois.test", ("NAME=HOST:PORT",)),
    ("whois_overrides", "no name", "=127.0.0.1:43", ("NAME=HOST:PORT",)),
    ("whois_overrides", "bad host", "whois.test=who is:43", ("host",)),
    ("whois_overrides", "bad name", "who is=127.0.0.1:43", ("host",)),
    ("rdap_base_url", "ftp:", "ftp://rdap.test/", ("http",)),
    ("rdap_base_url", "javascript:", "javascript:alert(1)", ("http",)),
    ("rdap_base_url", "no host", "https://", ("host",)),
    ("rdap_base_url", "credentials", "https://user:secret@rdap.test/", ("password",)),
    ("rdap_base_url", "space in the host", "https://rdap .test/", ("spaces",)),
    ("rdap_ip_base_url", "file:", "file:///etc/passwd", ("http",)),
    ("timeout_s", "zero", "0", ("at least 0.1",)),
    ("timeout_s", "negative", "-1", ("at least",)),
    ("timeout_s", "words", "ten seconds", ("not a number",)),
    ("timeout_s", "NaN", "nan", ("finite",)),
    ("timeout_s", "infinity", "inf", ("finite",)),
    ("timeout_s", "a billion", "1e9", ("at most 600",)),
    ("timeout_s", "empty", "", ("is empty",)),
    ("dns_lifetime_s", "decimal comma", "2,5", ("not a number",)),
    ("concurrency", "zero", "0", ("at least 1",)),
    ("concurrency", "a fraction", "7.5", ("whole number",)),
    ("concurrency", "too many", "100000", ("at most 1000",)),
    ("concurrency", "underscores", "1_0", ("not a number",)),
    ("max_response_bytes", "too small", "10", ("at least 1024",)),
    ("rate_limit_backoff_s", "negative", "-5", ("at least 0",)),
]


@pytest.mark.parametrize(
    ("name", "what", "value", "words"),
    SETTINGS_CASES,
    ids=[f"settings: {name} {what}" for name, what, _, _ in SETTINGS_CASES],
)
def test_each_bad_setting_gets_one_inline_message_and_nothing_is_stored(
    qtbot, shared, private_settings, name, what, value, words
):
    stored = options.read_options()
    files = {p.name: p.read_bytes() for p in private_settings.rglob("*") if p.is_file()}
    dialog = shared.window.settings()
    try:
        editor = dialog.editors[f"lookups/{name}"]
        type_into(qtbot, editor, value)
        click(qtbot, save_button(dialog))
        errors = _visible_errors(dialog)
        shown = [label.text() for label in errors]
        assert [label.objectName() for label in errors] == [f"error_lookups/{name}"], shown
        for word in words:
            assert word in shown[0], f"{word!r} not in {shown[0]!r}"
        assert errors[0].textFormat() == Qt.TextFormat.PlainText
        assert dialog.isVisible() and text_of(editor) == value
        assert not _message_boxes()
        assert options.read_options() == stored
        assert {p.name: p.read_bytes() for p in private_settings.rglob("*") if p.is_file()} == files
    finally:
        dialog.reject()


# -- lookalike names: flagged, not refused ----------------------------------------------

LOOKALIKES = [
    ("Cyrillic a in a Latin label", "pаypal.com", ("Cyrillic and Latin", "reads like 'paypal'")),
    ("the same name as A-labels", "xn--pypal-4ve.com", ("Cyrillic and Latin",)),
    ("a label wholly in Cyrillic lookalikes", "аррӏе.com", ("Cyrillic letters that all look",)),
    ("a Greek omicron", "gοogle.com", ("Greek and Latin",)),
    ("a zero-width space", "pay\u200bpal.com", ("invisible", "U+200B")),
    ("a soft hyphen", "pay\u00adpal.com", ("invisible", "U+00AD")),
    ("a lookalike host in a URL", "https://www.pаypal.com/login", ("Cyrillic and Latin",)),
    ("a user name that reads like a host", "https://paypal.com@evil.test/", ("before an '@'",)),
]
ORDINARY = ["soundsbox.test", "münchen.de", "http://www.soundsbox.test/shop", "日本語.jp"]


@pytest.mark.parametrize(
    ("what", "name", "words"), LOOKALIKES, ids=[f"lookalike: {w}" for w, _, _ in LOOKALIKES]
)
def test_a_lookalike_name_is_flagged_and_the_first_look_up_only_confirms(
    qtbot, shared, what, name, words
):
    window = shared.window
    idle(qtbot, window)
    rows = dump_tables(shared.path)
    dialog = _open(shared, LOOKUP)
    try:
        type_into(qtbot, dialog.domain, name)
        warning = dialog.warning
        assert warning.isVisible(), "flagged as soon as it is typed"
        assert warning.textFormat() == Qt.TextFormat.PlainText
        assert "Lookalike" in warning.text()
        for word in words:
            assert word in warning.text(), f"{word!r} not in {warning.text()!r}"
        click(qtbot, save_button(dialog))
        qtbot.waitUntil(lambda: dialog.look_up_button.text() == "Look up anyway", timeout=10_000)
        assert dialog.isVisible(), "the first Look up makes sure the warning was seen"
        assert not _visible_errors(dialog) and not _message_boxes()
        assert window.lookup_job is None or not window.lookup_job.running
        idle(qtbot, window)
        assert dump_tables(shared.path) == rows
    finally:
        dialog.reject()


@pytest.mark.parametrize("name", ORDINARY, ids=[f"ordinary: {n}" for n in ORDINARY])
def test_an_ordinary_name_is_not_flagged(qtbot, shared, name):
    dialog = _open(shared, LOOKUP)
    try:
        type_into(qtbot, dialog.domain, name)
        assert not dialog.warning.isVisible(), dialog.warning.text()
        assert dialog.look_up_button.text() == "Look up"
    finally:
        dialog.reject()


def test_the_store_file_is_byte_for_byte_what_it_was_after_the_whole_catalogue(qtbot, shared):
    idle(qtbot, shared.window)
    _close(shared.window)
    assert file_state(shared.path) == shared.before


def test_a_lookalike_is_looked_up_once_the_user_asks_again(qtbot, make_window, store_path):
    """After the warning, "Look up anyway" runs the lookup (offline here) and the name
    joins the case as itself, never as the name it imitates."""
    db = open_store(store_path)
    case_id = casework.new_case(db, "Phishing").id
    db.close()
    stored = options.read_options()
    stored["lookups/offline"] = True
    options.write_options(stored)
    window = make_window(store_path)
    window.open_case(case_id)
    dialog = window.look_up_one()
    type_into(qtbot, dialog.domain, "pаypal.com")
    qtbot.keyClick(dialog.domain, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.look_up_button.text() == "Look up anyway", timeout=10_000)
    assert dialog.isVisible() and dialog.warning.isVisible()
    assert window.lookup_job is None
    qtbot.keyClick(dialog.domain, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    job = window.lookup_job
    assert job is not None
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    idle(qtbot, window)
    keys = {row[0] for row in window.db.execute("SELECT key FROM entities WHERE kind = 'domain'")}
    assert keys == {"xn--pypal-4ve.com"}
    assert not _message_boxes()


# -- once corrected, the same dialog saves what was typed --------------------------------


def _one_case(store_path: Path) -> int:
    db = open_store(store_path)
    try:
        return casework.new_case(db, "Soundsbox").id
    finally:
        db.close()


def test_a_mistyped_date_once_corrected_is_stored_exactly_as_typed(qtbot, make_window, store_path):
    window = make_window(store_path)
    window.open_case(_one_case(store_path))
    dialog = window.add_event()
    type_into(qtbot, dialog.text, "Notice sent to the registrar")
    type_into(qtbot, dialog.at, "2009-02-29 14:30")
    click(qtbot, save_button(dialog))
    assert dialog.errors.label("at").isVisible()
    type_into(qtbot, dialog.at, "2009-03-01 14:30")
    click(qtbot, dialog.has_deadline)
    type_into(qtbot, dialog.deadline, "2009-03-15T18:00+03:00")
    click(qtbot, save_button(dialog))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    row = window.db.execute("SELECT at, deadline FROM events").fetchone()
    assert row[0].startswith("2009-03-01T14:30:00") and row[1].startswith("2009-03-15T15:00:00")


def test_a_refused_title_once_corrected_renames_the_case_and_can_be_undone(
    qtbot, make_window, store_path
):
    case_id = _one_case(store_path)
    window = make_window(store_path)
    window.cases_page.select_case(case_id)
    dialog = window.rename_case()
    type_into(qtbot, dialog.title, "   ")
    click(qtbot, save_button(dialog))
    assert dialog.errors.label("title").isVisible() and not window.undo_stack.count()
    type_into(qtbot, dialog.title, "Soundsbox (closed)")
    click(qtbot, save_button(dialog))
    assert not dialog.isVisible()
    title = lambda: window.db.execute("SELECT title FROM cases").fetchone()[0]  # noqa: E731
    qtbot.waitUntil(lambda: title() == "Soundsbox (closed)", timeout=10_000)
    window.undo()
    qtbot.waitUntil(lambda: title() == "Soundsbox", timeout=10_000)


def test_a_refused_domain_once_corrected_is_looked_up(qtbot, make_window, store_path):
    case_id = _one_case(store_path)
    stored = options.read_options()
    stored["lookups/offline"] = True
    options.write_options(stored)
    window = make_window(store_path)
    window.open_case(case_id)
    dialog = window.look_up_one()
    type_into(qtbot, dialog.domain, "-hevil.com")
    qtbot.keyClick(dialog.domain, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.errors.label("domain").isVisible, timeout=10_000)
    assert window.lookup_job is None
    type_into(qtbot, dialog.domain, "https://www.soundsbox.test/shop")
    qtbot.keyClick(dialog.domain, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    job = window.lookup_job
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    idle(qtbot, window)
    keys = {row[0] for row in window.db.execute("SELECT key FROM entities WHERE kind = 'domain'")}
    assert keys == {"soundsbox.test"}
