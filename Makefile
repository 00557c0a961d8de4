# The two commands a newcomer needs:
#   make run    installs what is missing, builds, and opens the app with the demo account
#               (beside any accounts you configured; yours open first)
#   make test   every gate: formatting, lints, Rust and UI tests against real parts (and
#               again at fixed hours around the quota day), bindings drift, and the
#               end-to-end test of the real app window
SHELL := /bin/bash
.DEFAULT_GOAL := run
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Cargo's target folder, wherever CARGO_TARGET_DIR or a config puts it.
TARGET_DIR := $(shell cargo metadata --format-version 1 --no-deps --offline 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
APP := $(TARGET_DIR)/debug/retract
SIM := $(TARGET_DIR)/debug/wechat-sim
SCREENSHOTS := $(TARGET_DIR)/screenshots
# The Makefile's own scratch files.
SCRATCH := .make

.PHONY: run test setup ui app fmt-check lint ui-test rust-test bindings-check e2e bench sim bindings soak package package-test bench-desktop bench-scroll

setup:
	@scripts/setup.sh

ui: setup
	cd ui && npm run build --silent

app: ui
	cargo build -p retract -p wechat-sim --locked

run: app
	@scripts/run-app.sh $(APP)

fmt-check:
	cargo fmt --all --check

lint: ui
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cd ui && npm run --silent check && npm run --silent lint
	$(SCRATCH)/tools/bin/actionlint -no-color .github/workflows/*.yml
	python3 scripts/check-workflows.py
	cargo deny --log-level error check licenses bans sources
	scripts/advisories.sh

ui-test: setup
	cd ui && npm test --silent

# The Rust tests need the real Secret Service: a private D-Bus session with gnome-keyring.
# The bindings test rewrites ui/src/bindings.ts; the check below fails if that changed it.
rust-test: ui
	@mkdir -p $(SCRATCH) && cp ui/src/bindings.ts $(SCRATCH)/bindings.before.ts
	scripts/with-keyring.sh cargo test --workspace --locked -- --skip sigkill_at_random_moments --skip in_any_drawn_world --skip arbitrary_input_gets
	@$(MAKE) --no-print-directory bindings-check
	@# The kill loop and the safety property on their own, so their figures show in the log.
	cargo test -p retract-core --test killloop --locked -- --nocapture
	cargo test -p retract-core --test safety --locked -- --nocapture
	cargo test -p retract-core --test bad_input --locked -- --nocapture
	@# Every test binary again under libfaketime around Beijing midnight: no test may depend on the hour.
	scripts/with-keyring.sh scripts/faketime-gate.sh

bindings-check:
	@cmp -s ui/src/bindings.ts $(SCRATCH)/bindings.before.ts || { \
	  echo "ui/src/bindings.ts is stale: the Rust commands changed. Commit the regenerated file."; \
	  diff -u $(SCRATCH)/bindings.before.ts ui/src/bindings.ts | head -40; exit 1; }

bindings: ui
	cargo test -p retract --test bindings --locked

e2e: app
	@mkdir -p $(SCREENSHOTS)
	RETRACT_SIM=$(abspath $(SIM)) RETRACT_SCREENSHOTS=$(abspath $(SCREENSHOTS)) \
	  xvfb-run -a -s '-screen 0 1280x800x24' scripts/with-keyring.sh tests/e2e/run.sh $(abspath $(APP))

# The shipped build: the release profile (LTO, size-optimised, stripped) bundled as a .deb.
DEB = $(TARGET_DIR)/release/bundle/deb/Retract_$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)_amd64.deb
package: ui
	cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb --ci -- --locked
	@ls -l $(DEB) $(TARGET_DIR)/release/retract

# Installs that .deb here, runs it under Xvfb with a fresh data folder, removes it again
# (Tauri adds WebKitGTK and GTK to the package's Depends; tauri.conf.json adds the rest).
package-test: package
	xvfb-run -a -s '-screen 0 1280x800x24' scripts/package-test.sh $(DEB) $(abspath $(SCREENSHOTS))

test: setup fmt-check lint ui-test rust-test e2e package-test
	@echo "make test: all gates passed"

# Not part of `make test`: timings belong in BENCHMARKS.md, not in assertions.
bench:
	cargo bench -p wechat-mp --bench listing --locked
	cargo bench -p retract-core --bench index --locked

# Scrolling the article list, frame by frame, with and without GPU compositing (debug build).
bench-scroll: app
	RETRACT_SCREENSHOTS=$(abspath $(SCREENSHOTS)) RETRACT_APP=$(abspath $(APP)) \
	  xvfb-run -a -s '-screen 0 1280x800x24' scripts/with-keyring.sh node tests/e2e/scroll.bench.mjs

# Start time and memory of the shipped build beside a minimal Tauri 2 app with the same profile
# (benches/minimal-app), 7 interleaved rounds; Retract opens an index of 10,000 articles with 3
# deletes scheduled a week ahead, and is measured again in the tray (30 s after closing, and over
# 5 idle minutes: TRAY_IDLE_SECS).
bench-desktop: package
	cargo build --release -p bench-minimal --locked
	@mkdir -p $(SCRATCH) && rm -f $(SCRATCH)/bench-10k.db*
	cargo run --release -p retract-core --example seed_index --locked -- $(SCRATCH)/bench-10k.db 10000 3
	@ls -l $(TARGET_DIR)/release/retract $(TARGET_DIR)/release/bench-minimal $(DEB)
	xvfb-run -a -s '-screen 0 1280x800x24' scripts/with-keyring.sh /usr/bin/python3 scripts/bench-desktop.py \
	  $(TARGET_DIR)/release/retract $(TARGET_DIR)/release/bench-minimal $(SCRATCH)/bench-10k.db 7

sim:
	cargo run -p wechat-sim --locked -- --port 8787 --articles 300

# The safety property with a long budget (about 15 s per 100 cases). RETRACT_SAFETY_SEED=N replays.
SOAK_CASES ?= 3000
soak: ui
	RETRACT_SAFETY_CASES=$(SOAK_CASES) cargo test -p retract-core --test safety --locked -- --nocapture
