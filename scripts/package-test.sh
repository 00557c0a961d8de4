#!/usr/bin/env bash
# Installs the release .deb into this machine, starts /usr/bin/retract under Xvfb with a fresh
# data folder, checks the window, the log and that test hooks are ignored, takes a screenshot,
# and removes the package again (also when a check fails). Run as root or with sudo.
#   scripts/package-test.sh DEB SCREENSHOT_DIR
set -euo pipefail
deb="$1"
shots="$2"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
fail() { echo "package-test: $*" >&2; exit 1; }

[ -f "$deb" ] || fail "no package at $deb (run make package)"
if dpkg-query -W -f='${Status}' retract 2>/dev/null | grep -q "install ok installed"; then
  fail "a retract package is installed already; remove it first (dpkg -r retract)"
fi
home=$(mktemp -d /tmp/retract-package-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  $SUDO dpkg -r retract >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT

echo "package-test: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
$SUDO dpkg -i "$deb" >/dev/null
[ -x /usr/bin/retract ] || fail "/usr/bin/retract is missing after dpkg -i"
depends=$(dpkg-query -W -f='${Depends}' retract)
echo "package-test: Depends: $depends"
for need in libwebkit2gtk-4.1-0 gnome-keyring dbus; do
  [[ "$depends" == *"$need"* ]] || fail "the package does not declare $need"
done
echo "package-test: /usr/bin/retract $(du -k /usr/bin/retract | cut -f1) KiB"

# A fresh user: its own data, config, cache and log folders. A test hook in the environment
# must be ignored by this release build (and said so on stderr).
export HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
RETRACT_API_BASE=http://127.0.0.1:9 /usr/bin/retract --demo >"$home/stdout" 2>"$home/stderr" &
pid=$!
for _ in $(seq 60); do
  xwininfo -root -tree 2>/dev/null | grep -q '"Retract"' && break
  kill -0 "$pid" 2>/dev/null || { cat "$home/stderr" >&2; fail "the app exited"; }
  sleep 0.5
done
xwininfo -root -tree | grep -q '"Retract"' || fail "no Retract window after 30 s"
sleep 8  # the demo syncs its sample account; let the first screen settle
mkdir -p "$shots"
import -window root "$shots/package-installed.png"
colours=$(convert "$shots/package-installed.png" -format %k info:)
[ "$colours" -gt 50 ] || fail "the screenshot is nearly blank ($colours colours)"
grep -q "RETRACT_API_BASE is a test hook; this release build ignores it" "$home/stderr" \
  || fail "the release build did not say that it ignores RETRACT_API_BASE"
log=$(ls "$XDG_DATA_HOME"/app.retract.desktop/logs/retract.*.log 2>/dev/null | head -1)
[ -n "$log" ] || fail "no log file under $XDG_DATA_HOME/app.retract.desktop/logs"
grep -q "Retract started" "$log" || fail "the log does not say the app started"
grep -q "API call" "$log" || fail "the log holds no API call (the demo syncs on open)"
grep -q "drawing the window without GPU compositing" "$log" \
  || fail "the installed app did not choose its shipped drawing mode (no GPU compositing)"
[ -f "$XDG_DATA_HOME/app.retract.desktop/retract.db" ] || fail "no database in the fresh data folder"
echo "package-test: window up, $colours colours in $shots/package-installed.png, log $(wc -l <"$log") lines, test hook ignored"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
$SUDO dpkg -r retract >/dev/null
[ ! -e /usr/bin/retract ] || fail "/usr/bin/retract is still there after dpkg -r"
echo "package-test: installed, ran and removed"
