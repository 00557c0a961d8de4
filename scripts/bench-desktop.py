#!/usr/bin/python3
"""Desktop benchmark (not a test): Retract's release build beside a minimal Tauri 2 app built
with the same profile, in the same run, interleaved round by round.

  bench-desktop.py RETRACT_BIN MINIMAL_BIN SEEDED_DB ROUNDS

Per round and app: a fresh home and data folders (Retract's holds a copy of SEEDED_DB, an
index of 10,000 articles), then
- first paint: from spawning the process to the first moment the window shows rendered text
  (the window's pixels hold at least 16 distinct colours; an empty window has one), polled
  every 5 ms through X (python3-xlib) under Xvfb;
- memory: 10 s later, idle, the PSS of the app and all its processes (WebKit's web and
  network processes), from /proc/PID/smaps_rollup.
- in the tray (Retract only; its index also holds 3 deletes scheduled a week ahead, so closing
  the window keeps it running): the window is closed as a window manager closes it
  (WM_DELETE_WINDOW), and 30 s later the PSS of all its processes is read again.
After the rounds, one Retract run idles in the tray for TRAY_IDLE_SECS (default 300): CPU time
(utime + stime of every process, /proc/PID/stat) and wake-ups (context switches, voluntary and
not, /proc/PID/status) over that span, as a share of one core and per second.
The minimal app runs twice per round: as built (WebKit's default, GPU compositing), and with
WEBKIT_DISABLE_COMPOSITING_MODE=1, the drawing mode Retract chooses for itself
(src-tauri/src/rendering.rs), so Retract is compared with both.
Prints a Markdown table with every round, the medians and the ratios. Needs DISPLAY (Xvfb).
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from Xlib import X, display

retract_bin, minimal_bin, seeded_db, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dpy = display.Display()
root = dpy.screen().root


def find_window(title):
    stack = [root]
    while stack:
        w = stack.pop()
        try:
            if w.get_wm_name() == title and w.get_attributes().map_state == X.IsViewable:
                return w
            stack.extend(w.query_tree().children)
        except Exception:  # a window that went away while we walked the tree
            continue
    return None


def colours(window):
    g = window.get_geometry()
    image = window.get_image(0, 0, g.width, g.height, X.ZPixmap, 0xFFFFFFFF)
    data = image.data
    # Every 7th pixel (4 bytes each) is plenty to see text.
    return len({data[i:i + 4] for i in range(0, len(data) - 4, 28)})


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except OSError:
                continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def pss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


CLOSE_WINDOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e", "close-window.py")


def close_window(title):
    """What a window manager sends when the close button is clicked (the e2e tests' helper)."""
    subprocess.run([sys.executable, CLOSE_WINDOW, title], check=True)


def cpu_and_wakeups(pids):
    """CPU seconds and context switches of these processes so far."""
    ticks, switches = 0, 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK"), switches


def run(binary, title, seed, extra_env=None, tray_idle=None):
    home = tempfile.mkdtemp(prefix="retract-bench-")
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
               XDG_CACHE_HOME=f"{home}/cache", **(extra_env or {}))
    for hook in ("RETRACT_DATA_DIR", "RETRACT_API_BASE", "RETRACT_GPU"):
        env.pop(hook, None)
    if seed:
        data = f"{home}/data/app.retract.desktop"
        os.makedirs(data, mode=0o700)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(seeded_db + suffix):
                shutil.copy(seeded_db + suffix, f"{data}/retract.db{suffix}")
    start = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    paint = None
    while time.monotonic() - start < 30:
        w = find_window(title)
        if w is not None:
            try:
                if colours(w) >= 16:
                    paint = time.monotonic() - start
                    break
            except Exception:
                pass
        time.sleep(0.005)
    time.sleep(10)
    pss = pss_kib(descendants(proc.pid))
    tray = None
    if seed and paint is not None:
        close_window(title)
        time.sleep(30)
        if proc.poll() is not None:
            sys.exit(f"{title}: the app ended when its window closed with deletes scheduled")
        if find_window(title) is not None:
            sys.exit(f"{title}: the window is still on screen 30 s after closing")
        tray = pss_kib(descendants(proc.pid)) / 1024
        if tray_idle:
            cpu0, wake0 = cpu_and_wakeups(descendants(proc.pid))
            t0 = time.monotonic()
            time.sleep(tray_idle)
            cpu1, wake1 = cpu_and_wakeups(descendants(proc.pid))
            span = time.monotonic() - t0
            tray = (tray, (cpu1 - cpu0) / span * 100, (wake1 - wake0) / span, span)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    shutil.rmtree(home, ignore_errors=True)
    if paint is None:
        sys.exit(f"{title}: no painted window within 30 s")
    return paint * 1000, pss / 1024, tray


