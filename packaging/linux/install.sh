#!/bin/sh
# Install the Rights-Investigation Workbench from this folder (made by packaging/build) so
# that it appears in the applications menu and opens case bundles (.wbbundle) on a
# double-click, read-only.
#
#   ./install.sh              for this user: ~/.local/lib/workbench, ~/.local/bin/workbench
#   sudo ./install.sh --system  for everyone: /opt/workbench, /usr/local/bin/workbench
#   ./install.sh --uninstall  (with --system too, for a system install)
#   ./install.sh --prefix DIR --lib DIR   anywhere else (packagers, tests)
#
# Nothing here needs the network; the program itself needs no Python on the machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

mode=install
prefix="$HOME/.local"
lib=""
while [ $# -gt 0 ]; do
  case "$1" in
    --system) prefix=/usr/local; lib=/opt/workbench; shift ;;
    --prefix) prefix=$2; shift 2 ;;
    --lib) lib=$2; shift 2 ;;
    --uninstall) mode=uninstall; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see ./install.sh --help)" >&2; exit 2 ;;
  esac
done
lib="${lib:-$prefix/lib/workbench}"
share="$prefix/share"
bin="$prefix/bin/workbench"

refresh_caches() {
  # Each is optional: a desktop without them still finds the files at the next login.
  if command -v update-mime-database >/dev/null 2>&1; then
    update-mime-database "$share/mime" >/dev/null 2>&1 || true
  fi
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" >/dev/null 2>&1 || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$share/icons/hicolor" >/dev/null 2>&1 || true
  fi
}

installed_files() {
  (cd "$here/share" && find . -type f | sed 's|^\./||')
}

if [ "$mode" = uninstall ]; then
  installed_files | while read -r file; do rm -f "$share/$file"; done
  rm -f "$bin"
  rm -rf "$lib"
  refresh_caches
  echo "removed the workbench from $prefix (your stores and settings are kept)"
  exit 0
fi

if [ "$here" != "$lib" ]; then
  rm -rf "$lib"
  mkdir -p "$(dirname "$lib")"
  cp -a "$here" "$lib"
fi
mkdir -p "$(dirname "$bin")"
ln -sf "$lib/workbench" "$bin"

installed_files | while read -r file; do
  mkdir -p "$(dirname "$share/$file")"
  case "$file" in
    applications/*.desktop)
      # The menu does not always have ~/.local/bin on its PATH: name the program in full.
      sed -e "s|^Exec=workbench|Exec=$bin|" -e "s|^TryExec=workbench|TryExec=$bin|" \
        "$here/share/$file" > "$share/$file"
      chmod 644 "$share/$file" ;;
    *) cp "$here/share/$file" "$share/$file"; chmod 644 "$share/$file" ;;
  esac
done
refresh_caches
echo "installed workbench $(cat "$here/VERSION" 2>/dev/null) in $lib; command: $bin"
echo "the menu entry is \"Rights-Investigation Workbench\"; .wbbundle files open read-only"
