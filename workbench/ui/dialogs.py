"""Small dialogs: a new case, an event on the timeline, the settings, attaching a file.

Each saves through the task runner's writer and shows what the core refuses under the
field it concerns; nothing is stored when a value is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.domain.errors import InvalidInput
from workbench.domain.homoglyphs import value_warnings
from workbench.domain.kinds import EventKind
from workbench.domain.normalise import display_name, normalise_domain
from workbench.services import casework
from workbench.ui import options
from workbench.ui.widgets import (
    DateTimeField,
    FieldErrors,
    NumberField,
    plain_label,
    warning_colour,
)


class _FormDialog(QDialog):
    """A dialog with a form, inline errors and Save/Cancel that saves through the writer."""

    saved = Signal(object)

    def __init__(self, window, title: str):
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(title)
        self.errors = FieldErrors(plain_label("", wrap=True, object_name="error_general"))
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors.general)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

    def add_row(self, label: str, widget: QWidget, name: str, aliases: tuple[str, ...] = ()):
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        box.addWidget(self.errors.add(name, widget, aliases))
        self.form.addRow(label, box)

    def save(self, fn) -> None:
        self.errors.clear()
        self.buttons.setEnabled(False)
        self.window_.runner.write(fn, self._done, self._failed)

    def _done(self, result: Any) -> None:
        self.buttons.setEnabled(True)
        self.saved.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.errors.show_refusal(exc)

    def submit(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError


class NewCaseDialog(_FormDialog):
    def __init__(self, window):
        super().__init__(window, "New case")
        self.setObjectName("new_case")
        self.title = QLineEdit(objectName="title")
        self.title.setPlaceholderText("e.g. Soundsbox")
        self.investigator = QLineEdit(objectName="investigator")
        self.summary = QPlainTextEdit(objectName="summary")
        self.summary.setFixedHeight(80)
        self.add_row("Title *", self.title, "title")
        self.add_row("Investigator", self.investigator, "investigator")
        self.add_row("Summary", self.summary, "summary")
        self.resize(480, 260)

    def submit(self) -> None:
        title = self.title.text()
        investigator = self.investigator.text().strip() or None
        summary = self.summary.toPlainText().strip() or None
        self.save(
            lambda db: casework.new_case(db, title, investigator=investigator, summary=summary)
        )


class RenameCaseDialog(_FormDialog):
    """Rename a case. The title is checked here, as the core checks it, so a refused one
    is shown under the field (and never enters the undo stack); the change itself is an
    undoable `CaseEdit` pushed by the window."""

    def __init__(self, window, case_id: int, current: str):
        super().__init__(window, "Rename case")
        self.setObjectName("rename_case")
        self.case_id = case_id
        self.current = current
        self.title = QLineEdit(objectName="title")
        self.title.setText(current)
        self.title.selectAll()
        self.add_row("New title *", self.title, "title")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Rename")
        self.resize(480, 140)

    def submit(self) -> None:
        self.errors.clear()
        try:
            title = display_name(self.title.text(), "title")
        except InvalidInput as exc:
            self.errors.show(exc)
            return
        if title != self.current:
            self.window_.push_case_edit(
                self.case_id, "rename case", {"title": self.current}, {"title": title}
            )
        self.saved.emit(title)
        self.accept()


class LookupDialog(QDialog):
    """Ask for one domain or URL to look up. A value the core refuses is shown under the
    field and the dialog stays open; a name that is valid but not what it looks like
    (mixed scripts, lookalike letters, invisible characters, a user name before an '@')
    is flagged as the user types, and the first Look up only makes sure the warning was
    seen: the button becomes "Look up anyway"."""

    chosen = Signal(str)  # the text as typed, for `MainWindow.look_up_domains`

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Look up a domain")
        self.setObjectName("lookup_dialog")
        self.domain = QLineEdit(objectName="lookup_domain")
        self.domain.setPlaceholderText("soundsbox.test or http://www.soundsbox.test/shop")
        self.errors = FieldErrors(plain_label("", wrap=True, object_name="error_general"))
        self.warning = plain_label("", wrap=True, object_name="lookup_warning")
        palette = self.warning.palette()
        palette.setColor(self.warning.foregroundRole(), warning_colour())
        self.warning.setPalette(palette)
        self.warning.setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.look_up_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.look_up_button.setText("Look up")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(self.domain)
        box.addWidget(self.errors.add("domain", self.domain))
        box.addWidget(self.warning)
        form.addRow("Domain or URL (it joins the case):", box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors.general)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._confirmed: str | None = None
        self.domain.textChanged.connect(self._show_warnings)
        self.resize(520, 160)

    def warnings(self, text: str) -> list[str]:
        """What may mislead in `text` (a domain or URL); [] for an ordinary name."""
        raw = text.strip()
        if "://" in raw:
            return value_warnings("url", raw, typed=raw)
        host = raw.split("/", 1)[0]
        return value_warnings("domain", host, typed=host)

    def _show_warnings(self, text: str) -> None:
        found = self.warnings(text)
        self.warning.setText("Lookalike: " + " ".join(found) if found else "")
        self.warning.setVisible(bool(found))
        self._confirmed = None
        self.look_up_button.setText("Look up")

    def submit(self) -> None:
        """Check the name on the reader thread (the first check loads the Public Suffix
        List, a tenth of a second the window would otherwise stall for)."""
        self.errors.clear()
        text = self.domain.text()
        self.buttons.setEnabled(False)
        self.window_.runner.read(
            lambda _db: normalise_domain(text, "domain"),
            lambda _name: self._checked(text),
            self._refused,
        )

    def _checked(self, text: str) -> None:
        self.buttons.setEnabled(True)
        if text != self.domain.text():
            return  # changed while being checked: the user asks again
        if self.warnings(text) and self._confirmed != text:
            self._show_warnings(text)
            self._confirmed = text
            self.look_up_button.setText("Look up anyway")
            self.domain.setFocus()
            return
        self.chosen.emit(text)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.errors.show_refusal(exc)


EVENT_KINDS = (
    (EventKind.CONTACT_ATTEMPT, "Contact attempt"),
    (EventKind.NOTICE_SENT, "Notice sent"),
    (EventKind.RESPONSE, "Response"),
    (EventKind.LEGAL_ACTION, "Legal action"),
    (EventKind.OBSERVATION, "Observation"),
    (EventKind.NOTE, "Note"),
)


class AddEventDialog(_FormDialog):
    """Add an event to a case's timeline: a contact attempt, a notice with a deadline..."""

    def __init__(self, window, case_id: int, entity_ids: list[int] | None = None):
        super().__init__(window, "Add an event")
        self.setObjectName("add_event")
        self.case_id = case_id
        self.entity_ids = list(entity_ids or [])
        self.kind = QComboBox(objectName="kind")
        for kind, label in EVENT_KINDS:
            self.kind.addItem(label, kind.value)
        self.text = QPlainTextEdit(objectName="text")
        self.text.setPlaceholderText("What happened, e.g. “IFPI wrote to Visa and MasterCard”")
        self.text.setFixedHeight(90)
        now = QDateTime.currentDateTimeUtc()
        self.at = DateTimeField(now)
        self.at.setObjectName("at")
        self.has_deadline = QCheckBox("Deadline", objectName="has_deadline")
        self.deadline = DateTimeField(now.addDays(14))
        self.deadline.setObjectName("deadline")
        self.deadline.setEnabled(False)
        self.has_deadline.toggled.connect(self.deadline.setEnabled)
        deadline_row = QWidget()
        deadline_layout = QHBoxLayout(deadline_row)
        deadline_layout.setContentsMargins(0, 0, 0, 0)
        deadline_layout.addWidget(self.has_deadline)
        deadline_layout.addWidget(self.deadline, 1)
        self.outcome = QLineEdit(objectName="outcome")
        self.outcome.setPlaceholderText("Empty until there is one (an open deadline)")
        self.add_row("Kind", self.kind, "kind", ("event kind",))
        self.add_row("What *", self.text, "text")
        self.add_row("When (UTC)", self.at, "at")
        self.add_row("", deadline_row, "deadline")
        self.add_row("Outcome", self.outcome, "outcome")
        if self.entity_ids:
            self.form.addRow("", plain_label(f"Linked to {len(self.entity_ids)} selected entities"))
        self.resize(520, 360)

    def submit(self) -> None:
        self.errors.clear()
        kind = self.kind.currentData()
        text = self.text.toPlainText()
        try:
            at = self.at.moment("at")
            deadline = self.deadline.moment("deadline") if self.has_deadline.isChecked() else None
        except InvalidInput as exc:
            self.errors.show(exc)
            return
        outcome = self.outcome.text().strip() or None
        case_id, entity_ids = self.case_id, self.entity_ids
        self.save(
            lambda db: casework.add_event(
                db,
                case_id,
                kind,
                text,
                at=at,
                deadline=deadline,
                outcome=outcome,
                entity_ids=entity_ids,
            )
        )