NO_COMPOSITING = {"WEBKIT_DISABLE_COMPOSITING_MODE": "1"}
names = ("minimal", "minimal, no compositing", "retract")
results = {name: ([], []) for name in names}
in_tray = []
apps = [("minimal", minimal_bin, "bench-minimal", False, None),
        ("minimal, no compositing", minimal_bin, "bench-minimal", False, NO_COMPOSITING),
        ("retract", retract_bin, "Retract", True, None)]
run(minimal_bin, "bench-minimal", False)  # one warm-up of each: the OS file cache, not counted
run(retract_bin, "Retract", True)
for r in range(rounds):
    order = apps[r % 3:] + apps[:r % 3]  # each app goes first, second and third in turn
    for name, binary, title, seed, extra in order:
        paint, mib, tray = run(binary, title, seed, extra)
        results[name][0].append(paint)
        results[name][1].append(mib)
        if tray is not None:
            in_tray.append(tray)
        print(f"round {r + 1}: {name}: first paint {paint:.0f} ms, PSS {mib:.1f} MiB"
              + (f", in the tray {tray:.1f} MiB" if tray is not None else ""), file=sys.stderr)
idle_secs = int(os.environ.get("TRAY_IDLE_SECS", "300"))
_, _, (idle_pss, cpu_pct, wakeups, span) = run(retract_bin, "Retract", True, tray_idle=idle_secs)

print(f"| app | {' | '.join(f'r{i + 1}' for i in range(rounds))} | median |")
print(f"|---|{'---|' * rounds}---|")
for metric, unit, idx in (("first paint", "ms", 0), ("PSS idle", "MiB", 1)):
    for name in names:
        values = results[name][idx]
        cells = " | ".join(f"{v:.0f}" if unit == "ms" else f"{v:.1f}" for v in values)
        med = statistics.median(values)
        print(f"| {name}: {metric} ({unit}) | {cells} | **{med:.0f}** |" if unit == "ms"
              else f"| {name}: {metric} ({unit}) | {cells} | **{med:.1f}** |")
print(f"| retract: PSS 30 s after closing to the tray (MiB) | "
      f"{' | '.join(f'{v:.1f}' for v in in_tray)} | **{statistics.median(in_tray):.1f}** |")
print()
for base in ("minimal", "minimal, no compositing"):
    paint_ratio = statistics.median(results["retract"][0]) / statistics.median(results[base][0])
    extra = statistics.median(results["retract"][1]) - statistics.median(results[base][1])
    print(f"against {base}: first paint, Retract / minimal: x{paint_ratio:.2f}; "
          f"memory, Retract - minimal: {extra:+.1f} MiB")
open_pss = statistics.median(results["retract"][1])
tray_pss = statistics.median(in_tray)
print(f"in the tray: PSS {tray_pss:.1f} MiB (goal: at most 60), x{tray_pss / open_pss:.2f} of the open "
      f"window's {open_pss:.1f} MiB")
print(f"idle in the tray for {span:.0f} s: CPU {cpu_pct:.3f} % of one core (goal: under 0.1 %), "
      f"{wakeups:.2f} wake-ups (context switches) a second; PSS then {idle_pss:.1f} MiB")
