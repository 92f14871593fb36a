"""The PDF case file: what a lawyer reads, page by page, and can check exhibit by exhibit.

Before anything is written, every evidence hash in the store and the audit chain are
verified (`verify_store`), and each exhibit's bytes are hashed again as they are read: any
mismatch refuses the export, naming the item. The text is laid out by a QTextDocument
(HTML built in `pdf_html`, every store value escaped) and painted page by page onto a
QPdfWriter, which adds the header (case id), the footer (page x of y, generation time) and
the link graph, drawn as vectors by a text object. Fonts are embedded (DejaVu, for
Cyrillic and the rest of Unicode) and each exhibit's raw bytes are attached to the PDF.

QtGui only, no widgets: without a running Qt application, an offscreen QGuiApplication is
started, so the export works from the command line with no display.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPolygonF,
    QPyTextObject,
    QTextCharFormat,
    QTextDocument,
    QTextFormat,
)
from sqlite_utils import Database

from workbench import __version__
from workbench.domain.errors import WorkbenchError
from workbench.export.casedata import KIND_TITLES, CaseData, evidence_content, load_case
from workbench.export.files import atomic_path
from workbench.export.graph_layout import GraphPicture, layout_case
from workbench.export.pdf_html import (
    EXHIBIT_HEADING,
    GRAPH_CAPTION_MARKER,
    GRAPH_MARKER,
    MARK,
    STYLE,
    CaseFileHtml,
    Section,
    build_case_file_html,
    esc,
    exhibit_marker,
    graph_caption,
    when,
)
from workbench.lookups.dns_parse import render_dns_capture
from workbench.store.evidence import sha256_hex
from workbench.store.verify import verify_store

DPI = 300
MM = DPI / 25.4
MARGIN_LEFT = 20 * MM
MARGIN_RIGHT = 20 * MM
MARGIN_TOP = 24 * MM
MARGIN_BOTTOM = 22 * MM

KIND_COLOURS = {
    "storefront": "#c0392b",
    "organisation": "#8e44ad",
    "person": "#d35400",
    "collecting_society": "#16a085",
    "licence": "#27ae60",
    "payment_processor": "#2c3e50",
    "registrar": "#2471a3",
    "domain": "#1a5276",
    "url": "#5dade2",
    "ip_address": "#717d7e",
    "network": "#a6acaf",
    "nameserver": "#a04000",
    "host": "#b7950b",
    "email": "#6c3483",
    "phone": "#117864",
}
_MEDIA_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "application/json": "json",
    "application/rdap+json": "json",
    "application/dns-message": "dns",
    "message/rfc822": "eml",
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

_APP: QGuiApplication | None = None


class ExportRefused(WorkbenchError):
    """The case file was not written because something in the store does not check out."""


@dataclass
class PdfResult:
    path: str
    pages: int
    bytes: int
    exhibits: int
    seconds: float
    uncited_facts: int

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "pages": self.pages,
            "bytes": self.bytes,
            "exhibits": self.exhibits,
            "seconds": round(self.seconds, 3),
            "uncited_facts": self.uncited_facts,
        }


@contextlib.contextmanager
def _none_kept_alive() -> Iterator[None]:
    """Give back the references to None that Qt calls take during the block.

    PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a method that
    returns nothing (setPen, drawLine, newPage, ...; 6.11.3 does not, and from Python 3.12
    None is immortal). A case file makes thousands of such calls; without this the
    interpreter aborts ("none_dealloc") when it exits. A reserve keeps the count positive
    during the block; what was lost is then given back as references nothing ever
    releases (held by a list, they would be released again when the interpreter exits)."""
    reserve = [None] * 1_000_000
    before = sys.getrefcount(None)
    try:
        yield
    finally:
        lost = before - sys.getrefcount(None)
        del reserve
        if lost > 0:
            increment = ctypes.pythonapi.Py_IncRef
            increment.argtypes = [ctypes.py_object]
            increment.restype = None
            for _ in range(lost):
                increment(None)


def ensure_gui_application() -> None:
    """QTextDocument and fonts need a QGuiApplication; start an offscreen one if none runs."""
    global _APP
    instance = QGuiApplication.instance()
    if instance is None:
        _APP = QGuiApplication(["workbench", "-platform", "offscreen"])
    elif not isinstance(instance, QGuiApplication):
        raise WorkbenchError("the PDF export needs a Qt GUI application, not a core one")


def attachment_name(
    number: int, kind: str, media_type: str, filename: str | None, query: str | None, sha256: str
) -> str:
    """E003-whois-soundsbox.test-3f1a9c2b44d0.txt: sortable, readable, unique by hash."""
    if filename and "." in filename:
        extension = filename.rsplit(".", 1)[1]
    else:
        extension = _MEDIA_EXTENSIONS.get(media_type.split(";")[0].strip(), "bin")
    extension = _UNSAFE_NAME.sub("", extension)[:8] or "bin"
    about = _UNSAFE_NAME.sub(
        "_",
        (query or filename or "").rsplit(".", 1)[0] if filename and not query else (query or ""),
    )
    about = about.strip("._-")[:40]
    parts = [f"E{number:03d}", kind] + ([about] if about else []) + [sha256[:12]]
    return "-".join(parts) + "." + extension


def refuse_unless_verified(db: Database) -> dict[str, int]:
    """Verify every evidence hash and the audit chain; raise naming the first problems."""
    report = verify_store(db)
    if not report.ok:
        shown = "; ".join(report.problems[:3])
        more = f" (and {len(report.problems) - 3} more)" if len(report.problems) > 3 else ""
        raise ExportRefused(
            f"the case file was not written: the store failed verification: {shown}{more}. "
            "Run `workbench verify` for the full report."
        )
    return {"evidence": report.checked_evidence, "audit_rows": report.checked_audit_rows}


def _read_exhibits(db: Database, data: CaseData) -> dict[int, bytes]:
    """Each exhibit's bytes, hashed again as read: the bytes attached are the bytes checked."""
    contents = {}
    for number, item in enumerate(data.evidence, 1):
        content = evidence_content(db, item.id)
        if sha256_hex(content) != item.sha256:
            raise ExportRefused(
                f"the case file was not written: exhibit E{number} (evidence {item.id}) no "
                "longer matches its SHA-256"
            )
        contents[item.id] = content
    return contents


