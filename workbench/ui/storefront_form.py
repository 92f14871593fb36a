"""The storefront form: what the investigator saw on the shop, recorded in one go.

Everything is checked by the core: a value it refuses comes back as `InvalidInput`, whose
`field` puts the message under the right field, and nothing is stored (the storefront,
its links and the attached files are one transaction). Each text field keeps its own
undo history (Ctrl+Z) until the form is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.domain.errors import InvalidInput
from workbench.domain.kinds import EntityKind
from workbench.domain.prices import parse_price
from workbench.services.casework import add_evidence_bytes, read_evidence_file
from workbench.services.storefronts import StorefrontForm, record_storefront
from workbench.services.ui_queries import entities_of_kind
from workbench.store.database import writing
from workbench.ui.widgets import FieldErrors, plain_label

ATTACHMENT_KINDS = (
    ("page_capture", "Page capture or screenshot"),
    ("email", "Email"),
    ("document", "Document"),
    ("file", "Other file"),
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class StorefrontDialog(QDialog):
    """Record a storefront in a case. `saved` carries what `record_storefront` returned."""

    saved = Signal(dict)

    def __init__(self, window, case_id: int, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.window_ = window
        self.case_id = case_id
        self.setWindowTitle("Record a storefront")
        self.setObjectName("storefront_form")
        self.resize(720, 760)

        self.name = QLineEdit(objectName="name")
        self.name.setPlaceholderText("Soundsbox")
        self.urls = QPlainTextEdit(objectName="urls")
        self.urls.setPlaceholderText("One per line: http://www.soundsbox.test/")
        self.urls.setFixedHeight(60)
        self.operator = QLineEdit(objectName="operator")
        self.operator.setPlaceholderText("The company named on the site, if any")
        self.licence_claim = QPlainTextEdit(objectName="licence_claim")
        self.licence_claim.setPlaceholderText(
            "The claim as quoted on the site, e.g. “authorized by the license # 49/ZM-07 of "
            "the Russian Multimedia and Internet Society (ROMS)”"
        )
        self.licence_claim.setFixedHeight(70)
        self.licence_number = QLineEdit(objectName="licence_number")
        self.licence_number.setPlaceholderText("Read from the claim when left empty")
        self.society = QComboBox(objectName="society")
        self.society.setEditable(True)
        self.society.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.society.lineEdit().setPlaceholderText(
            "Pick a known society or type a new one; empty: read from the claim"
        )
        self.prices = QTableWidget(0, 3, objectName="prices")
        self.prices.setHorizontalHeaderLabels(["Amount", "Currency", "Per (unit)"])
        self.prices.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.prices.verticalHeader().setVisible(False)
        self.prices.setFixedHeight(110)
        add_price = QPushButton("Add price")
        add_price.clicked.connect(lambda: self.add_price_row())
        remove_price = QPushButton("Remove price")
        remove_price.clicked.connect(self._remove_price)
        self.catalogue_size = QLineEdit(objectName="catalogue_size")
        self.catalogue_size.setPlaceholderText("e.g. 5000000")
        self.languages = QLineEdit(objectName="languages")
        self.languages.setPlaceholderText("Comma-separated: English, Russian")
        self.market_notes = QPlainTextEdit(objectName="market_notes")
        self.market_notes.setFixedHeight(60)
        self.note = QLineEdit(objectName="note")
        self.source = QLineEdit(objectName="source")
        self.source.setPlaceholderText("Where this was seen (URL, email, report)")
        self.attachments = QTableWidget(0, 2, objectName="attachments")
        self.attachments.setHorizontalHeaderLabels(["File", "Kind"])
        self.attachments.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.attachments.verticalHeader().setVisible(False)
        self.attachments.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.attachments.setFixedHeight(100)
        attach = self.attach_button = QPushButton("Attach files…")
        attach.clicked.connect(self._choose_files)
        detach = QPushButton("Remove file")
        detach.clicked.connect(
            lambda: (
                self.attachments.removeRow(max(0, self.attachments.currentRow()))
                if self.attachments.rowCount()
                else None
            )
        )

        self.errors = FieldErrors(plain_label("", wrap=True, object_name="error_general"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def row(label: str, widget: QWidget, name: str, aliases: tuple[str, ...] = ()) -> None:
            box = QVBoxLayout()
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(self.errors.add(name, widget, aliases))
            form.addRow(label, box)

        row("Name *", self.name, "name", ("storefront", "title"))
        row("URLs", self.urls, "urls", ("url", "domain"))
        row("Operator", self.operator, "operator", ("organisation",))
        row("Licence claim", self.licence_claim, "licence_claim")
        row("Licence number", self.licence_number, "licence_number", ("licence",))
        row("Collecting society", self.society, "society", ("collecting_society", "issuer"))
        price_box = QWidget()
        price_layout = QVBoxLayout(price_box)
        price_layout.setContentsMargins(0, 0, 0, 0)
        price_layout.addWidget(self.prices)
        buttons = QHBoxLayout()
        buttons.addWidget(add_price)
        buttons.addWidget(remove_price)
        buttons.addStretch()
        price_layout.addLayout(buttons)
        row("Prices", price_box, "prices", ("price",))
        row("Catalogue size", self.catalogue_size, "catalogue_size")
        row("Languages", self.languages, "languages")
        row("Market notes", self.market_notes, "market_notes")
        row("Note", self.note, "note")
        row("Source", self.source, "source")
        files_box = QWidget()
        files_layout = QVBoxLayout(files_box)
        files_layout.setContentsMargins(0, 0, 0, 0)
        files_layout.addWidget(self.attachments)
        buttons = QHBoxLayout()
        buttons.addWidget(attach)
        buttons.addWidget(detach)
        buttons.addStretch()
        files_layout.addLayout(buttons)
        row("Attachments", files_box, "attachments", ("file", "evidence"))

        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addWidget(
            plain_label(
                "Only the name is required. The licence claim is read for a licence number and "
                "the collecting society it names, so stores quoting the same society link up "
                "by themselves. Attached files are hashed and kept as evidence.",
                wrap=True,
            )
        )
        inner_layout.addWidget(self.errors.general)
        inner_layout.addLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(self.buttons)
        self.add_price_row()
        self._load_societies()

    # -- inputs ------------------------------------------------------------------------

    def _load_societies(self) -> None:
        # A small read: the store's collecting societies, to pick from.
        self.society.addItem("")
        for entity in entities_of_kind(self.window_.db, EntityKind.COLLECTING_SOCIETY.value):
            self.society.addItem(entity.value)

    def add_price_row(self, amount: str = "", currency: str = "USD", unit: str = "track") -> None:
        row = self.prices.rowCount()
        self.prices.insertRow(row)
        for column, text in enumerate((amount, currency, unit)):
            self.prices.setItem(row, column, QTableWidgetItem(text))

    def _remove_price(self) -> None:
        if self.prices.rowCount():
            self.prices.removeRow(max(0, self.prices.currentRow()))

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach files as evidence")
        for path in paths:
            self.add_attachment(Path(path))

    def add_attachment(self, path: Path, kind: str = "page_capture") -> None:
        row = self.attachments.rowCount()
        self.attachments.insertRow(row)
        item = QTableWidgetItem(path.name)
        item.setData(Qt.ItemDataRole.UserRole, str(path))
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.attachments.setItem(row, 0, item)
        combo = QComboBox()
        for value, label in ATTACHMENT_KINDS:
            combo.addItem(label, value)
        combo.setCurrentIndex(max(0, combo.findData(kind)))
        self.attachments.setCellWidget(row, 1, combo)

    # -- reading the form --------------------------------------------------------------

    def _prices(self) -> list:
        """The filled price rows, each read by the core; InvalidInput("prices") naming the
        row of the first one refused (a ':' typed into a cell would shift the parts)."""
        prices = []
        for row in range(self.prices.rowCount()):
            cells = [
                (self.prices.item(row, c).text() if self.prices.item(row, c) else "").strip()
                for c in range(3)
            ]
            if not cells[0]:
                continue  # no amount: a row not filled in (it starts as "", USD, track)
            for cell in cells:
                if ":" in cell:
                    raise InvalidInput(
                        "prices", cell, f"has a ':' (row {row + 1}): one part per column"
                    )
            try:
                prices.append(parse_price(":".join(cells), "prices"))
            except InvalidInput as exc:
                raise InvalidInput("prices", exc.value, f"{exc.reason} (row {row + 1})") from None
        return prices

    def _attachments(self) -> list[tuple[str, Path]]:
        items = []
        for row in range(self.attachments.rowCount()):
            path = Path(self.attachments.item(row, 0).data(Qt.ItemDataRole.UserRole))
            kind = self.attachments.cellWidget(row, 1).currentData()
            items.append((kind, path))
        return items

    def form(self) -> StorefrontForm:
        """The form as the core takes it; raises InvalidInput for a price it refuses."""

        def text(widget) -> str | None:
            value = widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()
            return value.strip() or None

        society = self.society.currentText().strip()
        catalogue: Any = text(self.catalogue_size)
        return StorefrontForm(
            name=self.name.text(),
            urls=_lines(self.urls.toPlainText()),
            operator=text(self.operator),
            licence_claim=text(self.licence_claim),
            licence_number=text(self.licence_number),
            societies=[society] if society else [],
            prices=self._prices(),
            catalogue_size=catalogue,  # the core reads "5,000,000" or refuses it by name
            languages=[s.strip() for s in (self.languages.text() or "").split(",") if s.strip()],
            market_notes=text(self.market_notes),
            note=text(self.note),
            source=text(self.source),
        )

    # -- saving ------------------------------------------------------------------------

    def submit(self) -> None:
        self.errors.clear()
        try:
            form = self.form()
        except InvalidInput as exc:
            self.errors.show(exc)
            return
        attachments = self._attachments()
        case_id = self.case_id
        self.buttons.setEnabled(False)

        def save(db) -> dict:
            # Read every file first, so a missing one refuses the form before anything
            # is written; then the storefront and the files in one transaction.
            contents = [
                (kind, path.name, read_evidence_file(path, "attachments"))
                for kind, path in attachments
            ]
            with writing(db):
                result = record_storefront(db, case_id, form)
                result["evidence"] = [
                    add_evidence_bytes(db, case_id, kind, content, filename=name).as_dict()
                    for kind, name, content in contents
                ]
            return result

        self.window_.runner.write(save, self._saved, self._failed)

    def _saved(self, result: dict) -> None:
        self.buttons.setEnabled(True)
        self.saved.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.errors.show_refusal(exc)
