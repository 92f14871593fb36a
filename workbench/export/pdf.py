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

import math
import os
import re
import time
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
    QTextCursor,
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
    GRAPH_MARKER,
    STYLE,
    build_case_file_html,
    esc,
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
    html = built.html.replace(
        "@@graph-caption@@",
        _legend(picture)
        + graph_caption(len(picture.nodes), picture.total_nodes, picture.total_edges),
    )
    ensure_gui_application()
    with atomic_path(path) as partial:
        pages = _render(partial, html, built.sections, picture, data, contents, names)
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


def _font(family: str, points: float, bold: bool = False) -> QFont:
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

    def __init__(self, picture: GraphPicture, size: QSizeF, parent=None):
        super().__init__(parent)
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


def _render(
    target: Path,
    html: str,
    sections,
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
    page_width, page_height = writer.width(), writer.height()
    body = QSizeF(page_width - MARGIN_LEFT - MARGIN_RIGHT, page_height - MARGIN_TOP - MARGIN_BOTTOM)

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(_font("DejaVu Serif", 9.5))
    document.setDefaultStyleSheet(STYLE)
    document.setDocumentMargin(0)
    document.setPageSize(body)
    graph = _GraphObject(
        picture, QSizeF(body.width(), min(body.height() * 0.78, body.width() * 1.05)), document
    )
    document.documentLayout().registerHandler(_GraphObject.TYPE, graph)
    document.setHtml(html)
    cursor = document.find(GRAPH_MARKER)
    if not cursor.isNull():
        object_format = QTextCharFormat()
        object_format.setObjectType(_GraphObject.TYPE)
        cursor.insertText("\ufffc", object_format)
        _relayout(document)
    if _fill_contents_pages(document, sections, body.height()):
        _relayout(document)
    page_count = document.pageCount()

    for item in data.evidence:
        writer.addFileAttachment(names[item.id], contents[item.id], item.media_type)

    painter = QPainter()
    if not painter.begin(writer):
        raise WorkbenchError(f"cannot write the PDF at {target}")
    try:
        header_font = _font("DejaVu Sans", 7.5)
        rule = QPen(QColor("#9aa4ad"), 0.2 * MM)
        title = data.case.title if len(data.case.title) <= 80 else data.case.title[:79] + "…"
        generated = f"Generated {when(data.generated_at)} by workbench {__version__}"
        for page in range(page_count):
            if page:
                writer.newPage()
            painter.save()
            painter.translate(MARGIN_LEFT, MARGIN_TOP - page * body.height())
            document.drawContents(
                painter, QRectF(0, page * body.height(), body.width(), body.height())
            )
            painter.restore()
            painter.setFont(header_font)
            painter.setPen(QColor("#44505c"))
            head = QRectF(MARGIN_LEFT, MARGIN_TOP - 12 * MM, body.width(), 6 * MM)
            painter.drawText(
                head,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"Case {data.case.id} · {title}",
            )
            painter.drawText(
                head, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "Case file"
            )
            foot = QRectF(MARGIN_LEFT, page_height - MARGIN_BOTTOM + 6 * MM, body.width(), 6 * MM)
            painter.drawText(
                foot, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, generated
            )
            painter.drawText(
                foot,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"Page {page + 1} of {page_count}",
            )
            painter.setPen(rule)
            painter.drawLine(
                QPointF(MARGIN_LEFT, head.bottom() + 1 * MM),
                QPointF(MARGIN_LEFT + body.width(), head.bottom() + 1 * MM),
            )
            painter.drawLine(
                QPointF(MARGIN_LEFT, foot.top() - 1 * MM),
                QPointF(MARGIN_LEFT + body.width(), foot.top() - 1 * MM),
            )
    finally:
        painter.end()
    return page_count


def _relayout(document: QTextDocument) -> None:
    """Lay the whole document out again after an edit.

    QTextDocumentLayout relays out an edit incrementally and can then skip whole blocks
    when it draws a page (seen with Qt 6.12: headings and raw text missing from later
    pages); marking everything dirty makes the next layout complete and consistent."""
    document.markContentsDirty(0, document.characterCount())


def _fill_contents_pages(document: QTextDocument, sections, page_height: float) -> bool:
    """Replace the contents' page markers with the page each section heading landed on.

    The markers sit on the cover page, so writing the numbers in does not move anything
    that comes after the cover. Returns whether anything was written."""
    layout = document.documentLayout()
    pages = {}
    block = document.begin()
    wanted = {section.heading: section for section in sections}
    while block.isValid():
        section = wanted.get(block.text())
        # The contents table repeats each heading's text: only a heading outside a table
        # is the section itself.
        in_table = QTextCursor(block).currentTable() is not None
        if section is not None and not in_table and section.number not in pages:
            # Layout positions are rounded to 1/64 of a pixel, so a heading at the top
            # of a page can sit a hair above the page's exact start.
            top = layout.blockBoundingRect(block).top() + 1
            pages[section.number] = int(top // page_height) + 1
        block = block.next()
    written = False
    for section in sections:
        cursor = document.find(section.marker)
        if not cursor.isNull():
            cursor.insertText(str(pages.get(section.number, "")))
            written = True
    return written
