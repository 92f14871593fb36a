"""The installable application: `packaging/build` freezes the workbench into one folder that
runs without the project's Python environment, and the files that make it a desktop
application (menu entry, bundle handler, AppStream metadata, icon, MIME type) are valid.

The build takes minutes, so those tests are marked slow and share one build. The checks of
the desktop files themselves need no build and always run. The validators come from Debian
packages (desktop-file-utils, appstream, shared-mime-info): a missing one skips its test on a
developer's machine and fails it in CI, where scripts/setup must have installed it.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from workbench.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "packaging" / "linux"
APP_ID = "org.rightsworkbench.Workbench"
MENU_ENTRY = LINUX / f"{APP_ID}.desktop"
BUNDLE_HANDLER = LINUX / f"{APP_ID}.open-bundle.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME_XML = LINUX / f"{APP_ID}.mime.xml"
ICON_DIR = REPO / "resources" / "icons" / "app"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
BUNDLE_TYPE = "application/x-workbench-bundle"

# The built folder's size limit, recorded in docs/install.md: 179 MiB when it was set (of
# which Qt ~85, numpy with openblas ~40, Python ~20). A Qt module or a scientific library
# pulled in by accident (WebEngine, scipy, pandas) adds far more than the margin.
SIZE_BUDGET_MIB = 200
# How long the desktop app must stay up to count as started (a missing plugin or module
# kills it within a second or two).
STARTUP_SECONDS = 8


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian package {package}, installed by scripts/setup)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 (the project's own files, not untrusted input)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


# --- the desktop files (no build needed) ---------------------------------------------------


@pytest.mark.parametrize("entry", [MENU_ENTRY, BUNDLE_HANDLER], ids=lambda p: p.name)
def test_desktop_entries_pass_desktop_file_validate(entry: Path):
    validator = _tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower(), result.stdout


def test_appstream_metadata_passes_appstreamcli_validate():
    appstreamcli = _tool("appstreamcli", "appstream")
    result = subprocess.run(
        [appstreamcli, "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_menu_starts_the_app_and_a_double_clicked_bundle_opens_read_only():
    menu, handler = _desktop_entry(MENU_ENTRY), _desktop_entry(BUNDLE_HANDLER)
    assert menu["Exec"] == "workbench"
    assert menu.get("NoDisplay", "false") == "false"
    assert handler["Exec"] == "workbench open --read-only %f"
    assert handler["NoDisplay"] == "true"  # in "Open with", not twice in the menu
    assert BUNDLE_TYPE in handler["MimeType"].split(";")
    assert menu["Icon"] == handler["Icon"] == APP_ID
    # The command the file manager runs is one the workbench understands.
    args = build_parser().parse_args(["open", "--read-only", "case.wbbundle"])
    assert args.command == "open"


def test_the_metainfo_describes_the_menu_entry_and_the_bundle_type():
    component = _xml(METAINFO)
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == MENU_ENTRY.name
    assert component.findtext("icon") == APP_ID
    assert [m.text for m in component.iter("mediatype")] == [BUNDLE_TYPE]
    assert [b.text for b in component.iter("binary")] == ["workbench"]


def test_the_metainfo_and_the_changelog_name_the_package_version():
    current = version("workbench")
    releases = _xml(METAINFO).find("releases")
    assert releases is not None and releases[0].get("version") == current, (
        f"the newest release in {METAINFO.name} must be {current} (pyproject.toml)"
    )
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{current}]" in changelog, f"CHANGELOG.md has no section for {current}"


def test_wbbundle_files_are_recognised_as_case_bundles(tmp_path: Path):
    update = _tool("update-mime-database", "shared-mime-info")
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(MIME_XML, packages / f"{APP_ID}.xml")
    result = subprocess.run(
        [update, str(tmp_path / "mime")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower(), result.stderr
    globs = (tmp_path / "mime" / "globs2").read_text().splitlines()
    assert f"50:{BUNDLE_TYPE}:*.wbbundle" in globs
    subclasses = (tmp_path / "mime" / "subclasses").read_text().splitlines()
    assert f"{BUNDLE_TYPE} application/zip" in subclasses  # archive tools still open it


def test_the_application_icon_comes_as_svg_and_in_every_hicolor_size():
    svg = _xml(ICON_DIR / "workbench.svg")
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 128 128"  # square, as icon themes require
    for size in ICON_SIZES:
        assert _png_size(ICON_DIR / f"workbench-{size}.png") == (size, size)


# --- the built application ----------------------------------------------------------------


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder packaging/build makes, built once for this module from this checkout with
    the PyInstaller of the environment running the tests (no network).

    WORKBENCH_BUILT_APP=dist/workbench tests a folder built before instead, e.g. by a
    release build (`packaging/build` in a clean environment)."""
    given = os.environ.get("WORKBENCH_BUILT_APP")
    if given:
        return Path(given).resolve()
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed: pip install -e '.[package]'")
    out = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(REPO / "packaging" / "build"), "--out", str(out), "--env", sys.prefix],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, (
        f"packaging/build failed (exit {result.returncode})\n{result.stdout[-4000:]}\n"
        f"{result.stderr[-8000:]}"
    )
    print(f"packaging/build took {time.monotonic() - started:.0f} s")
    return out / "workbench"


