"""Icons from resources/icons: one per entity kind (a coloured disc with a white glyph, the
same in light and dark mode) and action icons (a dark glyph, tinted to the palette's text
colour so they stay visible in dark mode). SVG, so they are sharp at any DPI."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from workbench.resources import resources_dir

ICON_DIR = resources_dir() / "icons"

# What each kind is called in the UI (singular, plural).
KIND_NAMES: dict[str, tuple[str, str]] = {
    "storefront": ("Storefront", "Storefronts"),
    "domain": ("Domain", "Domains"),
    "person": ("Person", "People"),
    "organisation": ("Organisation", "Organisations"),
    "registrar": ("Registrar", "Registrars"),
    "collecting_society": ("Collecting society", "Collecting societies"),
    "licence": ("Licence", "Licences"),
    "payment_processor": ("Payment processor", "Payment processors"),
    "ip_address": ("IP address", "IP addresses"),
    "network": ("Network", "Networks"),
    "nameserver": ("Nameserver", "Nameservers"),
    "email": ("Email", "Emails"),
    "phone": ("Phone", "Phones"),
    "url": ("URL", "URLs"),
    "host": ("Host", "Hosts"),
}


def kind_name(kind: str, plural: bool = False) -> str:
    names = KIND_NAMES.get(kind)
    if names is None:
        return kind.replace("_", " ").capitalize()
    return names[1] if plural else names[0]


def _svg_path(name: str) -> Path:
    path = ICON_DIR / f"{name}.svg"
    return path if path.exists() else ICON_DIR / "entity.svg"


@cache
def kind_icon(kind: str) -> QIcon:
    """The icon of an entity kind (a generic one for kinds without their own)."""
    return QIcon(str(_svg_path(kind)))


@cache
def _svg_bytes(name: str) -> bytes:
    return _svg_path(name).read_bytes()


def kind_pixmap(kind: str, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """The kind's icon rendered once at `size` logical pixels for the graph's node cache."""
    return _render(kind, size, device_pixel_ratio, None)


@cache
def _render(name: str, size: int, ratio: float, tint: str | None) -> QPixmap:
    pixels = max(1, round(size * ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(_svg_bytes(name))).render(painter, QRectF(0, 0, pixels, pixels))
    if tint:
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(image.rect(), QColor(tint))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def action_icon(name: str) -> QIcon:
    """An action icon tinted with the palette's text colour, at the sizes menus and
    toolbars use, for the screen's pixel ratio."""
    app = QApplication.instance()
    colour = app.palette().windowText().color().name() if app else "#000000"
    ratio = app.devicePixelRatio() if app else 1.0
    icon = QIcon()
    for size in (16, 20, 24, 32):
        icon.addPixmap(_render(f"action-{name}", size, ratio, colour))
    return icon


def app_icon() -> QIcon:
    return QIcon(str(ICON_DIR / "workbench.svg"))
