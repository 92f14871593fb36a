# Overrides PyInstaller's own hook for PySide6.QtGui: the same collection, less the Qt files
# qt_trim.DROPPED names (see qt_trim.py for why the trimming happens here).
from PyInstaller.utils.hooks.qt import add_qt6_dependencies
from qt_trim import trimmed

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = trimmed(binaries)
datas = trimmed(datas)