def _bare_env(home: Path, **extra: str) -> dict[str, str]:
    """No virtualenv, no PYTHONPATH, no project on the path: what a user's session has."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        **extra,
    }


def _run(program: Path, *args: str, cwd: Path, timeout: float = 300):
    return subprocess.run(
        [str(program), *args],
        capture_output=True,
        text=True,
        env=_bare_env(cwd / "home"),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def _starts_and_stays_up(program: Path, *args: str, cwd: Path, **env: str) -> str:
    """Start the desktop app (headless unless `env` says otherwise); fail if it exits within
    STARTUP_SECONDS. Returns its stderr (Qt reports plugins it could not load there)."""
    proc = subprocess.Popen(
        [str(program), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_bare_env(cwd / "home", QT_DEBUG_PLUGINS="1", **env),
        cwd=cwd,
    )
    try:
        proc.wait(timeout=STARTUP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        return stderr
    _, stderr = proc.communicate()
    if "cannot open a store read-only yet" in stderr:
        # workbench open says so until workbench.ui.app.run_app takes read_only=True.
        pytest.xfail("the desktop app cannot open a store read-only yet")
    pytest.fail(f"the app exited at once with code {proc.returncode}:\n{stderr[-6000:]}")


@pytest.fixture(scope="module")
def demo_outputs(built_app: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo store the built program makes, and a PDF case file and a bundle exported
    from it, all by the built program."""
    work = tmp_path_factory.mktemp("frozen-run")
    store = work / "x.sqlite"
    demo = _run(built_app / "workbench", "demo", "--store", str(store), "--json", cwd=work)
    assert demo.returncode == 0, demo.stderr
    soundsbox = json.loads(demo.stdout)["cases"]["Soundsbox"]
    pdf, bundle = work / "soundsbox.pdf", work / "soundsbox.wbbundle"
    for output in (["--pdf", str(pdf)], ["--bundle", str(bundle), "--with-pdf"]):
        export = _run(
            built_app / "workbench",
            "export",
            "--store",
            str(store),
            "--case",
            str(soundsbox),
            *output,
            cwd=work,
        )
        assert export.returncode == 0, export.stderr
    return {"work": work, "store": store, "pdf": pdf, "bundle": bundle}


