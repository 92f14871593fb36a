"""Small shared pieces: labels that never interpret rich text, inline field errors,
message boxes in plain text, status colours, time and size formatting.

Text from the network or from the user is never rendered as rich text anywhere in the UI:
a QLabel left on Qt.AutoText would render `<img src=x>` from a WHOIS record as HTML, so
every label here is made with `plain_label` (Qt.PlainText).
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from workbench.domain.errors import InvalidInput, WorkbenchError
from workbench.domain.times import parse_when


def plain_label(
    text: str = "",
    parent: QWidget | None = None,
    *,
    wrap: bool = False,
    selectable: bool = False,
    object_name: str | None = None,
) -> QLabel:
    """A QLabel that shows `text` literally, whatever it holds."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        label.setObjectName(object_name)
    return label


def heading_label(text: str = "", parent: QWidget | None = None, *, size_delta: int = 4) -> QLabel:
    label = plain_label(text, parent)
    font = label.font()
    font.setPointSize(font.pointSize() + size_delta)
    font.setBold(True)
    label.setFont(font)
    return label


def monospace_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def raw_text_view(parent: QWidget | None = None) -> QPlainTextEdit:
    """A read-only monospace view for raw evidence (plain text by construction)."""
    view = QPlainTextEdit(parent)
    view.setReadOnly(True)
    view.setFont(monospace_font())
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    view.setUndoRedoEnabled(False)
    return view


def show_message(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    error: bool = False,
    details: str | None = None,
) -> QMessageBox:
    """A message box whose text is shown literally (it may quote input or server data).

    Window-modal but not blocking (`open`, not `exec`): a lookup run reporting while the
    box is up keeps being shown."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.setObjectName("message_box")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if details:
        box.setDetailedText(details)
    box.open()
    return box


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


STATUS_COLOURS = {
    # light, dark
    "ok": ("#15803d", "#4ade80"),
    "not_found": ("#57534e", "#a8a29e"),
    "no_data": ("#57534e", "#a8a29e"),
    "failed": ("#b91c1c", "#f87171"),
    "rate_limited": ("#c2410c", "#fb923c"),
    "offline": ("#1d4ed8", "#93c5fd"),
    "running": ("#6b7280", "#9ca3af"),
}
STATUS_NAMES = {
    "ok": "ok",
    "not_found": "not found",
    "no_data": "no data",
    "failed": "failed",
    "rate_limited": "rate limited",
    "offline": "offline",
}


def status_colour(status: str) -> QColor:
    light, dark = STATUS_COLOURS.get(status, STATUS_COLOURS["running"])
    return QColor(dark if is_dark() else light)


def warning_colour() -> QColor:
    return QColor("#f87171" if is_dark() else "#b91c1c")


def overdue_background() -> QColor:
    return QColor("#4c1d1d" if is_dark() else "#fde2e2")


def short_time(iso: str | None) -> str:
    """'2026-11-22T19:32:50.123456Z' -> '2026-11-22 19:32 UTC'."""
    if not iso:
        return ""
    return iso[:16].replace("T", " ") + " UTC"


def full_time(iso: str | None) -> str:
    if not iso:
        return ""
    return iso[:19].replace("T", " ") + " UTC"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class FieldErrors:
    """Inline errors for a form: each field has a red plain-text label under it, shown
    when the core refuses the field's value (InvalidInput.field names it)."""

    def __init__(self, general: QLabel):
        self.general = general
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}
        self._aliases: dict[str, str] = {}
        general.setVisible(False)
        _style_error(general)

    def add(self, name: str, widget: QWidget, aliases: tuple[str, ...] = ()) -> QLabel:
        label = plain_label("", wrap=True, object_name=f"error_{name}")
        _style_error(label)
        label.setVisible(False)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self._fields[name] = (widget, label)
        for alias in (name, *aliases):
            self._aliases[alias] = name
        return label

    def clear(self) -> None:
        self.general.setVisible(False)
        self.general.setText("")
        for widget, label in self._fields.values():
            label.setVisible(False)
            label.setText("")
            widget.setProperty("invalid", False)
            widget.setStyleSheet("")

    def show(self, exc: InvalidInput) -> str | None:
        """Show `exc` under its field (or at the top if no field matches); returns the
        field's name."""
        name = self._aliases.get(exc.field)
        message = f"{_shown(exc.value)} {exc.reason}".strip()
        if name is None:
            self.general.setText(str(exc))
            self.general.setVisible(True)
            return None
        widget, label = self._fields[name]
        label.setText(message)
        label.setVisible(True)
        widget.setProperty("invalid", True)
        widget.setStyleSheet(f"border: 1px solid {warning_colour().name()};")
        _bring_to_front(widget)
        widget.setFocus()
        return name

    def show_general(self, text: str) -> None:
        self.general.setText(text)
        self.general.setVisible(True)

    def show_refusal(self, exc: BaseException) -> None:
        """Show why a save or check failed: a refused value under its field, another
        refusal of the core at the top, and anything else as an internal error (named,
        so it can be reported, never a traceback)."""
        if isinstance(exc, InvalidInput):
            self.show(exc)
        elif isinstance(exc, WorkbenchError):
            self.show_general(str(exc))
        else:
            self.show_general(f"Internal error: {type(exc).__name__}: {exc}")

    def label(self, name: str) -> QLabel:
        return self._fields[name][1]