class AttachFileDialog(_FormDialog):
    """Attach files to a case as evidence (hashed on import)."""

    KINDS = (
        ("page_capture", "Page capture or screenshot"),
        ("email", "Email"),
        ("document", "Document"),
        ("note", "Note"),
        ("file", "Other file"),
    )

    def __init__(self, window, case_id: int, paths: list[Path] | None = None):
        super().__init__(window, "Attach evidence")
        self.case_id = case_id
        self.paths = list(paths or [])
        self.files = plain_label("", wrap=True)
        choose = self.choose_button = QPushButton("Choose files…")
        choose.clicked.connect(self._choose)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.files, 1)
        row.addWidget(choose)
        self.kind = QComboBox()
        for value, label in self.KINDS:
            self.kind.addItem(label, value)
        self.source = QLineEdit()
        self.source.setPlaceholderText("Where it came from (URL, sender)")
        self.note = QLineEdit()
        self.add_row("Files", box, "file")
        self.add_row("Kind", self.kind, "evidence kind")
        self.add_row("Source", self.source, "source")
        self.add_row("Note", self.note, "note")
        self._show_paths()
        self.resize(520, 220)

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach files as evidence")
        self.paths = [Path(p) for p in paths] or self.paths
        self._show_paths()

    def _show_paths(self) -> None:
        self.files.setText(", ".join(p.name for p in self.paths) or "No file chosen")

    def submit(self) -> None:
        if not self.paths:
            self.errors.show(InvalidInput("file", "", "choose at least one file"))
            return
        paths, kind = list(self.paths), self.kind.currentData()
        source = self.source.text().strip() or None
        note = self.note.text().strip() or None
        case_id = self.case_id

        def attach(db):
            from workbench.store.database import writing

            with writing(db):
                return [
                    casework.add_evidence_file(db, case_id, kind, path, source=source, note=note)
                    for path in paths
                ]

        self.save(attach)


