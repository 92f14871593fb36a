"""Which of the Qt files PyInstaller's PySide6 hooks collect the workbench leaves out.

The hooks collect every plugin of each type a Qt module may use. Filtering their output
(in the hook overrides beside this file) rather than the finished Analysis matters: the
build also bundles the system libraries each collected plugin links to, so a plugin dropped
only at the end would still leave its dependencies behind (the GTK3 theme alone brings
cairo, pixman and gio).

Kept: platforms offscreen, xcb, wayland and minimal; the xcb GL and wayland integrations;
imageformats svg, jpeg, gif, webp and ico (png is built into QtGui); iconengines (SVG
icons); input contexts compose and ibus (typing Cyrillic and CJK); the XDG desktop portal
theme (native file dialogs in sandboxes and on GNOME).
"""

from __future__ import annotations

from pathlib import PurePath

QT_DIR = PurePath("PySide6", "Qt")

DROPPED = tuple(
    QT_DIR / p
    for p in (
        "translations",  # the app installs no QTranslator: Qt's own strings stay English
        "plugins/egldeviceintegrations",  # EGLFS, for kiosks with no window system
        "plugins/generic",  # evdev and tuio input, only used with EGLFS and linuxfb
        "plugins/networkinformation",  # QtNetwork is not used
        "plugins/tls",  # QtNetwork is not used
        "plugins/platforms/libqeglfs.so",
        "plugins/platforms/libqlinuxfb.so",
        "plugins/platforms/libqminimalegl.so",
        "plugins/platforms/libqvkkhrdisplay.so",
        "plugins/platforms/libqvnc.so",
        # GTK3 theme: it needs the system's GTK and would load it beside the bundled glib
        # and cairo, a known source of crashes; Qt's Fusion style looks right without it.
        "plugins/platformthemes/libqgtk3.so",
        "plugins/imageformats/libqtiff.so",
        "plugins/imageformats/libqtga.so",
        "plugins/imageformats/libqwbmp.so",
        "plugins/imageformats/libqicns.so",
        "plugins/imageformats/libqpdf.so",
        "lib/libQt6EglFSDeviceIntegration.so.6",
        "lib/libQt6EglFsKmsSupport.so.6",
        "lib/libQt6Network.so.6",
    )
)


def is_dropped(dest: str) -> bool:
    """True when a file collected to `dest` (a path inside the app folder) is left out."""
    path = PurePath(dest)
    return any(path == d or d in path.parents for d in DROPPED)


def trimmed(entries: list) -> list:
    """Hook output (`binaries` or `datas`: (source, dest_dir) pairs) without dropped files.
    Hooks give the destination folder, so the file name comes from the source."""
    return [
        (source, dest)
        for source, dest in entries
        if not is_dropped(str(PurePath(dest) / PurePath(source).name))
    ]
