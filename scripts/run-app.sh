#!/usr/bin/env bash
# Opens the app. With no account configured yet, Retract opens the demo account on its built-in
# simulator. On a machine without a display (a server, CI) it runs under Xvfb for 15 seconds
# and saves a screenshot, so `make run` still shows that the app works.
set -euo pipefail
app="$1"
args=(--demo)
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" "${args[@]}"
fi
mkdir -p target/screenshots
shot="target/screenshots/make-run.png"
echo "No display found: running Retract under Xvfb for 15 s and saving a screenshot to $shot"
xvfb-run -a -s '-screen 0 1280x800x24' "$(dirname "$0")/with-keyring.sh" bash -c '
  "$1" "${@:3}" & pid=$!
  sleep 12
  import -window root "$2"
  kill "$pid"' _ "$app" "$shot" "${args[@]}"
echo "Saved $shot"
