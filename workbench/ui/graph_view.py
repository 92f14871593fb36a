"""The link graph of a case: a QGraphicsView with an icon per entity kind, laid out by
networkx (graph_layout), zoom (wheel, +/-), pan (drag the background), select to show
details, drag nodes to arrange (the layout is saved per case), expand a node to bring in
its neighbours from the whole store, and export as PNG or SVG.

Built for thousands of nodes: each node paints from a cached pixmap per kind and is
itself cached (DeviceCoordinateCache); zoomed out, nodes draw as discs without labels;
the layout is computed once off the main thread, never per frame.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLineF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services import ui_queries
from workbench.ui import options
from workbench.ui.icons import action_icon, kind_name, kind_pixmap
from workbench.ui.widgets import is_dark, plain_label, show_message

ICON = 32.0
LABEL_CHARS = 32
# Levels of detail by zoom: icons from 0.3 (10 pixels: a shape can be told); labels from
# 0.55 in a small graph, and in a large one from 0.8 (the 8.5 pt label is then about 9
# pixels high: below that, hundreds of labels are a grey smear that costs half of each
# frame).
ICONS_FROM = 0.3
LABELS_FROM = 0.55
LABELS_FROM_LARGE = 0.8
LARGE_GRAPH = 500  # nodes


def detail_at(level: float, nodes: int) -> tuple[bool, bool]:
    """(icons, labels) shown at a zoom level in a graph of `nodes` nodes."""
    labels_from = LABELS_FROM_LARGE if nodes > LARGE_GRAPH else LABELS_FROM
    return level >= ICONS_FROM, level >= labels_from


KIND_COLOURS = {
    "storefront": "#c2410c",
    "domain": "#1d4ed8",
    "person": "#7c3aed",
    "organisation": "#6d28d9",
    "registrar": "#0f766e",
    "collecting_society": "#b91c1c",
    "licence": "#a16207",
    "payment_processor": "#047857",
    "ip_address": "#0369a1",
    "network": "#0e7490",
    "nameserver": "#4338ca",
    "email": "#be185d",
    "phone": "#15803d",
    "url": "#2563eb",
    "host": "#475569",
}


def _elide(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


class NodeItem(QGraphicsEllipseItem):
    """An entity: its kind's icon and its name, drawn by Qt's own items (C++ painting:
    no Python runs per node per frame, which is what keeps 2,000 nodes interactive).

    Zoomed far out the icon gives way to a disc of the kind's colour and the labels hide
    (`GraphScene.set_detail`), switched only when the zoom crosses a threshold."""

    def __init__(self, entity_id: int, kind: str, value: str, in_case: bool, shared: bool):
        super().__init__(-ICON / 2, -ICON / 2, ICON, ICON)
        self.entity_id = entity_id
        self.kind = kind
        self.value = value
        self.label_text = _elide(value)
        self.in_case = in_case
        self.shared = shared
        self.expanded = False
        self.edges: list[EdgeItem] = []
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setZValue(1)
        self.setToolTip(kind_name(kind))  # never the value: tooltips may render rich text
        self.setBrush(QColor(KIND_COLOURS.get(kind, "#64748b")))
        self._rest_pen()
        self.icon = QGraphicsPixmapItem(_node_pixmap(kind), self)
        self.icon.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.icon.setScale(ICON / ICON_PIXELS)
        self.icon.setOffset(-ICON_PIXELS / 2, -ICON_PIXELS / 2)
        self.icon.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.label = QGraphicsSimpleTextItem(self.label_text, self)
        self.label.setFont(_label_font())
        self.label.setBrush(_label_brush())
        width = self.label.boundingRect().width()
        self.label.setPos(-width / 2, ICON / 2 + 2)
        self.label.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        if shared:
            badge = QGraphicsEllipseItem(ICON / 2 - 9, -ICON / 2 - 1, 10, 10, self)
            badge.setBrush(QColor("#f59e0b"))
            badge.setPen(QPen(QColor("#ffffff"), 1))
            badge.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def _rest_pen(self) -> None:
        if self.in_case:
            self.setPen(QPen(Qt.PenStyle.NoPen))
        else:
            pen = QPen(QColor("#94a3b8"), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            self.setPen(pen)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            if value:
                pen = QPen(QColor("#f59e0b"), 3)
                pen.setCosmetic(True)
                self.setPen(pen)
            else:
                self._rest_pen()
        return super().itemChange(change, value)

    def set_detail(self, icons: bool, labels: bool) -> None:
        self.icon.setVisible(icons)
        self.label.setVisible(labels)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        scene = self.scene()
        if isinstance(scene, GraphScene):
            scene.node_moved.emit()

    def mouseDoubleClickEvent(self, event) -> None:
        scene = self.scene()
        if isinstance(scene, GraphScene):
            scene.expand_requested.emit(self.entity_id)


ICON_PIXELS = 64  # the icon is rendered at twice its scene size: sharp up to 2x zoom


@cache
def _node_pixmap(kind: str) -> QPixmap:
    return kind_pixmap(kind, ICON_PIXELS, 1.0)


@cache
def _label_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    return font


def _label_brush() -> QColor:
    return _label_colour(is_dark())


@cache
def _label_colour(dark: bool) -> QColor:
    return QColor("#e5e7eb") if dark else QColor("#1f2937")


@cache
def _edge_pen() -> QPen:
    pen = QPen(QColor("#7c8797"), 0)
    pen.setCosmetic(True)
    return pen


class EdgeItem(QGraphicsLineItem):
    """A link between two nodes, coloured by whether it rests on evidence."""

    def __init__(self, link: dict[str, Any], source: NodeItem, target: NodeItem):
        super().__init__()
        self.link_id = link["id"]
        self.link_type = link["type"]
        self.source = source
        self.target = target
        source.edges.append(self)
        target.edges.append(self)
        self.setZValue(0)
        # An opaque hairline: the raster engine draws it on its fast path, where a
        # translucent or wide line costs a blend per pixel (thousands of edges per frame).
        self.setPen(_edge_pen())
        self.setToolTip(link["type"].replace("_", " "))
        self.adjust()

    def adjust(self) -> None:
        self.setLine(QLineF(self.source.pos(), self.target.pos()))


class GraphScene(QGraphicsScene):
    node_moved = Signal()
    expand_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.nodes: dict[int, NodeItem] = {}
        self.edges: dict[int, EdgeItem] = {}
        self.keyboard_node: NodeItem | None = None
        self.icons = True
        self.labels = True
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    def set_detail(self, icons: bool, labels: bool) -> None:
        """Icons and labels on or off for every node (called when the zoom crosses a
        threshold, not per frame)."""
        if (icons, labels) == (self.icons, self.labels):
            return
        self.icons, self.labels = icons, labels
        for node in self.nodes.values():
            node.set_detail(icons, labels)

    def clear_graph(self) -> None:
        self.keyboard_node = None
        self.clear()
        self.nodes = {}
        self.edges = {}

    def add_graph(
        self,
        nodes: list[dict[str, Any]],
        edges: list[dict[str, Any]],
        positions: dict[int, tuple[float, float]],
        *,
        in_case: set[int],
        shared: set[int],
    ) -> int:
        """Add the nodes and edges not shown yet; returns how many nodes were added."""
        added = 0
        for node in nodes:
            if node["id"] in self.nodes:
                continue
            item = NodeItem(
                node["id"], node["kind"], node["value"], node["id"] in in_case, node["id"] in shared
            )
            x, y = positions.get(node["id"], (0.0, 0.0))
            item.setPos(x, y)
            if not (self.icons and self.labels):
                item.set_detail(self.icons, self.labels)
            self.addItem(item)
            self.nodes[node["id"]] = item
            added += 1
        for edge in edges:
            if edge["id"] in self.edges:
                continue
            source, target = self.nodes.get(edge["src"]), self.nodes.get(edge["dst"])
            if source is None or target is None:
                continue
            item = EdgeItem(edge, source, target)
            self.addItem(item)
            self.edges[edge["id"]] = item
        return added

    def positions(self, only: set[int] | None = None) -> dict[int, tuple[float, float]]:
        return {
            node_id: (item.pos().x(), item.pos().y())
            for node_id, item in self.nodes.items()
            if only is None or node_id in only
        }

    def selected_entity_ids(self) -> list[int]:
        return [item.entity_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    # -- keyboard navigation: which node is next ---------------------------------------

    def current_node(self) -> NodeItem | None:
        """The node the keyboard is on: the one last moved to while it stays selected,
        else the first selected node."""
        selected = [item for item in self.selectedItems() if isinstance(item, NodeItem)]
        if self.keyboard_node in selected:
            return self.keyboard_node
        return selected[0] if selected else None

    def node_after(self, node: NodeItem | None, step: int) -> NodeItem | None:
        """The next (step 1) or previous (-1) node in the order the graph was built (by
        entity id), or None past either end (so Tab can leave the graph)."""
        order = [item for item in self.nodes.values() if item.isVisible()]
        if not order:
            return None
        if node is None or node not in order:
            return order[0] if step > 0 else order[-1]
        position = order.index(node) + step
        return order[position] if 0 <= position < len(order) else None

    def node_towards(self, node: NodeItem, dx: float, dy: float) -> NodeItem | None:
        """The nearest node from `node` in the direction (dx, dy): within 45 degrees of it,
        nodes off the line counting as farther (what the eye calls 'the one to the
        right'); None when there is none that way."""
        origin = node.pos()
        best, best_score = None, float("inf")
        for other in self.nodes.values():
            if other is node or not other.isVisible():
                continue
            vx, vy = other.x() - origin.x(), other.y() - origin.y()
            along = vx * dx + vy * dy
            across = abs(vx * dy - vy * dx)
            if along <= 0 or across > along:
                continue
            score = along + 2 * across
            if score < best_score:
                best, best_score = other, score
        return best

    def node_nearest(self, x: float, y: float) -> NodeItem | None:
        nodes = [item for item in self.nodes.values() if item.isVisible()]
        if not nodes:
            return None
        return min(nodes, key=lambda item: (item.x() - x) ** 2 + (item.y() - y) ** 2)


ARROWS = {
    Qt.Key.Key_Left: (-1.0, 0.0),
    Qt.Key.Key_Right: (1.0, 0.0),
    Qt.Key.Key_Up: (0.0, -1.0),
    Qt.Key.Key_Down: (0.0, 1.0),
}
KEYS_HELP = (
    "Tab, Shift+Tab: next or previous entity · arrow keys: the nearest entity that way · "
    "Enter: its details · E: expand (bring in its neighbours) · +, -, 0: zoom, fit · "
    "Shift+arrow keys: pan"
)


class GraphView(QGraphicsView):
    """The graph's view: mouse (wheel zoom, drag to pan or move a node, double-click to
    expand) and keyboard alike (KEYS_HELP): every node can be reached and acted on
    without a mouse."""

    node_activated = Signal(int)  # Enter on a node: show its details

    def __init__(self, scene: GraphScene, parent=None):
        super().__init__(scene, parent)
        self.setObjectName("graph_view")
        self.setAccessibleName("Link graph")
        self.setAccessibleDescription(KEYS_HELP)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.antialias = True  # off for large graphs (GraphPanel._shown)

    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        target = max(0.05, min(6.0, current * factor))
        self.scale(target / current, target / current)
        self.apply_detail()

    def apply_detail(self) -> None:
        """Level of detail for the zoom: far out, discs without labels and without
        antialiasing (thousands of nodes then draw in a few milliseconds)."""
        level = self.zoom_level()
        scene = self.scene()
        if isinstance(scene, GraphScene):
            scene.set_detail(*detail_at(level, len(scene.nodes)))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, level >= 0.4 and self.antialias)

    def zoom_level(self) -> float:
        return self.transform().m11()

    def fit_all(self) -> None:
        rect = self.scene().itemsBoundingRect()
        if rect.isValid() and not rect.isEmpty():
            self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
            if self.zoom_level() > 1.5:
                self.zoom(1.5 / self.zoom_level())
        self.apply_detail()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom(1.0015**delta)
        event.accept()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        plain = modifiers == Qt.KeyboardModifier.NoModifier
        scene = self.scene()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom(0.8)
        elif key == Qt.Key.Key_0:
            self.fit_all()
        elif key in ARROWS and plain and isinstance(scene, GraphScene):
            self.step(*ARROWS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and isinstance(scene, GraphScene):
            node = scene.current_node()
            if node is not None:
                self.ensureVisible(node, 60, 60)
                self.node_activated.emit(node.entity_id)
        elif key == Qt.Key.Key_E and plain and isinstance(scene, GraphScene):
            node = scene.current_node()
            if node is not None:
                scene.expand_requested.emit(node.entity_id)
        else:
            # Shift+arrows fall through to the scroll bars: the view pans.
            super().keyPressEvent(event)

    def go_to(self, node: NodeItem) -> None:
        """Select one node (the keyboard's place) and bring it into view."""
        scene = self.scene()
        if not isinstance(scene, GraphScene):
            return
        scene.keyboard_node = node
        scene.clearSelection()
        node.setSelected(True)
        self.ensureVisible(node, 60, 60)

    def step(self, dx: float, dy: float) -> None:
        """Move to the nearest node in a direction; from no selection, to the node
        nearest the middle of the view."""
        scene = self.scene()
        if not isinstance(scene, GraphScene):
            return
        current = scene.current_node()
        if current is None:
            middle = self.mapToScene(self.viewport().rect().center())
            target = scene.node_nearest(middle.x(), middle.y())
        else:
            target = scene.node_towards(current, dx, dy)
        if target is not None:
            self.go_to(target)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab walk the nodes; past the last (or first) one, focus moves on
        to the next widget as usual, so the graph is no keyboard trap."""
        scene = self.scene()
        if self.hasFocus() and isinstance(scene, GraphScene):
            node = scene.node_after(scene.current_node(), 1 if next else -1)
            if node is not None:
                self.go_to(node)
                return True
        return super().focusNextPrevChild(next)


class GraphPanel(QWidget):
    """The graph of one case with its toolbar."""

    entity_selected = Signal(int)
    entity_activated = Signal(int)  # Enter on a node
    loaded = Signal()

    def __init__(self, window, case_id: int, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.case_id = case_id
        self.case_entities: set[int] = set()
        self.scene = GraphScene(self)
        self.view = GraphView(self.scene)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.node_moved.connect(self._schedule_save)
        self.scene.expand_requested.connect(self.expand)
        self.view.node_activated.connect(self.entity_activated)
        self._save_timer = QTimer(self, singleShot=True, interval=600)
        self._save_timer.timeout.connect(self.save_layout)
        self.is_loaded = False
        self.loading = False
        self._generation = 0

        self.status = plain_label("", object_name="graph_status")
        self.status.setToolTip(KEYS_HELP)  # our own text: safe as a tooltip
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)

        def button(text: str, tip: str, slot, icon: str | None = None) -> QToolButton:
            widget = QToolButton()
            widget.setText(text)
            widget.setToolTip(tip)
            widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if icon:
                widget.setIcon(action_icon(icon))
            widget.clicked.connect(slot)
            bar.addWidget(widget)
            return widget

        button("Fit", "Show the whole graph (0)", self.view.fit_all)
        button("Zoom in", "Zoom in (+, or the mouse wheel)", lambda: self.view.zoom(1.25))
        button("Zoom out", "Zoom out (-)", lambda: self.view.zoom(0.8))
        button(
            "Expand",
            "Bring in the selected entities' neighbours from the whole store "
            "(E, or double-click a node)",
            self.expand_selected,
            "pivot",
        )
        button(
            "Re-layout", "Forget the saved arrangement and lay the graph out again", self.relayout
        )
        button("PNG…", "Export the graph as a PNG picture", self.export_png_dialog, "export")
        button("SVG…", "Export the graph as an SVG drawing", self.export_svg_dialog, "export")
        bar.addStretch()
        bar.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._apply_palette()

    def _apply_palette(self) -> None:
        self.scene.setBackgroundBrush(QBrush(QColor("#111827") if is_dark() else QColor("#f8fafc")))

    # -- loading -----------------------------------------------------------------------

    def load(self, *, forget_layout: bool = False) -> None:
        """Read the case's graph and lay it out off the main thread, then show it."""
        self.loading = True
        self._generation += 1
        generation = self._generation
        self.status.setText("Laying out…")
        case_id = self.case_id
        saved = {} if forget_layout else options.load_graph_layout(self.window_.store_path, case_id)

        def read(db) -> dict[str, Any]:
            graph = ui_queries.case_graph(db, case_id)
            ids = [node["id"] for node in graph["nodes"]]
            graph["shared"] = {
                k for k, v in ui_queries.entity_cases_count(db, ids).items() if v > 1
            }
            from workbench.ui.graph_layout import layout_graph  # networkx, numpy: on use

            graph["positions"] = layout_graph(
                ids, [(e["src"], e["dst"]) for e in graph["edges"]], fixed=saved
            )
            return graph

        self.window_.runner.read(read, lambda graph: self._show(generation, graph))

    CHUNK = 30  # nodes (and four times as many edges) added per turn of the event loop

    def _show(self, generation: int, graph: dict[str, Any]) -> None:
        """Put the laid-out graph in the scene a few hundred items per turn of the event
        loop, so that a graph of thousands of nodes never freezes the window."""
        if generation != self._generation:
            return
        self.scene.clear_graph()
        self.case_entities = {node["id"] for node in graph["nodes"]}
        self._prepare_detail(graph["positions"])
        nodes, edges = graph["nodes"], graph["edges"]
        steps = [("nodes", nodes[i : i + self.CHUNK]) for i in range(0, len(nodes), self.CHUNK)]
        steps += [
            ("edges", edges[i : i + 4 * self.CHUNK]) for i in range(0, len(edges), 4 * self.CHUNK)
        ]
        # No repaint per chunk: the view is drawn once, whole, when everything is in.
        self.view.viewport().setUpdatesEnabled(False)

        def run(index: int = 0) -> None:
            if generation != self._generation:
                return  # a newer load replaced this one
            if index == len(steps):
                self._shown()
                return
            what, chunk = steps[index]
            self.scene.add_graph(
                chunk if what == "nodes" else [],
                chunk if what == "edges" else [],
                graph["positions"],
                in_case=self.case_entities,
                shared=graph["shared"],
            )
            QTimer.singleShot(0, lambda: run(index + 1))

        run()

    def _prepare_detail(self, positions: dict[int, tuple[float, float]]) -> None:
        """Start at the level of detail the fitted view will have, so nodes are made in
        the right state instead of switched after."""
        if not positions:
            return
        xs = [p[0] for p in positions.values()]
        ys = [p[1] for p in positions.values()]
        width, height = max(xs) - min(xs) + 80, max(ys) - min(ys) + 80
        viewport = self.view.viewport().size()
        level = min(viewport.width() / width, viewport.height() / height, 1.5)
        self.scene.set_detail(*detail_at(level, len(positions)))

    def _shown(self) -> None:
        # Antialiased lines cost several times more on the raster engine: past a thousand
        # links, crisp speed beats smooth edges.
        self.view.antialias = len(self.scene.edges) <= 1000
        self.view.viewport().setUpdatesEnabled(True)
        self.scene.setSceneRect(self.scene.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000))
        self._update_status()
        self.view.fit_all()
        self.is_loaded = True
        self.loading = False
        self.loaded.emit()

    def _update_status(self) -> None:
        self.status.setText(
            f"{len(self.scene.nodes)} entities, {len(self.scene.edges)} links · "
            "orange dot: also in another case · dashed: not in this case"
        )

    def relayout(self) -> None:
        self.load(forget_layout=True)

    # -- interaction -------------------------------------------------------------------

    def _selection_changed(self) -> None:
        selected = self.scene.selected_entity_ids()
        if len(selected) == 1:
            self.entity_selected.emit(selected[0])

    def select_entity(self, entity_id: int) -> bool:
        item = self.scene.nodes.get(entity_id)
        if item is None:
            return False
        self.scene.clearSelection()
        item.setSelected(True)
        self.view.centerOn(item)
        return True

    def _schedule_save(self) -> None:
        self._save_timer.start()

    def save_layout(self) -> None:
        options.save_graph_layout(
            self.window_.store_path, self.case_id, self.scene.positions(self.case_entities)
        )

    def expand_selected(self) -> None:
        for entity_id in self.scene.selected_entity_ids():
            self.expand(entity_id)

    def expand(self, entity_id: int) -> None:
        """Bring in an entity's neighbours from the whole store, around it."""
        node = self.scene.nodes.get(entity_id)
        if node is None:
            return
        self.window_.runner.read(
            lambda db: _neighbourhood_with_shared(db, entity_id),
            lambda data: self._expanded(entity_id, data),
        )

    def _expanded(self, entity_id: int, data: dict[str, Any]) -> None:
        node = self.scene.nodes.get(entity_id)
        if node is None:
            return
        new = [n for n in data["nodes"] if n["id"] not in self.scene.nodes]
        from workbench.ui.graph_layout import place_around

        spots = place_around((node.pos().x(), node.pos().y()), len(new))
        positions = {n["id"]: spot for n, spot in zip(new, spots, strict=True)}
        added = self.scene.add_graph(
            data["nodes"],
            data["edges"],
            positions,
            in_case=self.case_entities,
            shared=data["shared"],
        )
        node.expanded = True
        self._update_status()
        self.window_.statusBar().showMessage(
            f"Expanded: {added} neighbour{'s' if added != 1 else ''} brought in", 4000
        )

    # -- export ------------------------------------------------------------------------

    def _export_rect(self) -> QRectF:
        return self.scene.itemsBoundingRect().adjusted(-30, -30, 30, 30)

    def export_png(self, path: Path, scale: float = 2.0) -> Path:
        rect = self._export_rect()
        size = QSize(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)))
        # Very large graphs: cap the picture at 16k pixels a side.
        factor = min(1.0, 16000 / max(size.width(), size.height()))
        size = QSize(max(1, int(size.width() * factor)), max(1, int(size.height() * factor)))
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(self.scene.backgroundBrush().color())
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.scene.render(painter, QRectF(0, 0, size.width(), size.height()), rect)
        painter.end()
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return path

    def export_svg(self, path: Path) -> Path:
        rect = self._export_rect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(int(rect.width()), int(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle("Link graph")
        painter = QPainter(generator)
        self.scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        painter.end()
        return path

    def _export_dialog(self, suffix: str, export) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export the graph as {suffix.upper()}",
            f"case-{self.case_id}-graph.{suffix}",
            f"{suffix.upper()} (*.{suffix})",
        )
        if not path:
            return
        try:
            export(Path(path))
        except OSError as exc:
            show_message(self, "Export failed", str(exc), error=True)
            return
        self.window_.statusBar().showMessage(f"Graph exported to {path}", 5000)

    def export_png_dialog(self) -> None:
        self._export_dialog("png", self.export_png)

    def export_svg_dialog(self) -> None:
        self._export_dialog("svg", self.export_svg)


def _neighbourhood_with_shared(db, entity_id: int) -> dict[str, Any]:
    data = ui_queries.neighbourhood(db, entity_id)
    ids = [node["id"] for node in data["nodes"]]
    data["shared"] = {k for k, v in ui_queries.entity_cases_count(db, ids).items() if v > 1}
    return data