def _renderings(data: CaseData, contents: dict[int, bytes]) -> dict[int, str]:
    """Readable renderings of binary formats the workbench understands (DNS messages)."""
    return {
        item.id: render_dns_capture(contents[item.id])
        for item in data.evidence
        if item.media_type == "application/dns-message"
    }


def export_pdf(db: Database, case_id: int, path: str | os.PathLike) -> PdfResult:
    """Write the case file of `case_id` to `path` (replacing it only when complete)."""
    started = time.perf_counter()
    verified = refuse_unless_verified(db)
    data = load_case(db, case_id)
    contents = _read_exhibits(db, data)
    names = {
        item.id: attachment_name(
            number, item.kind, item.media_type, item.filename, item.query, item.sha256
        )
        for number, item in enumerate(data.evidence, 1)
    }
    built = build_case_file_html(data, contents, _renderings(data, contents), names, verified)
    picture = layout_case(data)
    caption = _legend(picture) + graph_caption(
        len(picture.nodes), picture.total_nodes, picture.total_edges
    )
    for part in built.parts:
        part.html = part.html.replace(GRAPH_CAPTION_MARKER, caption)
    with atomic_path(path) as partial, _none_kept_alive():
        ensure_gui_application()
        pages = _render(partial, built, picture, data, contents, names)
    target = Path(path)
    return PdfResult(
        path=str(target),
        pages=pages,
        bytes=target.stat().st_size,
        exhibits=len(data.evidence),
        seconds=time.perf_counter() - started,
        uncited_facts=built.uncited_facts,
    )