@pytest.mark.slow
def test_the_built_program_reports_the_package_version(built_app: Path, tmp_path: Path):
    result = _run(built_app / "workbench", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"workbench {version('workbench')}"


@pytest.mark.slow
def test_the_built_program_builds_the_demo_cases_without_the_project_environment(
    built_app: Path, demo_outputs: dict[str, Path]
):
    # The demo runs the WHOIS, RDAP and DNS parsers over the bundled recordings, so the
    # Public Suffix List, the WHOIS server map and the RDAP bootstrap were all found.
    work = demo_outputs["work"]
    case = _run(
        built_app / "workbench", "case", "list", "--store", str(demo_outputs["store"]), cwd=work
    )
    assert case.returncode == 0, case.stderr
    assert "AllofMP3" in case.stdout and "Soundsbox" in case.stdout
    verify = _run(
        built_app / "workbench", "verify", "--store", str(demo_outputs["store"]), cwd=work
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_the_built_program_runs_a_bulk_lookup_with_its_network_process(
    built_app: Path, tmp_path: Path
):
    # More domains than run in-process: the run's network half is a spawned child of the
    # frozen program (packaging/launcher.py calls freeze_support for it). Offline mode
    # asks nothing, so every lookup comes back offline, from the child.
    names = [f"bulk-{n:03d}.test" for n in range(60)]
    (tmp_path / "domains.txt").write_text("\n".join(names) + "\n")
    store = tmp_path / "bulk.sqlite"
    result = _run(
        built_app / "workbench",
        "lookup",
        "--offline",
        "--json",
        "--from-file",
        "domains.txt",
        "--store",
        str(store),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["done"], report["total"]) == (60, 60)
    statuses = {lk["status"] for r in report["results"] for lk in r["lookups"]}
    assert statuses == {"offline"}


@pytest.mark.slow
def test_the_built_program_writes_the_pdf_case_file_and_a_sealed_bundle(
    demo_outputs: dict[str, Path],
):
    pdf = demo_outputs["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(demo_outputs["pdf"]), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Soundsbox" in text and "ROMS" in text
    with zipfile.ZipFile(demo_outputs["bundle"]) as bundle:
        assert bundle.testzip() is None
        assert "manifest.json" in bundle.namelist()


@pytest.mark.slow
def test_the_desktop_app_starts_headless_from_the_built_folder(
    built_app: Path, demo_outputs: dict[str, Path]
):
    stderr = _starts_and_stays_up(
        built_app / "workbench", "--store", str(demo_outputs["store"]), cwd=demo_outputs["work"]
    )
    assert "Traceback" not in stderr, stderr[-6000:]
    assert "Cannot load library" not in stderr, stderr[-6000:]


@pytest.fixture
def x_display():
    """A virtual X server (Xvfb) on a display number it picks itself; yields ":N"."""
    xvfb = _tool("Xvfb", "xvfb")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_the_desktop_app_starts_on_an_x_display_with_the_bundled_xcb_plugin(
    built_app: Path, demo_outputs: dict[str, Path], x_display: str
):
    # Forcing xcb: if the plugin or a library it needs were missing, Qt would abort.
    stderr = _starts_and_stays_up(
        built_app / "workbench",
        "--store",
        str(demo_outputs["store"]),
        cwd=demo_outputs["work"],
        QT_QPA_PLATFORM="xcb",
        DISPLAY=x_display,
    )
    assert "Traceback" not in stderr, stderr[-6000:]
    assert "Cannot load library" not in stderr, stderr[-6000:]


@pytest.mark.slow
def test_a_double_clicked_bundle_opens_read_only_in_the_built_app(
    built_app: Path, demo_outputs: dict[str, Path]
):
    # What the bundle handler's Exec line runs.
    stderr = _starts_and_stays_up(
        built_app / "workbench",
        "open",
        "--read-only",
        str(demo_outputs["bundle"]),
        cwd=demo_outputs["work"],
    )
    assert "Traceback" not in stderr, stderr[-6000:]
    assert "Cannot load library" not in stderr, stderr[-6000:]


@pytest.mark.slow
def test_the_built_folder_stays_within_its_size_budget(built_app: Path):
    size = sum(p.lstat().st_size for p in built_app.rglob("*") if p.is_file())
    mib = size / 2**20
    assert mib < SIZE_BUDGET_MIB, (
        f"the built folder is {mib:.0f} MiB, over the {SIZE_BUDGET_MIB} MiB budget: "
        "see what grew with `du -sh dist/workbench/_internal/* | sort -h`"
    )


@pytest.mark.slow
def test_install_sh_puts_the_app_in_the_menu_and_uninstall_takes_it_out(
    built_app: Path, tmp_path: Path
):
    prefix = tmp_path / "prefix"
    env = _bare_env(tmp_path / "home")
    install = [str(built_app / "install.sh"), "--prefix", str(prefix)]
    done = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr

    program = prefix / "bin" / "workbench"
    result = _run(program, "--version", cwd=tmp_path)  # through the symlink
    assert result.stdout.strip() == f"workbench {version('workbench')}", result.stderr
    handler = prefix / "share" / "applications" / BUNDLE_HANDLER.name
    assert _desktop_entry(handler)["Exec"] == f"{program} open --read-only %f"
    icons = prefix / "share" / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert (icons / "48x48" / "apps" / f"{APP_ID}.png").is_file()
    assert (prefix / "share" / "metainfo" / METAINFO.name).is_file()
    if shutil.which("update-mime-database"):
        assert (prefix / "share" / "mime" / "application" / "x-workbench-bundle.xml").is_file()

    gone = subprocess.run(
        [*install, "--uninstall"], capture_output=True, text=True, env=env, check=False
    )
    assert gone.returncode == 0, gone.stderr
    assert not program.exists() and not (prefix / "lib" / "workbench").exists()
    assert not handler.exists()
    assert not list((prefix / "share").rglob(f"{APP_ID}*"))
