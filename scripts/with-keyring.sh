#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked gnome-keyring:
# the real Secret Service, isolated from the user's own keyring.
#   scripts/with-keyring.sh cargo test --workspace
set -euo pipefail
if [ -z "${RETRACT_IN_KEYRING_SESSION:-}" ]; then
  export RETRACT_IN_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
# gnome-keyring prints the variables to export (GNOME_KEYRING_CONTROL, SSH_AUTH_SOCK).
eval "$(echo -n retract-test | gnome-keyring-daemon --unlock --components=secrets | sed 's/^/export /')"
"$@"