def _legend(picture: GraphPicture) -> str:
    kinds = sorted(
        {node.kind for node in picture.nodes},
        key=lambda k: list(KIND_COLOURS).index(k) if k in KIND_COLOURS else 99,
    )
    cells = [
        f'<td width="20%"><span style="color: {KIND_COLOURS.get(kind, "#555555")}">'
        f'&#9679;</span> <span class="kind">{esc(KIND_TITLES.get(kind, kind))}</span></td>'
        for kind in kinds
    ]
    rows = "".join(
        "<tr>" + "".join(cells[start : start + 5]) + "</tr>" for start in range(0, len(cells), 5)
    )
    return f'<table class="meta" width="100%" cellspacing="0" cellpadding="1">{rows}</table>'


@functools.cache
def _font(family: str, points: float, bold: bool = False) -> QFont:
    """A font for the case file (made once per family and size; never changed after)."""
    font = QFont(family if family in QFontDatabase.families() else "")
    font.setPointSizeF(points)
    font.setBold(bold)
    # No ligatures: "ﬁ" as one glyph breaks searching and copying the text of the file.
    for tag in ("liga", "clig", "dlig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


class _GraphObject(QPyTextObject):
    """Draws the link graph, as vectors, wherever the document places its object."""

    TYPE = QTextFormat.ObjectTypes.UserObject + 1

    def __init__(self, picture: GraphPicture, size: QSizeF):
        super().__init__()
        self.picture = picture
        self.size = size

    def intrinsicSize(self, doc, position, fmt):
        return self.size

    def drawObject(self, painter, rect, doc, position, fmt):
        draw_graph(painter, rect, self.picture)


def draw_graph(painter: QPainter, rect: QRectF, picture: GraphPicture) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#c8ced3"), 0.3 * MM))
    painter.drawRect(rect)
    if not picture.nodes:
        painter.setFont(_font("DejaVu Sans", 9))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No entities to draw.")
        painter.restore()
        return
    pad = 14 * MM
    inner = rect.adjusted(pad, 8 * MM, -pad, -8 * MM)
    where = {
        node.entity_id: QPointF(
            inner.left() + node.x * inner.width(), inner.top() + node.y * inner.height()
        )
        for node in picture.nodes
    }
    radius = (1.6 if len(picture.nodes) <= 40 else 1.0) * MM
    label_font = _font("DejaVu Sans", 6 if len(picture.nodes) <= 40 else 4.5)
    edge_font = _font("DejaVu Sans", 4.5)
    edge_pen = QPen(QColor("#8a949c"), 0.18 * MM)
    painter.setFont(edge_font)
    for edge in picture.edges:
        start, end = where[edge.src], where[edge.dst]
        dx, dy = end.x() - start.x(), end.y() - start.y()
        length = math.hypot(dx, dy)
        if length < 1:
            continue
        ux, uy = dx / length, dy / length
        tip = QPointF(end.x() - ux * radius, end.y() - uy * radius)
        painter.setPen(edge_pen)
        painter.drawLine(QPointF(start.x() + ux * radius, start.y() + uy * radius), tip)
        head = 1.1 * MM
        arrow = QPolygonF(
            [
                tip,
                QPointF(
                    tip.x() - ux * head - uy * head * 0.5, tip.y() - uy * head + ux * head * 0.5
                ),
                QPointF(
                    tip.x() - ux * head + uy * head * 0.5, tip.y() - uy * head - ux * head * 0.5
                ),
            ]
        )
        painter.setBrush(QBrush(QColor("#8a949c")))
        painter.drawPolygon(arrow)
        if picture.edge_labels:
            painter.setPen(QColor("#5d6870"))
            middle = QPointF((start.x() + end.x()) / 2, (start.y() + end.y()) / 2)
            painter.drawText(middle, edge.label)
    metrics = QFontMetricsF(label_font, painter.device())
    painter.setFont(label_font)
    for node in picture.nodes:
        centre = where[node.entity_id]
        colour = QColor(KIND_COLOURS.get(node.kind, "#555555"))
        painter.setPen(QPen(colour.darker(130), 0.2 * MM))
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(centre, radius, radius)
        width = metrics.horizontalAdvance(node.label)
        box = QRectF(
            centre.x() - width / 2 - 0.4 * MM,
            centre.y() + radius + 0.3 * MM,
            width + 0.8 * MM,
            metrics.height(),
        )
        backdrop = QPainterPath()
        backdrop.addRect(box)
        painter.fillPath(backdrop, QColor(255, 255, 255, 210))
        painter.setPen(QColor("#1b2631"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, node.label)
    painter.restore()


class _Page:
    """Page geometry at the writer's resolution."""

    def __init__(self, writer: QPdfWriter):
        self.width, self.height = writer.width(), writer.height()
        self.body = QSizeF(
            self.width - MARGIN_LEFT - MARGIN_RIGHT, self.height - MARGIN_TOP - MARGIN_BOTTOM
        )


def _new_document(writer: QPdfWriter, page: _Page, html: str) -> QTextDocument:
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(_font("DejaVu Serif", 9.5))
    document.setDefaultStyleSheet(STYLE)
    document.setDocumentMargin(0)
    document.setPageSize(page.body)
    document.setHtml(html)
    return document


def _render(
    target: Path,
    built: CaseFileHtml,
    picture: GraphPicture,
    data: CaseData,
    contents: dict[int, bytes],
    names: dict[int, str],
) -> int:
    writer = QPdfWriter(str(target))
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    writer.setTitle(f"Case {data.case.id}: {data.case.title}")
    writer.setCreator(f"Rights-Investigation Workbench {__version__}")
    page = _Page(writer)
    graph = _GraphObject(
        picture, QSizeF(page.body.width(), min(page.body.height() * 0.78, page.body.width() * 1.05))
    )
    parts = [built.cover, *built.parts]
    documents = []
    for part in parts:
        document = _new_document(writer, page, part.html)
        if GRAPH_MARKER in part.html:
            _insert_graph(document, graph)
        documents.append(document)
    # The cover's contents and the schedule of exhibits name the pages where sections and
    # exhibits start, which are known only once everything is laid out. Parts holding
    # such markers are laid out with the markers first, then again with the numbers (a
    # new document each time: editing a laid-out document is what Qt gets wrong).
    exhibit_pages: dict = {}
    for _ in range(3):
        numbers = _page_numbers(parts, documents, page.body.height(), exhibit_pages)
        changed = False
        for index, part in enumerate(parts):
            if MARK not in part.html:
                continue
            html = _fill_markers(part.html, numbers)
            document = _new_document(writer, page, html)
            changed |= document.pageCount() != documents[index].pageCount()
            documents[index] = document
        if not changed:
            break
    total = sum(document.pageCount() for document in documents)

    for item in data.evidence:
        writer.addFileAttachment(names[item.id], contents[item.id], item.media_type)

    painter = QPainter()
    if not painter.begin(writer):
        raise WorkbenchError(f"cannot write the PDF at {target}")
    try:
        number = 0
        for document in documents:
            for index in range(document.pageCount()):
                if number:
                    writer.newPage()
                number += 1
                painter.save()
                painter.translate(MARGIN_LEFT, MARGIN_TOP - index * page.body.height())
                document.drawContents(
                    painter,
                    QRectF(0, index * page.body.height(), page.body.width(), page.body.height()),
                )
                painter.restore()
                _draw_margins(painter, page, data, number, total)
    finally:
        painter.end()
    return total


def _insert_graph(document: QTextDocument, graph: _GraphObject) -> None:
    graph.setParent(document)
    document.documentLayout().registerHandler(_GraphObject.TYPE, graph)
    cursor = document.find(GRAPH_MARKER)
    if cursor.isNull():
        return
    object_format = QTextCharFormat()
    object_format.setObjectType(_GraphObject.TYPE)
    cursor.insertText("\ufffc", object_format)
    _relayout(document)


def _draw_margins(painter: QPainter, page: _Page, data: CaseData, number: int, total: int):
    """The header (case id and title) and the footer (generation time, page x of y)."""
    title = data.case.title if len(data.case.title) <= 80 else data.case.title[:79] + "…"
    painter.setFont(_font("DejaVu Sans", 7.5))
    painter.setPen(QColor("#44505c"))
    head = QRectF(MARGIN_LEFT, MARGIN_TOP - 12 * MM, page.body.width(), 6 * MM)
    left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(head, left, f"Case {data.case.id} · {title}")
    painter.drawText(head, right, "Case file")
    foot = QRectF(MARGIN_LEFT, page.height - MARGIN_BOTTOM + 6 * MM, page.body.width(), 6 * MM)
    painter.drawText(foot, left, f"Generated {when(data.generated_at)} by workbench {__version__}")
    painter.drawText(foot, right, f"Page {number} of {total}")
    painter.setPen(QPen(QColor("#9aa4ad"), 0.2 * MM))
    painter.drawLine(
        QPointF(MARGIN_LEFT, head.bottom() + 1 * MM),
        QPointF(MARGIN_LEFT + page.body.width(), head.bottom() + 1 * MM),
    )
    painter.drawLine(
        QPointF(MARGIN_LEFT, foot.top() - 1 * MM),
        QPointF(MARGIN_LEFT + page.body.width(), foot.top() - 1 * MM),
    )


def _relayout(document: QTextDocument) -> None:
    """Lay the whole document out again after an edit.

    QTextDocumentLayout relays out an edit incrementally and can then skip whole blocks
    when it draws a page (seen with Qt 6.12: headings and raw text missing from later
    pages); marking everything dirty makes the next layout complete and consistent."""
    document.markContentsDirty(0, document.characterCount())


def _page_numbers(parts, documents, page_height: float, exhibits: dict) -> dict[str, int]:
    """Marker -> the page (from 1) its section or exhibit starts on. `exhibits` keeps the
    exhibit pages found in a document, which holds no markers and is laid out once."""
    numbers: dict[str, int] = {}
    offset = 0
    for part, document in zip(parts, documents, strict=True):
        for number, within in _section_pages(document, part.sections, page_height):
            numbers[Section(number, "").marker] = offset + within + 1
        if part.holds_exhibits:
            if id(document) not in exhibits:
                exhibits[id(document)] = list(_exhibit_pages(document, page_height))
            for number, within in exhibits[id(document)]:
                numbers[exhibit_marker(number)] = offset + within + 1
        offset += document.pageCount()
    return numbers


def _fill_markers(html: str, numbers: dict[str, int]) -> str:
    pattern = f"{MARK}(?:page|exhibit)-[^{MARK}]+{MARK}"
    return re.sub(pattern, lambda m: str(numbers.get(m.group(), "")), html)


def _exhibit_pages(document: QTextDocument, page_height: float):
    """(exhibit number, page within the document) for each exhibit heading (a heading
    block: a line of raw evidence that reads like one does not count)."""
    layout = document.documentLayout()
    block = document.begin()
    while block.isValid():
        match = EXHIBIT_HEADING.match(block.text())
        if match and block.blockFormat().headingLevel() == 3:
            top = layout.blockBoundingRect(block).top() + 1
            yield int(match.group(1)), int(top // page_height)
        block = block.next()


def _section_pages(document: QTextDocument, sections, page_height: float):
    """(section number, page within the document) for each section heading it holds."""
    if not sections:
        return
    if len(sections) == 1:
        yield sections[0].number, 0
        return
    layout = document.documentLayout()
    wanted = {section.heading: section for section in sections}
    found = set()
    block = document.begin()
    while block.isValid() and len(found) < len(wanted):
        section = wanted.get(block.text())
        # (The contents table repeating the headings is in the cover, a document of its
        # own. Not QTextCursor.currentTable(): PySide6 6.12 drops a reference to None
        # each time it returns None, and the interpreter aborts at exit.)
        if section is not None and section.number not in found:
            found.add(section.number)
            # Layout positions are rounded to 1/64 of a pixel, so a heading at the top of
            # a page can sit a hair above the page's exact start.
            top = layout.blockBoundingRect(block).top() + 1
            yield section.number, int(top // page_height)
        block = block.next()
