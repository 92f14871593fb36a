"""The layering the design depends on: the domain, store, lookups and services never pull in
Qt (so the CLI, scripts and tests run without a display), and nothing anywhere starts a
shell or lets python-whois run the system `whois` command."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "workbench"
QT_FREE = ("domain", "store", "lookups", "services")
QT_IMPORT = re.compile(r"^\s*(?:import|from)\s+PySide6\b|import_module\(\s*['\"]PySide6", re.M)
FORBIDDEN = ("shell=True", "os.system(", "command=True", "os.popen(")


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_importing_every_qt_free_module_loads_no_pyside6():
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import workbench
        imported = []
        for layer in LAYERS:
            package = importlib.import_module("workbench." + layer)
            imported.append(package.__name__)
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
                imported.append(info.name)
        qt = sorted(name for name in sys.modules if name.split(".")[0] == "PySide6")
        print(len(imported), ",".join(qt), sep="|")
        """
    ).replace("LAYERS", repr(QT_FREE))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    count, qt_modules = result.stdout.strip().split("|")
    assert int(count) >= 20  # the walk really imported the layers
    assert qt_modules == "", f"Qt was imported: {qt_modules}"


@pytest.mark.parametrize("layer", QT_FREE)
def test_no_qt_free_source_imports_pyside6(layer):
    offenders = [
        str(path.relative_to(REPO))
        for path in _sources(PACKAGE / layer)
        if QT_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_nothing_in_the_package_starts_a_shell_or_the_system_whois():
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _sources(PACKAGE)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(pattern in line for pattern in FORBIDDEN)
    ]
    assert offenders == []


def test_the_checks_above_would_see_an_offence():
    assert QT_IMPORT.search("from PySide6.QtCore import Qt\n")
    assert QT_IMPORT.search("    import PySide6\n")
    assert not QT_IMPORT.search('"""Works without PySide6."""\n')