class SettingsDialog(QDialog):
    """Every option of `options.LOOKUP_OPTIONS`, grouped, with its default; checked as a
    whole (`options.lookup_settings`) before anything is stored."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settings")
        self.errors = FieldErrors(plain_label("", wrap=True, object_name="error_general"))
        self.editors: dict[str, QWidget] = {}
        values = options.read_options()
        tabs = QTabWidget()
        groups: dict[str, QFormLayout] = {}
        for option in options.LOOKUP_OPTIONS:
            if option.group not in groups:
                page = QWidget()
                groups[option.group] = QFormLayout(page)
                tabs.addTab(page, option.group)
            editor = self._editor(option, values[option.key])
            self.editors[option.key] = editor
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(editor)
            if option.help:
                hint = plain_label(option.help, wrap=True)
                hint.setEnabled(False)
                box.addWidget(hint)
            box.addWidget(self.errors.add(option.key, editor))
            if option.type is bool:
                groups[option.group].addRow("", box)
            else:
                groups[option.group].addRow(option.label, box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors.general)
        layout.addWidget(tabs)
        layout.addWidget(self.buttons)
        self.resize(560, 460)

    def _editor(self, option: options.Option, value: Any) -> QWidget:
        name = option.key.split("/")[-1]
        if option.type is bool:
            editor = QCheckBox(option.label, objectName=name)
            editor.setChecked(bool(value))
        elif option.type in (int, float):
            # Typed as text and checked on saving: a spin box would silently put back
            # the last valid value when the field is left.
            editor = NumberField(decimals=option.type is float)
            editor.setObjectName(name)
            editor.setValue(value)
            if option.minimum is not None and option.maximum is not None:
                editor.setPlaceholderText(f"{option.minimum:g} to {option.maximum:g}")
        elif option.multiline:
            editor = QPlainTextEdit(objectName=name)
            editor.setPlainText(str(value))
            editor.setFixedHeight(80)
        else:
            editor = QLineEdit(objectName=name)
            editor.setText(str(value))
            editor.setPlaceholderText(str(option.default) or "(default)")
        return editor

    def values(self) -> dict[str, Any]:
        result = {}
        for key, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                result[key] = editor.isChecked()
            elif isinstance(editor, NumberField):
                result[key] = editor.text()  # options.write_options converts and checks it
            elif isinstance(editor, QPlainTextEdit):
                result[key] = editor.toPlainText()
            else:
                result[key] = editor.text()
        return result

    def restore_defaults(self) -> None:
        for option in options.LOOKUP_OPTIONS:
            editor = self.editors[option.key]
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(option.default))
            elif isinstance(editor, NumberField):
                editor.setValue(option.default)
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText(str(option.default))
            else:
                editor.setText(str(option.default))

    def submit(self) -> None:
        self.errors.clear()
        try:
            options.write_options(self.values())
        except InvalidInput as exc:
            self.errors.show(exc)
            return
        self.accept()