def _bring_to_front(widget: QWidget) -> None:
    """Make the tab holding `widget` current, so its error is seen (settings dialog)."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        tabs = parent.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(tabs, QTabWidget):
            tabs.setCurrentWidget(child)
        child, parent = parent, parent.parentWidget()


def _shown(value: object) -> str:
    text = str(value) if value is not None else ""
    if not text:
        return ""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _style_error(label: QLabel) -> None:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, warning_colour())
    label.setPalette(palette)


class DateTimeField(QLineEdit):
    """A date or date-time typed as text and read by the core (`parse_when`, as the
    command line's `--at`), in UTC unless an offset is typed.

    Why not QDateTimeEdit: it drops keystrokes it cannot place and, on leaving the field,
    silently puts back the last valid value, so a mistyped date ("2009-02-29") would be
    saved as some other date without a word. Here what was typed stays, and a date the
    core refuses gets a message under the field."""

    DISPLAY_FORMAT = "yyyy-MM-dd HH:mm"

    def __init__(self, moment: QDateTime | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC unless +HH:MM is typed)")
        self.setToolTip("ISO 8601: 2009-11-02, 2009-11-02 14:30 (UTC) or 2009-11-02T14:30+03:00")
        if moment is not None:
            self.setDateTime(moment)

    def setDateTime(self, moment: QDateTime) -> None:
        """Show `moment` in UTC, to the minute."""
        self.setText(moment.toTimeZone(QTimeZone.utc()).toString(self.DISPLAY_FORMAT))

    def moment(self, field: str) -> datetime:
        """The typed moment in UTC; InvalidInput naming `field` when it is not one."""
        return parse_when(self.text(), field)

    def dateTime(self) -> QDateTime:
        """The typed moment, or an invalid QDateTime when the text is not one."""
        try:
            moment = self.moment("date")
        except InvalidInput:
            return QDateTime()
        return QDateTime(moment.astimezone(UTC))


class NumberField(QLineEdit):
    """A number typed as text and checked on saving (a settings value with a range).

    Why not QSpinBox: it silently corrects an out-of-range value ("0" where 0.1 is the
    least) to the last valid one when the field loses focus, so the user never learns
    that what they typed was not kept."""

    def __init__(self, parent: QWidget | None = None, *, decimals: bool = False):
        super().__init__(parent)
        self.decimals = decimals

    def setValue(self, value: float) -> None:
        self.setText(f"{float(value):g}" if self.decimals else str(int(value)))

    def value(self) -> str:
        """The text as typed; the caller converts and checks it."""
        return self.text()
