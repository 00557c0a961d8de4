#!/usr/bin/env bash
# Runs every Rust test binary of the workspace again under libfaketime, at fixed instants
# around WeChat's quota day (midnight, Beijing time) and at one random instant: no test may
# depend on the hour it runs. The binaries are run directly (cargo itself hangs under
# libfaketime); the keyring tests need scripts/with-keyring.sh around this script.
#   scripts/with-keyring.sh scripts/faketime-gate.sh
#   FAKETIME_GATE_SEED=N replays the random instant.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime is missing: run scripts/setup.sh" >&2; exit 1; }

mapfile -t BINARIES < <(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null |
  python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])')
[ ${#BINARIES[@]} -gt 0 ] || { echo "no test binaries found" >&2; exit 1; }

# Today's date in Beijing; the instants are Beijing wall-clock times on it (UTC+8, no DST).
day=$(TZ=Asia/Shanghai date +%F)
at() { TZ=UTC date -d "$day $1 +0800" '+%F %T'; }
seed=${FAKETIME_GATE_SEED:-$(( (RANDOM << 15 | RANDOM) % 86400 ))}
random=$(printf '%02d:%02d:%02d' $((seed / 3600)) $((seed / 60 % 60)) $((seed % 60)))
INSTANTS=("21:59:00" "23:59:40" "00:00:20" "00:10:00" "$random")
echo "faketime gate: ${#BINARIES[@]} test binaries at Beijing ${INSTANTS[*]} on $day (random instant: seed $seed)"

# Long property runs keep a small budget here; their full runs are separate gates.
export RETRACT_SAFETY_CASES=${RETRACT_SAFETY_CASES:-30}
SKIP=(--skip sigkill_at_random_moments --skip arbitrary_input_gets)

failed=0
for instant in "${INSTANTS[@]}"; do
  utc=$(at "$instant")
  passed=0
  for bin in "${BINARIES[@]}"; do
    log=$(mktemp)
    # Only the wall clock is faked: the quota day, tokens and schedules read it. Monotonic
    # clocks stay real (tokio's timers, D-Bus timeouts): faking them too hung about one run in
    # fifty of a keyring test here.
    if TZ=UTC FAKETIME_DONT_RESET=1 FAKETIME_DONT_FAKE_MONOTONIC=1 timeout 300 faketime -f "@$utc" "$bin" --test-threads 2 "${SKIP[@]}" >"$log" 2>&1; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAILED at Beijing $instant ($utc UTC): $(basename "$bin")"
      grep -E '^test .* FAILED|panicked at|^---- ' "$log" | head -20 || true
      tail -5 "$log"
    fi
    rm -f "$log"
  done
  echo "Beijing $instant: $passed of ${#BINARIES[@]} test binaries passed"
done
if [ "$failed" -gt 0 ]; then
  echo "faketime gate: $failed failed runs (replay: FAKETIME_GATE_SEED=$seed)"
  exit 1
fi
echo "faketime gate: every test binary passed at every instant"
