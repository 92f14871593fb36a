"""Render the application icon (resources/icons/app/workbench.svg) to the PNG sizes desktops
ask for (hicolor theme sizes, 16 to 512 px), with Qt's SVG renderer, so no other tool is
needed. The PNGs are committed; run this again after changing the SVG:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons" / "app"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render_png(svg: Path, size: int, target: Path) -> None:
    """Draw `svg` onto a transparent square of `size` pixels and save it as PNG."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG file Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    if not image.save(str(target), "PNG"):
        raise OSError(f"could not write {target}")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts, plugins)
    svg = ICON_DIR / "workbench.svg"
    for size in SIZES:
        render_png(svg, size, ICON_DIR / f"workbench-{size}.png")
    print(f"rendered {len(SIZES)} sizes into {ICON_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
